/**
 * The exact cosign and gitleaks argv the module builds, run for real on the host: cosign against
 * an in-memory `crane registry serve`, gitleaks against a real git repository with fake secrets.
 * Async spawn throughout: the registry is a child process that must keep serving meanwhile.
 * A missing tool fails every test here (never a skip): run .ci/install-tools.sh.
 */
import type { ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import { gitleaksCommand } from "../../lib/supply/secrets/commands.js";
import { parseGitleaksJson } from "../../lib/supply/secrets/report.js";
import { buildProvenance, SLSA_PROVENANCE_V1 } from "../../deploy/lib/supply/provenance/slsa.js";
import { attestationVerdict, parseAttestations } from "../../deploy/lib/supply/signing/attestation.js";
import {
  attestCommand,
  parseVerifyOutput,
  signatureVerdict,
  signCommand,
  signingConfigCommand,
  verifyAttestationCommand,
  verifyCommand,
} from "../../deploy/lib/supply/signing/commands.js";
import { GitRepo } from "../helpers/git-repo.js";
import { requireTools, runTool, runToolOk, startCraneRegistry } from "../helpers/tools.js";

const SBOM = join(import.meta.dirname, "../fixtures/supply/sbom/orders-service-prod.cdx.json");
const SPDX_SBOM = join(import.meta.dirname, "../fixtures/supply/sbom/orders-service-prod.spdx.json");

const run = runTool;
const ok = runToolOk;

/**
 * vitest reports the tests of a failed beforeAll as "skipped". Setup runs here instead, once,
 * and every test awaits it, so a missing tool fails each test by name.
 */
function guarded(setup: () => Promise<void>) {
  let done: Promise<void> | undefined;
  const ready = () => (done ??= setup());
  return (name: string, fn: () => void | Promise<void>) =>
    it(name, async () => {
      await ready();
      await fn();
    });
}

const randomString = (alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join("");
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM = `${UPPER}abcdefghijklmnopqrstuvwxyz0123456789`;

describe("cosign argv (keyless: needs Fulcio/Rekor, so checked as argv only)", () => {
  const ref = `ghcr.io/acme/app:1.2.3@sha256:${"a".repeat(64)}`;
  const bare = `ghcr.io/acme/app@sha256:${"a".repeat(64)}`;

  it("keyless sign drops the tag and reads SIGSTORE_ID_TOKEN from the env", () => {
    expect(signCommand({ ref, keyless: true })).toEqual(["cosign", "sign", "--yes", bare]);
  });

  it("keyless verify pins identity and issuer; the tlog is only ignored when asked", () => {
    const identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3";
    const issuer = "https://token.actions.githubusercontent.com";
    expect(verifyCommand({ ref, identity, issuer })).toEqual([
      "cosign",
      "verify",
      "--certificate-identity",
      identity,
      "--certificate-oidc-issuer",
      issuer,
      bare,
    ]);
    expect(() => verifyCommand({ ref, identity: "", issuer })).toThrow(Problem);
    expect(verifyAttestationCommand({ ref, key: true, type: "slsaprovenance1" })).toEqual([
      "cosign",
      "verify-attestation",
      "--key",
      "env://COSIGN_PUBLIC_KEY",
      "--type",
      "slsaprovenance1",
      bare,
    ]);
  });

  it("attest with the key; registry port is not mistaken for a tag", () => {
    const local = `127.0.0.2:5000/app@sha256:${"b".repeat(64)}`;
    expect(attestCommand({ ref: local, keyless: false, type: "cyclonedx", predicatePath: "/sbom.json" })).toEqual([
      "cosign",
      "attest",
      "--key",
      "env://COSIGN_PRIVATE_KEY",
      "--signing-config",
      "/tmp/cosign-signing-config.json",
      "--yes",
      "--type",
      "cyclonedx",
      "--predicate",
      "/sbom.json",
      local,
    ]);
    expect(signingConfigCommand()).toEqual(["cosign", "signing-config", "create", "--out", "/tmp/cosign-signing-config.json"]);
  });
});

describe("cosign 3 against a local plain-HTTP registry", () => {
  const tmp = mkdtempSync(join(tmpdir(), "shipshape-cosign-"));
  const password = randomString(ALNUM, 24);
  let registry: ChildProcess | undefined;
  // 127.0.0.2, not 127.0.0.1: go-containerregistry silently uses HTTP for localhost, 127.0.0.1 and
  // RFC 1918 addresses, which would hide whether --allow-http-registry is needed.
  let host = "";
  let signed = "";
  let unsigned = "";
  let privateKey = "";
  let publicKey = "";
  let wrongPublicKey = "";
  const signingConfig = join(tmp, "signing-config.json");
  const signEnv = (): Record<string, string> => ({ COSIGN_PRIVATE_KEY: privateKey, COSIGN_PASSWORD: password });

  async function pushImage(tag: string, content: string): Promise<string> {
    const dir = join(tmp, `layer-${tag}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "hello.txt"), content);
    await ok(["tar", "-cf", `${dir}.tar`, "-C", dir, "hello.txt"]);
    // No base image (nothing to pull offline): crane appends the layer to an empty image.
    await ok(["crane", "append", "--insecure", "-f", `${dir}.tar`, "-t", `${host}/app:${tag}`]);
    const digest = (await ok(["crane", "digest", "--insecure", `${host}/app:${tag}`])).stdout.trim();
    return `${host}/app@${digest}`;
  }

  async function keyPair(dir: string): Promise<{ key: string; pub: string }> {
    mkdirSync(dir);
    await ok(["cosign", "generate-key-pair"], { cwd: dir, env: { COSIGN_PASSWORD: password } });
    return { key: readFileSync(join(dir, "cosign.key"), "utf8"), pub: readFileSync(join(dir, "cosign.pub"), "utf8") };
  }

  const test = guarded(async () => {
    requireTools("cosign", "crane", "tar");
    ({ host, process: registry } = await startCraneRegistry());
    signed = await pushImage("1", "signed\n");
    unsigned = await pushImage("2", "never signed\n");
    ({ key: privateKey, pub: publicKey } = await keyPair(join(tmp, "keys")));
    wrongPublicKey = (await keyPair(join(tmp, "other-keys"))).pub;
    await ok(signingConfigCommand(signingConfig));
  });

  afterAll(() => {
    registry?.kill();
  });

  test("the empty signing config has no Fulcio, Rekor or TSA", () => {
    expect(JSON.parse(readFileSync(signingConfig, "utf8"))).toEqual({
      mediaType: "application/vnd.dev.sigstore.signingconfig.v0.2+json",
      rekorTlogConfig: {},
      tsaConfig: {},
    });
  });

  test("refuses a tag-only reference before cosign runs", () => {
    for (const ref of [`${host}/app:1`, `${host}/app`, `${host}/app@sha256:abc`]) {
      expect(() => signCommand({ ref, keyless: false, signingConfig })).toThrow(Problem);
      expect(() => signCommand({ ref, keyless: false, signingConfig })).toThrow(/sign and deploy by digest/);
    }
  });

  test("a plain-HTTP registry needs --allow-http-registry", async () => {
    const r = await run(signCommand({ ref: signed, keyless: false, signingConfig }), { env: signEnv() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("server gave HTTP response to HTTPS client");
  });

  test("signs by digest with the key and password from env, never argv", async () => {
    const argv = signCommand({ ref: signed, keyless: false, signingConfig, allowHttpRegistry: true });
    expect(argv).toEqual([
      "cosign",
      "sign",
      "--key",
      "env://COSIGN_PRIVATE_KEY",
      "--signing-config",
      signingConfig,
      "--allow-http-registry",
      "--yes",
      signed,
    ]);
    expect(argv.join(" ")).not.toContain(password);
    const r = await run(argv, { env: signEnv() });
    expect(r.code, r.stderr).toBe(0);
  });

  test("verifies with the public key: exit 0, the requested digest", async () => {
    const argv = verifyCommand({ ref: signed, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true });
    const r = await run(argv, { env: { COSIGN_PUBLIC_KEY: publicKey } });
    expect(r.code, r.stderr).toBe(0);
    const got = parseVerifyOutput(r.stdout);
    expect(got).toEqual({ digest: signed.split("@")[1], reference: signed, signatures: 1 });
    expect(signatureVerdict(signed, { exitCode: r.code, stdout: r.stdout }).verified).toBe(true);
    // Output verified for one digest is no proof for another.
    expect(signatureVerdict(unsigned, { exitCode: r.code, stdout: r.stdout })).toMatchObject({ verified: false });
  });

  test("without --insecure-ignore-tlog a Rekor-less signature does not verify", async () => {
    const r = await run(verifyCommand({ ref: signed, key: true, allowHttpRegistry: true }), { env: { COSIGN_PUBLIC_KEY: publicKey } });
    expect(r.code).not.toBe(0);
  });

  test("a wrong public key fails: exit 1, verdict false", async () => {
    const r = await run(verifyCommand({ ref: signed, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true }), {
      env: { COSIGN_PUBLIC_KEY: wrongPublicKey },
    });
    expect(r.code).toBe(1);
    expect(signatureVerdict(signed, { exitCode: r.code, stdout: r.stdout }).verified).toBe(false);
  });

  test("an unsigned digest fails: exit 10 (no signatures found), verdict false", async () => {
    const r = await run(verifyCommand({ ref: unsigned, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true }), {
      env: { COSIGN_PUBLIC_KEY: publicKey },
    });
    expect(r.code).toBe(10);
    expect(r.stderr).toContain("no signatures found");
    expect(signatureVerdict(unsigned, { exitCode: r.code, stdout: r.stdout })).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/no signatures/),
    });
  });

  test("attests a CycloneDX SBOM; verify-attestation --type cyclonedx passes, slsaprovenance1 does not", async () => {
    const attest = await run(
      attestCommand({ ref: signed, keyless: false, signingConfig, allowHttpRegistry: true, type: "cyclonedx", predicatePath: SBOM }),
      {
        env: signEnv(),
      },
    );
    expect(attest.code, attest.stderr).toBe(0);
    const verify = (type: "cyclonedx" | "slsaprovenance1") =>
      run(verifyAttestationCommand({ ref: signed, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true, type }), {
        env: { COSIGN_PUBLIC_KEY: publicKey },
      });
    const r = await verify("cyclonedx");
    expect(r.code, r.stderr).toBe(0);
    // One DSSE envelope per line; its in-toto statement names the digest and carries the SBOM.
    const envelope = JSON.parse(r.stdout.trim().split("\n")[0] ?? "") as { payload: string };
    const statement = JSON.parse(Buffer.from(envelope.payload, "base64").toString("utf8")) as {
      predicateType: string;
      subject: { digest: { sha256: string } }[];
      predicate: { bomFormat: string };
    };
    expect(statement.predicateType).toBe("https://cyclonedx.org/bom");
    expect(statement.subject[0]?.digest.sha256).toBe(signed.split("@sha256:")[1]);
    expect(statement.predicate.bomFormat).toBe("CycloneDX");
    expect((await verify("slsaprovenance1")).code).toBe(1);
  });

  test("attests the SLSA v1 provenance built by Shipshape; verify-attestation returns it for the digest and builder", async () => {
    const builderId = "https://github.com/acme/orders/.github/workflows/release.yml@refs/heads/main";
    const predicate = buildProvenance({
      repository: "https://github.com/acme/orders",
      ref: "main",
      revision: "0123456789abcdef0123456789abcdef01234567",
      platforms: ["linux/amd64"],
      configPath: "shipshape.yaml",
      baseImages: [`node:24.13.1-alpine@sha256:${"4".repeat(64)}`],
      builderId,
      invocationId: "https://github.com/acme/orders/actions/runs/1/attempts/1",
      startedOn: new Date("2026-03-01T10:00:00Z"),
      finishedOn: new Date("2026-03-01T10:05:00Z"),
    });
    const path = join(tmp, "provenance.json");
    writeFileSync(path, JSON.stringify(predicate, null, 2));
    const attest = await run(
      attestCommand({ ref: signed, keyless: false, signingConfig, allowHttpRegistry: true, type: "slsaprovenance1", predicatePath: path }),
      { env: signEnv() },
    );
    expect(attest.code, attest.stderr).toBe(0);
    const verify = (ref: string, pub = publicKey) =>
      run(verifyAttestationCommand({ ref, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true, type: "slsaprovenance1" }), {
        env: { COSIGN_PUBLIC_KEY: pub },
      });
    const r = await verify(signed);
    expect(r.code, r.stderr).toBe(0);
    const statements = parseAttestations(r.stdout);
    // cosign decodes the predicate into Go types and re-encodes it; Shipshape writes times in Go's
    // RFC 3339 form, so what comes back equals what was attested.
    expect(statements).toHaveLength(1);
    expect(statements[0]?.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(statements[0]?.predicate).toEqual(JSON.parse(JSON.stringify(predicate)));
    expect(
      attestationVerdict(signed, { exitCode: r.code, stdout: r.stdout }, { predicateType: SLSA_PROVENANCE_V1, builderId }),
    ).toMatchObject({
      verified: true,
    });
    expect(
      attestationVerdict(
        signed,
        { exitCode: r.code, stdout: r.stdout },
        { predicateType: SLSA_PROVENANCE_V1, builderId: "https://evil.example/builder" },
      ).verified,
    ).toBe(false);
    // Another digest has none; another key signed none.
    const none = await verify(unsigned);
    expect(none.code).not.toBe(0);
    expect(attestationVerdict(unsigned, { exitCode: none.code, stdout: none.stdout }, { predicateType: SLSA_PROVENANCE_V1 }).verified).toBe(
      false,
    );
    expect((await verify(signed, wrongPublicKey)).code).not.toBe(0);
  });

  test("attests an SPDX SBOM as spdxjson; the statement is typed https://spdx.dev/Document", async () => {
    const attest = await run(
      attestCommand({ ref: signed, keyless: false, signingConfig, allowHttpRegistry: true, type: "spdxjson", predicatePath: SPDX_SBOM }),
      { env: signEnv() },
    );
    expect(attest.code, attest.stderr).toBe(0);
    const r = await run(
      verifyAttestationCommand({ ref: signed, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true, type: "spdxjson" }),
      { env: { COSIGN_PUBLIC_KEY: publicKey } },
    );
    expect(r.code, r.stderr).toBe(0);
    const [statement] = parseAttestations(r.stdout);
    expect(statement?.predicateType).toBe("https://spdx.dev/Document");
    expect((statement?.predicate as { spdxVersion: string }).spdxVersion).toBe("SPDX-2.3");
  });
});

describe("gitleaks on a real git repository with fake secrets", () => {
  // Generated at run time so no secret-shaped string is in this repository's source.
  const awsKey = `AKIA${randomString(UPPER, 16)}`;
  const pat = `ghp_${randomString(ALNUM, 36)}`;
  const laterPat = `ghp_${randomString(ALNUM, 36)}`;
  const secrets = [awsKey, pat, laterPat];
  const out = mkdtempSync(join(tmpdir(), "shipshape-gitleaks-"));
  let repo: GitRepo;

  /** Runs the exact argv in the repository (the container's workdir), checks nothing leaked. */
  async function scan(mode: "git" | "dir", name: string, baseline?: string) {
    const report = join(out, name);
    const r = await run(gitleaksCommand({ mode, report, ...(baseline === undefined ? {} : { baseline }) }), { cwd: repo.dir });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(report, "utf8");
    for (const s of secrets) for (const where of [text, r.stdout, r.stderr]) expect(where.includes(s)).toBe(false);
    return { report, findings: parseGitleaksJson(text) };
  }

  const test = guarded(async () => {
    requireTools("gitleaks", "git");
    repo = GitRepo.init();
    mkdirSync(join(repo.dir, "deploy"));
    mkdirSync(join(repo.dir, "config"));
    // The AWS key only lives in history: committed, then deleted.
    writeFileSync(join(repo.dir, "deploy/aws.yaml"), `region: eu-west-1\naws_access_key_id: ${awsKey}\n`);
    repo.git("add", "--all");
    repo.git("commit", "--quiet", "-m", "add deploy config");
    repo.git("rm", "--quiet", "deploy/aws.yaml");
    writeFileSync(join(repo.dir, "config/app.env"), `# app\nPORT=8080\nGITHUB_TOKEN=${pat}\n`);
    repo.git("add", "--all");
    repo.git("commit", "--quiet", "-m", "configure app");
  });

  test("git mode finds both, in history too; dir mode only the file on disk", async () => {
    const git = await scan("git", "git.json");
    expect(git.findings.map(({ rule, file, line }) => ({ rule, file, line })).sort((a, b) => a.rule.localeCompare(b.rule))).toEqual([
      { rule: "aws-access-token", file: "deploy/aws.yaml", line: 2 },
      { rule: "github-pat", file: "config/app.env", line: 3 },
    ]);
    expect(git.findings.every((f) => /^[0-9a-f]{40}$/.test(f.commit))).toBe(true);
    const dir = await scan("dir", "dir.json");
    // shape and spot are Shipshape's value-free keys for merging and the baseline (lib/supply/secrets/report.ts).
    expect(dir.findings.map(({ rule, file, line, commit, fingerprint }) => ({ rule, file, line, commit, fingerprint }))).toEqual([
      { rule: "github-pat", file: "config/app.env", line: 3, commit: "", fingerprint: "config/app.env:github-pat:3" },
    ]);
    expect(dir.findings[0]!.shape).toMatch(/^[0-9a-f]{16}$/);
  });

  test("with a redacted baseline only the secret added later is reported", async () => {
    const baseline = join(out, "baseline.json");
    copyFileSync((await scan("git", "for-baseline.json")).report, baseline);
    writeFileSync(join(repo.dir, "config/ci.env"), `CI_TOKEN=${laterPat}\n`);
    repo.git("add", "--all");
    repo.git("commit", "--quiet", "-m", "ci token");
    const after = await scan("git", "after.json", baseline);
    expect(after.findings.map(({ rule, file, line }) => ({ rule, file, line }))).toEqual([
      { rule: "github-pat", file: "config/ci.env", line: 1 },
    ]);
  });
});
