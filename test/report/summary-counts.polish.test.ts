/**
 * Summary lines say each count once, on real squawk 2.66.0 output (the gate's exact argv, on the
 * unsafe fixtures): judgeMigrations' cause repeats the "N migrations checked: <counts>" the
 * summary starts with, and the Markdown details repeated a cause the row already showed.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { migrationsSummary } from "../../lib/gates/migrations.js";
import { MigrationsConfigSchema } from "../../deploy/lib/release/migrations/config.js";
import { collectFindings } from "../../lib/release/migrations/findings.js";
import { judgeMigrations } from "../../lib/release/migrations/judge.js";
import { readMigrationSource } from "../../lib/release/migrations/source.js";
import { parseSquawkJson, squawkCommand } from "../../lib/release/migrations/squawk.js";
import { renderMarkdown, renderTable } from "../../deploy/src/report/render.js";
import type { GateOutcome } from "../../deploy/src/report/outcome.js";
import { SQUAWK_BIN } from "../helpers/tools.js";

const FIXTURES = resolve(import.meta.dirname, "../fixtures/migrations");

/** Every "<n> <severity>" count in a line, by severity: each may appear once. */
function repeatedCounts(line: string): string[] {
  const seen = new Map<string, number>();
  for (const m of line.matchAll(/\b\d+ (critical|high|medium|low|migrations? checked)\b/gi)) {
    const key = m[1]!.toLowerCase().replace(/migrations? checked/, "checked");
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

function verdictOf(dir: string, approvedDestructive = false) {
  const cfg = MigrationsConfigSchema.parse({});
  const files = readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith(".sql"))
    .map((f) => `${dir}/${f}`);
  const sources = files.map((f) => readMigrationSource(f, readFileSync(join(FIXTURES, f))));
  const [bin = "", ...args] = squawkCommand(files, cfg, { bin: [SQUAWK_BIN] });
  const run = spawnSync(bin, args, { cwd: FIXTURES, encoding: "utf8" });
  const { findings, skipped } = collectFindings(sources, parseSquawkJson(run.stdout, run.stderr), cfg.excludeRules);
  return judgeMigrations(findings, { failOn: cfg.failOn, approvedDestructive, files, skipped });
}

describe("migrations summary", () => {
  it("a failing run: counts once, then what blocks", () => {
    const v = verdictOf("unsafe");
    expect(v.status).toBe("failed");
    // The cause itself carries the counts (that is why they were said twice).
    expect(v.cause).toMatch(/\(\d+ migrations checked: /);
    const line = migrationsSummary(v, "");
    expect(repeatedCounts(`${line.split(" — ")[0]} — ${v.cause}`)).not.toEqual([]);
    expect(repeatedCounts(line)).toEqual([]);
    expect(line).toMatch(
      /^\d+ migrations checked: \d+ critical, \d+ high, \d+ medium, \d+ low — \d+ destructive migration changes?, first \S+ at unsafe\/\S+\.sql:\d+$/,
    );
  });

  it("a passing run and nothing to check", () => {
    const safe = verdictOf("safe");
    expect(safe.status).toBe("passed");
    expect(repeatedCounts(migrationsSummary(safe, ""))).toEqual([]);
    expect(migrationsSummary({ ...safe, files: 0 }, "main")).toBe('no migrations changed against --base "main": nothing to check');
  });

  it("the table and the Markdown say the summary's counts once", () => {
    const v = verdictOf("unsafe");
    const o: GateOutcome = {
      gate: "migrations",
      status: "failed",
      durationMs: 1,
      summary: migrationsSummary(v, ""),
      cause: v.cause,
      hint: v.hint,
      metrics: {},
      findings: [],
      log: "",
    };
    for (const text of [renderTable([o]), renderMarkdown([o])]) {
      for (const l of text.split("\n")) expect(repeatedCounts(l), l).toEqual([]);
    }
  });
});
