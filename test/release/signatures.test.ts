/**
 * Signed commits against real git, ssh-keygen and gpg: keys made at run time, commits signed by
 * git itself, and the very argv lib/release/commits/signatures.ts builds (its /shipshape paths
 * mapped to a temp folder, as the stub engine maps them).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { describeError } from "../../deploy/src/project/problem.js";
import { parseAllowedSigners } from "../../lib/release/commits/allowed-signers.js";
import { signatureResult } from "../../lib/release/commits/signature-report.js";
import {
  GNUPG_HOME,
  importKeysCommand,
  judgeSignature,
  listKeysCommand,
  parseKeyEmails,
  parseSignatureLog,
  readAtCommand,
  setupCommand,
  signatureLogCommand,
  SIGNATURES_DIR,
  toolProblem,
  type SignatureVerdict,
} from "../../lib/release/commits/signatures.js";
import { run } from "../helpers/git-repo.js";
import { GpgKeys, signedCommit, sshCertificate, sshKey, tampered, type Signing } from "../helpers/signing-keys.js";

const gpg = new GpgKeys();
afterAll(() => gpg.close());
const alice = sshKey("alice");
const mallory = sshKey("mallory");
const gina = gpg.add("Gina", "gina@example.com");
const eve = gpg.add("Eve", "eve@example.com");
const old = gpg.add("Old", "old@example.com", { expired: true });

interface Trusted {
  allowedSigners?: string;
  gpgKeys?: string;
}

/** A repository whose first commit holds the trust files at .github/, and the commits made on it. */
function history(files: Trusted, commits: [email: string, how: Signing, message: string][]) {
  const dir = mkdtempSync(join(tmpdir(), "shipshape-signed-"));
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dir });
  mkdirSync(join(dir, ".github"));
  if (files.allowedSigners !== undefined) writeFileSync(join(dir, ".github/allowed_signers"), files.allowedSigners);
  if (files.gpgKeys !== undefined) writeFileSync(join(dir, ".github/signing-keys.asc"), files.gpgKeys);
  writeFileSync(join(dir, "README.md"), "orders\n");
  execFileSync("git", ["add", "-A"], { cwd: dir });
  const base = signedCommit(dir, "dev@example.com", { none: true }, "chore: trust files");
  const hashes = commits.map(([email, how, message]) => signedCommit(dir, email, how, message));
  return { dir, base, hashes };
}

/** What the gate does in its container, on the host: set up, import, list, log, judge. */
function verify(dir: string, base: string, head: string, files: Trusted): SignatureVerdict[] {
  const scratch = mkdtempSync(join(tmpdir(), "shipshape-verify-"));
  const map = (argv: string[]) => argv.map((a) => a.replaceAll(SIGNATURES_DIR, scratch));
  const env = { GNUPGHOME: map([GNUPG_HOME])[0]! };
  const allowed = files.allowedSigners && ".github/allowed_signers";
  const keys = files.gpgKeys && ".github/signing-keys.asc";
  const setup = run(map(setupCommand(allowed && `${base}:${allowed}`, keys && `${base}:${keys}`)), dir);
  expect(setup).toMatchObject({ status: 0, stderr: "" });
  let gpgEmails = new Map<string, string[]>();
  if (keys) {
    expect(run(map(importKeysCommand()), dir, env).status).toBe(0);
    gpgEmails = parseKeyEmails(run(map(listKeysCommand()), dir, env).stdout);
  }
  const signers = allowed ? parseAllowedSigners(allowed, run(readAtCommand(base, allowed), dir).stdout) : [];
  const log = run(map(signatureLogCommand(`${base}..${head}`)), dir, env);
  expect([log.status, toolProblem(log.stderr)]).toEqual([0, undefined]);
  const trust = { allowedSignersPath: allowed, signers, gpgKeysPath: keys, gpgEmails };
  return parseSignatureLog(log.stdout).map((c) => judgeSignature(c, trust));
}

const problems = (verdicts: SignatureVerdict[]) => verdicts.map((v) => [v.subject, v.problem ?? "ok"]);

describe("SSH signatures with an allowed signers file", () => {
  const allowedSigners = `# team\nalice@example.com ${alice.publicKey}\n`;

  it("passes commits signed by an allowed key of their committer, flags each other case", () => {
    const { dir, base, hashes } = history({ allowedSigners }, [
      ["alice@example.com", { ssh: alice }, "feat: good"],
      ["alice@example.com", { none: true }, "feat: unsigned"],
      ["alice@example.com", { ssh: mallory }, "feat: key not allowed"],
      // git itself accepts this one (%G? = G): it never compares the principal with the committer.
      ["bob@example.com", { ssh: alice }, "feat: alice's key, bob's commit"],
    ]);
    const verdicts = verify(dir, base, hashes.at(-1)!, { allowedSigners });
    expect(problems(verdicts)).toEqual([
      ["feat: alice's key, bob's commit", "not the committer"],
      ["feat: key not allowed", "not allowed"],
      ["feat: unsigned", "unsigned"],
      ["feat: good", "ok"],
    ]);
    expect(verdicts[0]!.detail).toMatch(/^signed by SSH key SHA256:\S+ of alice@example\.com, but committed as "bob@example\.com"$/);
    expect(verdicts[1]!.detail).toMatch(/^signed by SSH key SHA256:\S+, which is not in \.github\/allowed_signers$/);
    const result = signatureResult(verdicts);
    expect(result.cause).toBe("3 of 4 commits are not signed by an allowed signer (1 not the committer, 1 not allowed, 1 unsigned)");
    expect(result.hint).toMatch(/user\.email.*allowed signers.*commit\.gpgsign/);
  });

  it("a tampered commit keeps its signature and fails as a bad signature", () => {
    const { dir, base, hashes } = history({ allowedSigners }, [["alice@example.com", { ssh: alice }, "feat: pay 10"]]);
    const forged = tampered(dir, hashes[0]!, "feat: pay 10", "feat: pay 10000");
    expect(problems(verify(dir, base, forged, { allowedSigners }))).toEqual([["feat: pay 10000", "bad signature"]]);
  });

  it("patterns, negations and validity windows as ssh-keygen applies them", () => {
    const file = `"*@example.com,!bob@example.com" ${alice.publicKey}\ncarol@example.com valid-before="20200101Z" ${mallory.publicKey}\n`;
    const { dir, base, hashes } = history({ allowedSigners: file }, [
      ["dave@example.com", { ssh: alice }, "feat: dave, by pattern"],
      ["bob@example.com", { ssh: alice }, "feat: bob, negated"],
      ["carol@example.com", { ssh: mallory }, "feat: carol, key expired"],
    ]);
    const verdicts = verify(dir, base, hashes.at(-1)!, { allowedSigners: file });
    expect(problems(verdicts)).toEqual([
      ["feat: carol, key expired", "not allowed"],
      ["feat: bob, negated", "not the committer"],
      ["feat: dave, by pattern", "ok"],
    ]);
    expect(verdicts[0]!.detail).toMatch(/allowed signers line 2 does not cover this commit's date$/);
  });
});

describe("SSH certificates from a cert-authority line", () => {
  const ca = sshKey("ca");
  const otherCa = sshKey("other-ca");
  const allowedSigners = `*@example.com cert-authority ${ca.publicKey}\n`;

  it("passes a certificate of the CA for its committer; another CA, another principal or an expired certificate fail", () => {
    const { dir, base, hashes } = history({ allowedSigners }, [
      ["alice@example.com", { ssh: sshCertificate(ca, alice, ["alice@example.com"]) }, "feat: alice's certificate"],
      ["bob@example.com", { ssh: sshCertificate(ca, alice, ["alice@example.com"]) }, "feat: alice's certificate, bob commits"],
      ["alice@example.com", { ssh: sshCertificate(otherCa, alice, ["alice@example.com"]) }, "feat: another CA"],
      ["alice@example.com", { ssh: sshCertificate(ca, alice, ["alice@corp.test"]) }, "feat: a principal the line does not cover"],
      ["alice@example.com", { ssh: sshCertificate(ca, alice, ["alice@example.com"], "20200101:20200102") }, "feat: expired certificate"],
      // The CA's own key, signing as a plain key: a cert-authority line allows certificates only.
      ["alice@example.com", { ssh: ca }, "feat: the CA key itself"],
    ]);
    const verdicts = verify(dir, base, hashes.at(-1)!, { allowedSigners });
    expect(problems(verdicts)).toEqual([
      ["feat: the CA key itself", "not allowed"],
      ["feat: expired certificate", "not allowed"],
      ["feat: a principal the line does not cover", "not allowed"],
      ["feat: another CA", "not allowed"],
      ["feat: alice's certificate, bob commits", "not the committer"],
      ["feat: alice's certificate", "ok"],
    ]);
    expect(verdicts.at(-1)!.detail).toMatch(
      /^signed by an SSH certificate \(key SHA256:\S+\) for "alice@example\.com" from the cert-authority on line 1$/,
    );
    expect(verdicts[4]!.detail).toMatch(/for "alice@example\.com" from the cert-authority on line 1, but committed as "bob@example\.com"$/);
  });

  it("a certificate counts only while its CA's line covers the commit's date", () => {
    const file = `*@example.com cert-authority,valid-before="20200101Z" ${ca.publicKey}\n`;
    const { dir, base, hashes } = history({ allowedSigners: file }, [
      ["alice@example.com", { ssh: sshCertificate(ca, alice, ["alice@example.com"]) }, "feat: after the CA was retired"],
    ]);
    expect(problems(verify(dir, base, hashes.at(-1)!, { allowedSigners: file }))).toEqual([
      ["feat: after the CA was retired", "not allowed"],
    ]);
  });
});

describe("GPG signatures with a keys file and our own keyring", () => {
  const gpgKeys = gpg.exportArmored(gina, old);

  it("counts only the keys in the file; expired keys and other signers fail", () => {
    const { dir, base, hashes } = history({ gpgKeys }, [
      ["gina@example.com", { gpg, key: gina }, "feat: gina"],
      // eve's key is in the signing keyring, not in the file: it must not count.
      ["eve@example.com", { gpg, key: eve }, "feat: eve"],
      ["old@example.com", { gpg, key: old, past: true }, "feat: old key"],
      ["gina.other@example.com", { gpg, key: gina }, "feat: gina's key, other e-mail"],
    ]);
    const verdicts = verify(dir, base, hashes.at(-1)!, { gpgKeys });
    expect(problems(verdicts)).toEqual([
      ["feat: gina's key, other e-mail", "not the committer"],
      ["feat: old key", "expired"],
      ["feat: eve", "not allowed"],
      ["feat: gina", "ok"],
    ]);
    expect(verdicts[2]!.detail).toMatch(/^signed by GPG key [0-9A-F]{16}, which is not in \.github\/signing-keys\.asc$/);
    expect(verdicts[1]!.detail).toMatch(/^signed with key [0-9A-F]{16} \(Old <old@example\.com>\), which has expired/);
  });

  it("reads the user IDs of each primary key from gpg's colon listing", () => {
    const home = mkdtempSync(join(tmpdir(), "shipshape-list-"));
    writeFileSync(join(home, "keys.asc"), gpgKeys);
    writeFileSync(join(home, "gpg.conf"), "no-autostart\n"); // no agent left behind
    const env = { GNUPGHOME: home };
    expect(run(["gpg", "--batch", "--import", join(home, "keys.asc")], home, env).status).toBe(0);
    const emails = parseKeyEmails(run(listKeysCommand(), home, env).stdout);
    expect(Object.fromEntries(emails)).toEqual({ [gina]: ["gina@example.com"], [old]: ["old@example.com"] });
  });

  it("a tampered GPG-signed commit is a bad signature", () => {
    const { dir, base, hashes } = history({ gpgKeys }, [["gina@example.com", { gpg, key: gina }, "fix: refund 5"]]);
    const forged = tampered(dir, hashes[0]!, "refund 5", "refund 500");
    expect(problems(verify(dir, base, forged, { gpgKeys }))).toEqual([["fix: refund 500", "bad signature"]]);
  });
});

describe("SSH and GPG mixed", () => {
  it("passes when each commit is signed by its committer in either file", () => {
    const files = { allowedSigners: `alice@example.com ${alice.publicKey}\n`, gpgKeys: gpg.exportArmored(gina) };
    const { dir, base, hashes } = history(files, [
      ["alice@example.com", { ssh: alice }, "feat: ssh"],
      ["gina@example.com", { gpg, key: gina }, "feat: gpg"],
    ]);
    const verdicts = verify(dir, base, hashes.at(-1)!, files);
    expect(problems(verdicts)).toEqual([
      ["feat: gpg", "ok"],
      ["feat: ssh", "ok"],
    ]);
    expect(signatureResult(verdicts)).toMatchObject({
      status: "passed",
      cause: "2 commits are signed by their committer, an allowed signer",
    });
  });

  it("an SSH signature with no allowed signers file, a GPG one with no keys file: not allowed, never a crash", () => {
    const { dir, base, hashes } = history({}, [
      ["alice@example.com", { ssh: alice }, "feat: ssh"],
      ["gina@example.com", { gpg, key: gina }, "feat: gpg"],
    ]);
    const verdicts = verify(dir, base, hashes.at(-1)!, {});
    expect(verdicts.map((v) => v.detail.replace(/key [^\s,]+/, "key K"))).toEqual([
      "signed by GPG key K, and no gpgKeys file is configured",
      "signed by SSH key K, and no allowedSigners file is configured",
    ]);
  });

  it("git without gpg on its PATH says unsigned: that is caught as a tool problem", () => {
    const { dir, base, hashes } = history({}, [["gina@example.com", { gpg, key: gina }, "feat: gpg"]]);
    const bin = mkdtempSync(join(tmpdir(), "shipshape-nogpg-"));
    execFileSync("ln", ["-s", execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim(), join(bin, "git")]);
    const log = run(signatureLogCommand(`${base}..${hashes[0]}`), dir, { PATH: bin });
    expect(log.stdout.split("\0")[1]).toBe("N");
    expect(describeError(toolProblem(log.stderr))).toEqual({
      cause: "git could not run gpg to check signatures",
      hint: "use the git image Shipshape sets up (gpg and ssh-keygen installed)",
    });
  });
});
