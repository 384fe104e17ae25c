/**
 * SLSA Provenance v1: the predicate builder checked against the spec's shape
 * (https://slsa.dev/spec/v1.0/provenance), the base images read from Dockerfiles, and the reading
 * of `cosign verify-attestation` output (DSSE envelopes with in-toto statements) into a verdict.
 * test/supply/signing.real.test.ts attests and verifies the same predicate with the real cosign.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Problem } from "../../deploy/src/project/problem.js";
import { baseImagesOf, generateDockerfile } from "../../deploy/lib/supply/build/dockerfile.js";
import {
  baseImageDescriptor,
  buildProvenance,
  DEFAULT_BUILDER_ID,
  gitSourceUri,
  rfc3339,
  SHIPSHAPE_BUILD_TYPE,
  SLSA_PROVENANCE_V1,
  type ProvenanceInput,
} from "../../deploy/lib/supply/provenance/slsa.js";
import { attestationVerdict, parseAttestations } from "../../deploy/lib/supply/signing/attestation.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const NODE_DIGEST = "sha256:4f696fbf39f383c1e486030ba6b289a5d9af541642fc78ab197e584a113b9c03";
const BUILDER = "https://github.com/acme/orders/.github/workflows/release.yml@refs/heads/main";

const input = (over: Partial<ProvenanceInput> = {}): ProvenanceInput => ({
  repository: "https://github.com/acme/orders",
  ref: "main",
  revision: SHA,
  platforms: ["linux/amd64", "linux/arm64"],
  configPath: "shipshape.yaml",
  baseImages: [`node:24.13.1-alpine@${NODE_DIGEST}`, "alpine:3.22.2"],
  builderId: BUILDER,
  invocationId: "https://github.com/acme/orders/actions/runs/42/attempts/1",
  startedOn: new Date("2026-03-01T10:00:00Z"),
  finishedOn: new Date("2026-03-01T10:07:30Z"),
  ...over,
});

// The SLSA v1 predicate as the spec defines it: required fields, URIs, RFC 3339 times, digests as hex maps.
const uri = z.string().regex(/^[a-z][a-z0-9+.-]*:\S+$/i);
const rfc3339Text = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
const ResourceDescriptor = z
  .strictObject({
    uri: uri.optional(),
    digest: z.record(z.string(), z.string().regex(/^[0-9a-f]+$/)).optional(),
    name: z.string().optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .refine((d) => d.uri !== undefined || d.digest !== undefined, "a descriptor needs a uri or a digest");
const SlsaV1 = z.strictObject({
  buildDefinition: z.strictObject({
    buildType: uri,
    externalParameters: z.record(z.string(), z.unknown()),
    internalParameters: z.record(z.string(), z.unknown()).optional(),
    resolvedDependencies: z.array(ResourceDescriptor).optional(),
  }),
  runDetails: z.strictObject({
    builder: z.strictObject({ id: uri, version: z.record(z.string(), z.string()).optional() }),
    metadata: z.strictObject({ invocationId: z.string().min(1), startedOn: rfc3339Text, finishedOn: rfc3339Text }).optional(),
  }),
});

describe("buildProvenance", () => {
  it("a spec-shaped v1 predicate: source commit and pinned base image resolved, run timed", () => {
    const p = buildProvenance(input({ parameters: { version: "2.0.0" } }));
    expect(SlsaV1.safeParse(JSON.parse(JSON.stringify(p))).success).toBe(true);
    expect(p.buildDefinition.buildType).toBe(SHIPSHAPE_BUILD_TYPE);
    expect(p.buildDefinition.externalParameters).toEqual({
      version: "2.0.0",
      source: { uri: "git+https://github.com/acme/orders@refs/heads/main", ref: "main", revision: SHA },
      platforms: ["linux/amd64", "linux/arm64"],
      configPath: "shipshape.yaml",
    });
    expect(p.buildDefinition.resolvedDependencies).toEqual([
      { uri: "git+https://github.com/acme/orders@refs/heads/main", digest: { gitCommit: SHA } },
      { uri: "pkg:docker/node@24.13.1-alpine", name: `node:24.13.1-alpine@${NODE_DIGEST}`, digest: { sha256: NODE_DIGEST.slice(7) } },
      { uri: "pkg:docker/alpine@3.22.2", name: "alpine:3.22.2" },
    ]);
    expect(p.runDetails).toEqual({
      builder: { id: BUILDER },
      metadata: {
        invocationId: "https://github.com/acme/orders/actions/runs/42/attempts/1",
        startedOn: "2026-03-01T10:00:00Z",
        finishedOn: "2026-03-01T10:07:30Z",
      },
    });
  });

  it("same inputs, same document; an unknown repository still records the commit", () => {
    expect(JSON.stringify(buildProvenance(input()))).toBe(JSON.stringify(buildProvenance(input())));
    const p = buildProvenance(input({ repository: "", invocationId: "" }));
    expect(p.buildDefinition.resolvedDependencies[0]).toEqual({ name: "source", digest: { gitCommit: SHA } });
    expect(p.runDetails.metadata.invocationId).toBe(`${SHA}@2026-03-01T10:00:00Z`);
    expect(SlsaV1.safeParse(JSON.parse(JSON.stringify(p))).success).toBe(true);
  });

  it("refuses a missing commit, a builder that is not a URI, no platform, and time running backwards", () => {
    expect(() => buildProvenance(input({ revision: "main" }))).toThrow(Problem);
    expect(() => buildProvenance(input({ builderId: "my laptop" }))).toThrow(/is not a URI/);
    expect(() => buildProvenance(input({ platforms: [] }))).toThrow(Problem);
    expect(() => buildProvenance(input({ finishedOn: new Date("2026-03-01T09:00:00Z") }))).toThrow(/finishedOn/);
    expect(DEFAULT_BUILDER_ID).toMatch(/^https:\/\//);
  });

  it("times in Go's RFC 3339 form (what cosign re-encodes them to): no empty fraction, no trailing zeros", () => {
    expect(rfc3339(new Date("2026-03-01T10:00:00Z"))).toBe("2026-03-01T10:00:00Z");
    expect(rfc3339(new Date("2026-03-01T10:00:00.120Z"))).toBe("2026-03-01T10:00:00.12Z");
    expect(rfc3339(new Date("2026-03-01T10:00:00.007Z"))).toBe("2026-03-01T10:00:00.007Z");
  });

  it("source URIs: git+ form, .git dropped, a full ref kept", () => {
    expect(gitSourceUri("git+https://github.com/acme/orders.git", "refs/tags/v1.2.0")).toBe(
      "git+https://github.com/acme/orders@refs/tags/v1.2.0",
    );
    expect(gitSourceUri("https://github.com/acme/orders", "")).toBe("git+https://github.com/acme/orders");
    expect(gitSourceUri("", "main")).toBe("");
  });

  it("base images: Docker Hub names canonicalised, registry ports kept apart from tags", () => {
    expect(baseImageDescriptor("docker.io/library/node:20")).toEqual({ uri: "pkg:docker/node@20", name: "docker.io/library/node:20" });
    expect(baseImageDescriptor(`127.0.0.1:5000/base@${NODE_DIGEST}`)).toEqual({
      uri: "pkg:docker/127.0.0.1:5000/base",
      name: `127.0.0.1:5000/base@${NODE_DIGEST}`,
      digest: { sha256: NODE_DIGEST.slice(7) },
    });
  });
});

describe("baseImagesOf", () => {
  it("the fixture service's Dockerfile: one external image, stages left out", () => {
    const dockerfile = readFileSync(join(import.meta.dirname, "../fixtures/service/Dockerfile"), "utf8");
    expect(baseImagesOf(dockerfile)).toEqual(["node:24.13.1-alpine"]);
  });

  it("the generated Dockerfile: the digest-pinned Node image", () => {
    const dockerfile = generateDockerfile({
      pm: { name: "npm", yarnBerry: false, lockfile: "package-lock.json" },
      nodeImage: `node:24.13.1-alpine@${NODE_DIGEST}`,
      startCommand: ["node", "server.js"],
      port: 8080,
      healthPath: "/healthz",
    });
    expect(baseImagesOf(dockerfile)).toEqual([`node:24.13.1-alpine@${NODE_DIGEST}`]);
  });

  it("skips scratch, ARG expansions and earlier stages; reads --platform and continuation lines", () => {
    const dockerfile = [
      "ARG BASE=node:20",
      "FROM --platform=$BUILDPLATFORM golang:1.22 AS tools",
      "FROM ${BASE} AS app",
      "FROM tools AS more",
      "FROM \\",
      "  gcr.io/distroless/static:nonroot",
      "FROM scratch",
      "from Tools",
    ].join("\n");
    expect(baseImagesOf(dockerfile)).toEqual(["golang:1.22", "gcr.io/distroless/static:nonroot"]);
  });
});

describe("attestationVerdict", () => {
  const digest = `sha256:${"c".repeat(64)}`;
  const ref = `ghcr.io/acme/orders@${digest}`;
  const envelope = (statement: object) =>
    JSON.stringify({
      payloadType: "application/vnd.in-toto+json",
      payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
      signatures: [{ keyid: "", sig: "MEUCIQ==" }],
    });
  const statement = (over: object = {}) => ({
    _type: "https://in-toto.io/Statement/v0.1",
    predicateType: SLSA_PROVENANCE_V1,
    subject: [{ name: "ghcr.io/acme/orders", digest: { sha256: "c".repeat(64) } }],
    predicate: buildProvenance(input()),
    ...over,
  });
  const expectSlsa = { predicateType: SLSA_PROVENANCE_V1 };

  it("verified when a statement of the type names the digest (and the builder, when asked)", () => {
    const stdout = `${envelope(statement())}\n`;
    expect(parseAttestations(stdout)[0]?.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(attestationVerdict(ref, { exitCode: 0, stdout }, expectSlsa)).toEqual({
      verified: true,
      reason: `1 ${SLSA_PROVENANCE_V1} attestation(s) verified for ${digest}`,
    });
    expect(attestationVerdict(ref, { exitCode: 0, stdout }, { ...expectSlsa, builderId: BUILDER }).verified).toBe(true);
    expect(attestationVerdict(ref, { exitCode: 0, stdout }, { ...expectSlsa, builderId: DEFAULT_BUILDER_ID })).toEqual({
      verified: false,
      reason: `provenance for ${digest} was built by ${BUILDER}, not ${DEFAULT_BUILDER_ID}`,
    });
  });

  it("not verified: cosign failed, another digest, another predicate type, garbage", () => {
    expect(attestationVerdict(ref, { exitCode: 1, stdout: "" }, expectSlsa).verified).toBe(false);
    const other = envelope(statement({ subject: [{ digest: { sha256: "d".repeat(64) } }] }));
    expect(attestationVerdict(ref, { exitCode: 0, stdout: other }, expectSlsa).reason).toBe(
      `no ${SLSA_PROVENANCE_V1} attestation names ${digest}`,
    );
    const sbom = envelope(statement({ predicateType: "https://cyclonedx.org/bom" }));
    expect(attestationVerdict(ref, { exitCode: 0, stdout: sbom }, expectSlsa).verified).toBe(false);
    expect(attestationVerdict(ref, { exitCode: 0, stdout: '{"payload":1}' }, expectSlsa)).toMatchObject({
      verified: false,
      reason: /DSSE/,
    });
  });
});
