/**
 * publish, sign and verify through the stub engine, called as `dagger call with-... <fn>` chains
 * (credentials and run context as chained state): multi-arch publish with each tag, ECR through
 * a stateful SDK fake (token only ever a Secret), cosign command lines by digest with secrets in
 * secret variables, verdicts from cosign's real output shapes, a registry login only ever sent to
 * its own registry, and chained state surviving each call's rebuild from JSON.
 */
import { dag } from "@dagger.io/dagger";
import {
  CreateRepositoryCommand,
  type CreateRepositoryCommandInput,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  RepositoryNotFoundException,
} from "@aws-sdk/client-ecr";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { provenanceOf, publishImage } from "../../lib/gates/publish.js";
import { dockerConfig } from "../../deploy/lib/gates/registry.js";
import { COSIGN_RUN_ENV, PROVENANCE_PATH, signImage, verifyImage } from "../../deploy/lib/gates/sign.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { SLSA_PROVENANCE_V1 } from "../../deploy/lib/supply/provenance/slsa.js";
import {
  attestCommand,
  signCommand,
  signingConfigCommand,
  verifyAttestationCommand,
  verifyCommand,
} from "../../deploy/lib/supply/signing/commands.js";
import { drive, type Driven } from "../helpers/drive.js";
import { FakeRegistry, jwt } from "../helpers/fake-registry.js";
import { run as git } from "../helpers/git-repo.js";
import { callWith, type ChainArgs } from "../helpers/ship-calls.js";

let current: Driven | undefined;
let registry: FakeRegistry | undefined;
const ecr = mockClient(ECRClient);
afterEach(async () => {
  current?.engine.uninstall();
  ecr.reset();
  await registry?.close();
  registry = undefined;
});
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST_REF = `ghcr.io/acme/orders@sha256:${"a".repeat(64)}`;
/** publish's own arguments: where to push. */
const GHCR = { registry: "ghcr.io/acme", repository: "orders" };
/** `with-registry --address=ghcr.io/acme --username=ci-bot --password=env://NOPE_TOKEN`: the login for ghcr.io only. */
const GHCR_LOGIN = { registryAddress: "ghcr.io/acme", registryUsername: "ci-bot", registryPassword: dag.secret("env://NOPE_TOKEN") };
/** `with-signer --key=env://COSIGN_KEY_X --password=env://COSIGN_PW_X`. */
const KEY = { cosignKey: dag.secret("env://COSIGN_KEY_X"), cosignPassword: dag.secret("env://COSIGN_PW_X") };

/** `dagger call <with-... chain from the flat settings> <fn> <args>` on the current drive. */
const chainCall = <R = unknown>(fn: string, args: Record<string, unknown>, chain: ChainArgs = {}) => callWith<R>(current!, fn, args, chain);

describe("publish", () => {
  it("publishes one multi-arch manifest under each tag, with the registry auth, and returns the digest ref", async () => {
    current = await drive();
    const ref = (await chainCall<string>("publish", GHCR, { ...GHCR_LOGIN, sha: SHA, branch: "main", version: "1.4.0" })).json;
    const addresses = current.engine.published.map((p) => p.address);
    expect(addresses).toEqual(["1.4.0", "1.4", "1", "sha-0123456", "branch-main", "latest"].map((t) => `ghcr.io/acme/orders:${t}`));
    expect(new Set(current.engine.published.map((p) => p.digest)).size).toBe(1);
    expect(current.engine.published.every((p) => p.platforms === 2)).toBe(true);
    expect(current.engine.published[0]!.auth).toEqual({ "ghcr.io": { username: "ci-bot", secret: "" } });
    expect(ref).toBe(`ghcr.io/acme/orders@${current.engine.published[0]!.digest}`);
  });

  it("logs in to ECR with a token that only ever travels as a Secret, creating the repository", async () => {
    const token = "ecr-password-" + "x".repeat(20);
    ecr.on(DescribeRepositoriesCommand).rejects(new RepositoryNotFoundException({ message: "not found", $metadata: {} }));
    // Like the real API, CreateRepository answers the repository as requested.
    ecr.on(CreateRepositoryCommand).callsFake((input: CreateRepositoryCommandInput) => ({
      repository: {
        repositoryName: input.repositoryName,
        repositoryUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${input.repositoryName}`,
        imageTagMutability: input.imageTagMutability,
        imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
        imageScanningConfiguration: input.imageScanningConfiguration,
      },
    }));
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from(`AWS:${token}`).toString("base64"),
          proxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
          expiresAt: new Date(Date.now() + 3600_000),
        },
      ],
    });
    process.env.SHIPSHAPE_TEST_AKID = "AKIAFAKEFAKE0EXAMPLE";
    process.env.SHIPSHAPE_TEST_SAK = "s".repeat(40);
    current = await drive();
    const registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    const ref = (
      await chainCall<string>(
        "publish",
        { registry, repository: "orders" },
        {
          sha: SHA,
          branch: "feature/x",
          awsAccessKeyId: dag.secret("env://SHIPSHAPE_TEST_AKID"),
          awsSecretAccessKey: dag.secret("env://SHIPSHAPE_TEST_SAK"),
        },
      )
    ).json;
    expect(ref).toMatch(new RegExp(`^${registry}/orders@sha256:[0-9a-f]{64}$`));
    expect(ecr.commandCalls(CreateRepositoryCommand)[0]!.args[0].input).toMatchObject({
      repositoryName: "orders",
      imageScanningConfiguration: { scanOnPush: true },
    });
    expect(current.engine.published[0]!.auth[registry]).toEqual({ username: "AWS", secret: token });
    expect(current.engine.published.map((p) => p.address.split(":").at(-1))).toEqual(["sha-0123456", "branch-feature-x"]);
    // The token appears in exactly one query, the setSecret that hands it to the engine.
    const withToken = current.engine.queries.filter((q) => q.text.includes(token));
    expect(withToken.map((q) => q.calls[0]!.field)).toEqual(["setSecret"]);
    expect(JSON.stringify(current.engine.execs)).not.toContain(token);
  });

  it("explains a missing registry and missing AWS credentials in one line each", async () => {
    current = await drive();
    await expect(chainCall("publish", {}, { sha: SHA })).rejects.toThrow(/^no registry to publish to\nhint: pass --registry/);
    await expect(chainCall("publish", { registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com" }, { sha: SHA })).rejects.toThrow(
      /is Amazon ECR, but no AWS credentials were given/,
    );
  });
});

describe("sign", () => {
  it("signs the digest with the key and password as secret variables, after writing the empty signing config", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    expect((await chainCall("sign", { ref: DIGEST_REF }, KEY)).json).toBe(DIGEST_REF);
    const cosign = current.engine.execs.filter((e) => e.args[0] === "cosign");
    expect(cosign.map((e) => e.args)).toEqual([signingConfigCommand(), signCommand({ ref: DIGEST_REF, keyless: false })]);
    expect(Object.keys(cosign[1]!.secretEnv).sort()).toEqual(["COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY"]);
    expect(cosign[1]!.env.COSIGN_PRIVATE_KEY).toBeUndefined();
    expect(cosign[1]!.image).toBe("ghcr.io/sigstore/cosign/cosign:v3.1.2");
  });

  it("refuses a tag-only reference before running cosign", async () => {
    current = await drive();
    await expect(chainCall("sign", { ref: "ghcr.io/acme/orders:1.4.0" }, KEY)).rejects.toThrow(/sign and deploy by digest/);
    expect(current.engine.execs).toHaveLength(0);
  });

  it("signs keyless with the OIDC token as a secret variable", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    await chainCall("sign", { ref: DIGEST_REF }, { sigstoreIdToken: dag.secret("env://OIDC_X") });
    const sign = current.engine.execs.find((e) => e.args[1] === "sign")!;
    expect(sign.args).toEqual(signCommand({ ref: DIGEST_REF, keyless: true }));
    expect(Object.keys(sign.secretEnv)).toEqual(["SIGSTORE_ID_TOKEN"]);
  });
});

const verified = (digest: string) =>
  JSON.stringify([
    {
      critical: {
        identity: { "docker-reference": "ghcr.io/acme/orders" },
        image: { "docker-manifest-digest": digest },
        type: "https://sigstore.dev/cosign/sign/v1",
      },
      optional: {},
    },
  ]);

describe("verify", () => {
  it("passes when cosign verifies the requested digest", async () => {
    current = await drive();
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 0, stdout: verified(`sha256:${"a".repeat(64)}`) });
    const reason = (await chainCall("verify", { ref: DIGEST_REF }, { cosignPublicKey: dag.secret("env://PUB"), insecureIgnoreTlog: true }))
      .json;
    expect(reason).toMatch(/verified for sha256:a{64}/);
    expect(current.engine.execs[0]!.args).toEqual(verifyCommand({ ref: DIGEST_REF, key: true, insecureIgnoreTlog: true }));
  });

  it("fails an unsigned digest (cosign exit 10) and a signature for another digest", async () => {
    current = await drive();
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 10, stderr: "Error: no signatures found" });
    await expect(chainCall("verify", { ref: DIGEST_REF }, { cosignPublicKey: dag.secret("env://PUB") })).rejects.toThrow(
      /is not verified: no signatures found/,
    );
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 0, stdout: verified(`sha256:${"b".repeat(64)}`) });
    await expect(chainCall("verify", { ref: DIGEST_REF }, { cosignPublicKey: dag.secret("env://PUB") })).rejects.toThrow(
      /not the requested/,
    );
  });

  it("needs a key or a keyless identity", async () => {
    current = await drive();
    await expect(current.call("verify", { ref: DIGEST_REF })).rejects.toThrow(/nothing to verify against/);
  });
});

describe("OCI labels", () => {
  const COMMITTED = "2026-01-01T10:00:00Z";

  /** A real repository in the fixture, one commit at a fixed committer date; returns its hash. */
  function commitFixture(root: string): string {
    const env = {
      GIT_AUTHOR_DATE: COMMITTED,
      GIT_COMMITTER_DATE: COMMITTED,
      GIT_AUTHOR_NAME: "Ada",
      GIT_AUTHOR_EMAIL: "ada@example.com",
      GIT_COMMITTER_NAME: "Ada",
      GIT_COMMITTER_EMAIL: "ada@example.com",
    };
    for (const argv of [
      ["git", "init", "--quiet", "--initial-branch=main"],
      ["git", "add", "--all"],
      ["git", "commit", "--quiet", "-m", "feat: orders"],
    ]) {
      const r = git(argv, root, env);
      if (r.status !== 0) throw new Error(r.stderr);
    }
    return git(["git", "rev-parse", "HEAD"], root).stdout.trim();
  }

  function withRepositoryUrl(root: string): void {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(
      join(root, "package.json"),
      JSON.stringify({ ...pkg, repository: { type: "git", url: "git+https://github.com/acme/orders.git" } }, null, 2),
    );
  }

  it("created is HEAD's commit time (not the clock), next to revision and source, on every platform's image", async () => {
    current = await drive();
    withRepositoryUrl(current.root);
    const head = commitFixture(current.root);
    await chainCall("publish", GHCR, GHCR_LOGIN);
    const { labels } = current.engine.published[0]!;
    expect(labels).toHaveLength(2);
    for (const l of labels) {
      expect(l).toMatchObject({
        "org.opencontainers.image.title": "orders-service",
        "org.opencontainers.image.version": "1.0.0",
        "org.opencontainers.image.revision": head,
        "org.opencontainers.image.source": "https://github.com/acme/orders",
        "org.opencontainers.image.created": COMMITTED,
      });
    }
    // Reproducible: publishing the same commit again gives the same labels, so the same digest.
    const first = current.engine.published[0]!.digest;
    current.engine.published.length = 0;
    await chainCall("publish", GHCR, { ...GHCR_LOGIN, sha: head, branch: "main" });
    expect(current.engine.published[0]!.labels[0]!["org.opencontainers.image.created"]).toBe(COMMITTED);
    expect(current.engine.published[0]!.digest).toBe(first);
  });

  it("without .git (or without the commit in it) created is left out, with a note, never the wall clock", async () => {
    current = await drive();
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    let lines: string[];
    try {
      await chainCall("publish", GHCR, { ...GHCR_LOGIN, sha: SHA, branch: "main" });
    } finally {
      lines = stderr.mock.calls.map((c) => String(c[0]));
      stderr.mockRestore();
    }
    const labels = current.engine.published[0]!.labels[0]!;
    expect(labels["org.opencontainers.image.revision"]).toBe(SHA);
    expect(labels["org.opencontainers.image.created"]).toBeUndefined();
    expect(lines).toContain(
      "[shipshape] publish: no org.opencontainers.image.created label: there is no .git to read the commit time from\n",
    );
    commitFixture(current.root);
    current.engine.published.length = 0;
    await chainCall("publish", GHCR, { ...GHCR_LOGIN, sha: SHA, branch: "main" });
    expect(current.engine.published[0]!.labels[0]!["org.opencontainers.image.created"]).toBeUndefined();
  });
});

describe("attestations: SBOM format and SLSA provenance", () => {
  const creds = { username: "" };
  const key = { key: dag.secret("env://COSIGN_KEY_X"), password: dag.secret("env://COSIGN_PW_X"), creds, allowHttpRegistry: false };

  it("an SPDX SBOM is attested as spdxjson to the platform's manifest; the provenance as slsaprovenance1, after the signature", async () => {
    current = await drive();
    registry = await new FakeRegistry().start();
    // A single-platform publish pushes the image manifest itself (no index): it is that platform's.
    const ref = `${registry.host}/acme/orders@${registry.put("acme/orders", '{"schemaVersion":2,"layers":[]}', OCI_MANIFEST)}`;
    const predicates: Record<string, string | undefined> = {};
    current.engine.onExec(
      (a) => a[0] === "cosign",
      (ctx) => {
        if (ctx.args[1] === "attest")
          predicates[ctx.args[ctx.args.indexOf("--type") + 1]!] = ctx.read(ctx.args[ctx.args.indexOf("--predicate") + 1]!);
        return { exitCode: 0 };
      },
    );
    const { project } = { project: await loadProject(current.ship.source, "shipshape.yaml") };
    const config = Object.assign({}, project.config, { sbom: { format: "spdx" as const } });
    const sbom = dag.directory().withNewFile("sbom.spdx.json", '{"spdxVersion":"SPDX-2.3"}').file("sbom.spdx.json");
    const provenance = '{"buildDefinition":{}}\n';
    const http = { ...key, allowHttpRegistry: true };
    const signed = await signImage(config, ref, http, { sboms: [{ platform: "linux/amd64", sbom }], provenance });
    expect(signed.platforms).toEqual([{ platform: "linux/amd64", ref }]);
    const cosign = current.engine.execs.filter((e) => e.args[0] === "cosign").map((e) => e.args);
    const target = { ref, keyless: false, allowHttpRegistry: true } as const;
    expect(cosign).toEqual([
      signingConfigCommand(),
      signCommand(target),
      attestCommand({ ...target, type: "spdxjson", predicatePath: "/tmp/linux-amd64.sbom.spdx.json" }),
      attestCommand({ ...target, type: "slsaprovenance1", predicatePath: PROVENANCE_PATH }),
    ]);
    expect(predicates).toEqual({ spdxjson: '{"spdxVersion":"SPDX-2.3"}', slsaprovenance1: provenance });
  });

  it("refuses an index whose bytes are not the digest's, or that lacks a platform, before signing anything", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    registry = await new FakeRegistry().start();
    const index = (platforms: string[]) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: platforms.map((p, i) => ({ digest: `sha256:${String(i).repeat(64)}`, platform: { os: "linux", architecture: p } })),
      });
    const amd64Only = `${registry.host}/acme/orders@${registry.put("acme/orders", index(["amd64"]), OCI_INDEX)}`;
    const project = await loadProject(current.ship.source, "shipshape.yaml");
    const sbom = dag.directory().withNewFile("s.json", "{}").file("s.json");
    const sboms = ["linux/amd64", "linux/arm64"].map((platform) => ({ platform, sbom }));
    const http = { ...key, allowHttpRegistry: true };
    await expect(signImage(project.config, amd64Only, http, { sboms })).rejects.toThrow(/has no linux\/arm64 manifest/);
    // A registry answering other bytes than the digest names is not believed.
    const claimed = `sha256:${"e".repeat(64)}`;
    registry.serveAs("acme/orders", claimed, index(["amd64", "arm64"]), OCI_INDEX);
    await expect(signImage(project.config, `${registry.host}/acme/orders@${claimed}`, http, { sboms })).rejects.toThrow(
      new RegExp(`^the registry answered sha256:[0-9a-f]{64} for ${claimed}`),
    );
    expect(current.engine.execs.filter((e) => e.args[0] === "cosign")).toEqual([]);
  });

  it("a failed provenance attestation says the signature is in place", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    current.engine.onExec((a) => a[1] === "attest", { exitCode: 1, stderr: "Error: signing statement: PUT denied\n" });
    const project = await loadProject(current.ship.source, "shipshape.yaml");
    await expect(signImage(project.config, DIGEST_REF, key, { provenance: "{}" })).rejects.toThrow(
      /^cosign signed .* but could not attest its SLSA provenance: (Error: )?signing statement: PUT denied\nhint: re-run release/,
    );
  });

  it("provenanceOf: the published commit, platforms and the Dockerfile's base image, for the release to attest", async () => {
    current = await drive();
    const project = await loadProject(current.ship.source, "shipshape.yaml");
    const published = await publishImage(project, current.ship.source, current.gitDir, {
      registry: "ghcr.io/acme",
      repository: "orders",
      sha: SHA,
      branch: "main",
      defaultBranch: "main",
      version: "2.0.0",
      creds,
    });
    const startedOn = new Date("2026-03-01T10:00:00Z");
    const json = await provenanceOf(project, current.ship.source, published, {
      configPath: "shipshape.yaml",
      builderId: "",
      invocationId: "run-1",
      startedOn,
      finishedOn: new Date("2026-03-01T10:05:00Z"),
    });
    const p = JSON.parse(json) as {
      buildDefinition: { externalParameters: Record<string, unknown>; resolvedDependencies: { uri?: string; digest?: object }[] };
      runDetails: { builder: { id: string } };
    };
    expect(p.buildDefinition.externalParameters).toMatchObject({
      image: "ghcr.io/acme/orders",
      version: "2.0.0",
      source: { ref: "main", revision: SHA },
      platforms: ["linux/amd64", "linux/arm64"],
      configPath: "shipshape.yaml",
    });
    expect(p.buildDefinition.resolvedDependencies).toEqual([
      { name: "source", digest: { gitCommit: SHA } },
      { uri: "pkg:docker/node@24.13.1-alpine", name: "node:24.13.1-alpine" },
    ]);
    expect(p.runDetails.builder.id).toBe("https://shipshape.dev/builders/dagger-local/v1");
  });

  it("verify with provenance: the signature and a SLSA v1 attestation for the digest from the expected builder", async () => {
    current = await drive();
    const hex = DIGEST_REF.split("sha256:")[1]!;
    const statement = {
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: SLSA_PROVENANCE_V1,
      subject: [{ name: "ghcr.io/acme/orders", digest: { sha256: hex } }],
      predicate: { runDetails: { builder: { id: "https://ci.example/release" } } },
    };
    const envelope = JSON.stringify({
      payloadType: "application/vnd.in-toto+json",
      payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
      signatures: [],
    });
    const verified = JSON.stringify([
      {
        critical: {
          identity: { "docker-reference": "ghcr.io/acme/orders" },
          image: { "docker-manifest-digest": `sha256:${hex}` },
          type: "https://sigstore.dev/cosign/sign/v1",
        },
        optional: {},
      },
    ]);
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 0, stdout: verified });
    current.engine.onExec((a) => a[1] === "verify-attestation", { exitCode: 0, stdout: `${envelope}\n` });
    const project = await loadProject(current.ship.source, "shipshape.yaml");
    const opts = {
      publicKey: dag.secret("env://PUB"),
      identity: "",
      issuer: "",
      insecureIgnoreTlog: true,
      creds,
      allowHttpRegistry: false,
      provenance: true,
    };
    const v = await verifyImage(project.config, DIGEST_REF, opts);
    expect(v).toEqual({
      verified: true,
      reason: `1 signature(s) verified for sha256:${hex}; 1 ${SLSA_PROVENANCE_V1} attestation(s) verified for sha256:${hex}`,
    });
    expect(current.engine.execs.at(-1)!.args).toEqual(
      verifyAttestationCommand({ ref: DIGEST_REF, key: true, insecureIgnoreTlog: true, type: "slsaprovenance1" }),
    );
    expect(await verifyImage(project.config, DIGEST_REF, { ...opts, builderId: "https://ci.example/other" })).toEqual({
      verified: false,
      reason: `signature verified, but provenance for sha256:${hex} was built by https://ci.example/release, not https://ci.example/other`,
    });
    current.engine.onExec((a) => a[1] === "verify-attestation", {
      exitCode: 1,
      stderr: "Error: none of the attestations matched the predicate type",
    });
    expect((await verifyImage(project.config, DIGEST_REF, opts)).verified).toBe(false);
    // Without the flag nothing but the signature is checked.
    const before = current.engine.execs.length;
    expect((await verifyImage(project.config, DIGEST_REF, { ...opts, provenance: false })).verified).toBe(true);
    expect(current.engine.execs.slice(before).map((e) => e.args[1])).toEqual(["verify"]);
  });
});

describe("secrets and re-runs", () => {
  const authOf = (json: string) => {
    const { auths } = JSON.parse(json) as { auths: Record<string, { auth: string }> };
    return Buffer.from(auths["ghcr.io"]!.auth, "base64").toString();
  };

  it("names a registry config secret by its content: two credentials for one host never share one, equal ones do", async () => {
    current = await drive();
    process.env.SHIPSHAPE_T_PW_A = "pw-a";
    process.env.SHIPSHAPE_T_PW_B = "pw-b";
    const config = (username: string, env: string) => dockerConfig({ host: "ghcr.io", username, secret: dag.secret(`env://${env}`) });
    const [a, b, again] = await Promise.all([
      config("a", "SHIPSHAPE_T_PW_A"),
      config("b", "SHIPSHAPE_T_PW_B"),
      config("a", "SHIPSHAPE_T_PW_A"),
    ]);
    // The engine keeps one value per setSecret name in a session: a shared name would hand both the last one.
    expect([authOf(await a.plaintext()), authOf(await b.plaintext())]).toEqual(["a:pw-a", "b:pw-b"]);
    expect(await again.id()).toBe(await a.id());
    expect(await a.id()).not.toBe(await b.id());
    const names = current.engine.queries.flatMap((q) => q.calls).filter((c) => c.field === "setSecret");
    expect(names.map((c) => String(c.args.name))).toEqual(expect.arrayContaining([expect.stringMatching(/^docker-config-[0-9a-f]{24}$/)]));
    expect(names.every((c) => !String(c.args.name).includes("pw-"))).toBe(true);
  });

  it("re-running sign or verify really runs cosign again: each call's execs carry their own run value", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 0, stdout: verified(`sha256:${"a".repeat(64)}`) });
    const verifier = { cosignPublicKey: dag.secret("env://PUB"), insecureIgnoreTlog: true };
    for (let i = 0; i < 2; i++) {
      await chainCall("sign", { ref: DIGEST_REF }, KEY);
      await chainCall("verify", { ref: DIGEST_REF }, verifier);
    }
    for (const verb of ["sign", "verify"]) {
      const runs = current.engine.execs.filter((e) => e.args[0] === "cosign" && e.args[1] === verb);
      expect(runs, verb).toHaveLength(2);
      expect(new Set(runs.map((e) => e.env[COSIGN_RUN_ENV])).size, verb).toBe(2);
    }
  });

  it("keyless with a token as given: an expired one is refused before cosign runs, naming the fresh-token flags", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    process.env.SHIPSHAPE_T_OLD_TOKEN = jwt({ exp: Math.floor(Date.now() / 1000) - 60 });
    await expect(chainCall("sign", { ref: DIGEST_REF }, { sigstoreIdToken: dag.secret("env://SHIPSHAPE_T_OLD_TOKEN") })).rejects.toThrow(
      /^the OIDC identity token expired at .*, before cosign signs .*\nhint: chain with-signer --id-token-request-url=env:\/\/ACTIONS_ID_TOKEN_REQUEST_URL/,
    );
    expect(current.engine.execs.filter((e) => e.args[0] === "cosign")).toEqual([]);
    await expect(
      chainCall("sign", { ref: DIGEST_REF }, { sigstoreIdTokenRequestUrl: dag.secret("env://SHIPSHAPE_T_OLD_TOKEN") }),
    ).rejects.toThrow(
      /needs both the OIDC token request URL and its token\nhint: chain with-signer --id-token-request-url=env:\/\/ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=/,
    );
  });

  // The hints name the chain's flags (with-signer ...), never the flat ones removed in 92e40f3.
  it("the expired-token hint names the with-signer flags that exist, not the removed --sigstore-id-token-request-url", async () => {
    current = await drive();
    process.env.SHIPSHAPE_T_OLD_TOKEN = jwt({ exp: Math.floor(Date.now() / 1000) - 60 });
    const err = await chainCall("sign", { ref: DIGEST_REF }, { sigstoreIdToken: dag.secret("env://SHIPSHAPE_T_OLD_TOKEN") }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^the OIDC identity token expired at /);
    expect(err?.message).toMatch(/\nhint: .*with-signer --id-token-request-url=env:\/\/ACTIONS_ID_TOKEN_REQUEST_URL/);
    expect(err?.message).not.toMatch(/--sigstore-id-token-request-url|--cosign-key/);
  });

  it("sign without withSigner: the hint names with-signer, not the removed --cosign-key flags", async () => {
    current = await drive();
    const err = await chainCall("sign", { ref: DIGEST_REF }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^nothing to sign with/);
    expect(err?.message).toMatch(/\nhint: .*with-signer/);
    expect(err?.message).not.toMatch(/--sigstore-id-token-request-url|--cosign-key/);
  });
});

describe("withRegistry: a login only ever goes to its own registry", () => {
  const OTHER_REF = `quay.io/acme/orders@sha256:${"a".repeat(64)}`;
  const PW = "ghcr-only-pw-0123456789";
  const login = (): ChainArgs => ({
    registryAddress: "ghcr.io/acme",
    registryUsername: "ci-bot",
    registryPassword: dag.secret("env://SHIPSHAPE_T_GHCR_ONLY_PW"),
    allowHttpRegistry: true,
  });
  /** cosign answered, and the docker config.json each cosign run found mounted (undefined: none). */
  const recordConfigs = (d: Driven) => {
    const configs: (string | undefined)[] = [];
    d.engine.onExec(
      (a) => a[0] === "cosign",
      (ctx) => {
        configs.push(ctx.read("/tmp/docker/config.json"));
        return { exitCode: 0 };
      },
    );
    return configs;
  };

  it("sign: an image on another host gets no docker config, no password and no plain HTTP; its own host gets them", async () => {
    process.env.SHIPSHAPE_T_GHCR_ONLY_PW = PW;
    current = await drive();
    const configs = recordConfigs(current);
    expect((await chainCall("sign", { ref: OTHER_REF }, { ...KEY, ...login() })).json).toBe(OTHER_REF);
    const other = current.engine.execs.filter((e) => e.args[0] === "cosign");
    expect(other.map((e) => e.args)).toEqual([signingConfigCommand(), signCommand({ ref: OTHER_REF, keyless: false })]);
    expect(other.every((e) => e.mounts["/tmp/docker/config.json"] === undefined)).toBe(true);
    expect(configs).toEqual([undefined, undefined]);
    expect(JSON.stringify(current.engine.execs)).not.toContain(PW);
    expect(JSON.stringify(current.engine.execs)).not.toContain(Buffer.from(`ci-bot:${PW}`).toString("base64"));

    // The same chain on an image in ghcr.io: the login is mounted, for ghcr.io alone, with plain HTTP.
    current.engine.execs.length = 0;
    configs.length = 0;
    await chainCall("sign", { ref: DIGEST_REF }, { ...KEY, ...login() });
    const own = current.engine.execs.filter((e) => e.args[0] === "cosign");
    expect(own[1]!.args).toEqual(signCommand({ ref: DIGEST_REF, keyless: false, allowHttpRegistry: true }));
    expect(own[1]!.mounts["/tmp/docker/config.json"]).toBe("secret");
    const { auths } = JSON.parse(configs[1]!) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(auths)).toEqual(["ghcr.io"]);
    expect(Buffer.from(auths["ghcr.io"]!.auth, "base64").toString()).toBe(`ci-bot:${PW}`);
  });

  it("publish: pushing to another registry carries no registry auth for it; pushing to its own carries the login", async () => {
    process.env.SHIPSHAPE_T_GHCR_ONLY_PW = PW;
    current = await drive();
    const run = { sha: SHA, branch: "main" };
    const ref = (await chainCall<string>("publish", { registry: "quay.io/acme", repository: "orders" }, { ...login(), ...run })).json;
    expect(ref).toMatch(/^quay\.io\/acme\/orders@sha256:[0-9a-f]{64}$/);
    expect(current.engine.published.length).toBeGreaterThan(0);
    expect(current.engine.published.every((p) => p.address.startsWith("quay.io/acme/orders:"))).toBe(true);
    expect(current.engine.published.map((p) => p.auth)).toEqual(current.engine.published.map(() => ({})));
    expect(JSON.stringify(current.engine.published)).not.toContain(PW);

    current.engine.published.length = 0;
    await chainCall("publish", GHCR, { ...login(), ...run });
    expect(current.engine.published[0]!.auth).toEqual({ "ghcr.io": { username: "ci-bot", secret: PW } });
  });

  it("verify: the login does not go to another registry either", async () => {
    process.env.SHIPSHAPE_T_GHCR_ONLY_PW = PW;
    current = await drive();
    const configs: (string | undefined)[] = [];
    current.engine.onExec(
      (a) => a[1] === "verify",
      (ctx) => {
        configs.push(ctx.read("/tmp/docker/config.json"));
        return { exitCode: 0, stdout: verified(`sha256:${"a".repeat(64)}`).replace("ghcr.io/acme/orders", "quay.io/acme/orders") };
      },
    );
    const verifier = { cosignPublicKey: dag.secret("env://PUB"), insecureIgnoreTlog: true };
    await chainCall("verify", { ref: OTHER_REF }, { ...verifier, ...login() });
    await chainCall("verify", { ref: DIGEST_REF }, { ...verifier, ...login() });
    expect(configs[0]).toBeUndefined();
    expect(Object.keys((JSON.parse(configs[1]!) as { auths: object }).auths)).toEqual(["ghcr.io"]);
    const verifies = current.engine.execs.filter((e) => e.args[1] === "verify");
    expect(verifies.map((e) => e.args)).toEqual([
      verifyCommand({ ref: OTHER_REF, key: true, insecureIgnoreTlog: true }),
      verifyCommand({ ref: DIGEST_REF, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true }),
    ]);
  });
  // An anonymous local registry (crane registry serve): plain HTTP follows the address alone, not a login.
  it("plain HTTP for a registry without a login: with-registry --address --plain-http alone is used for that host", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    const local = `127.0.0.1:5000/acme/orders@sha256:${"a".repeat(64)}`;
    await chainCall("sign", { ref: local }, { ...KEY, registryAddress: "127.0.0.1:5000", allowHttpRegistry: true });
    const sign = current.engine.execs.find((e) => e.args[0] === "cosign" && e.args[1] === "sign")!;
    expect(sign.args).toEqual(signCommand({ ref: local, keyless: false, allowHttpRegistry: true }));
  });
});

describe("chained state across calls", () => {
  it("withSigner set in one call is what sign uses calls later, as Secret IDs only; a later withSigner replaces it", async () => {
    process.env.SHIPSHAPE_T_CHAIN_KEY = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----chain";
    process.env.SHIPSHAPE_T_CHAIN_PW = "chain-key-pw";
    process.env.SHIPSHAPE_T_CHAIN_OIDC = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    // Each step is its own call: the object goes out as JSON and is rebuilt from it for the next one.
    const root = await current.harness.root();
    const signer = await root.call("withSigner", {
      key: dag.secret("env://SHIPSHAPE_T_CHAIN_KEY"),
      password: dag.secret("env://SHIPSHAPE_T_CHAIN_PW"),
    });
    const later = await (
      await signer.call("withRun", { actor: "ada", commitSha: SHA })
    ).call("withVerifier", {
      publicKey: dag.secret("env://PUB"),
    });
    const state = JSON.stringify(later.raw);
    for (const plain of [process.env.SHIPSHAPE_T_CHAIN_KEY, process.env.SHIPSHAPE_T_CHAIN_PW]) expect(state).not.toContain(plain);
    expect(state).toContain('"cosignKey"');
    expect(state).toContain('"commitSha":"' + SHA + '"');

    expect((await later.call("sign", { ref: DIGEST_REF })).json).toBe(DIGEST_REF);
    const sign = current.engine.execs.filter((e) => e.args[0] === "cosign" && e.args[1] === "sign");
    expect(sign.map((e) => e.args)).toEqual([signCommand({ ref: DIGEST_REF, keyless: false })]);
    expect(sign[0]!.secretEnv).toEqual({
      COSIGN_PRIVATE_KEY: process.env.SHIPSHAPE_T_CHAIN_KEY,
      COSIGN_PASSWORD: process.env.SHIPSHAPE_T_CHAIN_PW,
    });

    // with-signer again, keyless: the key is gone, not merged.
    const keyless = await later.call("withSigner", { idToken: dag.secret("env://SHIPSHAPE_T_CHAIN_OIDC") });
    await keyless.call("sign", { ref: DIGEST_REF });
    const second = current.engine.execs.filter((e) => e.args[0] === "cosign" && e.args[1] === "sign").at(-1)!;
    expect(second.args).toEqual(signCommand({ ref: DIGEST_REF, keyless: true }));
    expect(second.secretEnv).toEqual({ SIGSTORE_ID_TOKEN: process.env.SHIPSHAPE_T_CHAIN_OIDC });
  });

  it("release without withSigner refuses before anything is built or pushed, with a hint naming with-signer", async () => {
    process.env.SHIPSHAPE_T_GHCR_ONLY_PW = "pw";
    current = await drive();
    const chain = { ...GHCR_LOGIN, registryPassword: dag.secret("env://SHIPSHAPE_T_GHCR_ONLY_PW"), sha: SHA, branch: "main" };
    const err = await chainCall("release", GHCR, chain).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^release needs a signing identity: an image is never published unsigned\nhint: chain with-signer --key=/);
    expect(err?.message).toContain("with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL");
    expect(current.engine.execs).toEqual([]);
    expect(current.engine.published).toEqual([]);
    // The same chain with a signer gets past that check (and fails later, on the scan it then really runs).
    const signed = await chainCall("release", GHCR, { ...chain, ...KEY }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(signed?.message ?? "").not.toMatch(/needs a signing identity/);
    expect(current.engine.execs.length).toBeGreaterThan(0);
  });
});
