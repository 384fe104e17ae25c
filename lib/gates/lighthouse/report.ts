/**
 * Lighthouse's result (the LHR, `<prefix>.report.json`) as far as the gate reads it, and what one
 * CLI run amounts to. The exit codes and messages are lighthouse 12.2.3's cli/run.js: a page that
 * did not load still writes the report, with `runtimeError` set, then exits 1 ("Runtime error
 * encountered: ..." on stderr); a browser that crashed or never connected writes nothing and exits 1
 * (67 for a protocol timeout); our `timeout` wrapper exits 124, or 137 once it had to kill.
 */
import { z } from "zod";
import { Problem } from "../../../deploy/src/project/problem.js";
import { LIGHTHOUSE_CATEGORIES, type LighthouseCategory } from "../../../deploy/lib/gates/lighthouse/config.js";

const score = z.number().min(0).max(1).nullable();

const CategorySchema = z.object({
  id: z.string(),
  title: z.string(),
  score,
  auditRefs: z.array(z.object({ id: z.string(), weight: z.number(), group: z.string().optional() })),
});

const AuditSchema = z.object({
  id: z.string(),
  title: z.string(),
  score,
  scoreDisplayMode: z.string(),
  displayValue: z.string().optional(),
  numericValue: z.number().optional(),
});

export const LhrSchema = z.object({
  lighthouseVersion: z.string(),
  requestedUrl: z.string().optional(),
  finalDisplayedUrl: z.string().optional(),
  runtimeError: z.object({ code: z.string(), message: z.string() }).optional(),
  runWarnings: z.array(z.string()).default([]),
  configSettings: z.object({ formFactor: z.string() }).partial().default({}),
  environment: z.object({ hostUserAgent: z.string() }).partial().default({}),
  categories: z.record(z.string(), CategorySchema),
  audits: z.record(z.string(), AuditSchema),
});
export type Lhr = z.infer<typeof LhrSchema>;
export type LhrAudit = z.infer<typeof AuditSchema>;

export const CRASH_HINT =
  "run it again; if it keeps failing, run the same lighthouse command with --verbose, or raise lighthouse.timeoutSeconds for a slow page";

/** The hint for a page the browser could not load, from where the engine runs. */
export const unreachableHint = (url: string) =>
  `check that ${url} answers from the engine's network (curl it from a container there); ` +
  "localhost and 127.0.0.1 are the Lighthouse container itself, not your machine";

/** The report of one run, or the Problem that says why it has none a gate could judge. */
export function lhrOfRun(url: string, run: { exitCode: number; stderr: string; json: string | undefined }, timeoutSeconds: number): Lhr {
  if (run.exitCode === 124 || run.exitCode === 137)
    throw new Problem(`lighthouse did not finish auditing ${url} within ${timeoutSeconds} s`, CRASH_HINT);
  if (run.json !== undefined) {
    const lhr = parseLhr(run.json);
    if (lhr.runtimeError) {
      throw new Problem(
        `lighthouse could not load ${url}: ${lhr.runtimeError.code}: ${firstSentence(lhr.runtimeError.message)}`,
        unreachableHint(url),
      );
    }
    // A report and a failing exit without a runtimeError is nothing cli/run.js does: never a pass.
    if (run.exitCode === 0) return lhr;
  }
  throw new Problem(`lighthouse crashed auditing ${url}: ${crashLine(run.stderr, run.exitCode)}`, CRASH_HINT);
}

export function parseLhr(text: string): Lhr {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Problem("lighthouse wrote a report that is not JSON", CRASH_HINT);
  }
  const parsed = LhrSchema.safeParse(raw);
  if (!parsed.success) throw new Problem("lighthouse wrote a report this gate cannot read (not a Lighthouse result)", CRASH_HINT);
  return parsed.data;
}

/** The first line that says what went wrong: Lighthouse's own "Runtime error encountered: ..." line. */
function crashLine(stderr: string, exitCode: number): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.find((l) => l.startsWith("Runtime error encountered:")) ?? lines.find((l) => !l.startsWith("at ")) ?? "";
  const text = said.replace(/^Runtime error encountered:\s*/, "").slice(0, 240);
  if (exitCode === 67) return `the browser's debugging protocol timed out (exit 67)${text ? `: ${text}` : ""}`;
  return text ? `${text} (exit ${exitCode})` : `no report and exit code ${exitCode}`;
}

/** Lighthouse's first sentence, and the HTTP status it ends some messages with ("(Status code: 404)"). */
function firstSentence(message: string): string {
  const first = /^.*?[.!?](?=\s|$)/.exec(message)?.[0] ?? message;
  const status = /\(Status code: \d+\)/.exec(message)?.[0];
  return `${first.slice(0, 240)}${status && !first.includes(status) ? ` ${status}` : ""}`;
}

/** 0-100 as the report shows it (report/renderer: Math.round(score * 100)); undefined when Lighthouse could not score it. */
export function categoryScore(lhr: Lhr, c: LighthouseCategory): number | undefined {
  const s = lhr.categories[c]?.score;
  return s === null || s === undefined ? undefined : Math.round(s * 100);
}

/** Every budgeted category needs a score: one Lighthouse could not compute is not a pass. */
export function assertScored(lhr: Lhr, url: string): void {
  const missing = LIGHTHOUSE_CATEGORIES.filter((c) => categoryScore(lhr, c) === undefined);
  if (missing.length > 0)
    throw new Problem(
      `lighthouse could not score ${missing.join(", ")} for ${url}`,
      `${CRASH_HINT}; the HTML report says which audits errored`,
    );
}

const numeric = (lhr: Lhr, id: string) => lhr.audits[id]?.numericValue ?? Number.NaN;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * The run a multi-run audit judges, chosen as Lighthouse chooses it (core/lib/median-run.js at
 * 12.2.3): the one closest to the median first-contentful-paint and interactive times, ties to the
 * lower interactive time. Scores are not averaged: one run's report stays consistent with itself.
 */
export function medianRun(runs: Lhr[]): Lhr {
  if (runs.length === 0) throw new Error("medianRun needs at least one run");
  if (runs.some((r) => Number.isNaN(numeric(r, "first-contentful-paint")) || Number.isNaN(numeric(r, "interactive")))) return runs[0]!;
  const fcp = median(runs.map((r) => numeric(r, "first-contentful-paint")));
  const tti = median(runs.map((r) => numeric(r, "interactive")));
  const distance = (r: Lhr) => (fcp - numeric(r, "first-contentful-paint")) ** 2 + (tti - numeric(r, "interactive")) ** 2;
  return [...runs].sort((a, b) => distance(a) - distance(b) || numeric(a, "interactive") - numeric(b, "interactive"))[0]!;
}
