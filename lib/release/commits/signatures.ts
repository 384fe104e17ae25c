/**
 * Signed commits: the argv that makes git verify each commit against the allowed signers and a
 * keyring of ours alone, what git prints, and a deliberate verdict per %G? letter. Behaviour read
 * from git 2.39 on real SSH- and GPG-signed repositories (test/release/signatures.test.ts runs it
 * again); letters per git-log(1) PRETTY FORMATS.
 */
import { Problem, printableLine, quoted } from "../../../deploy/src/project/problem.js";
import { appliesAt, matchPrincipals, type AllowedSigner } from "./allowed-signers.js";

/** Under /shipshape, never the checkout: nothing here may end up in the source or the report. */
export const SIGNATURES_DIR = "/shipshape/signatures";
export const GNUPG_HOME = `${SIGNATURES_DIR}/gnupg`;
export const ALLOWED_SIGNERS_FILE = `${SIGNATURES_DIR}/allowed_signers`;
export const GPG_KEYS_FILE = `${SIGNATURES_DIR}/signing-keys.asc`;

/** A file as committed at `sha` (raw bytes, no textconv); exit 128 names what is missing. */
export function readAtCommand(sha: string, path: string): string[] {
  return ["git", "cat-file", "blob", `${sha}:${path}`];
}

export function missingFileProblem(what: string, path: string, sha: string): Problem {
  return new Problem(
    `${what} ${quoted(path)} is not in --base ${sha.slice(0, 7)}`,
    "commit it to the base branch first: it is read from --base, so a change cannot approve its own signer",
  );
}

/**
 * Our GnuPG home, empty but for the keys given: `trust-model always` because listing a key in
 * the file *is* the trust decision (without it every such key reads %G? = U, "unknown validity",
 * since nobody certified it); `no-autostart` because verifying needs no agent; an empty
 * common.conf so no gpg version switches this fresh home to keyboxd. The allowed signers file
 * always exists (empty without SSH): with none configured git 2.39 aborts on an SSH signature.
 */
export function setupCommand(allowedAt: string | undefined, keysAt: string | undefined): string[] {
  const script = [
    'mkdir -p -m 700 "$1"',
    'printf "trust-model always\\nno-autostart\\n" > "$1/gpg.conf"',
    ': > "$1/common.conf"',
    'if [ -n "$3" ]; then git -c safe.directory=* cat-file blob "$3" > "$2"; else : > "$2"; fi',
    'if [ -n "$5" ]; then git -c safe.directory=* cat-file blob "$5" > "$4"; fi',
  ].join("\n");
  return ["sh", "-eu", "-c", script, "sh", GNUPG_HOME, ALLOWED_SIGNERS_FILE, allowedAt ?? "", GPG_KEYS_FILE, keysAt ?? ""];
}

export const importKeysCommand = (): string[] => ["gpg", "--batch", "--no-tty", "--import", GPG_KEYS_FILE];
export const listKeysCommand = (): string[] => ["gpg", "--batch", "--no-tty", "--with-colons", "--fixed-list-mode", "--list-keys"];

// Built from parts so this file never holds what a secret scanner takes for a private key.
const PRIVATE_BLOCK = new RegExp(["-----BEGIN PGP", "PRIVATE", "KEY BLOCK-----"].join(" "));

/** The armor itself, before gpg sees it: a private key in the repository is its own emergency. */
export function checkArmoredKeys(path: string, text: string): void {
  if (PRIVATE_BLOCK.test(text)) {
    throw new Problem(
      `gpg keys file ${quoted(path)} holds a PRIVATE key block`,
      "remove it from the repository and its history, revoke that key, and commit only `gpg --armor --export <id>`",
    );
  }
  if (!/-----BEGIN PGP PUBLIC KEY BLOCK-----/.test(text)) {
    throw new Problem(
      `gpg keys file ${quoted(path)} has no armored public key block`,
      "write it with `gpg --armor --export <key ids> > " + path + "`",
    );
  }
}

/** Primary fingerprint -> the e-mail addresses of its user IDs that are not revoked. */
export function parseKeyEmails(colons: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let current: string[] | undefined;
  let awaitingFpr = false;
  for (const line of colons.split("\n")) {
    const f = line.split(":");
    if (f[0] === "pub") [current, awaitingFpr] = [[], true];
    else if (f[0] === "sub") awaitingFpr = false;
    else if (f[0] === "fpr" && awaitingFpr && current) {
      keys.set((f[9] ?? "").toUpperCase(), current);
      awaitingFpr = false;
    } else if (f[0] === "uid" && current && f[1] !== "r") {
      const email = /<([^>]+)>\s*$/.exec(f[9] ?? "")?.[1];
      if (email) current.push(email.toLowerCase());
    }
  }
  return keys;
}

const SIG_FIELDS = ["%H", "%G?", "%GK", "%GF", "%GP", "%GS", "%ce", "%cI", "%s"];

/**
 * Every commit of the range with its verification. `-c` pins the programs and the allowed signers
 * file over anything in the checkout's .git/config; %GT is left out because git 2.39 aborts
 * ("BUG: invalid trust level") formatting it for a signature it could not check.
 */
export function signatureLogCommand(range: string): string[] {
  return [
    "git",
    "-c",
    "gpg.program=gpg",
    "-c",
    "gpg.ssh.program=ssh-keygen",
    "-c",
    `gpg.ssh.allowedSignersFile=${ALLOWED_SIGNERS_FILE}`,
    "log",
    "-z",
    `--format=${SIG_FIELDS.join("%x00")}`,
    "--end-of-options",
    range,
    "--",
  ];
}

export interface SignedCommit {
  hash: string;
  letter: string;
  key: string;
  fingerprint: string;
  primary: string;
  signer: string;
  committerEmail: string;
  committerDate: string;
  subject: string;
}

export function parseSignatureLog(stdout: string): SignedCommit[] {
  const parts = stdout.split("\0");
  if (parts.at(-1) === "") parts.pop();
  if (parts.length % SIG_FIELDS.length !== 0) {
    throw new Problem(
      `git log printed ${parts.length} fields, not a multiple of ${SIG_FIELDS.length}`,
      "run `git log -z` locally to compare",
    );
  }
  const out: SignedCommit[] = [];
  for (let i = 0; i < parts.length; i += SIG_FIELDS.length) {
    const [hash = "", letter = "", key = "", fingerprint = "", primary = "", signer = "", email = "", date = "", subject = ""] =
      parts.slice(i, i + SIG_FIELDS.length);
    const line = printableLine;
    out.push({
      hash: hash.replace(/^\n/, ""),
      letter,
      key: line(key),
      fingerprint: line(fingerprint),
      primary: line(primary).toUpperCase(),
      signer: line(signer),
      committerEmail: line(email),
      committerDate: date,
      subject: line(subject),
    });
  }
  return out;
}

/** git could not run a verifier at all: it then says "N" (unsigned) for a signed commit. */
export function toolProblem(stderr: string): Problem | undefined {
  const m = /cannot run ([^\s:]+)/.exec(stderr);
  return m
    ? new Problem(`git could not run ${m[1]} to check signatures`, "use the git image Shipshape sets up (gpg and ssh-keygen installed)")
    : undefined;
}

export type SignatureProblem = "unsigned" | "not allowed" | "not the committer" | "bad signature" | "expired" | "revoked";

export interface SignatureVerdict {
  hash: string;
  subject: string;
  problem: SignatureProblem | undefined;
  detail: string;
}

export interface Trust {
  allowedSignersPath: string | undefined;
  signers: AllowedSigner[];
  gpgKeysPath: string | undefined;
  gpgEmails: Map<string, string[]>;
}

const ssh = (c: SignedCommit) => c.key.startsWith("SHA256:");
/** The verdict on `c`, with its short hash and subject. */
const verdictOn =
  (c: SignedCommit) =>
  (problem: SignatureProblem | undefined, detail: string): SignatureVerdict => ({
    hash: c.hash.slice(0, 7),
    subject: c.subject,
    problem,
    detail,
  });
const notIn = (path: string | undefined, kind: string) => (path ? `which is not in ${path}` : `and no ${kind} file is configured`);

/**
 * A good SSH signature by a key no plain line lists: only a certificate explains it. git's %GK is
 * then the certificate's own key and %GS the certificate's principal that ssh-keygen matched
 * against a cert-authority line (sshsig.c: the CA checked the certificate, valid at the commit's
 * date). The CA's key is not in git's output, so our own reading checks what it can: a CA line that
 * covers this principal at that date, and the principal is the committer. Undefined: no such line.
 */
function certified(c: SignedCommit, trust: Trust, when: Date): SignatureVerdict | undefined {
  const cas = trust.signers.filter((s) => s.certAuthority && appliesAt(s, when) && matchPrincipals(c.signer, s.principals));
  if (cas.length === 0) return undefined;
  const v = verdictOn(c);
  const by = `signed by an SSH certificate (key ${c.key}) for ${quoted(c.signer)} from the cert-authority on line ${cas[0]?.line}`;
  // ssh-keygen compares principals case-sensitively (match_pattern), and so does this.
  if (c.signer === c.committerEmail) return v(undefined, by);
  return v("not the committer", `${by}, but committed as ${quoted(c.committerEmail)}`);
}

/** One commit's signature, judged. Only G passes, and only when the signer is the committer. */
export function judgeSignature(c: SignedCommit, trust: Trust): SignatureVerdict {
  const v = verdictOn(c);
  const who = quoted(c.committerEmail);
  const lines = trust.signers.filter((s) => s.fingerprint === c.key);
  const when = new Date(c.committerDate);
  // A good signature by a key the files do not allow (for SSH: no line, or none at the commit's date).
  const notAllowed = () =>
    ssh(c) && lines.length
      ? v("not allowed", `signed by SSH key ${c.key}, whose allowed signers line ${lines[0]?.line} does not cover this commit's date`)
      : v(
          "not allowed",
          `signed by ${ssh(c) ? "SSH" : "GPG"} key ${c.key}, ${notIn(ssh(c) ? trust.allowedSignersPath : trust.gpgKeysPath, ssh(c) ? "allowedSigners" : "gpgKeys")}`,
        );
  switch (c.letter) {
    case "N":
      return v("unsigned", "not signed");
    case "G":
      if (ssh(c)) {
        const valid = lines.filter((s) => !s.certAuthority && appliesAt(s, when));
        if (valid.length === 0) return certified(c, trust, when) ?? notAllowed();
        if (valid.some((s) => matchPrincipals(c.committerEmail, s.principals))) return v(undefined, `signed by SSH key ${c.key}`);
        const names = valid.flatMap((s) => s.principals).join(",");
        return v("not the committer", `signed by SSH key ${c.key} of ${names}, but committed as ${who}`);
      }
      if ((trust.gpgEmails.get(c.primary) ?? []).includes(c.committerEmail.toLowerCase()))
        return v(undefined, `signed by GPG key ${c.key}`);
      return v("not the committer", `signed by GPG key ${c.key} (${c.signer}), which has no user ID ${who}`);
    case "U":
      return notAllowed();
    case "B":
      return v(
        "bad signature",
        `bad signature${c.key ? ` by key ${c.key}` : ""}: the commit was changed after it was signed (or its allowed signers line has namespaces without "git")`,
      );
    case "X":
      return v("expired", `the signature by key ${c.key} has expired`);
    case "Y":
      return v(
        "expired",
        `signed with key ${c.key} (${c.signer}), which has expired: extend it (gpg --quick-set-expire) and export it again`,
      );
    case "R":
      return v("revoked", `signed with key ${c.key} (${c.signer}), which is revoked`);
    case "E":
      // gpg names the key it lacks (ERRSIG): with only our keys imported, that key is not allowed.
      if (!ssh(c) && /^[0-9A-F]{16,40}$/i.test(c.key))
        return v("not allowed", `signed by GPG key ${c.key}, ${notIn(trust.gpgKeysPath, "gpgKeys")}`);
      throw new Problem(
        `git could not check the signature of ${c.hash.slice(0, 7)} ${quoted(c.subject)}`,
        `run \`git verify-commit -v ${c.hash.slice(0, 7)}\` locally; an X.509 (gpgsm) signature is not supported`,
      );
    default:
      throw new Problem(
        `git printed an unknown signature status ${quoted(c.letter)} for ${c.hash.slice(0, 7)}`,
        "check the git version in the image",
      );
  }
}
