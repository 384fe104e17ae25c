/**
 * The allowed signers parser against ssh-keygen's own reading (fingerprints from `ssh-keygen -lf`),
 * its bad lines as one-line Problems, the config key, and the %G? letters no real key here makes.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { describeError } from "../../deploy/src/project/problem.js";
import { matchPrincipals, parseAllowedSigners, parseSshTime } from "../../lib/release/commits/allowed-signers.js";
import { SignaturesConfigSchema } from "../../deploy/lib/release/commits/config.js";
import { renderSignaturesMarkdown, signatureResult, signaturesJson } from "../../lib/release/commits/signature-report.js";
import { checkArmoredKeys, judgeSignature, type SignedCommit } from "../../lib/release/commits/signatures.js";
import { sshKey } from "../helpers/signing-keys.js";

const key = sshKey("dev");
const PATH = ".github/allowed_signers";
const refused = (text: string) =>
  describeError(
    (() => {
      try {
        parseAllowedSigners(PATH, text);
      } catch (e) {
        return e;
      }
      throw new Error("accepted");
    })(),
  );
const HINT = /^write each line as `<email> \[options\] <keytype> <base64 key>`/;

describe("parseAllowedSigners", () => {
  it("reads principals, options and the key's fingerprint as ssh-keygen prints it", () => {
    const fingerprint = execFileSync("ssh-keygen", ["-lf", `${key.path}.pub`], { encoding: "utf8" }).split(" ")[1];
    const text = `# comment\n\n  dev@example.com,ops@example.com ${key.publicKey} laptop\n"a b@example.com" namespaces="git,file",VALID-AFTER="20260101",valid-before="202701020304Z" ${key.publicKey}\n`;
    const [first, second] = parseAllowedSigners(PATH, text);
    expect(first).toEqual({
      line: 3,
      principals: ["dev@example.com", "ops@example.com"],
      namespaces: undefined,
      validAfter: undefined,
      validBefore: undefined,
      certAuthority: false,
      keyType: "ssh-ed25519",
      fingerprint,
    });
    expect(second).toMatchObject({ line: 4, principals: ["a b@example.com"], namespaces: ["git", "file"], fingerprint });
    expect(second?.validBefore?.toISOString()).toBe("2027-01-02T03:04:00.000Z");
  });

  it("reads a cert-authority line: the CA's key, for the certificates it signs for the principals", () => {
    const [ca] = parseAllowedSigners(PATH, `"*@example.com" cert-authority,namespaces="git" ${key.publicKey}\n`);
    expect(ca).toMatchObject({ principals: ["*@example.com"], certAuthority: true, namespaces: ["git"], keyType: "ssh-ed25519" });
    expect(refused(`*@example.com cert-authority="yes" ${key.publicKey}`).cause).toMatch(
      /line 1: unknown option "cert-authority=\\"yes\\""/,
    );
  });

  it.each<[string, string, RegExp]>([
    [
      "a truncated key",
      `dev@example.com ${key.publicKey.slice(0, 40)}`,
      /line 1: the ssh-ed25519 key is not valid base64 of an ssh-ed25519 key/,
    ],
    ["a key of another type", `dev@example.com ssh-rsa ${key.publicKey.split(" ")[1]}`, /line 1: the ssh-rsa key is not valid/],
    ["no key", "dev@example.com", /line 1: no key after the principals$/],
    ["an unknown key type", "dev@example.com ssh-foo AAAA", /line 1: "ssh-foo" is not an SSH key type/],
    ["an unknown option", `dev@example.com expires="2027" ${key.publicKey}`, /line 1: unknown option "expires=\\"2027\\""/],
    [
      "a bad time",
      `dev@example.com valid-before="2027-01-01" ${key.publicKey}`,
      /valid-before="2027-01-01" is not a time ssh-keygen reads/,
    ],
    ["an unterminated quote", `"dev@example.com ${key.publicKey}`, /line 1: an unterminated quote$/],
    ["an empty principal", `dev@example.com,, ${key.publicKey}`, /has an empty entry/],
  ])("%s is one line naming the line, with the format as hint", (_name, text, cause) => {
    const answer = refused(`# ok\n${text}`.replace(/^# ok\n/, ""));
    expect(answer.cause).toMatch(new RegExp(`^allowed signers file "\\.github/allowed_signers" does not parse, `));
    expect(answer.cause).toMatch(cause);
    expect(answer.cause).not.toMatch(/\n/);
    expect(answer.hint).toMatch(HINT);
  });

  it("counts the other bad lines, and an empty file is refused too", () => {
    expect(refused(`a@x ssh-ed25519 AAAA\nb@x\n${"c@x ".repeat(1)}${key.publicKey}\n`).cause).toMatch(/line 1: .* \(and 1 more\)$/);
    expect(refused("# nobody yet\n")).toEqual({
      cause: 'allowed signers file ".github/allowed_signers" lists no signer',
      hint: expect.stringMatching(/^add a line per signer: `<email>/),
    });
  });

  it("times: ssh-keygen's formats only, real dates only", () => {
    expect(parseSshTime("20270101Z")?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(parseSshTime("20270101120000Z")?.toISOString()).toBe("2027-01-01T12:00:00.000Z");
    expect([parseSshTime("20270230Z"), parseSshTime("2027011"), parseSshTime("now")]).toEqual([undefined, undefined, undefined]);
  });

  it("principal patterns follow OpenSSH match_pattern_list", () => {
    expect(matchPrincipals("dev@example.com", ["*@example.com"])).toBe(true);
    expect(matchPrincipals("bob@example.com", ["*@example.com", "!bob@example.com"])).toBe(false);
    expect(matchPrincipals("dev@example.com.evil", ["*@example.com"])).toBe(false);
    expect(matchPrincipals("Dev@example.com", ["dev@example.com"])).toBe(false); // case-sensitive, as ssh-keygen
    expect(matchPrincipals("d1@x.io", ["d?@x.io"])).toBe(true);
  });
});

describe("the keys file before gpg sees it", () => {
  it("refuses a private key block and a file without a public one", () => {
    const privateBlock = ["-----BEGIN PGP PRIVATE", "KEY BLOCK-----"].join(" ");
    const answer = (text: string) =>
      describeError(
        (() => {
          try {
            checkArmoredKeys("k.asc", text);
          } catch (e) {
            return e;
          }
          throw new Error("accepted");
        })(),
      );
    expect(answer(`${privateBlock}\n`)).toEqual({
      cause: 'gpg keys file "k.asc" holds a PRIVATE key block',
      hint: "remove it from the repository and its history, revoke that key, and commit only `gpg --armor --export <id>`",
    });
    expect(answer("mQINBF...").cause).toBe('gpg keys file "k.asc" has no armored public key block');
  });
});

describe("SignaturesConfigSchema", () => {
  it("is off by default and needs a file when required", () => {
    expect(SignaturesConfigSchema.parse({})).toEqual({ required: false });
    const r = SignaturesConfigSchema.safeParse({ required: true });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({
      path: ["required"],
      message: expect.stringMatching(/needs allowedSigners \(SSH\), gpgKeys \(GPG\)/),
    });
    expect(SignaturesConfigSchema.safeParse({ required: true, allowedSigners: "../keys" }).success).toBe(false);
    expect(SignaturesConfigSchema.safeParse({ required: true, allowedSigners: "-x" }).success).toBe(false);
    expect(SignaturesConfigSchema.parse({ required: true, gpgKeys: ".github/signing-keys.asc" })).toMatchObject({ required: true });
  });
});

describe("judgeSignature on the letters no key here produces", () => {
  // A GPG long key id, built so no scanner takes the literal for a credential.
  const KEY_ID = "AB12".repeat(4);
  const commit = (letter: string, key = KEY_ID): SignedCommit => ({
    hash: "0123456789abcdef",
    letter,
    key,
    fingerprint: "",
    primary: "",
    signer: "Ex <ex@example.com>",
    committerEmail: "ex@example.com",
    committerDate: "2026-01-01T00:00:00+00:00",
    subject: "feat: x",
  });
  const trust = { allowedSignersPath: undefined, signers: [], gpgKeysPath: "k.asc", gpgEmails: new Map<string, string[]>() };

  it("X, R fail with their reason; E without a key and an unknown letter are errors", () => {
    expect(judgeSignature(commit("X"), trust)).toMatchObject({
      problem: "expired",
      detail: `the signature by key ${KEY_ID} has expired`,
    });
    expect(judgeSignature(commit("R"), trust)).toMatchObject({ problem: "revoked" });
    expect(judgeSignature(commit("U"), trust)).toMatchObject({ problem: "not allowed" });
    // A git that says G for an SSH key no line names (trust "undefined") is still not allowed here.
    expect(judgeSignature(commit("G", "SHA256:unlisted"), trust)).toMatchObject({
      problem: "not allowed",
      detail: "signed by SSH key SHA256:unlisted, and no allowedSigners file is configured",
    });
    expect(() => judgeSignature(commit("E", ""), trust)).toThrow(
      /^git could not check the signature of 0123456 "feat: x"\nhint: run `git verify-commit -v 0123456`/,
    );
    expect(() => judgeSignature(commit("Q"), trust)).toThrow(/unknown signature status "Q"/);
  });

  it("the report lists each offender with what is wrong, the JSON every commit", () => {
    const verdicts = [judgeSignature(commit("N"), trust), judgeSignature(commit("R"), trust)];
    const r = signatureResult(verdicts);
    expect(renderSignaturesMarkdown(r)).toContain("| `0123456` | `feat: x` | unsigned | not signed |");
    expect(JSON.parse(signaturesJson(r, verdicts))).toMatchObject({
      status: "failed",
      checked: 2,
      failed: 2,
      commits: [{ commit: "0123456", ok: false, problem: "unsigned" }, { problem: "revoked" }],
    });
  });
});
