/**
 * No container path reaches a user: each gate's report builder on real tool output that holds
 * /src/... paths. The tools run for real on the host in a temp project, and the temp directory is
 * mapped back to /src exactly as test/harness/host-exec.ts maps a command's output, so the text is
 * what the tool prints inside the gate's container. Trivy cannot run here: its golden report is
 * re-rooted at /scan/image.tar, which is what `--input /scan/image.tar` gives (Target is
 * ArtifactName plus the OS, as every image golden shows).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findings } from "../../deploy/lib/gates/gate.js";
import { parseEslintJson } from "../../lib/gates/lint/eslint.js";
import { failedTestDiagnostics, parseJUnit, repoRelativeJUnit } from "../../lib/gates/test/junit.js";
import { parseLcov, repoRelativeLcov } from "../../lib/gates/test/lcov.js";
import { parseTscOutput } from "../../lib/gates/typecheck/tsc.js";
import { hasContainerPath, repoRelative, repoRelativeText } from "../../deploy/src/report/paths.js";
import { relativeOutcome, renderMarkdown, renderTable } from "../../deploy/src/report/render.js";
import { toSarif } from "../../deploy/src/report/sarif.js";
import type { Diagnostic } from "../../deploy/src/report/diagnostic.js";
import type { GateOutcome } from "../../deploy/src/report/outcome.js";
import { SOURCE_DIR, REPORTS_DIR } from "../../deploy/lib/gates/commands.js";
import { judgeScan, scanDiagnostics } from "../../deploy/lib/supply/trivy/policy.js";
import { parseTrivyJson } from "../../deploy/lib/supply/trivy/report.js";
import { judgeSecrets, secretDiagnostics, secretLine } from "../../lib/supply/secrets/policy.js";
import { parseGitleaksJson } from "../../lib/supply/secrets/report.js";
import { requireTools } from "../helpers/tools.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const bin = (tool: string) => join(REPO, "node_modules/.bin", tool);
// A mount point where a path starts, file:///src/... included; not /home/me/src or a URL's /src.
const CONTAINER = /(?<![\w.~-])\/(src|shipshape|repo|data|scan|vex)\//;

let project = "";
/** What the tool printed, as the container shows it: the temp project is /src. */
const inContainer = (text: string) => text.split(project).join(SOURCE_DIR);

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "shipshape-paths-"));
  mkdirSync(join(project, "src"));
  mkdirSync(join(project, "test"));
  writeFileSync(join(project, "package.json"), '{"name":"paths","type":"module"}\n');
  writeFileSync(join(project, "src/add.js"), "export const add = (a, b) => a + b;\nconst unused = 1;\n");
  writeFileSync(
    join(project, "test/add.test.js"),
    'import test from "node:test";\nimport assert from "node:assert";\nimport { add } from "../src/add.js";\ntest("adds", () => assert.equal(add(1, 1), 3));\n',
  );
  writeFileSync(join(project, "eslint.config.js"), 'export default [{ rules: { "no-unused-vars": "error" } }];\n');
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** SARIF and the human lines of a gate: neither may name a container path. */
function expectClean(diagnostics: Diagnostic[], human: string[]): void {
  const sarif = toSarif({ name: "t" }, diagnostics);
  for (const r of sarif.runs[0].results) {
    for (const l of r.locations ?? []) {
      expect(l.physicalLocation.artifactLocation.uri).not.toMatch(/^\//);
      expect(l.physicalLocation.artifactLocation.uriBaseId).toBe("%SRCROOT%");
    }
  }
  expect(JSON.stringify(sarif)).not.toMatch(CONTAINER);
  const outcome: GateOutcome = {
    gate: "g",
    status: "failed",
    durationMs: 1,
    summary: human[0] ?? "",
    cause: human.join("; "),
    hint: "",
    metrics: {},
    findings: human,
    log: human.join("\n"),
  };
  for (const text of [JSON.stringify(relativeOutcome(outcome)), renderTable([outcome]), renderMarkdown([outcome])])
    expect(text).not.toMatch(CONTAINER);
}

describe("container paths in real tool output", () => {
  it("ESLint's JSON names absolute files; diagnostics, SARIF and findings are relative", () => {
    const out = join(project, "eslint.json");
    spawnSync(bin("eslint"), [".", "--format", "json", "--output-file", out], { cwd: project });
    const json = inContainer(readFileSync(out, "utf8"));
    expect(json).toContain(`"filePath":"${SOURCE_DIR}/src/add.js"`);
    const es = parseEslintJson(json, SOURCE_DIR);
    expect(es.diagnostics.map((d) => d.file)).toEqual(["src/add.js"]);
    expectClean(es.diagnostics, findings(es.diagnostics));
  });

  it("tsc prints an unreadable extends as an absolute path; the report says tsconfig.base.json", () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      '{ "extends": "./tsconfig.base.json", "compilerOptions": { "allowJs": true, "checkJs": true }, "include": ["src"] }\n',
    );
    const r = spawnSync(bin("tsc"), ["--noEmit", "--pretty", "false", "-p", "tsconfig.json"], { cwd: project, encoding: "utf8" });
    const text = inContainer(r.stdout);
    expect(text).toContain(`${SOURCE_DIR}/tsconfig.base.json`);
    const diagnostics = parseTscOutput(text);
    expect(diagnostics.some((d) => d.ruleId === "TS5083")).toBe(true);
    expectClean(diagnostics, findings(diagnostics));
    expect(repoRelativeText(findings(diagnostics).join("\n"))).toContain("Cannot read file 'tsconfig.base.json'");
  });

  it("node --test's JUnit stack traces and lcov SF: are absolute; exported files and findings are relative", () => {
    const junitFile = join(project, "junit.xml");
    const lcovFile = join(project, "lcov.info");
    spawnSync(
      process.execPath,
      [
        "--test",
        "--experimental-test-coverage",
        "--test-reporter=junit",
        `--test-reporter-destination=${junitFile}`,
        "--test-reporter=lcov",
        `--test-reporter-destination=${lcovFile}`,
        "test/",
      ],
      { cwd: project },
    );
    const xml = inContainer(readFileSync(junitFile, "utf8"));
    const lcov = inContainer(readFileSync(lcovFile, "utf8"));
    expect(xml).toMatch(CONTAINER);
    const exported = repoRelativeJUnit(xml);
    expect(exported).not.toMatch(CONTAINER);
    // The exported file is still the same report: same counts, same failure.
    expect(parseJUnit(exported)).toMatchObject({ tests: parseJUnit(xml).tests, failures: 1 });
    const failed = failedTestDiagnostics(parseJUnit(xml));
    expectClean(
      failed,
      failed.map((d) => d.message),
    );
    const relLcov = repoRelativeLcov(lcov, SOURCE_DIR);
    expect(relLcov).not.toMatch(/^SF:\//m);
    expect(parseLcov(relLcov, SOURCE_DIR).map((f) => f.file)).toEqual(parseLcov(lcov, SOURCE_DIR).map((f) => f.file));
  });

  it("gitleaks dir on the absolute /src; fingerprints and findings are the repository's", () => {
    requireTools("gitleaks");
    const key = `AKIA${"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
      .split("")
      .sort(() => Math.random() - 0.5)
      .join("")
      .slice(0, 16)}`;
    writeFileSync(join(project, "src/aws.yaml"), `aws_access_key_id: ${key}\n`);
    const report = join(project, "..", `${project.split("/").at(-1)}-gitleaks.json`);
    execFileSync("gitleaks", ["dir", "--no-banner", "--redact", "-f", "json", "-r", report, "--exit-code", "0", project], {
      stdio: "ignore",
    });
    const text = inContainer(readFileSync(report, "utf8"));
    rmSync(report);
    rmSync(join(project, "src/aws.yaml"));
    expect(text).toContain(`"File": "${SOURCE_DIR}/src/aws.yaml"`);
    const v = judgeSecrets(parseGitleaksJson(text));
    expect(v.findings.map(secretLine)).toEqual(["src/aws.yaml:1 aws-access-token (working tree)"]);
    expectClean(secretDiagnostics(v), [v.cause, ...v.findings.map(secretLine)]);
  });

  it("Trivy's image Target is the tarball path; findings say image", () => {
    const golden = readFileSync(join(REPO, "test/fixtures/supply/trivy/alpine-39.json"), "utf8");
    const text = golden.split("testdata/fixtures/images/alpine-39.tar.gz").join("/scan/image.tar");
    const parsed = parseTrivyJson(text);
    expect(parsed.findings[0]!.target).toBe("image (alpine 3.9.4)");
    const v = judgeScan(parsed.findings, { severities: ["CRITICAL", "HIGH"], ignoreUnfixed: false, ignore: [] }, new Date("2026-01-01"));
    expectClean(scanDiagnostics(v), [v.cause]);
  });
});

describe("repoRelativeText", () => {
  it("strips each mount point where a path starts, and nowhere else", () => {
    expect(repoRelativeText(`at f (file://${SOURCE_DIR}/src/a.js:3:9)`)).toBe("at f (src/a.js:3:9)");
    expect(repoRelativeText(`the JUnit report at ${REPORTS_DIR}/junit.xml`)).toBe("the JUnit report at junit.xml");
    expect(repoRelativeText("trivy fs /src; not_affected (/vex/0-app.openvex.json)")).toBe("trivy fs .; not_affected (app.openvex.json)");
    const untouched = "https://github.com/o/r/blob/main/src/a.ts /home/me/src/a.ts src/a.ts /srcfoo/x";
    expect(repoRelativeText(untouched)).toBe(untouched);
    expect(hasContainerPath("/repo/.git")).toBe(true);
    expect(repoRelative("./src/a.ts")).toBe("src/a.ts");
    expect(repoRelative(SOURCE_DIR)).toBe(".");
  });
});
