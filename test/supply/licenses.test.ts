/**
 * CycloneDX parsing and the license policy: on a cyclonedx-npm SBOM from the shared fixtures, on
 * real SBOMs of the fixture service (regenerated here to prove the committed one), on Trivy's
 * license test SBOM, and on constructed expressions for the edge cases.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { LicensesConfigSchema, type LicensesConfig } from "../../deploy/lib/supply/config.js";
import { parseCycloneDx, type SbomComponent } from "../../deploy/lib/supply/licenses/cyclonedx.js";
import { resolveLicense, treeText } from "../../deploy/lib/supply/licenses/expression.js";
import { judgeLicenses, licenseDiagnostics } from "../../deploy/lib/supply/licenses/policy.js";

const FIX = join(import.meta.dirname, "../fixtures/supply");
const SERVICE = join(import.meta.dirname, "../fixtures/service");
const read = (rel: string): string => readFileSync(join(FIX, rel), "utf8");
const cfg = (input: Partial<LicensesConfig> = {}): LicensesConfig => LicensesConfigSchema.parse(input);
const NOW = new Date("2026-06-15T12:00:00Z");

/** A one-component SBOM verdict, for the expression edge cases. */
function judgeOne(licenses: string | undefined, config: Partial<LicensesConfig> = {}) {
  const c: SbomComponent = { name: "pkg", version: "1.0.0", ...(licenses === undefined ? {} : { licenses }) };
  return judgeLicenses([c], cfg(config), NOW);
}
const problemOf = (licenses: string | undefined, config: Partial<LicensesConfig> = {}) => {
  const v = judgeOne(licenses, config);
  return v.allowed === 1 ? "allowed" : ([...v.denied, ...v.unknown][0]?.problem ?? "excepted");
};

function bom(components: unknown[]): string {
  return JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", components });
}

describe("parseCycloneDx", () => {
  it("cyclonedx-npm 6.0.1 (shared fixture): the two dependencies, not the project itself", () => {
    expect(parseCycloneDx(read("tools/cyclonedx-npm-6.0.1-sbom.cdx.json"))).toEqual([
      { name: "lodash", version: "4.17.20", purl: "pkg:npm/lodash@4.17.20", licenses: "MIT" },
      { name: "minimist", version: "1.2.5", purl: "pkg:npm/minimist@1.2.5", licenses: "MIT" },
    ]);
  });

  it("the fixture service, all dependencies: 170 components plus 3 nested ones flattened, scopes joined", () => {
    const all = parseCycloneDx(read("sbom/orders-service-all.cdx.json"));
    expect(all).toHaveLength(173);
    expect(all.find((c) => c.name === "@isaacs/nonrecursive-glob-match")).toEqual({
      name: "@isaacs/nonrecursive-glob-match",
      version: "1.1.0",
      purl: "pkg:npm/%40isaacs/nonrecursive-glob-match@1.1.0",
      licenses: "BlueOak-1.0.0",
    });
  });

  it("Trivy's CycloneDX: lockfile application component skipped, missing licenses undefined", () => {
    const components = parseCycloneDx(read("trivy/npm-cyclonedx.json"));
    expect(components).toHaveLength(12);
    expect(components.find((c) => c.name === "asap")).toEqual({ name: "asap", version: "2.0.6", purl: "pkg:npm/asap@2.0.6" });
    expect(components.filter((c) => c.licenses === "MIT")).toHaveLength(5);
  });

  it("Maven groups joined with ':', free-text license names kept for correction", () => {
    expect(parseCycloneDx(read("sbom/trivy-license-cyclonedx.json"))).toEqual([
      expect.objectContaining({ name: "org.eclipse.sisu:org.eclipse.sisu.plexus", version: "0.3.0.M1", licenses: "EPL-1.0" }),
      expect.objectContaining({ name: "org.ow2.asm:asm", licenses: "BSD-3-Clause" }),
      expect.objectContaining({ name: "org.slf4j:slf4j-api", licenses: "MIT License" }),
    ]);
  });

  it("several licenses[] entries are AND-ed; expressions parenthesised", () => {
    const [c] = parseCycloneDx(
      bom([
        {
          type: "library",
          name: "dual",
          version: "1.0.0",
          licenses: [
            { expression: "MIT OR Apache-2.0" },
            { license: { name: "Apache 2" } },
            { license: { id: "ISC", acknowledgement: "concluded" } },
          ],
        },
      ]),
    );
    expect(c?.licenses).toBe("(MIT OR Apache-2.0) AND Apache 2 AND ISC");
  });

  it("not CycloneDX, or truncated: a clear error", () => {
    expect(() => parseCycloneDx(read("trivy/npm.json"))).toThrow(/not a CycloneDX JSON document at bomFormat/);
    const text = read("tools/cyclonedx-npm-6.0.1-sbom.cdx.json");
    expect(() => parseCycloneDx(text.slice(0, 1000))).toThrow(/^the SBOM is not valid JSON \(truncated\?\)/);
  });
});

describe("judgeLicenses on real SBOMs", () => {
  it("the shared cyclonedx-npm SBOM passes the defaults", () => {
    const v = judgeLicenses(parseCycloneDx(read("tools/cyclonedx-npm-6.0.1-sbom.cdx.json")), cfg(), NOW);
    expect(v).toMatchObject({ status: "passed", allowed: 2, denied: [], unknown: [], cause: "2 packages under allowed licenses" });
  });

  it("the fixture service's production dependencies pass the defaults", () => {
    const v = judgeLicenses(parseCycloneDx(read("sbom/orders-service-prod.cdx.json")), cfg(), NOW);
    expect(v).toMatchObject({ status: "passed", allowed: 14, denied: [], unknown: [] });
  });

  it("all its dependencies fail on lightningcss (MPL-2.0) until excepted", () => {
    const components = parseCycloneDx(read("sbom/orders-service-all.cdx.json"));
    const v = judgeLicenses(components, cfg(), NOW);
    expect(v.status).toBe("failed");
    expect(v.denied.map((c) => `${c.name}@${c.version} ${c.problem} ${c.offending.join()}`)).toEqual([
      "lightningcss-linux-x64-gnu@1.33.0 not-allowed MPL-2.0",
      "lightningcss@1.33.0 not-allowed MPL-2.0",
    ]);
    expect(v.cause).toBe(
      "2 packages under licenses the policy refuses: lightningcss-linux-x64-gnu@1.33.0 (MPL-2.0: not in the allow list), lightningcss@1.33.0 (MPL-2.0: not in the allow list)",
    );
    expect(licenseDiagnostics(v).map((d) => d.ruleId)).toEqual(["license/not-allowed", "license/not-allowed"]);

    const exceptions = [
      { package: "lightningcss@^1.30.0", reason: "build-time CSS tool of vite, never shipped" },
      { package: "lightningcss-linux-x64-gnu", reason: "its native binary", expires: "2026-12-31" },
    ];
    const ok = judgeLicenses(components, cfg({ exceptions }), NOW);
    expect(ok.status).toBe("passed");
    expect(ok.excepted.map((c) => [c.name, c.reason])).toEqual([
      ["lightningcss-linux-x64-gnu", "its native binary"],
      ["lightningcss", "build-time CSS tool of vite, never shipped"],
    ]);
    expect(ok.cause).toBe(`${ok.allowed} packages under allowed licenses (2 excepted)`);
  });

  it("Trivy's license SBOM: 'MIT License' is read as MIT, EPL-1.0 is outside the allow list", () => {
    const v = judgeLicenses(parseCycloneDx(read("sbom/trivy-license-cyclonedx.json")), cfg(), NOW);
    expect(v.allowed).toBe(2);
    expect(v.denied).toEqual([
      expect.objectContaining({
        name: "org.eclipse.sisu:org.eclipse.sisu.plexus",
        problem: "not-allowed",
        offending: ["EPL-1.0"],
        read: "EPL-1.0",
      }),
    ]);
  });

  it("Trivy's npm CycloneDX: 7 packages without a license are unknown; failOnUnknown: false lets them pass", () => {
    const components = parseCycloneDx(read("trivy/npm-cyclonedx.json"));
    const strict = judgeLicenses(components, cfg(), NOW);
    expect(strict.status).toBe("failed");
    expect(strict.unknown).toHaveLength(7);
    expect(strict.unknown[0]).toMatchObject({ name: "asap", declared: undefined, read: "(none)", offending: ["no license declared"] });
    expect(strict.cause).toMatch(
      /^7 packages without a recognizable license: asap@2\.0\.6 \(no license declared: unknown\), .* and 2 more$/,
    );
    const lenient = judgeLicenses(components, cfg({ failOnUnknown: false }), NOW);
    expect(lenient).toMatchObject({ status: "passed", cause: "5 packages under allowed licenses (7 unknown, not failing)" });
  });

  it("the committed service SBOM is what cyclonedx-npm 6.0.1 makes of the fixture today", async () => {
    // npm ls (inside cyclonedx-npm) refuses a symlinked node_modules, so this is a full copy.
    expect(existsSync(join(SERVICE, "node_modules")), "run npm test (pretest installs the fixture)").toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "shipshape-sbom-"));
    try {
      cpSync(SERVICE, dir, { recursive: true, verbatimSymlinks: true });
      const bin = join(import.meta.dirname, "../../node_modules/.bin/cyclonedx-npm");
      const args = ["--output-format", "JSON", "--output-file", "sbom.prod.cdx.json", "--output-reproducible", "--omit", "dev"];
      await promisify(execFile)(bin, args, { cwd: dir });
      const fresh = parseCycloneDx(readFileSync(join(dir, "sbom.prod.cdx.json"), "utf8"));
      // Components only: the tools section names the npm version of whoever runs it.
      expect(fresh).toEqual(parseCycloneDx(read("sbom/orders-service-prod.cdx.json")));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("license expressions", () => {
  it("OR: the licensee picks the allowed branch; AND: every part must be allowed", () => {
    expect(problemOf("(MIT OR GPL-3.0-only)")).toBe("allowed");
    expect(problemOf("MIT OR Apache-2.0")).toBe("allowed");
    expect(problemOf("MIT AND GPL-3.0-only")).toBe("denied");
    expect(problemOf("MIT AND (ISC OR GPL-3.0-only)")).toBe("allowed");
    expect(problemOf("MIT AND MPL-2.0")).toBe("not-allowed");
    expect(judgeOne("MIT AND GPL-3.0-only").denied[0]?.offending).toEqual(["GPL-3.0-only"]);
  });

  it("lower-case operators, which spdx-satisfies' own parser rejects", () => {
    expect(problemOf("MIT or Apache-2.0")).toBe("allowed");
  });

  it("WITH: an exception only adds permissions, so it is judged by its license", () => {
    expect(problemOf("Apache-2.0 WITH LLVM-exception")).toBe("allowed");
    expect(problemOf("GPL-2.0-only WITH Classpath-exception-2.0")).toBe("denied");
  });

  it("deny beats allow, and catches deprecated ids and ranges", () => {
    expect(problemOf("GPL-3.0-or-later", { allow: ["MIT", "GPL-3.0-or-later"] })).toBe("denied");
    expect(problemOf("GPL-2.0+")).toBe("denied");
    expect(problemOf("GPL-3.0")).toBe("denied");
    expect(problemOf("AGPL-3.0")).toBe("denied");
    expect(problemOf("LGPL-2.1")).toBe("denied");
    expect(problemOf("SSPL-1.0")).toBe("denied");
    // Without a deny list, an allowed range covers later versions.
    expect(problemOf("GPL-3.0-only", { allow: ["GPL-2.0-or-later"], deny: [] })).toBe("allowed");
  });

  it("UNLICENSED is proprietary, never the Unlicense", () => {
    expect(problemOf("Unlicense")).toBe("allowed");
    const v = judgeOne("UNLICENSED");
    expect(v.denied).toEqual([expect.objectContaining({ problem: "proprietary", offending: ["UNLICENSED"], read: "UNLICENSED" })]);
    expect(v.cause).toBe("1 package under licenses the policy refuses: pkg@1.0.0 (UNLICENSED: proprietary)");
    expect(problemOf("MIT AND UNLICENSED")).toBe("proprietary");
    expect(problemOf("UNLICENSED", { allow: ["Unlicense"] })).toBe("proprietary");
  });

  it("SEE LICENSE IN, no license and unreadable names are unknown", () => {
    expect(problemOf("SEE LICENSE IN LICENSE.md")).toBe("unknown");
    expect(problemOf(undefined)).toBe("unknown");
    expect(problemOf("Public Domain")).toBe("unknown");
    expect(problemOf("NOASSERTION")).toBe("unknown");
    expect(problemOf("SEE LICENSE IN LICENSE-MIT")).toBe("unknown");
    expect(problemOf("SEE LICENSE IN LICENSE AND GPL-3.0-only")).toBe("denied");
    expect(judgeOne("SEE LICENSE IN LICENSE.md").cause).toBe(
      "1 package without a recognizable license: pkg@1.0.0 (SEE LICENSE IN LICENSE.md: unknown)",
    );
    // With failOnUnknown, a known-but-not-allowed branch is the better pick, and vice versa.
    expect(problemOf("MPL-2.0 OR SEE LICENSE IN x")).toBe("not-allowed");
    expect(problemOf("MPL-2.0 OR SEE LICENSE IN x", { failOnUnknown: false })).toBe("unknown");
  });

  it("spdx-correct fixes names like 'Apache 2', also inside AND/OR", () => {
    expect(treeText(resolveLicense("Apache 2"))).toBe("Apache-2.0");
    expect(treeText(resolveLicense("(MIT OR Apache-2.0) AND Apache 2 AND ISC"))).toBe("(MIT OR Apache-2.0) AND Apache-2.0 AND ISC");
    expect(treeText(resolveLicense("Apache License, Version 2.0 OR SEE LICENSE IN x"))).toBe("Apache-2.0 OR SEE LICENSE IN x");
    expect(problemOf("Apache 2")).toBe("allowed");
    const v = judgeOne("GPLv3");
    expect(v.denied[0]).toMatchObject({ declared: "GPLv3", read: "GPL-3.0-or-later", problem: "denied" });
    expect(v.cause).toMatch(/GPL-3\.0-or-later: denied, read as GPL-3\.0-or-later\)$/);
  });

  it("LicenseRef ids pass only when listed", () => {
    expect(problemOf("LicenseRef-acme")).toBe("not-allowed");
    expect(problemOf("LicenseRef-acme", { allow: ["MIT", "LicenseRef-acme"] })).toBe("allowed");
  });
});

describe("license exceptions", () => {
  const components: SbomComponent[] = [
    { name: "@acme/internal", version: "2.3.0", licenses: "UNLICENSED" },
    { name: "gpl-thing", version: "1.0.0", licenses: "GPL-3.0-only" },
    { name: "gpl-thing", version: "1.0.0", licenses: "GPL-3.0-only" }, // a nested copy: judged once
  ];

  it("match by name, by name@range, and fail closed outside the range", () => {
    const v = judgeLicenses(
      components,
      cfg({
        exceptions: [
          { package: "@acme/internal@^2.0.0", reason: "our own package" },
          { package: "gpl-thing@>=2", reason: "r" },
        ],
      }),
      NOW,
    );
    expect(v.excepted.map((c) => c.name)).toEqual(["@acme/internal"]);
    expect(v.denied.map((c) => c.name)).toEqual(["gpl-thing"]);
  });

  it("an expired exception fails the gate, names the package, and excuses nothing", () => {
    const v = judgeLicenses(
      components,
      cfg({
        exceptions: [
          { package: "@acme/internal", reason: "r", expires: "2026-01-31" },
          { package: "gpl-thing", reason: "r" },
        ],
      }),
      NOW,
    );
    expect(v.status).toBe("failed");
    expect(v.expired.map((e) => e.package)).toEqual(["@acme/internal"]);
    expect(v.denied.map((c) => c.name)).toEqual(["@acme/internal"]);
    expect(v.cause).toMatch(/; expired licenses\.exceptions entry: @acme\/internal \(expired 2026-01-31\)$/);
    expect(v.hint).toMatch(/renew the expiry of @acme\/internal with a fresh reason, or remove the entry$/);
  });
});
