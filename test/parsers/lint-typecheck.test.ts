import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../../deploy/src/report/diagnostic.js";
import { toSarif } from "../../deploy/src/report/sarif.js";
import { parseEslintJson } from "../../lib/gates/lint/eslint.js";
import { parsePrettierCheck, parsePrettierErrors, prettierDiagnostics, prettierErrorDiagnostics } from "../../lib/gates/lint/prettier.js";
import { parseTscOutput, summarizeTsc } from "../../lib/gates/typecheck/tsc.js";

// Real outputs captured by fixtures-lint/capture.sh (see fixtures-lint/README.md).
const FIXTURES = fileURLToPath(new URL("./fixtures-lint/", import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), "utf8");
// The sample projects lived here when the fixtures were captured.
const ESLINT_ROOT = "/tmp/lintlab/proj";

describe("parseEslintJson on real ESLint 9 output", () => {
  const summary = parseEslintJson(fixture("eslint-mixed.stdout.txt"), ESLINT_ROOT);

  it("sums the counts ESLint reports", () => {
    expect(summary).toMatchObject({ errors: 4, warnings: 4, fixable: 3, filesWithProblems: 3 });
    expect(summary.diagnostics).toHaveLength(8);
  });

  it("keeps rule ids, severities, relative paths and ranges", () => {
    expect(summary.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.severity} ${d.ruleId}`)).toEqual([
      "src/app.ts:1:5 error prefer-const",
      "src/app.ts:2:7 error @typescript-eslint/no-unused-vars",
      "src/app.ts:3:29 error @typescript-eslint/no-explicit-any",
      "src/app.ts:4:3 warning no-console",
      "src/app.ts:5:12 warning eqeqeq",
      "src/util/broken.ts:3:1 error eslint/parse-error",
      "src/util/legacy.js:1:1 warning no-var",
      "src/util/legacy.js:2:1 warning eslint/core",
    ]);
    expect(summary.diagnostics[0]).toEqual({
      ruleId: "prefer-const",
      severity: "error",
      message: "'greeting' is never reassigned. Use 'const' instead.",
      file: "src/app.ts",
      line: 1,
      column: 5,
      endLine: 1,
      endColumn: 13,
    });
  });

  it("maps a fatal null-rule message to eslint/parse-error and clamps its column 0 to 1", () => {
    // ESLint really reports column 0 here (the raw fixture says so).
    expect(fixture("eslint-mixed.stdout.txt")).toContain(`"line":3,"column":0`);
    const parse = summary.diagnostics.find((d) => d.ruleId === "eslint/parse-error");
    expect(parse).toEqual({
      ruleId: "eslint/parse-error",
      severity: "error",
      message: "Parsing error: '}' expected.",
      file: "src/util/broken.ts",
      line: 3,
      column: 1,
    });
  });

  it("handles an ignored-file warning that has no position", () => {
    const ignored = parseEslintJson(fixture("eslint-ignored.stdout.txt"), ESLINT_ROOT);
    expect(ignored).toMatchObject({ errors: 0, warnings: 1, fixable: 0, filesWithProblems: 1 });
    expect(ignored.diagnostics).toEqual([expect.objectContaining({ ruleId: "eslint/core", severity: "warning", file: "dist/out.js" })]);
    expect(ignored.diagnostics[0]).not.toHaveProperty("line");
  });

  it("returns an empty summary for a clean run and works with a trailing-slash root", () => {
    expect(parseEslintJson(fixture("eslint-clean.stdout.txt"), `${ESLINT_ROOT}/`)).toEqual({
      errors: 0,
      warnings: 0,
      fixable: 0,
      filesWithProblems: 0,
      diagnostics: [],
    });
  });

  it("rejects truncated, empty and non-JSON output with a clear message", () => {
    const full = fixture("eslint-mixed.stdout.txt");
    expect(() => parseEslintJson(full.slice(0, 500), ESLINT_ROOT)).toThrow(`ESLint report is not valid JSON: ${full.slice(0, 80)}`);
    // A crashed ESLint (exit 2) leaves stdout empty.
    expect(fixture("eslint-no-files.stdout.txt")).toBe("");
    expect(() => parseEslintJson(fixture("eslint-no-files.stdout.txt"), ESLINT_ROOT)).toThrow(
      "ESLint report is not valid JSON: (empty output)",
    );
    expect(() => parseEslintJson(fixture("eslint-no-files.stderr.txt"), ESLINT_ROOT)).toThrow(
      /^ESLint report is not valid JSON: Oops! Something went wrong! :\(/,
    );
  });

  it("rejects JSON of the wrong shape, naming the offending path", () => {
    expect(() => parseEslintJson(`{"results":[]}`, ESLINT_ROOT)).toThrow(/^ESLint report has an unexpected shape: \(root\): /);
    const wrong = JSON.parse(fixture("eslint-mixed.stdout.txt")) as { messages: { severity: number }[] }[];
    const first = wrong[1]?.messages[0];
    if (!first) throw new Error("fixture changed: expected messages in the second file");
    first.severity = 3;
    expect(() => parseEslintJson(JSON.stringify(wrong), ESLINT_ROOT)).toThrow(
      /^ESLint report has an unexpected shape: 1\.messages\.0\.severity: /,
    );
  });
});

describe("prettier --check on real Prettier 3 output", () => {
  it("finds nothing when everything is formatted", () => {
    expect(fixture("prettier-clean.stdout.txt")).toContain("All matched files use Prettier code style!");
    expect(fixture("prettier-clean.stderr.txt")).toBe("");
    expect(parsePrettierCheck(fixture("prettier-clean.stdout.txt"))).toEqual([]);
  });

  it("lists the unformatted files from stderr, not the summary line", () => {
    expect(fixture("prettier-unformatted.stdout.txt")).toBe("Checking formatting...\n");
    expect(parsePrettierCheck(fixture("prettier-unformatted.stderr.txt"))).toEqual(["src/lib/messy.js", "src/ugly.ts"]);
    expect(parsePrettierErrors(fixture("prettier-unformatted.stderr.txt"))).toEqual([]);
  });

  it("strips the ANSI colours prettier adds when CI is set", () => {
    expect(fixture("prettier-single-ci.stderr.txt")).toContain("\u001b[33mwarn");
    expect(parsePrettierCheck(fixture("prettier-single-ci.stderr.txt"))).toEqual(["src/ugly.ts"]);
  });

  it("ignores the non-file 'Ignored unknown option' warning", () => {
    expect(parsePrettierCheck(fixture("prettier-unknown-option.stderr.txt"))).toEqual(["src/ugly.ts"]);
  });

  it("separates syntax errors from unformatted files (exit 2), plain and coloured", () => {
    for (const name of ["prettier-syntax-error.stderr.txt", "prettier-syntax-error-ci.stderr.txt"]) {
      const stderr = fixture(name);
      expect(parsePrettierCheck(stderr)).toEqual(["src/lib/messy.js", "src/ugly.ts"]);
      expect(parsePrettierErrors(stderr)).toEqual([
        { file: "src/lib/broken.ts", message: "SyntaxError: '}' expected.", line: 3, column: 1 },
      ]);
    }
    const combined = fixture("prettier-syntax-error.stdout.txt") + fixture("prettier-syntax-error.stderr.txt");
    expect(parsePrettierErrors(combined)).toHaveLength(1);
  });

  it("reports a pattern error without a file", () => {
    expect(parsePrettierErrors(fixture("prettier-no-match.stderr.txt"))).toEqual([
      { message: 'No files matching the pattern were found: "nope/".' },
    ]);
  });

  it("turns files and errors into diagnostics", () => {
    expect(prettierDiagnostics(["src/ugly.ts"])).toEqual([
      {
        ruleId: "prettier/format",
        severity: "error",
        message: "File is not formatted; run prettier --write src/ugly.ts",
        file: "src/ugly.ts",
      },
    ]);
    expect(prettierErrorDiagnostics(parsePrettierErrors(fixture("prettier-syntax-error.stderr.txt")))).toEqual([
      {
        ruleId: "prettier/syntax-error",
        severity: "error",
        message: "prettier could not parse src/lib/broken.ts: SyntaxError: '}' expected.",
        file: "src/lib/broken.ts",
        line: 3,
        column: 1,
      },
    ]);
  });
});

describe("parseTscOutput on real tsc 5.9.3 output", () => {
  it("parses a single located error", () => {
    expect(parseTscOutput(fixture("tsc-one.stdout.txt"))).toEqual([
      {
        ruleId: "TS2322",
        severity: "error",
        message: "Type 'string' is not assignable to type 'number'.",
        file: "src/a.ts",
        line: 2,
        column: 7,
      },
    ]);
  });

  it("parses several errors in two files", () => {
    const diags = parseTscOutput(fixture("tsc-many.stdout.txt"));
    expect(diags.map((d) => `${d.file}(${d.line},${d.column}) ${d.ruleId}`)).toEqual([
      "src/index.ts(3,7) TS2322",
      "src/index.ts(4,39) TS2551",
      "src/index.ts(6,5) TS2345",
      "src/lib/math.ts(4,24) TS7006",
    ]);
    expect(diags[1]?.message).toBe("Property 'toUpperCas' does not exist on type 'string'. Did you mean 'toUpperCase'?");
    expect(summarizeTsc(diags)).toEqual({ errors: 4, warnings: 0, files: ["src/index.ts", "src/lib/math.ts"], global: 0 });
  });

  it("folds indented elaboration lines into the previous message", () => {
    const diags = parseTscOutput(fixture("tsc-multi.stdout.txt"));
    expect(diags).toHaveLength(2);
    expect(diags[0]?.message).toBe("Type 'string' is not assignable to type 'number'.");
    expect(diags[1]).toMatchObject({ ruleId: "TS2322", file: "src/config.ts", line: 12, column: 14 });
    expect(diags[1]?.message).toBe(
      [
        "Type '(req: { url: number; }) => Promise<string>' is not assignable to type 'Handler'.",
        "  Types of parameters 'req' and 'req' are incompatible.",
        "    Type '{ url: string; headers: Record<string, string>; }' is not assignable to type '{ url: number; }'.",
        "      Types of property 'url' are incompatible.",
        "        Type 'string' is not assignable to type 'number'.",
      ].join("\n"),
    );
  });

  it("parses project-level errors that have no location", () => {
    expect(parseTscOutput(fixture("tsc-missing.stdout.txt"))).toEqual([
      {
        ruleId: "TS5058",
        severity: "error",
        message: "The specified path does not exist: '/tmp/lintlab/tsc/absent/tsconfig.json'.",
      },
    ]);
    expect(parseTscOutput(fixture("tsc-badext.stdout.txt"))).toEqual([
      { ruleId: "TS5083", severity: "error", message: "Cannot read file '/tmp/lintlab/tsc/badext/base.json'." },
    ]);
    const noInputs = parseTscOutput(fixture("tsc-noinputs.stdout.txt"));
    expect(noInputs).toHaveLength(1);
    expect(noInputs[0]?.ruleId).toBe("TS18003");
    expect(noInputs[0]?.message).toMatch(
      /^No inputs were found in config file '.*tsconfig\.json'\. Specified 'include' paths were '\["src"\]'/,
    );
    expect(summarizeTsc(noInputs)).toEqual({ errors: 1, warnings: 0, files: [], global: 1 });
  });

  it("locates tsconfig option errors in tsconfig.json", () => {
    expect(parseTscOutput(fixture("tsc-badopt.stdout.txt")).map((d) => `${d.file}:${d.line}:${d.column} ${d.ruleId}`)).toEqual([
      "tsconfig.json:4:5 TS5023",
      "tsconfig.json:5:15 TS6046",
    ]);
  });

  it("returns nothing for a clean run", () => {
    expect(fixture("tsc-clean.stdout.txt")).toBe("");
    expect(parseTscOutput(fixture("tsc-clean.stdout.txt"))).toEqual([]);
  });

  it("maps warning/message categories and tolerates CRLF and odd paths (synthetic lines)", () => {
    // tsc 5.9 printed no warnings in any captured run; these lines follow its format.
    const diags = parseTscOutput(
      "src\\my (copy).ts(1,2): warning TS6133: 'x' is declared but its value is never read.\r\nmessage TS6194: Hello.\r\n",
    );
    expect(diags).toEqual([
      {
        ruleId: "TS6133",
        severity: "warning",
        message: "'x' is declared but its value is never read.",
        file: "src/my (copy).ts",
        line: 1,
        column: 2,
      },
      { ruleId: "TS6194", severity: "note", message: "Hello." },
    ]);
  });

  it("agrees with a live tsc run on a temp project", () => {
    const tsc = fileURLToPath(new URL("../../node_modules/.bin/tsc", import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), "shipshape-tsc-"));
    try {
      mkdirSync(join(dir, "src"));
      writeFileSync(
        join(dir, "tsconfig.json"),
        // A small lib and skipLibCheck keep this to ~1 s of CPU (the default lib pulls in the DOM).
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, types: [], target: "es2022", lib: ["es2022"], skipLibCheck: true },
          include: ["src"],
        }),
      );
      writeFileSync(join(dir, "src", "a.ts"), 'export const n: number = "nope";\n');
      const run = spawnSync(tsc, ["--noEmit", "--pretty", "false", "-p", "."], { cwd: dir, encoding: "utf8" });
      expect(run.status).toBe(2);
      expect(run.stderr).toBe("");
      expect(parseTscOutput(run.stdout)).toEqual([
        {
          ruleId: "TS2322",
          severity: "error",
          message: "Type 'string' is not assignable to type 'number'.",
          file: "src/a.ts",
          line: 1,
          column: 14,
        },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe("toSarif", () => {
  const eslint = parseEslintJson(fixture("eslint-mixed.stdout.txt"), ESLINT_ROOT).diagnostics;
  const extra: Diagnostic[] = [
    { ruleId: "prefer-const", severity: "error", message: "again", file: "src/other file#1.ts", line: 0 },
    { ruleId: "TS18003", severity: "note", message: "No inputs were found" },
  ];
  const log = toSarif({ name: "ESLint", version: "9.39.5", informationUri: "https://eslint.org" }, [...eslint, ...extra]);
  const run = log.runs[0];

  it("has the SARIF 2.1.0 envelope and driver", () => {
    expect(log.$schema).toBe("https://json.schemastore.org/sarif-2.1.0.json");
    expect(log.version).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    expect(run.tool.driver).toMatchObject({ name: "ESLint", version: "9.39.5", informationUri: "https://eslint.org" });
    expect(toSarif({ name: "tsc" }, []).runs[0].tool.driver).toEqual({ name: "tsc", rules: [] });
  });

  it("de-duplicates rules and points each result at its rule", () => {
    const ids = run.tool.driver.rules.map((r) => r.id);
    expect(ids).toEqual([
      "prefer-const",
      "@typescript-eslint/no-unused-vars",
      "@typescript-eslint/no-explicit-any",
      "no-console",
      "eqeqeq",
      "eslint/parse-error",
      "no-var",
      "eslint/core",
      "TS18003",
    ]);
    expect(run.results).toHaveLength(10);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]?.id).toBe(r.ruleId);
    expect(run.results[8]?.ruleIndex).toBe(0);
  });

  it("maps levels, relative URIs and regions", () => {
    expect(run.results.map((r) => r.level)).toEqual([
      "error",
      "error",
      "error",
      "warning",
      "warning",
      "error",
      "warning",
      "warning",
      "error",
      "note",
    ]);
    expect(run.results[0]).toEqual({
      ruleId: "prefer-const",
      ruleIndex: 0,
      level: "error",
      message: { text: "'greeting' is never reassigned. Use 'const' instead." },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "src/app.ts", uriBaseId: "%SRCROOT%" },
            region: { startLine: 1, startColumn: 5, endLine: 1, endColumn: 13 },
          },
        },
      ],
    });
    // Line 0 is clamped (GitHub rejects startLine < 1); "#" and spaces are escaped.
    expect(run.results[8]?.locations?.[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: "src/other%20file%231.ts", uriBaseId: "%SRCROOT%" },
      region: { startLine: 1 },
    });
    expect(run.results[9]).not.toHaveProperty("locations");
    for (const r of run.results) {
      for (const loc of r.locations ?? []) {
        expect(loc.physicalLocation.artifactLocation.uri).not.toMatch(/^\/|^[a-z]+:/i);
        expect(loc.physicalLocation.region.startLine).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it("drops an end that precedes the start", () => {
    const [sameLine, backwards] = toSarif({ name: "x" }, [
      { ruleId: "r", severity: "warning", message: "m", file: "a.ts", line: 5, column: 9, endLine: 5, endColumn: 3 },
      { ruleId: "r", severity: "warning", message: "m", file: "a.ts", line: 5, endLine: 2, endColumn: 3 },
    ]).runs[0].results;
    expect(sameLine?.locations?.[0]?.physicalLocation.region).toEqual({ startLine: 5, startColumn: 9, endLine: 5 });
    expect(backwards?.locations?.[0]?.physicalLocation.region).toEqual({ startLine: 5 });
  });
});
