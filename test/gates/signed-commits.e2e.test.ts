/**
 * `commits` with `commits.signatures.required` through the stub engine: the module's own container
 * steps (apk, setup, gpg import and listing, git log with %G?) run for real on the host against a
 * fixture whose commits git signed with ssh-keygen and gpg keys made at run time.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { GateReport } from "../../src/report/gate-report.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { expectClear } from "../bad-input/clear.js";
import { gateError } from "../helpers/gate-error.js";
import { git } from "../helpers/git-repo.js";
import { GpgKeys, signedCommit, sshKey } from "../helpers/signing-keys.js";

const gpg = new GpgKeys();
afterAll(() => gpg.close());
const alice = sshKey("alice");
const mallory = sshKey("mallory");
const gina = gpg.add("Gina", "gina@example.com");

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const CONFIG =
  'commits:\n  signatures:\n    required: true\n    allowedSigners: ".github/allowed_signers"\n    gpgKeys: ".github/signing-keys.asc"\n';

/** The fixture as a repository whose base commit (tag v1.0.0) holds the config and both trust files. */
async function repo(allowedSigners = `alice@example.com ${alice.publicKey}\n`, config = CONFIG): Promise<Driven> {
  current = await drive();
  const { root } = current;
  mkdirSync(join(root, ".github"), { recursive: true });
  writeFileSync(join(root, "shipshape.yaml"), config);
  writeFileSync(join(root, ".github/allowed_signers"), allowedSigners);
  writeFileSync(join(root, ".github/signing-keys.asc"), gpg.exportArmored(gina));
  git(root, "init", "-q", "-b", "main");
  git(root, "add", "-A");
  git(root, "commit", "-q", "-m", "chore: orders service");
  git(root, "tag", "v1.0.0");
  return current;
}

describe("commits with signatures required", () => {
  it("passes SSH- and GPG-signed commits of allowed signers, with the per-commit JSON", async () => {
    const { root, call, engine } = await repo();
    signedCommit(root, "alice@example.com", { ssh: alice }, "feat: ssh signed");
    signedCommit(root, "gina@example.com", { gpg, key: gina }, "fix: gpg signed");
    const report = (await call<GateReport>("commits", { base: "v1.0.0" })).json;
    expect([report.status, report.summary]).toEqual(["Passed", "2 commits checked, all signed by allowed signers"]);
    const files = await dirOf(report.files);
    expect(await files.entries()).toEqual(["commits.md", "signatures.json"]);
    expect(JSON.parse(await files.file("signatures.json").contents())).toMatchObject({ status: "passed", checked: 2, failed: 0 });
    // Verified in the module's container: gpg and ssh-keygen installed, git pinned to our files.
    expect(engine.commands).toContainEqual(["apk", "add", "--no-cache", "gpg", "openssh-keygen"]);
    const log = engine.execs.find((e) => e.args.includes("gpg.ssh.allowedSignersFile=/shipshape/signatures/allowed_signers"));
    expect(log?.env).toMatchObject({ GNUPGHOME: "/shipshape/signatures/gnupg" });
  });

  it("fails listing each commit that is unsigned, signed by a key not allowed, or by someone else", async () => {
    const { root, call } = await repo();
    signedCommit(root, "alice@example.com", { ssh: alice }, "feat: fine");
    signedCommit(root, "alice@example.com", { none: true }, "feat: unsigned");
    signedCommit(root, "alice@example.com", { ssh: mallory }, "feat: mallory's key");
    signedCommit(root, "bob@example.com", { gpg, key: gina }, "feat: gina's key, bob commits");
    const report = (await call<GateReport>("commits", { base: "v1.0.0" })).json;
    expect(report.status).toBe("Failed");
    expect(report.summary).toBe(
      "4 commits checked — 3 of 4 commits are not signed by an allowed signer (1 not the committer, 1 not allowed, 1 unsigned)",
    );
    expect(report.findings).toEqual([
      expect.stringMatching(
        /^[0-9a-f]{7} "feat: gina's key, bob commits": signed by GPG key [0-9A-F]{16} \(Gina <gina@example\.com>\), which has no user ID "bob@example\.com"$/,
      ),
      expect.stringMatching(/^[0-9a-f]{7} "feat: mallory's key": signed by SSH key SHA256:\S+, which is not in \.github\/allowed_signers$/),
      expect.stringMatching(/^[0-9a-f]{7} "feat: unsigned": not signed$/),
    ]);
    expect(report.hint).toMatch(/user\.email/);
    const md = await (await dirOf(report.files)).file("commits.md").contents();
    expect(md).toContain("### ❌ Commit signatures");
  });

  it("a change cannot approve its own signer: the allowed signers file is read at --base", async () => {
    const { root, call } = await repo();
    writeFileSync(join(root, ".github/allowed_signers"), `alice@example.com ${alice.publicKey}\nalice@example.com ${mallory.publicKey}\n`);
    git(root, "add", "-A");
    signedCommit(root, "alice@example.com", { ssh: mallory }, "chore: trust my own key");
    const report = (await call<GateReport>("commits", { base: "v1.0.0" })).json;
    expect(report.status).toBe("Failed");
    expect(report.findings).toEqual([expect.stringMatching(/"chore: trust my own key": signed by SSH key \S+, which is not in/)]);
  });

  it("an allowed signers file that does not parse is an ERROR with the line and the format, even for an empty range", async () => {
    const { call, engine } = await repo(`alice@example.com ssh-ed25519 ${alice.publicKey.split(" ")[1]!.slice(0, 30)}\n`);
    const report = await gateError(call<GateReport>("commits", { base: "HEAD" }));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe(
      'allowed signers file ".github/allowed_signers" does not parse, line 1: the ssh-ed25519 key is not valid base64 of an ssh-ed25519 key (cut short or pasted wrongly?)',
    );
    expect(report.hint).toMatch(/^write each line as `<email> \[options\] <keytype> <base64 key>`/);
    expect(engine.commands.some((c) => c.includes("gpg.ssh.allowedSignersFile=/shipshape/signatures/allowed_signers"))).toBe(false);
  });

  it("a trust file missing at --base is an ERROR saying where to commit it", async () => {
    const config = CONFIG.replace(".github/signing-keys.asc", ".github/missing.asc");
    const { root, call } = await repo(undefined, config);
    signedCommit(root, "alice@example.com", { ssh: alice }, "feat: fine");
    const report = await gateError(call<GateReport>("commits", { base: "v1.0.0" }));
    expect(report.cause).toMatch(/^gpg keys file "\.github\/missing\.asc" is not in --base [0-9a-f]{7}$/);
    expect(report.hint).toMatch(/commit it to the base branch first/);
  });

  it.each<[string, string, RegExp, RegExp]>([
    [
      "armor around no key",
      ["-----BEGIN PGP PUBLIC KEY BLOCK-----", "", "bm90IGEga2V5", "-----END PGP PUBLIC KEY BLOCK-----", ""].join("\n"),
      /^gpg keys file "\.github\/signing-keys\.asc" does not import: no valid OpenPGP data found$/,
      /gpg --armor --export <key ids> > \.github\/signing-keys\.asc/,
    ],
    ["a binary export", "\u0098\u0033binary", /has no armored public key block$/, /gpg --armor --export/],
    ["a private key", `-----BEGIN PGP ${"PRIVATE"} KEY BLOCK-----\n`, /holds a PRIVATE key block$/, /revoke that key/],
  ])("a gpg keys file with %s is an ERROR, one line and a hint", async (_name, text, cause, hint) => {
    const { root, call } = await repo();
    writeFileSync(join(root, ".github/signing-keys.asc"), text);
    git(root, "commit", "-q", "--amend", "-a", "--no-edit");
    git(root, "tag", "-f", "v1.0.0");
    const report = await gateError(call<GateReport>("commits", { base: "v1.0.0" }));
    expect(report.status).toBe("ERROR");
    expectClear(report, cause, hint);
  });

  it("required with no file configured is a config error naming the key", async () => {
    const { call } = await repo(undefined, "commits:\n  signatures:\n    required: true\n");
    const report = await gateError(call<GateReport>("commits", { base: "v1.0.0" }));
    expect(report.cause).toMatch(/commits\.signatures\.required.*needs allowedSigners \(SSH\), gpgKeys \(GPG\) or both/);
  });
});
