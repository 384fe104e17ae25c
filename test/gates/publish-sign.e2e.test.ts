/**
 * publish, sign and verify through the stub engine: multi-arch publish with each tag, ECR through
 * a stateful SDK fake (token only ever a Secret), cosign command lines by digest with secrets in
 * secret variables, and verdicts from cosign's real output shapes.
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
import { afterEach, describe, expect, it } from "vitest";
import { signCommand, signingConfigCommand, verifyCommand } from "../../src/supply/signing/commands.js";
import { drive, type Driven } from "../helpers/drive.js";

let current: Driven | undefined;
const ecr = mockClient(ECRClient);
afterEach(() => {
  current?.engine.uninstall();
  ecr.reset();
});

const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST_REF = `ghcr.io/acme/orders@sha256:${"a".repeat(64)}`;

describe("publish", () => {
  it("publishes one multi-arch manifest under each tag, with the registry auth, and returns the digest ref", async () => {
    current = await drive();
    const ref = await current.ship.publish(
      "ghcr.io/acme",
      "orders",
      SHA,
      "main",
      "main",
      "1.4.0",
      "ci-bot",
      dag.secret("env://NOPE_TOKEN"),
    );
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
    process.env.SHIPSHAPE_TEST_AKID = "AKIAEXAMPLEEXAMPLE12";
    process.env.SHIPSHAPE_TEST_SAK = "s".repeat(40);
    current = await drive();
    const registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    const ref = await current.ship.publish(
      registry,
      "orders",
      SHA,
      "feature/x",
      "main",
      "",
      "",
      undefined,
      dag.secret("env://SHIPSHAPE_TEST_AKID"),
      dag.secret("env://SHIPSHAPE_TEST_SAK"),
    );
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
    await expect(current.ship.publish("", "", SHA)).rejects.toThrow(/^no registry to publish to\nhint: pass --registry/);
    await expect(current.ship.publish("123456789012.dkr.ecr.us-east-1.amazonaws.com", "", SHA)).rejects.toThrow(
      /is Amazon ECR, but no AWS credentials were given/,
    );
  });
});

describe("sign", () => {
  it("signs the digest with the key and password as secret variables, after writing the empty signing config", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    expect(await current.ship.sign(DIGEST_REF, dag.secret("env://COSIGN_KEY_X"), dag.secret("env://COSIGN_PW_X"))).toBe(DIGEST_REF);
    const cosign = current.engine.execs.filter((e) => e.args[0] === "cosign");
    expect(cosign.map((e) => e.args)).toEqual([signingConfigCommand(), signCommand({ ref: DIGEST_REF, keyless: false })]);
    expect(Object.keys(cosign[1]!.secretEnv).sort()).toEqual(["COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY"]);
    expect(cosign[1]!.env.COSIGN_PRIVATE_KEY).toBeUndefined();
    expect(cosign[1]!.image).toBe("ghcr.io/sigstore/cosign/cosign:v3.1.2");
  });

  it("refuses a tag-only reference before running cosign", async () => {
    current = await drive();
    await expect(current.ship.sign("ghcr.io/acme/orders:1.4.0", dag.secret("env://K"), dag.secret("env://P"))).rejects.toThrow(
      /sign and deploy by digest/,
    );
    expect(current.engine.execs).toHaveLength(0);
  });

  it("signs keyless with the OIDC token as a secret variable", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
    await current.ship.sign(DIGEST_REF, undefined, undefined, dag.secret("env://OIDC_X"));
    const sign = current.engine.execs.find((e) => e.args[1] === "sign")!;
    expect(sign.args).toEqual(signCommand({ ref: DIGEST_REF, keyless: true }));
    expect(Object.keys(sign.secretEnv)).toEqual(["SIGSTORE_ID_TOKEN"]);
  });
});

describe("verify", () => {
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

  it("passes when cosign verifies the requested digest", async () => {
    current = await drive();
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 0, stdout: verified(`sha256:${"a".repeat(64)}`) });
    expect(await current.ship.verify(DIGEST_REF, dag.secret("env://PUB"), "", "", true)).toMatch(/verified for sha256:a{64}/);
    expect(current.engine.execs[0]!.args).toEqual(verifyCommand({ ref: DIGEST_REF, key: true, insecureIgnoreTlog: true }));
  });

  it("fails an unsigned digest (cosign exit 10) and a signature for another digest", async () => {
    current = await drive();
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 10, stderr: "Error: no signatures found" });
    await expect(current.ship.verify(DIGEST_REF, dag.secret("env://PUB"))).rejects.toThrow(/is not verified: no signatures found/);
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 0, stdout: verified(`sha256:${"b".repeat(64)}`) });
    await expect(current.ship.verify(DIGEST_REF, dag.secret("env://PUB"))).rejects.toThrow(/not the requested/);
  });

  it("needs a key or a keyless identity", async () => {
    current = await drive();
    await expect(current.ship.verify(DIGEST_REF)).rejects.toThrow(/nothing to verify against/);
  });
});
