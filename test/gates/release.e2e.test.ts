/**
 * release through the stub engine: the supply-chain gates first (Trivy and syft answered with
 * real reports, gitleaks run for real), then publish, sign and SBOM attestation by digest; a
 * failing gate publishes nothing.
 */
import { dag } from "@dagger.io/dagger";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Release } from "../../src/report/release.js";
import { attestCommand } from "../../src/supply/signing/commands.js";
import { FIXTURES } from "../helpers/fixture.js";
import { drive, type Driven } from "../helpers/drive.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");
const SHA = "0123456789abcdef0123456789abcdef01234567";

async function releaseWith(trivyReport: string) {
  current = await drive();
  const { engine } = current;
  engine.onExec((a) => a[0] === "trivy" && a.includes("--download-db-only"), { exitCode: 0 });
  engine.onExec((a) => a[0] === "trivy" && a.includes("--input"), { exitCode: 0, files: { "/shipshape/reports/trivy.json": trivyReport } });
  engine.onExec((a) => a[0] === "/syft", {
    exitCode: 0,
    files: { "/shipshape/reports/sbom.cdx.json": fixture("supply/sbom/orders-service-prod.cdx.json") },
  });
  engine.onExec((a) => a[0] === "cosign", { exitCode: 0 });
  return current.ship.release("ghcr.io/acme", "orders", SHA, "main", "main", "2.0.0", dag.secret("env://K"), dag.secret("env://P"));
}

describe("release", () => {
  it("publishes, signs and attests the SBOM by digest once every gate passed", async () => {
    // centos 7: 1 MEDIUM and 2 LOW findings, under the default HIGH/CRITICAL bar
    const release = await releaseWith(fixture("supply/trivy/centos-7.json"));
    const { engine } = current!;
    expect(release.ref).toMatch(/^ghcr\.io\/acme\/orders@sha256:[0-9a-f]{64}$/);
    expect(release.tags).toEqual(["2.0.0", "2.0", "2", "sha-0123456", "branch-main", "latest"]);
    expect(release.gates.map((g) => `${g.gate} ${g.status}`)).toEqual(["scan PASSED", "licenses PASSED", "secrets PASSED"]);
    const cosign = engine.execs.filter((e) => e.args[0] === "cosign").map((e) => e.args[1]);
    expect(cosign).toEqual(["signing-config", "sign", "attest", "attest"]);
    const attests = engine.execs.filter((e) => e.args[1] === "attest");
    expect(attests[0]!.args).toEqual(
      attestCommand({ ref: release.ref, keyless: false, predicatePath: "/tmp/sbom.cdx.json", type: "cyclonedx" }),
    );
    // The SLSA provenance is attested to the same digest, after the SBOM.
    expect(attests[1]!.args).toContain("slsaprovenance1");
    expect(attests[1]!.args.at(-1)).toBe(release.ref);
    expect(await release.files.entries()).toEqual(["licenses", "scan", "secrets"]);
  });

  it("bundles what CI keeps: the gates' files, the SBOM under its own name, release.json; provenance when made", async () => {
    const release = await releaseWith(fixture("supply/trivy/centos-7.json"));
    const bundle = await release.bundle();
    expect(await bundle.entries()).toEqual(["licenses", "provenance.slsa.json", "release.json", "sbom.cdx.json", "scan", "secrets"]);
    const provenance = JSON.parse(await bundle.file("provenance.slsa.json").contents()) as {
      buildDefinition: { externalParameters: Record<string, unknown> };
      runDetails: { builder: { id: string } };
    };
    expect(JSON.stringify(provenance.buildDefinition.externalParameters)).toContain(SHA);
    expect(provenance.runDetails.builder.id).toMatch(/^https:\/\//);
    expect(JSON.parse(await bundle.file("release.json").contents())).toEqual({ ref: release.ref, tags: release.tags });
    expect(await bundle.file("sbom.cdx.json").contents()).toBe(fixture("supply/sbom/orders-service-prod.cdx.json"));
    const withProvenance = new Release(release.ref, release.tags, release.sbom, release.gates, release.files, '{"buildDefinition":{}}\n');
    expect(await (await withProvenance.bundle()).file("provenance.slsa.json").contents()).toBe('{"buildDefinition":{}}\n');
  });

  it("stops before publishing when a gate fails, with the table", async () => {
    const err = await releaseWith(fixture("supply/trivy/alpine-39.json")).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^release stopped before publishing:\n/);
    expect(err?.message).toMatch(/^scan\s+FAILED/m);
    expect(current!.engine.published).toEqual([]);
    expect(current!.engine.execs.some((e) => e.args[0] === "cosign")).toBe(false);
  });

  it("refuses to start without a signing identity", async () => {
    current = await drive();
    await expect(current.ship.release("ghcr.io/acme", "orders", SHA)).rejects.toThrow(/never published unsigned/);
    expect(current.engine.execs).toHaveLength(0);
  });
});
