/**
 * Trivy report parsing and the scan policy, on Trivy's own integration goldens
 * (test/fixtures/supply/README.md), plus the command lines and the version guard.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { Problem } from "../../deploy/src/project/problem.js";
import { ScanConfigSchema, type ScanConfig } from "../../deploy/lib/supply/config.js";
import {
  COMPROMISED_TRIVY_VERSIONS,
  assertTrivyVersion,
  trivyDbCommand,
  trivyError,
  trivyFsCommand,
  trivyImageCommand,
  trivySarifCommand,
} from "../../deploy/lib/supply/trivy/commands.js";
import { ignoreMatches, parsePurl, trivyIgnoreYaml } from "../../deploy/lib/supply/trivy/ignore.js";
import { judgeScan, scanDiagnostics } from "../../deploy/lib/supply/trivy/policy.js";
import { parseTrivyJson, type TrivyFinding } from "../../deploy/lib/supply/trivy/report.js";

const FIX = join(import.meta.dirname, "../fixtures/supply/trivy");
const read = (name: string): string => readFileSync(join(FIX, name), "utf8");
const findings = (name: string): TrivyFinding[] => parseTrivyJson(read(name)).findings;
const cfg = (input: Partial<ScanConfig> = {}): ScanConfig => ScanConfigSchema.parse(input);
const NOW = new Date("2026-06-15T12:00:00Z");

describe("parseTrivyJson", () => {
  it("alpine-39: 6 findings, 2 CRITICAL and 4 MEDIUM, normalized", () => {
    const report = parseTrivyJson(read("alpine-39.json"));
    expect(report.artifactType).toBe("container_image");
    expect(report.findings).toHaveLength(6);
    expect(report.findings.filter((f) => f.severity === "CRITICAL")).toHaveLength(2);
    expect(report.findings.filter((f) => f.severity === "MEDIUM")).toHaveLength(4);
    expect(report.findings.find((f) => f.pkg === "musl")).toEqual({
      id: "CVE-2019-14697",
      pkg: "musl",
      installed: "1.1.20-r4",
      fixed: "1.1.20-r5",
      severity: "CRITICAL",
      status: "fixed",
      title: "", // this advisory has no Title in the DB
      target: "testdata/fixtures/images/alpine-39.tar.gz (alpine 3.9.4)",
      class: "os-pkgs",
      purl: "pkg:apk/alpine/musl@1.1.20-r4?arch=x86_64&distro=3.9.4",
    });
  });

  it('debian-buster: an affected finding has fixed ""', () => {
    const bash = findings("debian-buster.json").find((f) => f.pkg === "bash");
    expect(bash).toMatchObject({ id: "CVE-2019-18276", severity: "LOW", status: "affected", fixed: "" });
  });

  it("npm.json: a lockfile scan, lang-pkgs", () => {
    expect(findings("npm.json")).toEqual([
      expect.objectContaining({
        id: "CVE-2019-11358",
        pkg: "jquery",
        target: "package-lock.json",
        class: "lang-pkgs",
        purl: "pkg:npm/jquery@3.3.9",
        fixed: "3.4.0",
      }),
    ]);
  });

  it("clean scans: no Results, or Results without Vulnerabilities; new fields are ignored", () => {
    expect(parseTrivyJson('{"SchemaVersion":2,"ArtifactName":"app.tar","ArtifactType":"container_image"}').findings).toEqual([]);
    const clean = {
      SchemaVersion: 2,
      ReportID: "x",
      SomethingNew: { a: 1 },
      Results: [
        { Target: "app (alpine 3.22.1)", Class: "os-pkgs", Type: "alpine", NewField: true },
        { Target: "x", Vulnerabilities: null },
      ],
    };
    expect(parseTrivyJson(JSON.stringify(clean)).findings).toEqual([]);
  });

  it("a truncated report is a clear error", () => {
    const text = read("alpine-39.json");
    expect(() => parseTrivyJson(text.slice(0, text.length / 2))).toThrow(/^the Trivy report is not valid JSON \(truncated/);
    expect(() => parseTrivyJson("")).toThrow(/not valid JSON/);
  });

  it("a report of another shape (Trivy's SARIF, schema 1) is a clear error", () => {
    expect(() => parseTrivyJson(read("alpine-310.sarif"))).toThrow(/expected shape \(SchemaVersion 2\) at SchemaVersion/);
    expect(() => parseTrivyJson('{"SchemaVersion":1,"Results":[]}')).toThrow(/SchemaVersion/);
    expect(() => parseTrivyJson('{"SchemaVersion":2,"Results":[{"Target":"x","Vulnerabilities":[{"PkgName":"a"}]}]}')).toThrow(
      /at Results\.0\.Vulnerabilities\.0\.VulnerabilityID/,
    );
  });
});

describe("judgeScan", () => {
  it("alpine-39 with the defaults: the 2 CRITICAL block, the 4 MEDIUM are only counted", () => {
    const v = judgeScan(findings("alpine-39.json"), cfg(), NOW);
    expect(v.status).toBe("failed");
    expect(v.counts).toEqual({ UNKNOWN: 0, LOW: 0, MEDIUM: 4, HIGH: 0, CRITICAL: 2, total: 6 });
    expect(v.blocking.map((f) => `${f.id} ${f.pkg}`)).toEqual(["CVE-2019-14697 musl", "CVE-2019-14697 musl-utils"]);
    expect(v.cause).toBe("2 CRITICAL vulnerabilities (CVE-2019-14697 in musl, musl-utils)");
    expect(v.hint).toMatch(/^upgrade musl to 1\.1\.20-r5, musl-utils to 1\.1\.20-r5 /);
    expect(scanDiagnostics(v)[0]).toEqual({
      ruleId: "CVE-2019-14697",
      severity: "error",
      message: expect.stringMatching(
        /^musl 1\.1\.20-r4: .* \(CRITICAL, fixed in 1\.1\.20-r5\) \[testdata\/fixtures\/images\/alpine-39\.tar\.gz \(alpine 3\.9\.4\)\]$/,
      ),
    });
  });

  it("alpine-39 at MEDIUM and up: all 6 block", () => {
    const v = judgeScan(findings("alpine-39.json"), cfg({ severities: ["MEDIUM", "HIGH", "CRITICAL"] }), NOW);
    expect(v.blocking).toHaveLength(6);
    expect(v.cause).toMatch(/^2 CRITICAL, 4 MEDIUM vulnerabilities \(CVE-2019-1549, CVE-2019-1551, CVE-2019-14697 in /);
  });

  it("an ignore with a reason lets the finding through and says why", () => {
    const ignore = [{ id: "CVE-2019-14697", reason: "x87 code path not used on amd64" }];
    const v = judgeScan(findings("alpine-39.json"), cfg({ ignore }), NOW);
    expect(v.status).toBe("passed");
    expect(v.ignored.map((f) => [f.pkg, f.reason])).toEqual([
      ["musl", "x87 code path not used on amd64"],
      ["musl-utils", "x87 code path not used on amd64"],
    ]);
    expect(v.cause).toBe("no blocking vulnerabilities at HIGH, CRITICAL (4 at other severities, 2 ignored)");
    expect(v.hint).toBe("");
  });

  it("purls narrow an ignore to one package; paths to one target", () => {
    const byPurl = judgeScan(
      findings("alpine-39.json"),
      cfg({ ignore: [{ id: "CVE-2019-14697", reason: "r", purls: ["pkg:apk/alpine/musl"] }] }),
      NOW,
    );
    expect(byPurl.blocking.map((f) => f.pkg)).toEqual(["musl-utils"]);
    const byPath = judgeScan(
      findings("alpine-39.json"),
      cfg({ ignore: [{ id: "CVE-2019-14697", reason: "r", paths: ["other/**"] }] }),
      NOW,
    );
    expect(byPath.blocking).toHaveLength(2);
    const globbed = judgeScan(
      findings("alpine-39.json"),
      cfg({ ignore: [{ id: "CVE-2019-14697", reason: "r", paths: ["testdata/**"] }] }),
      NOW,
    );
    expect(globbed.blocking).toHaveLength(0);
  });

  it("an expired ignore fails the gate, names the id, and no longer hides its finding", () => {
    const ignore = [
      { id: "CVE-2019-14697", reason: "r", expires: "2026-06-14" },
      { id: "CVE-2099-0001", reason: "gone long ago", expires: "2025-01-01" },
    ];
    const v = judgeScan(findings("alpine-39.json"), cfg({ ignore }), NOW);
    expect(v.status).toBe("failed");
    expect(v.expired.map((e) => e.id)).toEqual(["CVE-2019-14697", "CVE-2099-0001"]);
    expect(v.blocking).toHaveLength(2);
    expect(v.cause).toBe(
      "2 CRITICAL vulnerabilities (CVE-2019-14697 in musl, musl-utils); expired scan.ignore entries: CVE-2019-14697 (expired 2026-06-14), CVE-2099-0001 (expired 2025-01-01)",
    );
    expect(v.hint).toMatch(/renew the expiry of CVE-2019-14697, CVE-2099-0001 with a fresh reason, or remove the entry$/);
    // Valid through the day it names.
    expect(
      judgeScan(findings("alpine-39.json"), cfg({ ignore: [{ id: "CVE-2019-14697", reason: "r", expires: "2026-06-15" }] }), NOW).status,
    ).toBe("passed");
  });

  it("an expired ignore fails even on a clean report", () => {
    const v = judgeScan([], cfg({ ignore: [{ id: "CVE-2099-0001", reason: "r", expires: "2025-01-01" }] }), NOW);
    expect(v).toMatchObject({ status: "failed", cause: "expired scan.ignore entry: CVE-2099-0001 (expired 2025-01-01)" });
  });

  it("debian-buster: ignoreUnfixed lets the affected LOW through, as Trivy's -ignore-unfixed golden (1 CRITICAL)", () => {
    const severities: ScanConfig["severities"] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
    const all = judgeScan(findings("debian-buster.json"), cfg({ severities }), NOW);
    expect(all.blocking.map((f) => f.severity)).toEqual(["LOW", "CRITICAL"]);
    const fixedOnly = judgeScan(findings("debian-buster.json"), cfg({ severities, ignoreUnfixed: true }), NOW);
    expect(fixedOnly.blocking.map((f) => `${f.severity} ${f.id}`)).toEqual(["CRITICAL CVE-2019-18224"]);
    expect(fixedOnly.ignored).toEqual([
      expect.objectContaining({ id: "CVE-2019-18276", reason: "no fix released (affected); scan.ignoreUnfixed is on" }),
    ]);
  });

  it("centos-7: will_not_fix is unfixed; the 2 fixed remain, as Trivy's -ignore-unfixed golden", () => {
    const severities: ScanConfig["severities"] = ["LOW", "MEDIUM"];
    const v = judgeScan(findings("centos-7.json"), cfg({ severities, ignoreUnfixed: true }), NOW);
    expect(v.counts).toMatchObject({ LOW: 2, MEDIUM: 1, total: 3 });
    expect(v.blocking.map((f) => `${f.id} ${f.status}`)).toEqual(["CVE-2019-1559 fixed", "CVE-2018-0734 fixed"]);
    expect(v.ignored.map((f) => `${f.id} ${f.status}`)).toEqual(["CVE-2019-18276 will_not_fix"]);
    // Nothing at the default severities.
    expect(judgeScan(findings("centos-7.json"), cfg(), NOW).status).toBe("passed");
  });

  it("a no-fix blocking finding gets a hint that does not say upgrade", () => {
    const v = judgeScan(findings("debian-buster.json"), cfg({ severities: ["LOW"] }), NOW);
    expect(v.hint).toMatch(/^no fix is released yet/);
  });

  it("npm.json: ignores by lockfile path and by purl, with or without a version", () => {
    const jq = findings("npm.json");
    const at = (entry: { paths?: string[]; purls?: string[] }) =>
      judgeScan(jq, cfg({ severities: ["MEDIUM"], ignore: [{ id: "CVE-2019-11358", reason: "r", ...entry }] }), NOW).status;
    expect(at({})).toBe("passed");
    expect(at({ paths: ["package-lock.json"] })).toBe("passed");
    expect(at({ paths: ["web/package-lock.json"] })).toBe("failed");
    expect(at({ purls: ["pkg:npm/jquery"] })).toBe("passed");
    expect(at({ purls: ["pkg:npm/jquery@3.3.9"] })).toBe("passed");
    expect(at({ purls: ["pkg:npm/jquery@3.4.0"] })).toBe("failed");
    expect(judgeScan(jq, cfg({ severities: ["MEDIUM"] }), NOW).status).toBe("failed");
  });
});

describe("ignore matching and .trivyignore.yaml", () => {
  it("parses purls like Trivy, scoped npm names either way", () => {
    expect(parsePurl("pkg:npm/%40babel/core@7.24.0")).toMatchObject({ type: "npm", namespace: "@babel", name: "core", version: "7.24.0" });
    expect(parsePurl("pkg:npm/@babel/core")).toMatchObject({ namespace: "@babel", name: "core", version: "" });
    const musl = parsePurl("pkg:apk/alpine/musl@1.1.20-r4?arch=x86_64&distro=3.9.4");
    expect(musl?.qualifiers.get("distro")).toBe("3.9.4");
    expect(parsePurl("lodash")).toBeUndefined();
  });

  it("qualifiers in an entry must all be on the finding", () => {
    const [musl] = findings("alpine-39.json").filter((f) => f.pkg === "musl");
    const entry = (purl: string) => ({ id: "CVE-2019-14697", reason: "r", purls: [purl] });
    expect(ignoreMatches(entry("pkg:apk/alpine/musl?arch=x86_64"), musl!)).toBe(true);
    expect(ignoreMatches(entry("pkg:apk/alpine/musl?arch=aarch64"), musl!)).toBe(false);
    expect(ignoreMatches(entry("pkg:apk/debian/musl"), musl!)).toBe(false);
  });

  it("renders the ignores for Trivy, expiry shifted to Trivy's midnight cut-off", () => {
    const text = trivyIgnoreYaml(
      cfg({
        ignore: [
          { id: "CVE-2019-14697", reason: "x87 path unused: see #12", expires: "2026-12-31", purls: ["pkg:apk/alpine/musl"] },
          { id: "GHSA-jf85-cpcp-j695", reason: "dev only", paths: ["**/package-lock.json"] },
        ],
      }),
    );
    expect(text).toMatch(/^# Generated by Shipshape/);
    // Unquoted, so Go's yaml.v3 reads it as a timestamp into IgnoreFinding.ExpiredAt.
    expect(text).toContain("expired_at: 2027-01-01\n");
    expect(parseYaml(text)).toEqual({
      vulnerabilities: [
        { id: "CVE-2019-14697", purls: ["pkg:apk/alpine/musl"], expired_at: "2027-01-01", statement: "x87 path unused: see #12" },
        { id: "GHSA-jf85-cpcp-j695", paths: ["**/package-lock.json"], statement: "dev only" },
      ],
    });
    expect(parseYaml(trivyIgnoreYaml(cfg()))).toEqual({ vulnerabilities: [] });
  });
});

describe("Trivy commands", () => {
  it("image scan: raw JSON, offline, no exit code, VEX repeatable and shown when suppressing", () => {
    expect(
      trivyImageCommand({
        input: "/scan/image.tar",
        output: "/reports/trivy.json",
        cacheDir: "/cache/trivy",
        vex: ["/src/vex.openvex.json", "oci"],
      }),
    ).toEqual([
      "trivy",
      "image",
      "--input",
      "/scan/image.tar",
      "--scanners",
      "vuln",
      "--format",
      "json",
      "--output",
      "/reports/trivy.json",
      "--ignorefile",
      "/dev/null",
      "--vex",
      "/src/vex.openvex.json",
      "--vex",
      "oci",
      // Suppressed findings are listed (ExperimentalModifiedFindings) instead of vanishing.
      "--show-suppressed",
      "--list-all-pkgs=false",
      "--cache-dir",
      "/cache/trivy",
      "--skip-db-update",
      "--skip-java-db-update",
      "--offline-scan",
      "--skip-version-check",
      "--disable-telemetry",
      "--timeout",
      "10m",
      "-q",
    ]);
  });

  it("fs scan: the path goes last; an ignore file can be given", () => {
    const argv = trivyFsCommand({
      path: "/src",
      output: "/reports/fs.json",
      cacheDir: "/c",
      ignoreFile: "/work/.trivyignore.yaml",
      timeout: "5m",
    });
    expect(argv.slice(0, 2)).toEqual(["trivy", "fs"]);
    expect(argv.at(-1)).toBe("/src");
    expect(argv).toContain("/work/.trivyignore.yaml");
    expect(argv).not.toContain("--exit-code");
    expect(argv).not.toContain("--severity");
  });

  it("DB download: the one networked step", () => {
    expect(trivyDbCommand({ cacheDir: "/cache/trivy" })).toEqual([
      "trivy",
      "image",
      "--download-db-only",
      "--cache-dir",
      "/cache/trivy",
      "--skip-version-check",
      "--disable-telemetry",
      "--timeout",
      "10m",
      "-q",
    ]);
    expect(trivyDbCommand({ cacheDir: "/c", java: true, repositories: ["mirror.example/trivy-java-db:1"] }).slice(0, 5)).toEqual([
      "trivy",
      "image",
      "--download-java-db-only",
      "--java-db-repository",
      "mirror.example/trivy-java-db:1",
    ]);
  });

  it("reads Trivy's fatal error out of its log line (cmd/trivy/main.go log.Fatal)", () => {
    const stderr =
      "2026-03-02T10:00:00Z\tFATAL\tFatal error\trun error: init error: DB error: database error: --skip-db-update cannot be specified on the first run\n";
    expect(trivyError(stderr)).toBe(
      "run error: init error: DB error: database error: --skip-db-update cannot be specified on the first run",
    );
    expect(trivyError("\nplain failure\nmore\n")).toBe("plain failure");
    expect(trivyError("")).toBeUndefined();
  });

  it("SARIF: converted from the JSON with the gate's severities and ignore file", () => {
    expect(
      trivySarifCommand({
        report: "/reports/trivy.json",
        output: "/reports/trivy.sarif",
        severities: ["HIGH", "CRITICAL"],
        ignoreFile: "/reports/.trivyignore.yaml",
      }),
    ).toEqual([
      "trivy",
      "convert",
      "--format",
      "sarif",
      "--output",
      "/reports/trivy.sarif",
      "--severity",
      "HIGH,CRITICAL",
      "--ignorefile",
      "/reports/.trivyignore.yaml",
      "-q",
      "/reports/trivy.json",
    ]);
  });
});

describe("assertTrivyVersion", () => {
  it("refuses the compromised releases in every spelling", () => {
    expect(COMPROMISED_TRIVY_VERSIONS).toEqual(["0.69.4", "0.69.5", "0.69.6"]);
    for (const v of [
      "0.69.4",
      "v0.69.5",
      "Version: 0.69.6\nVulnerability DB:\n  Version: 2",
      "aquasec/trivy:0.69.4@sha256:abc",
      "0.69.5-rc1",
    ]) {
      expect(() => assertTrivyVersion(v), v).toThrow(Problem);
    }
    try {
      assertTrivyVersion("0.69.4");
    } catch (e) {
      expect(e).toBeInstanceOf(Problem);
      expect((e as Problem).cause_).toMatch(/^Trivy 0\.69\.4 is a compromised release \(GHSA-69fq-xp46-6x23/);
      expect((e as Problem).hint).toMatch(/pin a safe release by digest/);
    }
  });

  it("accepts other releases and returns the bare version", () => {
    expect(assertTrivyVersion("0.74.0")).toBe("0.74.0");
    expect(assertTrivyVersion("v0.69.3")).toBe("0.69.3");
    expect(assertTrivyVersion("Version: 0.69.7\n")).toBe("0.69.7");
    expect(assertTrivyVersion("aquasec/trivy:0.74.0@sha256:0123")).toBe("0.74.0");
  });

  it("fails closed on an unreadable version", () => {
    expect(() => assertTrivyVersion("latest")).toThrow(/cannot read a Trivy version from "latest"/);
    expect(() => assertTrivyVersion("dev")).toThrow(Problem);
  });
});
