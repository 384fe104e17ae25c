/**
 * Semgrep report parsing, the SARIF rewrite and the sast policy, on Semgrep's own e2e snapshots
 * (test/fixtures/semgrep/README.md), plus the command line and the sast: config section.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { exitMeaning, semgrepCommand, semgrepFailure } from "../../lib/supply/sast/commands.js";
import { SastConfigSchema, type SastConfig } from "../../deploy/lib/supply/sast/config.js";
import { judgeSast, sastLine } from "../../lib/supply/sast/policy.js";
import { parseSemgrepJson, rewriteSemgrepSarif } from "../../lib/supply/sast/report.js";

const FIX = join(import.meta.dirname, "../fixtures/semgrep");
const read = (name: string): string => readFileSync(join(FIX, name), "utf8");
const findings = (name: string) => parseSemgrepJson(read(name)).findings;
const cfg = (input: Record<string, unknown> = {}): SastConfig => SastConfigSchema.parse(input);
const NOW = new Date("2026-06-15T12:00:00Z");
const ignore = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  reason: "reviewed: test-only helper",
  expires: "2026-12-31",
  ...extra,
});

describe("parseSemgrepJson", () => {
  it("eqeq.json: one ERROR finding, read as HIGH with its location and link", () => {
    const report = parseSemgrepJson(read("eqeq.json"));
    expect(report).toMatchObject({ version: "0.42", errors: [], scanned: 1 });
    expect(report.findings).toEqual([
      {
        ruleId: "rules.eqeq-is-bad",
        path: "targets/basic/stupid.py",
        line: 3,
        column: 12,
        endLine: 3,
        endColumn: 26,
        severity: "HIGH",
        semgrepSeverity: "ERROR",
        message: "useless comparison operation `a + b == a + b` or `a + b != a + b`",
        nosemgrep: false,
        link: "https://sg.run/xyz1",
      },
    ]);
  });

  it("multiline.json: ERROR and WARNING map to HIGH and MEDIUM; critical.json keeps CRITICAL", () => {
    expect(findings("multiline.json").map((f) => [f.ruleId, f.severity])).toEqual([
      ["rules.eqeq-is-bad", "HIGH"],
      ["rules.assign-multiline-comment", "MEDIUM"],
    ]);
    expect(findings("critical.json").map((f) => f.severity)).toEqual(["CRITICAL"]);
  });

  it("invalid-rules.json: errors only, the specific one first; parse-error.json: a warn with its type name", () => {
    const invalid = parseSemgrepJson(read("invalid-rules.json"));
    expect(invalid.findings).toEqual([]);
    expect(invalid.errors.map((e) => [e.code, e.level, e.type])).toEqual([
      [5, "error", "SemgrepError"],
      [7, "error", "SemgrepError"],
    ]);
    // error_type is ["PartialParsing", [locations]] since 1.45.0.
    expect(parseSemgrepJson(read("parse-error.json")).errors).toEqual([
      expect.objectContaining({ code: 3, level: "warn", type: "PartialParsing", path: "targets/bad/invalid_go.go" }),
    ]);
  });

  it("refuses what is not a Semgrep report, and a severity it does not know, as one line with a fix", () => {
    for (const text of ["not json", "{}", JSON.stringify({ results: [{ check_id: "x" }], errors: [] })]) {
      expect(() => parseSemgrepJson(text)).toThrow(Problem);
    }
    const future = read("eqeq.json").replace('"severity": "ERROR"', '"severity": "URGENT"');
    expect(() => parseSemgrepJson(future)).toThrow(/unknown severity URGENT \(rules\.eqeq-is-bad\)/);
  });
});

describe("rewriteSemgrepSarif", () => {
  it("keeps Semgrep's own SARIF (rules with help) and drops only the results the gate accepted", () => {
    const kept = JSON.parse(rewriteSemgrepSarif(read("eqeq.sarif"), () => false));
    expect(kept.runs[0].tool.driver.name).toBe("Semgrep OSS");
    expect(kept.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toContain("rules.eqeq-is-bad");
    expect(kept.runs[0].results).toHaveLength(1);
    const keys: unknown[] = [];
    const dropped = JSON.parse(rewriteSemgrepSarif(read("eqeq.sarif"), (k) => (keys.push(k), k.ruleId === "rules.eqeq-is-bad")));
    expect(keys).toEqual([{ ruleId: "rules.eqeq-is-bad", path: "targets/basic/stupid.py", line: 3 }]);
    expect(dropped.runs[0].results).toEqual([]);
  });

  it("makes container paths repository-relative, and refuses what is not SARIF 2.1.0", () => {
    const moved = read("eqeq.sarif").replace('"uri": "targets/basic/stupid.py"', '"uri": "/src/targets/basic/stupid.py"');
    expect(rewriteSemgrepSarif(moved, () => false)).toContain('"uri": "targets/basic/stupid.py"');
    expect(() => rewriteSemgrepSarif(read("eqeq.json"), () => false)).toThrow(/not a SARIF 2.1.0 log/);
    expect(JSON.parse(rewriteSemgrepSarif(read("when-errors.sarif"), () => true)).runs[0].results).toEqual([]);
  });
});

describe("judgeSast", () => {
  it("fails at the threshold and above: HIGH by default blocks the ERROR, not the WARNING", () => {
    const v = judgeSast(findings("multiline.json"), cfg(), NOW);
    expect(v.status).toBe("failed");
    expect(v.counts).toMatchObject({ HIGH: 1, MEDIUM: 1, total: 2 });
    expect(v.blocking.map((f) => f.ruleId)).toEqual(["rules.eqeq-is-bad"]);
    expect(v.cause).toBe("1 HIGH finding (rules.eqeq-is-bad in targets/multiline/stupid.py)");
    expect(v.hint).toMatch(/sast\.ignore entry/);
    expect(judgeSast(findings("multiline.json"), cfg({ severity: "MEDIUM" }), NOW).blocking).toHaveLength(2);
    expect(judgeSast(findings("multiline.json"), cfg({ severity: "CRITICAL" }), NOW).status).toBe("passed");
    expect(judgeSast(findings("critical.json"), cfg({ severity: "CRITICAL" }), NOW).status).toBe("failed");
  });

  it("an ignore entry with a reason lets its rule through, only in its paths when it has some", () => {
    const v = judgeSast(findings("eqeq.json"), cfg({ ignore: [ignore("rules.eqeq-is-bad")] }), NOW);
    expect(v.status).toBe("passed");
    expect(v.ignored.map((f) => f.reason)).toEqual(["reviewed: test-only helper"]);
    expect(v.cause).toBe("no blocking findings at HIGH or above (0 below it, 1 ignored)");
    const elsewhere = cfg({ ignore: [ignore("rules.eqeq-is-bad", { paths: ["src/**"] })] });
    expect(judgeSast(findings("eqeq.json"), elsewhere, NOW).status).toBe("failed");
    const there = cfg({ ignore: [ignore("rules.eqeq-is-bad", { paths: ["targets/**/*.py"] })] });
    expect(judgeSast(findings("eqeq.json"), there, NOW).status).toBe("passed");
  });

  it("an expired entry hides nothing and fails the gate even with no finding left", () => {
    const stale = cfg({ ignore: [ignore("rules.eqeq-is-bad", { expires: "2026-06-14" })] });
    const v = judgeSast(findings("eqeq.json"), stale, NOW);
    expect(v.blocking).toHaveLength(1);
    expect(v.cause).toMatch(/expired sast\.ignore entry: rules\.eqeq-is-bad \(expired 2026-06-14\)/);
    expect(judgeSast([], stale, NOW).status).toBe("failed");
    // Valid through the day it names, UTC.
    expect(judgeSast(findings("eqeq.json"), cfg({ ignore: [ignore("rules.eqeq-is-bad", { expires: "2026-06-15" })] }), NOW).status).toBe(
      "passed",
    );
  });

  it("one line per finding: where, severity, rule, message", () => {
    expect(sastLine(findings("eqeq.json")[0]!)).toBe(
      "targets/basic/stupid.py:3 HIGH rules.eqeq-is-bad: useless comparison operation `a + b == a + b` or `a + b != a + b`",
    );
  });
});

describe("semgrepCommand and failures", () => {
  it("scans the root once, both reports from the one run, no metrics, no --error", () => {
    const cmd = semgrepCommand({ configs: ["p/default", ".semgrep"], json: "/r/s.json", sarif: "/r/s.sarif", exclude: ["test/fixtures"] });
    expect(cmd).toEqual([
      "semgrep",
      "scan",
      "--config",
      "p/default",
      "--config",
      ".semgrep",
      "--metrics=off",
      "--disable-version-check",
      "--json-output=/r/s.json",
      "--sarif-output=/r/s.sarif",
      "--exclude",
      "test/fixtures",
      ".",
    ]);
  });

  it("a failed run's cause is the first error-level message of the report, else stderr", () => {
    const errors = parseSemgrepJson(read("invalid-rules.json")).errors;
    expect(semgrepFailure(7, errors, "")).toBe(
      'Invalid YAML file rules/syntax/invalid.yaml: mapping values are not allowed here in "<file>", line 2, column 7 (missing or invalid rules config)',
    );
    expect(semgrepFailure(2, [], "Cannot create auto config when metrics are off.\n")).toBe(
      "Cannot create auto config when metrics are off. (fatal error)",
    );
    expect(exitMeaning(42)).toBe("exit code 42");
  });
});

describe("sast: config", () => {
  const issues = (input: unknown) => {
    const r = SastConfigSchema.safeParse(input, { error: configErrorMap });
    return r.success ? [] : formatZodIssues(r.error, SastConfigSchema);
  };

  it("is off by default, with p/default at HIGH", () => {
    expect(cfg()).toEqual({ enabled: false, rules: ["p/default"], severity: "HIGH", exclude: [], ignore: [] });
  });

  it("an ignore entry needs a rule id, a reason and an expiry", () => {
    expect(issues({ ignore: [{ id: "rules.eqeq-is-bad", reason: "ok" }] })).toEqual([
      "ignore[0].expires: required: give the date (YYYY-MM-DD) the ignore lapses: every sast.ignore entry expires",
    ]);
    expect(issues({ ignore: [{ id: "rules.eqeq-is-bad", expires: "2026-12-31" }] })).toEqual([
      "ignore[0].reason: required: say why this finding is accepted",
    ]);
    expect(issues({ ignore: [{ id: "a b", reason: "ok", expires: "2026-02-30" }] })).toEqual([
      'ignore[0].id: expected a Semgrep rule id (check_id) like "rules.eqeq-is-bad", got "a b"',
      'ignore[0].expires: expected a real calendar date as YYYY-MM-DD, got "2026-02-30"',
    ]);
  });

  it("rules are registry ids or repository paths: not auto, URLs, absolute or escaping paths", () => {
    expect(issues({ rules: ["p/default", "r/javascript.lang", ".semgrep/", "rules/eqeq.yaml"] })).toEqual([]);
    for (const bad of ["auto", "https://example.com/rules.yaml", "/etc/rules.yaml", "../rules.yaml"]) {
      expect(issues({ rules: [bad] })[0]).toMatch(/^rules\[0\]: expected a Semgrep registry ruleset like "p\/default"/);
    }
    expect(issues({ rules: [] })).toHaveLength(1);
  });
});
