import { spawnSync } from "node:child_process";
import { SQUAWK_BIN } from "../../helpers/tools.js";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSquawkJson, squawkCommand } from "../../../lib/release/migrations/squawk.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const SQUAWK = SQUAWK_BIN;
const REPORTS = join(ROOT, "test/fixtures/migrations/reports");
const DEFAULTS = { excludeRules: [], assumeInTransaction: false };

const tmp = mkdtempSync(join(tmpdir(), "squawk-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(argv: string[], cwd = tmp) {
  const [, ...args] = argv;
  return spawnSync(SQUAWK, args, { cwd, encoding: "utf8" });
}

describe("squawkCommand", () => {
  it("builds the plain command line", () => {
    expect(squawkCommand(["migrations/001.sql"], DEFAULTS)).toEqual(["squawk", "--reporter", "json", "--", "migrations/001.sql"]);
  });

  it("adds pg version, transaction mode and squawk's own excluded rules only", () => {
    const cfg = {
      pgVersion: "13.4",
      assumeInTransaction: true,
      excludeRules: ["prefer-robust-stmts", "shipshape/truncate", "require-timeout-settings"],
    };
    expect(squawkCommand(["a.sql", "b.sql"], cfg, { bin: ["node_modules/.bin/squawk"] })).toEqual([
      "node_modules/.bin/squawk",
      "--reporter",
      "json",
      "--pg-version",
      "13.4",
      "--assume-in-transaction",
      "--exclude",
      "prefer-robust-stmts,require-timeout-settings",
      "--",
      "a.sql",
      "b.sql",
    ]);
  });

  it("refuses an empty file list: squawk would print [] and pass", () => {
    expect(() => squawkCommand([], DEFAULTS)).toThrow(/at least one file/);
  });

  it("escapes glob characters so odd file names are read literally (real run)", () => {
    mkdirSync(join(tmp, "odd"), { recursive: true });
    const names = ["odd/[1] drop.sql", "odd/a*.sql", "odd/-x?.sql"];
    for (const n of names) writeFileSync(join(tmp, n), "DROP TABLE IF EXISTS t;\n");
    writeFileSync(join(tmp, "odd/ab.sql"), "DROP TABLE IF EXISTS other;\n"); // a* must not reach it
    const out = run(squawkCommand(names, { ...DEFAULTS, excludeRules: ["require-timeout-settings"] }));
    expect(out.status).toBe(1);
    expect(new Set(parseSquawkJson(out.stdout).map((v) => v.file))).toEqual(new Set(names));
  });
});

describe("parseSquawkJson", () => {
  it("reads squawk's own report with 1-based lines (squawk's are 0-based)", () => {
    const violations = parseSquawkJson(readFileSync(join(REPORTS, "squawk-2.66.0-report.json"), "utf8"));
    expect(violations).toHaveLength(25);
    expect(violations[0]).toEqual({
      file: "migrations/001_bad.sql",
      rule: "prefer-robust-stmts",
      level: "Warning",
      message: "Missing `IF NOT EXISTS`, the migration can't be rerun if it fails part way through.",
      help: null,
      line: 1,
      endLine: 1,
      byteOffset: 0,
      endByteOffset: 85,
    });
    const drop = violations.find((v) => v.rule === "ban-drop-table");
    // DROP TABLE legacy; is the 9th line of the input
    expect(drop?.line).toBe(9);
    const lines = readFileSync(join(REPORTS, "001_bad.sql"), "utf8").split("\n");
    expect(lines[(drop?.line ?? 0) - 1]).toBe("DROP TABLE legacy;");
  });

  it("an empty report array is no findings", () => {
    expect(parseSquawkJson("[]")).toEqual([]);
  });

  it("empty output is an error that carries squawk's stderr", () => {
    expect(() => parseSquawkJson("")).toThrow("squawk printed no report");
    expect(() => parseSquawkJson("\n", 'Failed to find files for provided patterns: ["x.sql"]\n')).toThrow(
      'squawk printed no report: Failed to find files for provided patterns: ["x.sql"]',
    );
  });

  it("garbled output and unexpected shapes are errors", () => {
    expect(() => parseSquawkJson("warning: something\n[")).toThrow("squawk report is not valid JSON: warning: something");
    expect(() => parseSquawkJson('{"violations":[]}')).toThrow("squawk report has an unexpected shape: (root)");
    expect(() => parseSquawkJson('[{"file":"a.sql","line":-1}]')).toThrow(/unexpected shape: 0\.line/);
  });

  it("a missing file: exit 1 and nothing on stdout (real run)", () => {
    const out = run(squawkCommand(["nope.sql"], DEFAULTS));
    expect(out.status).toBe(1);
    expect(() => parseSquawkJson(out.stdout, out.stderr)).toThrow(
      'squawk printed no report: Failed to find files for provided patterns: ["nope.sql"]',
    );
  });

  it("one non-UTF-8 file aborts the whole run (real run): why readMigrationSource keeps such files away", () => {
    writeFileSync(join(tmp, "latin1.sql"), Buffer.from("-- caf\xe9\nDROP TABLE t;\n", "latin1"));
    copyFileSync(join(REPORTS, "001_bad.sql"), join(tmp, "good.sql"));
    const out = run(squawkCommand(["good.sql", "latin1.sql"], DEFAULTS));
    expect(out.status).toBe(1);
    expect(() => parseSquawkJson(out.stdout, out.stderr)).toThrow("squawk printed no report: Error: stream did not contain valid UTF-8");
  });

  it("an unknown rule in --exclude is a usage error, exit 2 (real run)", () => {
    copyFileSync(join(REPORTS, "001_bad.sql"), join(tmp, "bad.sql"));
    const out = spawnSync(SQUAWK, ["--reporter", "json", "--exclude", "shipshape/truncate", "bad.sql"], { cwd: tmp, encoding: "utf8" });
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/invalid rule name shipshape\/truncate/);
  });
});
