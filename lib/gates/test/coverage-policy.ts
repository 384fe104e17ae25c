/**
 * Coverage thresholds, global and per path, judged on parsed lcov.
 * `statements` is accepted for familiarity (istanbul/vitest have it) but lcov carries no
 * statement counts: a statements threshold is checked against LINE coverage.
 */
import picomatch from "picomatch";
import type { Counts, FileCoverage } from "./lcov.js";

export type Thresholds = { lines?: number; branches?: number; functions?: number; statements?: number };

export interface CoveragePolicy {
  global: Thresholds;
  /** Glob ("src/billing/**") or exact file ("src/pricing.ts") -> thresholds for the files it matches, pooled. */
  paths: Record<string, Thresholds>;
}

export type Metric = "lines" | "branches" | "functions" | "statements" | "files";

export interface Percentages {
  lines: number;
  branches: number;
  functions: number;
}

export interface CoverageViolation {
  /** "global" or the path pattern. */
  scope: string;
  metric: Metric;
  actual: number;
  required: number;
}

export interface CoverageVerdict {
  passed: boolean;
  global: Percentages;
  perPath: ({ pattern: string; matchedFiles: number } & Percentages)[];
  violations: CoverageViolation[];
}

type Pool = { lines: Counts; branches: Counts; functions: Counts };

export function evaluateCoverage(files: FileCoverage[], policy: CoveragePolicy): CoverageVerdict {
  const violations: CoverageViolation[] = [];
  const globalPool = pool(files);
  // No files at all would read as 100% everywhere: with a global threshold set, that is a failure.
  if (files.length === 0 && definedMetrics(policy.global).length > 0) {
    violations.push({ scope: "global", metric: "files", actual: 0, required: 1 });
  }
  check("global", globalPool, policy.global, violations);

  const perPath = Object.entries(policy.paths).map(([pattern, thresholds]) => {
    const isMatch = picomatch(pattern, { dot: true });
    const matched = files.filter((f) => isMatch(f.file));
    // A pattern that matches nothing is almost always a typo: it must not pass silently.
    if (matched.length === 0) violations.push({ scope: pattern, metric: "files", actual: 0, required: 1 });
    const p = pool(matched);
    check(pattern, p, thresholds, violations);
    return { pattern, matchedFiles: matched.length, ...percentages(p) };
  });

  return { passed: violations.length === 0, global: percentages(globalPool), perPath, violations };
}

/** One line for a report: "src/pricing.ts: lines 82.1% < 90%". */
export function formatViolation(v: CoverageViolation): string {
  if (v.metric === "files") {
    return v.scope === "global" ? "global: the coverage report lists no file" : `${v.scope}: matches no file in the coverage report`;
  }
  return `${v.scope}: ${v.metric} ${v.actual}% < ${v.required}%`;
}

function check(scope: string, p: Pool, t: Thresholds, out: CoverageViolation[]): void {
  for (const metric of definedMetrics(t)) {
    const required = t[metric];
    if (required === undefined) continue;
    const c = metric === "statements" ? p.lines : p[metric];
    // Integer comparison: 29/100 must meet 29% although 29/100*100 is 28.999999999999996.
    if (c.found > 0 && c.hit * 100 < required * c.found) {
      out.push({ scope, metric, actual: pct(c), required });
    }
  }
}

function definedMetrics(t: Thresholds): ("lines" | "branches" | "functions" | "statements")[] {
  return (["lines", "branches", "functions", "statements"] as const).filter((m) => t[m] !== undefined);
}

function pool(files: FileCoverage[]): Pool {
  const add = (a: Counts, b: Counts): Counts => ({ found: a.found + b.found, hit: a.hit + b.hit });
  const zero = { found: 0, hit: 0 };
  return files.reduce<Pool>(
    (acc, f) => ({
      lines: add(acc.lines, f.lines),
      branches: add(acc.branches, f.branches),
      functions: add(acc.functions, f.functions),
    }),
    { lines: zero, branches: zero, functions: zero },
  );
}

function percentages(p: Pool): Percentages {
  return { lines: pct(p.lines), branches: pct(p.branches), functions: pct(p.functions) };
}

/**
 * One decimal, truncated rather than rounded, so a failing 89.96% shows as 89.9% and never as
 * "90% < 90%". Nothing to cover (found = 0) counts as 100%.
 */
function pct(c: Counts): number {
  if (c.found === 0) return 100;
  return Math.floor((c.hit * 1000) / c.found) / 10;
}
