/**
 * The SSH allowed signers file, read the way ssh-keygen reads it (ssh-keygen(1) "ALLOWED SIGNERS",
 * OpenSSH sshsig.c parse_principals_key_and_options and match.c match_pattern_list), so that a line
 * ssh-keygen would skip is an error here instead. Why parse it at all: git 2.39 turns a file it
 * cannot read, or a line ssh-keygen cannot parse, into "no principal matched" (%G? = U) for every
 * commit; the cause would read as "not an allowed signer" for every signer.
 */
import { createHash } from "node:crypto";
import { Problem, quoted } from "../../../deploy/src/project/problem.js";

export interface AllowedSigner {
  line: number;
  /** The comma-separated principal patterns, as written. */
  principals: string[];
  namespaces: string[] | undefined;
  validAfter: Date | undefined;
  validBefore: Date | undefined;
  /** cert-authority: the key is a CA's, and the line allows the certificates it signed for its principals. */
  certAuthority: boolean;
  keyType: string;
  /** "SHA256:<base64, unpadded>", as ssh-keygen -l and git's %GK print it. */
  fingerprint: string;
}

/** The key types sshkey.c reads for a plain key; a cert-authority line lists its CA's key, one of these too. */
const KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ssh-dss",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

const FORMAT =
  "`<email> [options] <keytype> <base64 key>`, e.g. `dev@example.com ssh-ed25519 AAAA...` (the key from `cat ~/.ssh/id_ed25519.pub`)";

/** One field up to unquoted whitespace; a quoted span may hold spaces (sshkey_advance_past_options). */
function takeField(text: string): [field: string, rest: string] | undefined {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === " " || c === "\t")) return [text.slice(0, i), text.slice(i).trimStart()];
  }
  return quoted ? undefined : [text, ""];
}

/** ssh-keygen's parse_absolute_time: YYYYMMDD[Z], YYYYMMDDHHMM[Z], YYYYMMDDHHMMSS[Z]; local time unless Z. */
export function parseSshTime(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z?)$/.exec(text);
  if (!m) return undefined;
  const [y = "", mo = "", d = "", h = "0", mi = "0", s = "0"] = m.slice(1, 7);
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const utc = m[7] === "Z";
  const date = utc ? new Date(Date.UTC(...parts)) : new Date(...parts);
  // Date rolls 20260230 into March; ssh-keygen's strptime refuses it.
  return (utc ? date.getUTCMonth() : date.getMonth()) === parts[1] ? date : undefined;
}

interface Options {
  certAuthority?: boolean;
  namespaces?: string[];
  validAfter?: Date;
  validBefore?: Date;
}

function parseOptions(text: string): Options | string {
  const opts: Options = {};
  for (const opt of text.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const m = /^([A-Za-z-]+)(?:="([^"]*)")?$/.exec(opt);
    const name = m?.[1]?.toLowerCase();
    const value = m?.[2];
    if (name === "cert-authority" && value === undefined) {
      opts.certAuthority = true;
    } else if (name === "namespaces" && value !== undefined) {
      opts.namespaces = value.split(",");
    } else if ((name === "valid-after" || name === "valid-before") && value !== undefined) {
      const at = parseSshTime(value);
      if (!at) return `${name}="${value}" is not a time ssh-keygen reads (YYYYMMDD, YYYYMMDDHHMM[SS], Z for UTC)`;
      opts[name === "valid-after" ? "validAfter" : "validBefore"] = at;
    } else if (/^(ssh|ecdsa|sk)-/.test(opt)) {
      return `${quoted(opt)} is not an SSH key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...)`;
    } else {
      return `unknown option ${quoted(opt)} (ssh-keygen knows cert-authority, namespaces="...", valid-after="...", valid-before="...")`;
    }
  }
  return opts;
}

/** The key blob's own type string (uint32 length, then the name) must be the one written before it. */
function keyFingerprint(keyType: string, base64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, "base64");
  if (blob.length < 4 + keyType.length + 16) return undefined;
  const len = blob.readUInt32BE(0);
  if (len !== keyType.length || blob.subarray(4, 4 + len).toString("latin1") !== keyType) return undefined;
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function parseLine(text: string): Omit<AllowedSigner, "line"> | string {
  const first = takeField(text);
  if (!first) return "an unterminated quote";
  const [rawPrincipals, afterPrincipals] = first;
  const principals = rawPrincipals.replace(/^"(.*)"$/, "$1").split(",");
  if (principals.some((p) => p === "")) return `principals ${quoted(rawPrincipals)} has an empty entry`;
  let rest = afterPrincipals;
  let opts: Options = {};
  if (rest !== "" && !KEY_TYPES.includes(rest.split(/\s/)[0] ?? "")) {
    const field = takeField(rest);
    if (!field) return "an unterminated quote in the options";
    const parsed = parseOptions(field[0]);
    if (typeof parsed === "string") return parsed;
    [opts, rest] = [parsed, field[1]];
  }
  const [keyType = "", base64 = ""] = rest.split(/\s+/);
  if (keyType === "") return "no key after the principals";
  if (!KEY_TYPES.includes(keyType)) return `${quoted(keyType)} is not an SSH key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, ...)`;
  const fingerprint = keyFingerprint(keyType, base64);
  if (!fingerprint) return `the ${keyType} key is not valid base64 of an ${keyType} key (cut short or pasted wrongly?)`;
  const { namespaces, validAfter, validBefore } = opts;
  return { principals, namespaces, validAfter, validBefore, certAuthority: opts.certAuthority === true, keyType, fingerprint };
}

/** Every signer in the file, or the Problem naming its first bad line. An empty list is bad too. */
export function parseAllowedSigners(path: string, text: string): AllowedSigner[] {
  const signers: AllowedSigner[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const parsed = parseLine(line);
    if (typeof parsed === "string") errors.push(`line ${i + 1}: ${parsed}`);
    else signers.push({ line: i + 1, ...parsed });
  });
  if (errors.length) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    throw new Problem(`allowed signers file ${quoted(path)} does not parse, ${errors[0]}${more}`, `write each line as ${FORMAT}`);
  }
  if (signers.length === 0) throw new Problem(`allowed signers file ${quoted(path)} lists no signer`, `add a line per signer: ${FORMAT}`);
  return signers;
}

/** OpenSSH match_pattern: `*` any run, `?` one character, the rest literal and case-sensitive. */
function matchPattern(text: string, pattern: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "s").test(text);
}

/** OpenSSH match_pattern_list: a matching `!pattern` refuses whatever else matches. */
export function matchPrincipals(principal: string, patterns: string[]): boolean {
  let positive = false;
  for (const p of patterns) {
    if (p.startsWith("!")) {
      if (matchPattern(principal, p.slice(1))) return false;
    } else if (matchPattern(principal, p)) positive = true;
  }
  return positive;
}

/** Whether a line lets its key sign git commits at `when` (namespaces include git, the window covers it). */
export function appliesAt(signer: AllowedSigner, when: Date): boolean {
  // namespaces="..." is a pattern list too (sshsig.c check_allowed_keys_line).
  const ns = signer.namespaces === undefined || matchPrincipals("git", signer.namespaces);
  const after = signer.validAfter === undefined || when.getTime() >= signer.validAfter.getTime();
  const before = signer.validBefore === undefined || when.getTime() <= signer.validBefore.getTime();
  return ns && after && before;
}
