/**
 * Pipeline metrics from the ci runs in the audit trail, per calendar bucket and per gate. Pure:
 * runs and a resolved window in, numbers out.
 *
 * Definitions:
 * - A run belongs to the bucket its `endedAt` falls in (as deploys do in dora.ts).
 * - Build success rate: runs that passed (no gate failed or errored; skipped gates pass, as ci
 *   itself judges) ÷ runs.
 * - Durations: p50 and p95 (percentile.ts's estimator) of the whole run's wall time per bucket,
 *   and of each gate's over the window. A skipped gate is left out (it did not run); a gate the
 *   engine replayed from its cache counts with the short time it took in that run.
 * - Coverage trend: the median line coverage of the bucket's runs that measured it (a median, so
 *   one branch's half-done tests do not swing the line), and its change from the bucket before.
 * - Security findings trend: per run, the blocking findings of its security gates (audit, sast,
 *   secrets, scan) summed; a run where one of them could not judge (error) or none ran has no
 *   count. Per bucket, the median over the runs that have one.
 */
import { bucketIndex, type Bucket } from "./periods.js";
import { parseInstant } from "./records.js";
import { percentile } from "./stats.js";

/** The parts of a ci run record (lib/trail/pipeline-record.ts) the metrics read. */
export interface PipelineRunLike {
  runId: string;
  startedAt: string;
  endedAt: string;
  outcome: "passed" | "failed";
  coverageLines?: number;
  gates: readonly { name: string; status: string; durationMs: number; blocking?: number; security?: boolean }[];
}

export interface PipelinePeriod {
  period: string;
  start: string;
  end: string;
  partial: boolean;
  runs: number;
  passed: number;
  successRate: number | null;
  durationP50Ms: number | null;
  durationP95Ms: number | null;
  /** Median line coverage, percent; null when no run measured it. */
  coverageLines: number | null;
  /** Change from the closest earlier bucket with coverage, in percentage points. */
  coverageChange: number | null;
  /** Median blocking security findings per run; null when no run has a count. */
  securityFindings: number | null;
}

export interface GateStats {
  gate: string;
  /** Runs in which the gate ran (not skipped). */
  runs: number;
  passed: number;
  failed: number;
  errors: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Blocking findings over the window. */
  blocking: number;
}

export interface PipelineMetrics {
  window: Omit<PipelinePeriod, "period" | "partial" | "coverageChange"> & {
    /** Blocking security findings of the latest run that has a count. */
    latestSecurityFindings: number | null;
    latestCoverageLines: number | null;
  };
  periods: PipelinePeriod[];
  gates: GateStats[];
  /** Data-quality remarks. */
  notes: string[];
}

interface Timed {
  run: PipelineRunLike;
  endedMs: number;
  durationMs: number;
  security: number | undefined;
}

/** Blocking security findings of one run, when every security gate that ran could judge. */
export function securityFindingsOf(run: PipelineRunLike): number | undefined {
  const ran = run.gates.filter((g) => g.security === true && g.status !== "skipped");
  if (ran.length === 0 || ran.some((g) => g.blocking === undefined)) return undefined;
  return ran.reduce((sum, g) => sum + (g.blocking ?? 0), 0);
}

const iso = (ms: number) => new Date(ms).toISOString();
const round1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

function summarise(runs: readonly Timed[]) {
  const passed = runs.filter((t) => t.run.outcome === "passed").length;
  const durations = runs.map((t) => t.durationMs);
  const coverage = runs.flatMap((t) => (t.run.coverageLines === undefined ? [] : [t.run.coverageLines]));
  const security = runs.flatMap((t) => (t.security === undefined ? [] : [t.security]));
  return {
    runs: runs.length,
    passed,
    successRate: runs.length === 0 ? null : passed / runs.length,
    durationP50Ms: percentile(durations, 0.5),
    durationP95Ms: percentile(durations, 0.95),
    coverageLines: round1(percentile(coverage, 0.5)),
    securityFindings: percentile(security, 0.5),
  };
}

function gateStats(runs: readonly Timed[]): GateStats[] {
  const order: string[] = [];
  const byGate = new Map<string, { status: string; durationMs: number; blocking?: number }[]>();
  for (const { run } of runs) {
    for (const g of run.gates) {
      let list = byGate.get(g.name);
      if (list === undefined) {
        list = [];
        byGate.set(g.name, list);
        order.push(g.name);
      }
      if (g.status !== "skipped") list.push(g);
    }
  }
  return order.map((gate) => {
    const ran = byGate.get(gate) ?? [];
    const passed = ran.filter((g) => g.status === "passed").length;
    const durations = ran.map((g) => g.durationMs);
    return {
      gate,
      runs: ran.length,
      passed,
      failed: ran.filter((g) => g.status === "failed").length,
      errors: ran.filter((g) => g.status === "error").length,
      successRate: ran.length === 0 ? null : passed / ran.length,
      p50Ms: percentile(durations, 0.5),
      p95Ms: percentile(durations, 0.95),
      blocking: ran.reduce((sum, g) => sum + (g.blocking ?? 0), 0),
    };
  });
}

/** The pipeline metrics over [from, to) in the given buckets. */
export function pipelineMetrics(
  runs: readonly PipelineRunLike[],
  win: { from: number; to: number; buckets: readonly Bucket[] },
): PipelineMetrics {
  const notes: string[] = [];
  let unreadable = 0;
  const timed: Timed[] = [];
  for (const run of runs) {
    const startedMs = parseInstant(run.startedAt);
    const endedMs = parseInstant(run.endedAt);
    if (startedMs === undefined || endedMs === undefined || endedMs < startedMs) {
      unreadable += 1;
      continue;
    }
    if (endedMs < win.from || endedMs >= win.to) continue;
    timed.push({ run, endedMs, durationMs: endedMs - startedMs, security: securityFindingsOf(run) });
  }
  if (unreadable > 0) notes.push(`${unreadable} ci run${unreadable === 1 ? "" : "s"} with unreadable times left out`);
  timed.sort((a, b) => a.endedMs - b.endedMs || a.run.runId.localeCompare(b.run.runId));

  const perBucket: Timed[][] = win.buckets.map(() => []);
  for (const t of timed) perBucket[bucketIndex(win.buckets, t.endedMs) ?? -1]?.push(t);
  let previousCoverage: number | null = null;
  const periods = win.buckets.map((b, i): PipelinePeriod => {
    const s = summarise(perBucket[i] ?? []);
    const coverageChange = s.coverageLines === null || previousCoverage === null ? null : round1(s.coverageLines - previousCoverage);
    if (s.coverageLines !== null) previousCoverage = s.coverageLines;
    return { period: b.label, start: iso(b.start), end: iso(b.end), partial: b.partial, ...s, coverageChange };
  });
  const latest = <T>(pick: (t: Timed) => T | undefined): T | null => {
    for (let i = timed.length - 1; i >= 0; i--) {
      const v = pick(timed[i] as Timed);
      if (v !== undefined) return v;
    }
    return null;
  };
  const window = {
    start: iso(win.from),
    end: iso(win.to),
    ...summarise(timed),
    latestSecurityFindings: latest((t) => t.security),
    latestCoverageLines: latest((t) => t.run.coverageLines),
  };
  return { window, periods, gates: gateStats(timed), notes };
}
