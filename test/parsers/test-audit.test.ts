/**
 * Parsers and policies of the test and audit gates, on real tool output (see
 * fixtures-test-audit/README.md for how each file was made) plus a live `npm audit` against a
 * loopback advisory server.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAudit, type AuditTool } from "../../lib/gates/audit/parse.js";
import { auditDiagnostics, judgeAudit, type AuditPolicyOptions } from "../../lib/gates/audit/policy.js";
import type { Advisory, AuditResult } from "../../lib/gates/audit/result.js";
import { evaluateCoverage, formatViolation } from "../../lib/gates/test/coverage-policy.js";
import { failedTestDiagnostics, parseJUnit } from "../../lib/gates/test/junit.js";
import { parseLcov, type FileCoverage } from "../../lib/gates/test/lcov.js";
import { startAdvisoryServer, type AdvisoryServer, type AdvisoryServerOptions } from "../helpers/advisory-server.js";

const FIX = join(import.meta.dirname, "fixtures-test-audit");
const read = (rel: string): string => readFileSync(join(FIX, rel), "utf8");
const junit = (name: string) => parseJUnit(read(`junit/${name}`));

describe("parseJUnit", () => {
  it("vitest 4.1.12: failures, skipped and todo, entities decoded, file from classname", () => {
    const s = junit("vitest-4.1.12-mixed.xml");
    expect(s).toMatchObject({ tests: 6, failures: 2, errors: 0, skipped: 2 });
    expect(s.timeSeconds).toBeCloseTo(0.027054837, 9);
    expect(s.failed).toEqual([
      { suite: "test/invoice.test.js", name: "throws an error", message: "boom & <bang>", file: "test/invoice.test.js" },
      {
        suite: "test/pricing.test.js",
        name: "price > discounts bulk",
        message: "expected 180 to be 999 // Object.is equality",
        file: "test/pricing.test.js",
      },
    ]);
  });

  it("vitest: a file that fails to import is a failed test case", () => {
    const s = junit("vitest-4.1.12-import-error.xml");
    expect(s).toMatchObject({ tests: 4, failures: 2, skipped: 1 });
    expect(s.failed[0]?.message).toBe("Cannot find module './nope.js' imported from /tmp/testlab/vt/test/broken.test.js");
  });

  it("vitest: all passing", () => {
    expect(junit("vitest-4.1.12-pass.xml")).toEqual({ tests: 1, failures: 0, errors: 0, skipped: 0, timeSeconds: 0.00555188, failed: [] });
  });

  it("node --test: nested suites and top-level cases counted from test cases, not attributes", () => {
    const s = junit("node-20.20.2-nested.xml");
    // The file says tests="4" + tests="1" on the suites; there are 7 test cases.
    expect(s).toMatchObject({ tests: 7, failures: 2, errors: 0, skipped: 2 });
    // No time on the root: the top-level suites and cases add up.
    expect(s.timeSeconds).toBeCloseTo(0.007412 + 0.000199 + 0.000885, 9);
    expect(s.failed.map((f) => [f.suite, f.name, f.message, f.file])).toEqual([
      ["price", "discounts bulk", "Expected values to be strictly equal:180 !== 999", undefined],
      ["outer > inner", "deep fail", "deep <boom>", undefined],
    ]);
  });

  it("jest-junit: more cases than the root claims; message from the body when there is no attribute", () => {
    const s = junit("jest-30.5.2-jest-junit-17.0.0.xml");
    expect(s).toMatchObject({ tests: 6, failures: 1, errors: 0, skipped: 1, timeSeconds: 0.62 });
    expect(s.failed).toEqual([
      {
        suite: "math",
        name: "math breaks",
        message: "Error: expect(received).toBe(expected) // Object.is equality",
        file: "test/a.test.js",
      },
    ]);
  });

  it("jest-junit: a suite that failed to run is an error with the reason", () => {
    const s = junit("jest-30.5.2-jest-junit-17.0.0-suite-error.xml");
    expect(s).toMatchObject({ tests: 3, failures: 1, errors: 1 });
    expect(s.failed[0]?.message).toBe("Test suite failed to run: Cannot find module './nope.js' from 'test/c.test.js'");
  });

  it("a bare <testsuite> root (cut from the real vitest report)", () => {
    const xml = read("junit/vitest-4.1.12-mixed.xml");
    const suite = xml.slice(xml.indexOf("<testsuite "), xml.indexOf("</testsuite>") + "</testsuite>".length);
    const s = parseJUnit(suite);
    expect(s).toMatchObject({ tests: 3, failures: 1, skipped: 1, timeSeconds: 0.010383116 });
    expect(s.failed[0]?.name).toBe("throws an error");
  });

  it("failure counts the test cases don't carry are not lost", () => {
    const s = parseJUnit('<testsuite name="s" tests="1" failures="0" errors="1"><testcase name="a"/></testsuite>');
    expect(s).toMatchObject({ tests: 1, errors: 1 });
    expect(s.failed[0]).toMatchObject({ suite: "s", name: "(suite)" });
  });

  it("truncated, empty and non-JUnit XML throw one clear line", () => {
    const xml = read("junit/vitest-4.1.12-mixed.xml");
    expect(() => parseJUnit(xml.slice(0, xml.length / 2))).toThrow(/^JUnit report is not valid XML: .+ \(line \d+, column \d+\)$/);
    expect(() => parseJUnit("")).toThrow("JUnit report is not valid XML: the file is empty");
    expect(() => parseJUnit("<html><body/></html>")).toThrow("JUnit report has no <testsuites> or <testsuite> root element");
  });

  it("failed tests as Diagnostics", () => {
    expect(failedTestDiagnostics(junit("jest-30.5.2-jest-junit-17.0.0.xml"))).toEqual([
      {
        ruleId: "test/failed",
        severity: "error",
        message: "math > math breaks: Error: expect(received).toBe(expected) // Object.is equality",
        file: "test/a.test.js",
      },
    ]);
  });
});

const VITEST_LCOV = read("lcov/vitest-4.1.12-coverage-v8.lcov");
const vitestFiles = (): FileCoverage[] => parseLcov(VITEST_LCOV, "/proj");

describe("parseLcov", () => {
  const expected: FileCoverage[] = [
    { file: "src/pricing.js", lines: { found: 4, hit: 3 }, functions: { found: 2, hit: 1 }, branches: { found: 4, hit: 3 } },
    { file: "src/billing/invoice.js", lines: { found: 4, hit: 4 }, functions: { found: 2, hit: 1 }, branches: { found: 2, hit: 0 } },
  ];

  it("vitest coverage-v8: relative SF paths", () => {
    expect(vitestFiles()).toEqual(expected);
  });

  it("vitest: a file outside the root stays ../", () => {
    expect(parseLcov(read("lcov/vitest-4.1.12-coverage-v8-outside-root.lcov"), "/p")).toEqual([
      { file: "../ext/helper.js", lines: { found: 1, hit: 1 }, functions: { found: 1, hit: 1 }, branches: { found: 2, hit: 1 } },
    ]);
  });

  it("node --test lcov", () => {
    expect(parseLcov(read("lcov/node-20.20.2-test-coverage.lcov"), "/p")).toEqual([
      { file: "src/pricing.js", lines: { found: 6, hit: 6 }, functions: { found: 2, hit: 1 }, branches: { found: 4, hit: 3 } },
      { file: "test/pricing.test.js", lines: { found: 16, hit: 16 }, functions: { found: 10, hit: 9 }, branches: { found: 10, hit: 10 } },
    ]);
  });

  it("absolute SF paths (posix and Windows) become project-relative", () => {
    const posixAbs = VITEST_LCOV.replace(/^SF:/gm, "SF:/work/proj/");
    expect(parseLcov(posixAbs, "/work/proj/").map((f) => f.file)).toEqual(["src/pricing.js", "src/billing/invoice.js"]);
    const winAbs = VITEST_LCOV.replace(/^SF:(.*)$/gm, (_m, p: string) => `SF:C:\\proj\\${p.replace(/\//g, "\\")}`);
    expect(parseLcov(winAbs, "c:\\proj").map((f) => f.file)).toEqual(["src/pricing.js", "src/billing/invoice.js"]);
  });

  it("without LF/LH/FNF/FNH/BRF/BRH the counts from DA/FNDA/BRDA match the tool's own", () => {
    expect(parseLcov(VITEST_LCOV.replace(/^(LF|LH|FNF|FNH|BRF|BRH):.*$/gm, ""), "/proj")).toEqual(expected);
    // "-" means the branch's line never ran: not taken.
    const dashed = VITEST_LCOV.replace(/^(LF|LH|FNF|FNH|BRF|BRH):.*$/gm, "").replace(/^(BRDA:\d+,\d+,\d+),0$/gm, "$1,-");
    expect(dashed).toContain("BRDA:6,0,0,-");
    expect(parseLcov(dashed, "/proj")).toEqual(expected);
  });

  it("a file in two records is unioned (a line hit in either run is hit)", () => {
    const second = VITEST_LCOV.replace("DA:6,0", "DA:6,3");
    const pricing = parseLcov(VITEST_LCOV + second, "/proj").find((f) => f.file === "src/pricing.js");
    expect(pricing?.lines).toEqual({ found: 4, hit: 4 });
  });

  it("truncated or foreign input throws one clear line", () => {
    const cut = VITEST_LCOV.slice(0, VITEST_LCOV.lastIndexOf("end_of_record"));
    expect(() => parseLcov(cut, "/proj")).toThrow("lcov report is truncated: the record for src/billing/invoice.js has no end_of_record");
    expect(() => parseLcov("<html>oops</html>", "/proj")).toThrow('lcov report line 1 is not an lcov record: "<html>oops</html>"');
    expect(() => parseLcov("SF:a.js\nDA:x,1\nend_of_record", "/proj")).toThrow('lcov report line 2: bad DA record "DA:x,1"');
    expect(parseLcov("", "/proj")).toEqual([]);
  });
});

describe("evaluateCoverage", () => {
  // Real vitest numbers: lines 7/8 = 87.5 %, functions 2/4 = 50 %, branches 3/6 = 50 %.
  it("global percentages; the exact threshold passes, a hair above fails", () => {
    const ok = evaluateCoverage(vitestFiles(), { global: { lines: 87.5, branches: 50 }, paths: {} });
    expect(ok).toMatchObject({ passed: true, global: { lines: 87.5, branches: 50, functions: 50 }, violations: [] });
    const bad = evaluateCoverage(vitestFiles(), { global: { lines: 87.6 }, paths: {} });
    expect(bad.violations).toEqual([{ scope: "global", metric: "lines", actual: 87.5, required: 87.6 }]);
    expect(bad.passed).toBe(false);
  });

  it("statements is judged on lines (lcov has no statements)", () => {
    const v = evaluateCoverage(vitestFiles(), { global: { statements: 90 }, paths: {} });
    expect(v.violations).toEqual([{ scope: "global", metric: "statements", actual: 87.5, required: 90 }]);
  });

  it("per-path globs and exact files; a pattern matching nothing is a violation", () => {
    const v = evaluateCoverage(vitestFiles(), {
      global: {},
      paths: { "src/billing/**": { branches: 1 }, "src/pricing.js": { lines: 75, functions: 50 }, "src/biling/**": { lines: 10 } },
    });
    expect(v.perPath).toEqual([
      { pattern: "src/billing/**", matchedFiles: 1, lines: 100, branches: 0, functions: 50 },
      { pattern: "src/pricing.js", matchedFiles: 1, lines: 75, branches: 75, functions: 50 },
      { pattern: "src/biling/**", matchedFiles: 0, lines: 100, branches: 100, functions: 100 },
    ]);
    expect(v.violations.map(formatViolation)).toEqual([
      "src/billing/**: branches 0% < 1%",
      "src/biling/**: matches no file in the coverage report",
    ]);
  });

  it("no file at all fails a global threshold instead of reading as 100 %", () => {
    const v = evaluateCoverage([], { global: { lines: 75 }, paths: {} });
    expect(v.passed).toBe(false);
    expect(v.violations.map(formatViolation)).toEqual(["global: the coverage report lists no file"]);
  });

  it("found = 0 counts as 100 %; display truncates; comparison is exact", () => {
    const f = (found: number, hit: number): FileCoverage => ({
      file: "a.ts",
      lines: { found, hit },
      functions: { found: 0, hit: 0 },
      branches: { found: 0, hit: 0 },
    });
    expect(evaluateCoverage([f(3, 2)], { global: { lines: 66.7, functions: 100 }, paths: {} }).violations).toEqual([
      { scope: "global", metric: "lines", actual: 66.6, required: 66.7 },
    ]);
    // 29/100*100 is 28.999999999999996 in floating point; 29 % must still pass.
    expect(evaluateCoverage([f(100, 29)], { global: { lines: 29 }, paths: {} }).passed).toBe(true);
  });

  it("formatViolation", () => {
    expect(formatViolation({ scope: "src/pricing.ts", metric: "lines", actual: 82.1, required: 90 })).toBe(
      "src/pricing.ts: lines 82.1% < 90%",
    );
  });
});

const audit = (tool: AuditTool, base: string, exitCode = 1): AuditResult => {
  const file = (ext: string): string => {
    try {
      return read(`audit/${base}${ext}`);
    } catch {
      return "";
    }
  };
  const stdout = /\.(json|ndjson)$/.test(base) ? read(`audit/${base}`) : file(".stdout");
  return parseAudit(tool, { stdout, stderr: file(".stderr"), exitCode });
};
const ids = (r: AuditResult): string[] =>
  r.kind === "report" ? r.advisories.map((a) => `${a.package} ${a.severity} ${a.id} ${a.direct ? "direct" : "transitive"}`).sort() : [];

const ALL_FIVE = [
  "lodash high GHSA-35jh-r3h4-6jhm direct",
  "lodash moderate GHSA-29mw-wpgm-hmr9 direct",
  "minimist critical GHSA-xvch-5gv4-984h direct",
  "minimist moderate GHSA-vh95-rmgr-6w4m transitive",
  "ms low GHSA-w9mr-4mfr-499f direct",
];

describe("audit parsers", () => {
  it('npm 11: metavulnerabilities (via: ["minimist"]) are not advisories; counts are npm\'s own', () => {
    const r = audit("npm", "npm-11.19.1-audit-vulnerable.json");
    if (r.kind !== "report") throw new Error(r.message);
    expect(r.counts).toEqual({ info: 0, low: 1, moderate: 1, high: 1, critical: 1, total: 4 });
    // npm keys by package name: both minimist advisories sit under the direct minimist entry.
    expect(ids(r)).toEqual(ALL_FIVE.map((s) => s.replace("transitive", "direct")));
    expect(r.advisories.find((a) => a.package === "lodash")).toMatchObject({
      title: "Command Injection in lodash",
      url: "https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
      fixAvailable: true,
    });
    expect(r.advisories.some((a) => a.package === "mkdirp")).toBe(false);
  });

  it("npm --omit=dev drops the devDependency", () => {
    const r = audit("npm", "npm-11.19.1-audit-omit-dev.json");
    expect(r.kind === "report" && r.counts).toEqual({ info: 0, low: 0, moderate: 1, high: 1, critical: 1, total: 3 });
    expect(ids(r).some((s) => s.startsWith("ms "))).toBe(false);
  });

  it("npm error objects are errors, with the HTTP status when there is one", () => {
    expect(audit("npm", "npm-11.19.1-audit-error-405-shared.json")).toEqual({
      kind: "error",
      statusCode: 405,
      message: "npm audit: 405 Method Not Allowed - POST https://registry.example/-/npm/v1/security/advisories/bulk",
    });
    expect(audit("npm", "npm-11.19.1-audit-error-500.json")).toMatchObject({ kind: "error", statusCode: 500 });
    expect(audit("npm", "npm-11.19.1-audit-error-timeout.json")).toMatchObject({
      kind: "error",
      message: expect.stringContaining("network timeout"),
    });
    const refused = audit("npm", "npm-11.19.1-audit-error-refused.json");
    expect(refused).toMatchObject({ kind: "error", message: expect.stringContaining("ECONNREFUSED") });
    expect("statusCode" in refused).toBe(false);
    expect(audit("npm", "npm-11.19.1-audit-clean.json", 0)).toEqual({
      kind: "report",
      counts: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 },
      advisories: [],
    });
  });

  it.each(["9.15.9", "10.34.9", "12.21.0"])("pnpm %s report", (v) => {
    const r = audit("pnpm", `pnpm-${v}-audit.json`);
    expect(r.kind === "report" && r.counts).toEqual({ info: 0, low: 1, moderate: 2, high: 1, critical: 1, total: 5 });
    expect(ids(r)).toEqual(ALL_FIVE);
  });

  it.each(["9.15.9", "10.34.9", "12.21.0"])("pnpm %s: 405 is an error (pnpm 12 only says so on stderr)", (v) => {
    expect(audit("pnpm", `pnpm-${v}-audit-error-405`)).toMatchObject({
      kind: "error",
      statusCode: 405,
      message: expect.stringMatching(
        /^pnpm audit: ERR_PNPM_AUDIT_BAD_RESPONSE: The audit endpoint \(at http:\/\/127\.0\.0\.1:\d+\/-\/npm\/v1\/security\/[a-z/]+\) responded with 405/,
      ),
    });
  });

  it("the real npm registry refuses the old audits endpoint (pnpm 9 and yarn 1 use it)", () => {
    expect(audit("pnpm", "pnpm-9.15.9-audit-error-405-real-registry")).toEqual({
      kind: "error",
      statusCode: 405,
      message:
        "pnpm audit: ERR_PNPM_AUDIT_BAD_RESPONSE: The audit endpoint (at https://registry.npmjs.org/-/npm/v1/security/audits) responded with 405:",
    });
  });

  it("yarn 1: one line per advisory and path, deduplicated; errors from stdout or stderr", () => {
    const r = audit("yarn-classic", "yarn-1.22.22-audit.ndjson");
    expect(r.kind === "report" && r.counts).toEqual({ info: 0, low: 1, moderate: 2, high: 1, critical: 1, total: 5 });
    expect(ids(r)).toEqual(ALL_FIVE);
    expect(audit("yarn", "yarn-1.22.22-audit-error-405-real-registry")).toEqual({
      kind: "error",
      statusCode: 405,
      message:
        'yarn audit: Error: https://registry.yarnpkg.com/-/npm/v1/security/audits: Request "https://registry.yarnpkg.com/-/npm/v1/security/audits" returned a 405',
    });
    expect(audit("yarn", "yarn-1.22.22-audit-error-500")).toEqual({
      kind: "error",
      statusCode: 500,
      message: 'yarn audit: ResponseError: Request failed "500 Internal Server Error"',
    });
    expect(audit("yarn", "yarn-1.22.22-audit-clean.ndjson", 0)).toMatchObject({ kind: "report", counts: { total: 0 } });
  });

  it("yarn 4: NDJSON advisories; empty stdout is clean only with exit 0", () => {
    const r = audit("yarn-berry", "yarn-4.18.1-npm-audit.ndjson");
    expect(r.kind === "report" && r.counts).toEqual({ info: 0, low: 1, moderate: 2, high: 1, critical: 1, total: 5 });
    expect(ids(r)).toEqual(ALL_FIVE);
    expect(r.kind === "report" && r.advisories.every((a) => !a.fixAvailable)).toBe(true); // yarn 4 doesn't say
    expect(audit("yarn-berry", "yarn-4.18.1-npm-audit-clean", 0)).toMatchObject({ kind: "report", counts: { total: 0 } });
    expect(audit("yarn-berry", "yarn-4.18.1-npm-audit-clean", 1).kind).toBe("error");
    expect(parseAudit("yarn-berry", "").kind).toBe("error"); // stdout alone: can't tell clean from a crash
    expect(audit("yarn-berry", "yarn-4.18.1-npm-audit-error-405")).toEqual({
      kind: "error",
      statusCode: 405,
      message: "yarn npm audit: Zt [Error]: The remote server failed to provide the requested resource",
    });
    expect(audit("yarn-berry", "yarn-4.18.1-npm-audit-error-packument-404")).toMatchObject({
      kind: "error",
      statusCode: 404,
      message: expect.stringContaining("YN0035: Package not found"),
    });
  });

  it("truncated or malformed output is an error, never a report", () => {
    const npm = read("audit/npm-11.19.1-audit-vulnerable.json");
    expect(parseAudit("npm", npm.slice(0, npm.length / 2))).toMatchObject({
      kind: "error",
      message: expect.stringContaining("printed no JSON object"),
    });
    expect(parseAudit("npm", npm.replace('"severity": "high"', '"severity": "urgent"'))).toMatchObject({
      kind: "error",
      message: expect.stringMatching(/^npm audit: output has an unexpected shape at vulnerabilities\.lodash\.severity/),
    });
    expect(parseAudit("npm", { stdout: "", stderr: "npm error audit endpoint returned an error\n" })).toEqual({
      kind: "error",
      message: "npm audit: npm error audit endpoint returned an error",
    });
    const yarn = read("audit/yarn-1.22.22-audit.ndjson").trim().split("\n");
    expect(parseAudit("yarn-classic", yarn.slice(0, -1).join("\n"))).toMatchObject({
      kind: "error",
      message: expect.stringContaining("no auditSummary"),
    });
    expect(parseAudit("pnpm", "{")).toMatchObject({ kind: "error" });
  });
});

describe("judgeAudit", () => {
  const npmReport = audit("npm", "npm-11.19.1-audit-vulnerable.json");
  const NOW = new Date("2026-11-23T12:00:00Z");
  const opts = (o: Partial<AuditPolicyOptions> = {}): AuditPolicyOptions => ({ level: "high", ignore: [], now: NOW, ...o });

  it("blocks at or above the level and says which packages", () => {
    const v = judgeAudit(npmReport, opts());
    expect(v.status).toBe("failed");
    expect(v.blocking.map((a) => a.id)).toEqual(["GHSA-35jh-r3h4-6jhm", "GHSA-xvch-5gv4-984h"]);
    expect(v.cause).toBe('1 high, 1 critical vulnerabilities at or above "high" (lodash, minimist)');
    expect(v.hint).toMatch(/^upgrade lodash, minimist to a patched version/);
    expect(v.counts.total).toBe(4);
  });

  it("level boundaries: critical only, moderate includes moderate", () => {
    expect(judgeAudit(npmReport, opts({ level: "critical" })).cause).toBe('1 critical vulnerability at or above "critical" (minimist)');
    expect(judgeAudit(npmReport, opts({ level: "moderate" })).cause).toBe(
      '2 moderate, 1 high, 1 critical vulnerabilities at or above "moderate" (lodash, minimist)',
    );
    expect(judgeAudit(npmReport, opts({ level: "low" })).blocking).toHaveLength(5);
  });

  it("ignores with a future expiry hide advisories and carry the reason", () => {
    const ignore = [
      { id: "ghsa-xvch-5gv4-984h", reason: "CLI args are ours", expires: "2026-11-23" }, // same day: still valid
      { id: "https://github.com/advisories/GHSA-35jh-r3h4-6jhm", reason: "template not used" },
    ];
    const v = judgeAudit(npmReport, opts({ ignore }));
    expect(v.status).toBe("passed");
    expect(v.ignored.map((a) => [a.id, a.reason])).toEqual([
      ["GHSA-35jh-r3h4-6jhm", "template not used"],
      ["GHSA-xvch-5gv4-984h", "CLI args are ours"],
    ]);
    expect(v.cause).toBe('no vulnerabilities at or above "high" (3 below it, 2 ignored)');
  });

  it("an expired ignore fails the gate, is named, and no longer hides its advisory", () => {
    const ignore = [{ id: "GHSA-xvch-5gv4-984h", reason: "was fine", expires: "2026-11-22" }];
    const v = judgeAudit(npmReport, opts({ level: "critical", ignore }));
    expect(v).toMatchObject({ status: "failed", expiredIgnores: ["GHSA-xvch-5gv4-984h"], ignored: [] });
    expect(v.blocking.map((a) => a.id)).toEqual(["GHSA-xvch-5gv4-984h"]);
    expect(v.cause).toBe('1 critical vulnerability at or above "critical" (minimist); expired ignore entry: GHSA-xvch-5gv4-984h');
    // Expiry is through the end of the day (UTC): one millisecond later it has lapsed.
    const edge = { id: "GHSA-xvch-5gv4-984h", reason: "r", expires: "2026-11-23" };
    expect(judgeAudit(npmReport, opts({ level: "critical", ignore: [edge], now: new Date("2026-11-23T23:59:59.999Z") })).status).toBe(
      "passed",
    );
    expect(
      judgeAudit(npmReport, opts({ level: "critical", ignore: [edge], now: new Date("2026-11-24T00:00:00.000Z") })).expiredIgnores,
    ).toEqual(["GHSA-xvch-5gv4-984h"]);
  });

  it("an expired ignore for an advisory that is gone still fails (stale entries must be cleaned up)", () => {
    const clean = audit("npm", "npm-11.19.1-audit-clean.json", 0);
    const v = judgeAudit(clean, opts({ ignore: [{ id: "GHSA-aaaa-bbbb-cccc", reason: "old", expires: "2025-01-01" }] }));
    expect(v).toMatchObject({ status: "failed", cause: "expired ignore entry: GHSA-aaaa-bbbb-cccc" });
    expect(judgeAudit(clean, opts())).toMatchObject({ status: "passed", cause: "no known vulnerabilities", hint: "" });
  });

  it("a CVE ignore matches where the tool reports CVEs", () => {
    const adv: Advisory = {
      id: "GHSA-xvch-5gv4-984h",
      package: "minimist",
      severity: "critical",
      title: "t",
      url: "",
      fixAvailable: false,
      direct: true,
      aliases: ["CVE-2021-44906"],
    };
    const r: AuditResult = { kind: "report", counts: { info: 0, low: 0, moderate: 0, high: 0, critical: 1, total: 1 }, advisories: [adv] };
    expect(judgeAudit(r, opts({ ignore: [{ id: "CVE-2021-44906", reason: "r" }] })).status).toBe("passed");
    expect(judgeAudit(r, opts()).hint).toMatch(/^no fix is known for minimist/);
  });

  it("an endpoint error is status error, never passed or failed", () => {
    const v = judgeAudit(audit("npm", "npm-11.19.1-audit-error-405-shared.json"), opts());
    expect(v).toMatchObject({ status: "error", blocking: [], counts: { total: 0 } });
    expect(v.cause).toBe("the audit endpoint refused the request (HTTP 405): the registry does not support npm audit");
    expect(judgeAudit(audit("npm", "npm-11.19.1-audit-error-500.json"), opts()).cause).toBe(
      "the registry's audit service failed (HTTP 500)",
    );
    expect(judgeAudit(audit("npm", "npm-11.19.1-audit-error-timeout.json"), opts()).cause).toBe(
      "the audit endpoint did not answer in time",
    );
    expect(judgeAudit(audit("npm", "npm-11.19.1-audit-error-refused.json"), opts()).cause).toBe(
      "the registry could not be reached for the audit",
    );
  });

  it("blocking advisories as Diagnostics", () => {
    expect(auditDiagnostics(judgeAudit(npmReport, opts({ level: "critical" })))).toEqual([
      {
        ruleId: "GHSA-xvch-5gv4-984h",
        severity: "error",
        message: "minimist: Prototype Pollution in minimist (critical, fix available) https://github.com/advisories/GHSA-xvch-5gv4-984h",
      },
    ]);
  });
});

/** The real npm CLI against the loopback advisory server. */
describe("live npm audit against a local advisory server", { timeout: 60_000 }, () => {
  let server: AdvisoryServer;
  let dir: string;
  const db = JSON.parse(read("advisory-db.json")) as AdvisoryServerOptions;

  beforeAll(async () => {
    server = await startAdvisoryServer(db);
    dir = mkdtempSync(join(tmpdir(), "shipshape-audit-"));
    for (const f of ["package.json", "package-lock.json"]) copyFileSync(join(FIX, "audit-project", f), join(dir, f));
    writeFileSync(join(dir, "npmrc"), ""); // no user config: nothing from the machine leaks in
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Async on purpose: a sync spawn would block the event loop the in-process server answers on.
  const npmAudit = (...extra: string[]) =>
    new Promise<{ stdout: string; stderr: string; exitCode: number }>((resolve) => {
      const args = [
        "audit",
        "--json",
        "--package-lock-only",
        "--registry",
        server.url,
        "--fetch-retries=0",
        `--userconfig=${join(dir, "npmrc")}`,
        `--cache=${join(dir, "cache")}`,
        ...extra,
      ];
      execFile("npm", args, { cwd: dir, timeout: 50_000 }, (err, stdout, stderr) => {
        const code = err && typeof err.code === "number" ? err.code : err ? -1 : 0;
        resolve({ stdout, stderr, exitCode: code });
      });
    });
  const auditPosts = () => server.requests.filter((r) => r.path.startsWith("/-/npm/v1/security/"));

  it("vulnerable project: exit 1, same report as the captured fixture; --omit=dev sends no devDependency", async () => {
    server.setMode("ok");
    server.requests.length = 0;
    const out = await npmAudit();
    expect(out.exitCode).toBe(1);
    const r = parseAudit("npm", out);
    expect(r.kind === "report" && r.counts).toEqual({ info: 0, low: 1, moderate: 1, high: 1, critical: 1, total: 4 });
    expect(ids(r)).toEqual(ids(audit("npm", "npm-11.19.1-audit-vulnerable.json")));
    expect(auditPosts().map((p) => p.path)).toEqual(["/-/npm/v1/security/advisories/bulk"]);
    expect(Object.keys(auditPosts()[0]?.body as object).sort()).toEqual(["lodash", "minimist", "mkdirp", "ms"]);

    server.requests.length = 0;
    const prod = parseAudit("npm", await npmAudit("--omit=dev"));
    expect(prod.kind === "report" && prod.counts.total).toBe(3);
    expect(Object.keys(auditPosts()[0]?.body as object)).not.toContain("ms");
  });

  it("405: exit 1, an error object, no fallback request; judged as error", async () => {
    server.setMode("405");
    server.requests.length = 0;
    const out = await npmAudit();
    expect(out.exitCode).toBe(1);
    const r = parseAudit("npm", out);
    expect(r).toMatchObject({ kind: "error", statusCode: 405 });
    expect(auditPosts()).toHaveLength(1); // npm 11 does not try audits/quick
    expect(judgeAudit(r, { level: "high", ignore: [], now: new Date() }).status).toBe("error");
  });

  it("500 and a hanging endpoint are errors too", async () => {
    server.setMode("500");
    expect(parseAudit("npm", await npmAudit())).toMatchObject({ kind: "error", statusCode: 500 });
    server.setMode("hang");
    const hung = parseAudit("npm", await npmAudit("--fetch-timeout=1500"));
    expect(hung).toMatchObject({ kind: "error", message: expect.stringContaining("network timeout") });
  });
});
