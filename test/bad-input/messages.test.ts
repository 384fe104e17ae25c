/**
 * Messages a user can trust: an uppercase digest is named as such, an option-like repository is
 * refused, cosign's own reason is shown (real cosign 3 stderr, fixtures/cosign/), and a line break
 * inside a credential names the credential, never its value, before any header library sees it.
 */
import { dag } from "@dagger.io/dagger";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awsCredentials } from "../../deploy/lib/aws/credentials.js";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { registryAuth } from "../../deploy/lib/gates/registry.js";
import { attestationVerdict } from "../../deploy/lib/supply/signing/attestation.js";
import { assertDigestRef, signatureVerdict } from "../../deploy/lib/supply/signing/commands.js";
import { cosignError } from "../../deploy/lib/supply/signing/cosign-error.js";
import { StubEngine } from "../harness/stub-engine.js";
import { expectClear, rejected, thrown } from "./clear.js";

const HEX = "0123456789abcdef".repeat(4);
const cosignStderr = (name: string) => readFileSync(join(import.meta.dirname, "fixtures/cosign", `${name}.stderr`), "utf8");

describe("digests and image names", () => {
  it("an uppercase sha256 digest is said to need lowercase hex, with the lowercase reference as the fix", () => {
    const answer = thrown(() => assertDigestRef(`ghcr.io/acme/api@sha256:${HEX.toUpperCase()}`));
    expectClear(answer, /the digest must be lowercase hex/, new RegExp(`^write the digest in lowercase: sha256:${HEX}$`));
    expect(answer.cause).not.toMatch(/has no @sha256/);
  });

  it("a sha256 digest of the wrong length is said to be the wrong length", () => {
    expectClear(
      thrown(() => assertDigestRef(`ghcr.io/acme/api@sha256:${HEX.slice(0, 63)}`)),
      /64 hex characters, this one has 63$/,
      /by digest/,
    );
  });

  it('an image repository starting with "-" is refused before it reaches cosign as an option', () => {
    expectClear(
      thrown(() => assertDigestRef(`--output-file=/tmp/x@sha256:${HEX}`)),
      /^image repository "--output-file=\/tmp\/x" starts with "-"/,
      /ghcr\.io/,
    );
  });

  it("shipshape.yaml: an uppercase image digest is said to need lowercase hex", () => {
    const answer = thrown(() => parseConfig(`images:\n  node:\n    digest: "sha256:${HEX.toUpperCase()}"\n`, "shipshape.yaml"));
    expectClear(answer, /images\.node\.digest: expected a digest like sha256:<64 lowercase hex chars>/);
  });
});

describe("cosign's own reason", () => {
  it("verify with a key that is not PEM: cosign's 'PEM decoding failed', not a guess", () => {
    const v = signatureVerdict(`ghcr.io/acme/api@sha256:${HEX}`, {
      exitCode: 1,
      stdout: "",
      stderr: cosignStderr("verify-pem-decoding-failed"),
    });
    expect(v).toEqual({
      verified: false,
      reason: "cosign verify failed (exit 1): loading verifier from key opts: loading public key: pem to public key: PEM decoding failed",
    });
  });

  it("verify-attestation: cosign's reason, not 'no attestation signed by that key'", () => {
    const v = attestationVerdict(
      `ghcr.io/acme/api@sha256:${HEX}`,
      { exitCode: 1, stdout: "", stderr: cosignStderr("verify-pem-decoding-failed") },
      { predicateType: "https://slsa.dev/provenance/v1" },
    );
    expect(v.reason).toMatch(/: loading verifier from key opts: .*PEM decoding failed$/);
  });

  it("sign: the Error: line, not the TUF WARNING before it nor cobra's repeat after it", () => {
    const line = cosignError({ exitCode: 1, stderr: cosignStderr("sign-unreachable-registry") });
    expect(line).toMatch(
      /^signing \[127\.0\.0\.1:1\/acme\/api@sha256:a{64}\]: accessing image: Get "https:\/\/127\.0\.0\.1:1\/v2\/": dial tcp/,
    );
    expect(cosignError({ exitCode: 2, stderr: "WARNING: only a warning\n" })).toBe("exit code 2");
  });
});

describe("a line break inside a credential", () => {
  // AWS's documentation example values, joined at run time so this file holds no literal that
  // gitleaks takes for a key (the first version of it is in history, accepted by the baseline).
  const fake = (...parts: string[]) => parts.join("");
  const secret = fake("wJalrXUtnFEMI/K7MDENG", "\n", "bPxRfiCYEXAMPLEKEY");
  const plain = fake("wJalrXUtn", "FEMIK7MDENG");

  it.each([
    ["AWS secret access key", { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: secret }],
    ["AWS access key id", { accessKeyId: "AKIAIOSFODNN7EXAMPLE\r\nAKIA2", secretAccessKey: plain }],
    [
      "AWS session token",
      { accessKeyId: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: plain, sessionToken: fake("FQoGZXIvYXdzE", "\u0007", "Kx9QmYh") },
    ],
    ["web identity token", { webIdentityToken: "eyJhbGciOi\nJSUzI1NiJ9", roleArn: "arn:aws:iam::123456789012:role/deployer" }],
  ])("the %s is named and refused, its value never shown", (name, opts) => {
    const answer = thrown(() => awsCredentials({ region: "eu-west-1", ...opts }));
    expectClear(
      answer,
      new RegExp(`^the ${name} has (a line break|a control character \\(U\\+0007\\)) inside it`),
      new RegExp(`pass the ${name} alone on one line`),
    );
    for (const part of Object.values(opts).flatMap((v) => v.split(/\p{Cc}+/u)))
      expect(`${answer.cause} ${answer.hint}`).not.toContain(part);
  });

  describe("registry credentials (Dagger Secrets)", () => {
    let engine: StubEngine;
    beforeEach(async () => {
      engine = await new StubEngine().install();
    });
    afterEach(() => engine.uninstall());
    const config = parseConfig(undefined, "shipshape.yaml").config;

    it("a registry password with a line break inside: named, refused, nothing run", async () => {
      const creds = { username: "ci", password: dag.setSecret("pw", "hunter2\nhunter3") };
      const answer = await rejected(registryAuth(config, "ghcr.io/acme", creds));
      expectClear(answer, /^the registry password has a line break inside it \(character 8 of 15\)/, /alone on one line/);
      expect(`${answer.cause}${answer.hint}`).not.toMatch(/hunter/);
      expect(engine.commands).toEqual([]);
    });

    it("ECR: an AWS key with a line break is refused before any AWS call", async () => {
      const creds = {
        username: "",
        awsAccessKeyId: dag.setSecret("k", "AKIAIOSFODNN7EXAMPLE"),
        awsSecretAccessKey: dag.setSecret("s", secret),
      };
      const answer = await rejected(registryAuth(config, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme", creds));
      expectClear(answer, /^the AWS secret access key has a line break inside it/, /alone on one line/);
      expect(answer.cause).not.toMatch(/TypeError|ERR_INVALID_CHAR|EXAMPLEKEY/);
    });
  });
});
