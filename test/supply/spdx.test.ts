/**
 * SPDX JSON SBOMs: syft's output argv, and the license check reading SPDX 2.x documents — syft's
 * own encoder snapshot, a vendor SPDX 2.2 document with LicenseRef licenses (both from the syft
 * repository), and an SPDX 2.3 document of the fixture service written in syft's layout (see
 * test/fixtures/supply/README.md), judged exactly like its CycloneDX twin.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LicensesConfigSchema, SbomConfigSchema } from "../../deploy/lib/supply/config.js";
import { parseCycloneDx } from "../../deploy/lib/supply/licenses/cyclonedx.js";
import { judgeLicenses } from "../../deploy/lib/supply/licenses/policy.js";
import { parseSbom, sbomFormatOf } from "../../deploy/lib/supply/licenses/sbom.js";
import { parseSpdxJson } from "../../deploy/lib/supply/licenses/spdx.js";
import { SBOM_FORMAT_INFO, syftCommand } from "../../deploy/lib/supply/sbom/commands.js";

const read = (rel: string): string => readFileSync(join(import.meta.dirname, "../fixtures/supply", rel), "utf8");
const NOW = new Date("2026-06-15T12:00:00Z");
const defaults = LicensesConfigSchema.parse({});

describe("sbom.format", () => {
  it("defaults to CycloneDX; spdx is the other choice, anything else is refused", () => {
    expect(SbomConfigSchema.parse({})).toEqual({ format: "cyclonedx" });
    expect(SbomConfigSchema.parse({ format: "spdx" })).toEqual({ format: "spdx" });
    expect(SbomConfigSchema.safeParse({ format: "spdx-json" }).success).toBe(false);
    expect(SbomConfigSchema.safeParse({ formats: "spdx" }).success).toBe(false);
    expect(SbomConfigSchema.parse({})).toEqual({ format: "cyclonedx" });
  });

  it("syft writes the chosen format; the attestation type and file name follow it", () => {
    expect(syftCommand({ input: "/scan/image.tar", output: "/r/sbom.spdx.json", format: "spdx" })).toEqual([
      "/syft",
      "scan",
      "oci-archive:/scan/image.tar",
      "-o",
      "spdx-json=/r/sbom.spdx.json",
      "-q",
    ]);
    expect(syftCommand({ input: "/i.tar", output: "/o.json" })[4]).toBe("cyclonedx-json=/o.json");
    expect(SBOM_FORMAT_INFO.spdx).toMatchObject({ attestationType: "spdxjson", fileName: "sbom.spdx.json" });
    expect(SBOM_FORMAT_INFO.cyclonedx).toMatchObject({ attestationType: "cyclonedx", fileName: "sbom.cdx.json" });
  });
});

describe("parseSpdxJson", () => {
  it("syft's encoder snapshot: the packages, not the image; NOASSERTION is no license", () => {
    expect(parseSpdxJson(read("sbom/syft-image-encoder.spdx.json"))).toEqual([
      { name: "package-1", version: "1.0.1", purl: "a-purl-1", licenses: "MIT" },
      { name: "package-2", version: "2.0.1", purl: "pkg:deb/debian/package-2@2.0.1" },
    ]);
    const v = judgeLicenses(parseSpdxJson(read("sbom/syft-image-encoder.spdx.json")), defaults, NOW);
    expect(v.unknown.map((c) => c.name)).toEqual(["package-2"]);
    expect(v.status).toBe("failed");
  });

  it("a vendor SPDX 2.2 document: LicenseRefs read through hasExtractedLicensingInfos, the described package left out", () => {
    const components = parseSpdxJson(read("sbom/syft-alpine-3.10.vendor.spdx.json"));
    expect(components).toEqual([
      { name: "busybox", version: "1.30.1-r5", licenses: "GPL-2.0" },
      { name: "ssl_client", version: "1.30.1-r5", licenses: "OpenSSL" },
    ]);
    const v = judgeLicenses(components, defaults, NOW);
    expect(v.denied.map((c) => `${c.name} ${c.problem}`)).toEqual(["busybox denied", "ssl_client not-allowed"]);
  });

  it("licenseConcluded wins over licenseDeclared unless it is NOASSERTION or NONE; an undefined LicenseRef stays as it is", () => {
    const doc = (pkgs: object[]) => JSON.stringify({ spdxVersion: "SPDX-2.3", packages: pkgs });
    const pkg = (concluded: string, declared: string) => ({
      name: "p",
      SPDXID: "SPDXRef-p",
      licenseConcluded: concluded,
      licenseDeclared: declared,
    });
    expect(parseSpdxJson(doc([pkg("Apache-2.0", "MIT")]))[0]?.licenses).toBe("Apache-2.0");
    expect(parseSpdxJson(doc([pkg("NOASSERTION", "MIT OR ISC")]))[0]?.licenses).toBe("MIT OR ISC");
    expect(parseSpdxJson(doc([pkg("NONE", "NOASSERTION")]))[0]?.licenses).toBeUndefined();
    expect(parseSpdxJson(doc([pkg("NOASSERTION", "LicenseRef-acme")]))[0]?.licenses).toBe("LicenseRef-acme");
  });

  it("the service's SPDX SBOM gets the same components and verdict as its CycloneDX one", () => {
    const spdx = parseSpdxJson(read("sbom/orders-service-prod.spdx.json"));
    const cdx = parseCycloneDx(read("sbom/orders-service-prod.cdx.json"));
    const key = (c: { name: string; version: string; purl?: string; licenses?: string }) =>
      `${c.name}@${c.version} ${c.purl} ${c.licenses}`;
    expect(spdx.map(key).sort()).toEqual(cdx.map(key).sort());
    const a = judgeLicenses(spdx, defaults, NOW);
    const b = judgeLicenses(cdx, defaults, NOW);
    expect(a.status).toBe("passed");
    expect(a).toEqual(b);
  });

  it("refuses what is not SPDX 2.x JSON, in one line", () => {
    expect(() => parseSpdxJson("{")).toThrow(/not valid JSON/);
    expect(() => parseSpdxJson(JSON.stringify({ spdxVersion: "SPDX-3.0", packages: [] }))).toThrow(
      /^the SBOM is not an SPDX 2\.x JSON document at spdxVersion/,
    );
    expect(() => parseSpdxJson(JSON.stringify({ spdxVersion: "SPDX-2.3", packages: [{ name: "x" }] }))).toThrow(/packages\.0\.SPDXID/);
  });
});

describe("parseSbom", () => {
  it("tells the formats apart by content", () => {
    expect(sbomFormatOf(read("sbom/orders-service-prod.spdx.json"))).toBe("spdx");
    expect(sbomFormatOf(read("sbom/orders-service-prod.cdx.json"))).toBe("cyclonedx");
    expect(parseSbom(read("sbom/syft-image-encoder.spdx.json")).components).toHaveLength(2);
    expect(() => parseSbom("not json")).toThrow(/not valid JSON/);
  });
});
