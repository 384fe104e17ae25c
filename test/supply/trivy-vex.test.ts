/**
 * VEX with Trivy: the scan.vex setting, where the documents are mounted, and what the report says
 * about what they suppressed. The report is Trivy's alpine-3.9 golden with CVE-2019-14697 moved
 * into ExperimentalModifiedFindings exactly as Trivy's OpenVEX filter does (pkg/vex/openvex.go:
 * status not_affected, Statement = the justification, Source "OpenVEX"); see the fixture README.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { ScanConfigSchema } from "../../deploy/lib/supply/config.js";
import { trivyFsCommand } from "../../deploy/lib/supply/trivy/commands.js";
import { judgeScan } from "../../deploy/lib/supply/trivy/policy.js";
import { parseTrivyJson } from "../../deploy/lib/supply/trivy/report.js";
import { suppressedDiagnostics, suppressedLine, suppressionReason, vexMountPath } from "../../deploy/lib/supply/trivy/vex.js";

const read = (rel: string): string => readFileSync(join(import.meta.dirname, "../fixtures/supply", rel), "utf8");
const NOW = new Date("2026-06-15T12:00:00Z");

describe("scan.vex", () => {
  it("is optional; paths must stay inside the repository", () => {
    expect(ScanConfigSchema.parse({}).vex).toBeUndefined();
    expect(ScanConfigSchema.parse({ vex: [".vex/app.openvex.json"] }).vex).toEqual([".vex/app.openvex.json"]);
    const r = ScanConfigSchema.safeParse({ vex: ["../elsewhere.json", "/etc/vex.json"] }, { error: configErrorMap });
    expect(r.success).toBe(false);
    if (!r.success)
      expect(formatZodIssues(r.error, ScanConfigSchema)).toEqual([
        'vex[0]: expected a path relative to the repository root, like ".vex/app.openvex.json", got "../elsewhere.json"',
        'vex[1]: expected a path relative to the repository root, like ".vex/app.openvex.json", got "/etc/vex.json"',
      ]);
  });

  it("each document gets its own mount path and --vex flag; --show-suppressed only with VEX", () => {
    expect(vexMountPath(0, ".vex/app.openvex.json")).toBe("/vex/0-app.openvex.json");
    expect(vexMountPath(1, "other/app.openvex.json")).toBe("/vex/1-app.openvex.json");
    const argv = trivyFsCommand({ path: "/src", output: "/o.json", cacheDir: "/c", vex: ["/vex/0-a.json", "/vex/1-b.json"] });
    expect(argv.filter((a, i) => argv[i - 1] === "--vex")).toEqual(["/vex/0-a.json", "/vex/1-b.json"]);
    expect(argv).toContain("--show-suppressed");
    expect(trivyFsCommand({ path: "/src", output: "/o.json", cacheDir: "/c" })).not.toContain("--show-suppressed");
  });
});

describe("suppressed findings", () => {
  const report = parseTrivyJson(read("trivy/alpine-39-vex.json"));

  it("are read from ExperimentalModifiedFindings with the statement's justification and source", () => {
    expect(report.findings.map((f) => f.id)).toEqual(["CVE-2019-1549", "CVE-2019-1551", "CVE-2019-1549", "CVE-2019-1551"]);
    expect(
      report.suppressed.map(({ id, pkg, severity, suppressedAs, statement, source }) => ({
        id,
        pkg,
        severity,
        suppressedAs,
        statement,
        source,
      })),
    ).toEqual(
      ["musl", "musl-utils"].map((pkg) => ({
        id: "CVE-2019-14697",
        pkg,
        severity: "CRITICAL",
        suppressedAs: "not_affected",
        statement: "vulnerable_code_not_in_execute_path",
        source: "OpenVEX",
      })),
    );
    expect(report.suppressed[0]?.purl).toBe("pkg:apk/alpine/musl@1.1.20-r4?arch=x86_64&distro=3.9.4");
  });

  it("the same golden without VEX fails on them; with VEX the gate passes and still names them", () => {
    const cfg = ScanConfigSchema.parse({});
    expect(judgeScan(parseTrivyJson(read("trivy/alpine-39.json")).findings, cfg, NOW).status).toBe("failed");
    expect(judgeScan(report.findings, cfg, NOW).status).toBe("passed");
    expect(report.suppressed.map(suppressedLine)).toEqual([
      "suppressed musl 1.1.20-r4 CRITICAL CVE-2019-14697 — not_affected: vulnerable_code_not_in_execute_path (OpenVEX)",
      "suppressed musl-utils 1.1.20-r4 CRITICAL CVE-2019-14697 — not_affected: vulnerable_code_not_in_execute_path (OpenVEX)",
    ]);
    expect(suppressedDiagnostics(report.suppressed).map((d) => d.severity)).toEqual(["note", "note"]);
  });

  it("other finding types are skipped; a VEX statement without justification still reads", () => {
    const json = JSON.stringify({
      SchemaVersion: 2,
      Results: [
        {
          Target: "package-lock.json",
          ExperimentalModifiedFindings: [
            { Type: "license", Status: "ignored", Source: ".trivyignore", Finding: { Name: "GPL-3.0" } },
            {
              Type: "vulnerability",
              Status: "fixed",
              Source: "CycloneDX VEX",
              Finding: { VulnerabilityID: "CVE-2020-7598", PkgName: "minimist", Severity: "HIGH" },
            },
          ],
        },
      ],
    });
    const parsed = parseTrivyJson(json);
    expect(parsed.suppressed).toHaveLength(1);
    expect(suppressionReason(parsed.suppressed[0]!)).toBe("fixed (CycloneDX VEX)");
    const bad = json.replace('"VulnerabilityID":"CVE-2020-7598",', "");
    expect(() => parseTrivyJson(bad)).toThrow(/suppressed finding package-lock\.json\[1\] is not a vulnerability/);
  });
});
