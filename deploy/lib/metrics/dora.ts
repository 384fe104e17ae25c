/**
 * The four DORA delivery metrics from the audit trail, per environment and per calendar bucket.
 * Pure: records and `now` in, numbers out.
 *
 * Definitions (after DORA's: dora.dev "DORA's software delivery metrics", the Four Keys project's
 * METRICS.md, and the State of DevOps reports; bands and their thresholds are in bands.ts):
 *
 * - Deployment: a resolved `deploy` or `promote` run (records.ts says when a run is resolved).
 *   `rollback` and `abort` runs are remediation, not changes: they never count as deployments,
 *   they mark the deploy before them as failed and they restore service.
 * - Deployment frequency: successful deployments (outcome succeeded, even if later rolled back:
 *   the change did reach the environment) per bucket, by the time the run ended. Its band uses
 *   successful deployments per day over the whole window.
 * - Lead time for changes: deploy end minus commit time, for successful deployments. DORA's
 *   "time for a commit to get into production": a commit counts once, at its first successful
 *   deployment to the environment (a redeploy of the same commit is not a new change). The trail
 *   holds the deployed head commit, not every commit in the batch, so this is the head commit's
 *   lead time. Negative values (clock skew) are left out and noted. Median and p90.
 * - Change failure rate: change failures ÷ deployments in the bucket. A deployment is a change
 *   failure when it failed, was rolled back, or succeeded but the next run in its environment
 *   remediated it: a rollback or abort run, or a deploy whose commit subject matches `fixPattern`
 *   (default: revert or hotfix). Attributed to the failing deployment's bucket.
 * - Time to restore (DORA 2023+: failed deployment recovery time): from the failure start to the
 *   restore. A failure starts when the failing deploy started (failed, rolled back), or ended (it
 *   succeeded and was remediated later: that is when it was fully live). It is restored when the
 *   run's own rollback finished (rolled back), else when the next successful run of any kind in
 *   that environment ended. A failure that starts while an earlier one is unrestored joins it:
 *   one outage, one restore time. Attributed to the bucket the failure started in, so a restore
 *   spanning buckets counts once; unrestored failures are listed as open, not averaged. Median.
 * - Window and buckets: a run belongs to [from, to) by its end time (failures by their start);
 *   remediation and restores are looked up across the whole trail, so a deploy near `to` is still
 *   judged by what came after it. The first and last buckets may be partial (flagged).
 */
import { bandOf, type Band, type MetricName } from "./bands.js";
import type { Bucket, Period } from "./periods.js";
import { pipelineMetrics, type PipelineMetrics, type PipelineRunLike } from "./pipeline.js";
import { bucketIndex, DAY_MS } from "./periods.js";
import { resolveWindow, type MetricsQueryInput } from "./query.js";
import { resolveRuns, type DeliveryRecord, type Run, type UnresolvedRun } from "./records.js";
import { median, percentile } from "./stats.js";

export const DEFAULT_FIX_PATTERN = /\b(?:revert|hotfix)\b/i;

export interface DurationStats {
  samples: number;
  medianMs: number | null;
  p90Ms: number | null;
}

export interface PeriodMetrics {
  /** 2026-11-20, 2026-W47 or 2026-11. */
  period: string;
  start: string;
  end: string;
  partial: boolean;
  deploys: number;
  successful: number;
  changeFailures: number;
  changeFailureRate: number | null;
  leadTime: DurationStats;
  timeToRestore: DurationStats;
}

export interface WindowMetrics extends Omit<PeriodMetrics, "period" | "partial"> {
  successfulPerDay: number;
  /** Failures that started in the window and have not been restored. */
  openFailures: number;
}

export interface ChangeFailure {
  runId: string;
  version?: string;
  /** When the failing deployment ended. */
  endedAt: string;
  why: string;
  failureStartedAt: string;
  restoredAt?: string;
}

export interface EnvironmentMetrics {
  environment: string;
  periods: PeriodMetrics[];
  window: WindowMetrics;
  bands: Record<MetricName, Band>;
  changeFailures: ChangeFailure[];
}

export interface DeliveryMetrics {
  period: Period;
  from: string;
  to: string;
  generatedAt: string;
  environments: EnvironmentMetrics[];
  /** Runs in the window (by start) that could not be counted, with why. */
  unresolved: UnresolvedRun[];
  /** Data-quality remarks a reader needs to trust the numbers. */
  notes: string[];
  /** ci runs over the same window (pipeline.ts); absent when the trail holds none. Not per environment: ci has none. */
  pipeline?: PipelineMetrics;
}

export interface DeliveryMetricsOptions extends MetricsQueryInput {
  now: number | Date;
  /** Commit subjects that mark a deploy as fixing the one before it; null turns the rule off. */
  fixPattern?: RegExp | null;
  /** ci runs from the trail (lib/trail/pipeline-record.ts); none or empty leaves `pipeline` out. */
  pipelineRuns?: readonly PipelineRunLike[];
}

const isDeploy = (r: Run) => r.kind === "deploy" || r.kind === "promote";
const iso = (ms: number) => new Date(ms).toISOString();

interface Judged {
  run: Run;
  why?: string;
  failureStart?: number;
  restoredAt?: number;
}

/** Why a deployment is a change failure, if it is one: its own outcome or what the next run did. */
function failureOf(deploy: Run, next: Run | undefined, fixPattern: RegExp | null): string | undefined {
  if (deploy.outcome === "failed") return "failed";
  if (deploy.outcome === "rolled back") return "rolled back";
  if (next === undefined) return undefined;
  if (next.kind === "rollback" || next.kind === "abort") return `followed by ${next.kind} ${next.runId}`;
  const subject = next.commitMessage?.split("\n")[0] ?? "";
  // search() ignores a /g pattern's lastIndex, so a caller's global regex cannot skip matches.
  if (isDeploy(next) && fixPattern !== null && subject.search(fixPattern) !== -1) return `fixed by ${next.runId}`;
  return undefined;
}

/** Every deployment in one environment, judged against the runs after it. */
function judge(envRuns: readonly Run[], fixPattern: RegExp | null): Judged[] {
  const byStart = [...envRuns].sort((a, b) => a.startedMs - b.startedMs || a.endedMs - b.endedMs);
  return byStart.flatMap((run, i): Judged[] => {
    if (!isDeploy(run)) return [];
    let first = i + 1;
    while (first < byStart.length && (byStart[first] as Run).startedMs <= run.startedMs) first += 1;
    const why = failureOf(run, byStart[first], fixPattern);
    if (why === undefined) return [{ run }];
    const failureStart = run.outcome === "succeeded" ? run.endedMs : run.startedMs;
    if (run.outcome === "rolled back") return [{ run, why, failureStart, restoredAt: run.endedMs }];
    let restoredAt: number | undefined;
    for (let j = first; j < byStart.length; j++) {
      const r = byStart[j] as Run;
      // Sorted by start and a run ends after it starts: nothing from here on can end sooner.
      if (restoredAt !== undefined && r.startedMs >= restoredAt) break;
      if (r.outcome === "succeeded" && r.endedMs >= failureStart && (restoredAt === undefined || r.endedMs < restoredAt))
        restoredAt = r.endedMs;
    }
    return [restoredAt === undefined ? { run, why, failureStart } : { run, why, failureStart, restoredAt }];
  });
}

interface Outage {
  start: number;
  restoredAt?: number;
}

/** Overlapping failures are one outage: it ends when the last of them is restored. */
function outages(judged: readonly Judged[]): Outage[] {
  const failures = judged
    .filter((j) => j.failureStart !== undefined)
    .sort((a, b) => (a.failureStart as number) - (b.failureStart as number));
  const merged: Outage[] = [];
  for (const f of failures) {
    const start = f.failureStart as number;
    const last = merged[merged.length - 1];
    if (last !== undefined && (last.restoredAt === undefined || start < last.restoredAt)) {
      last.restoredAt = last.restoredAt === undefined || f.restoredAt === undefined ? undefined : Math.max(last.restoredAt, f.restoredAt);
      continue;
    }
    merged.push(f.restoredAt === undefined ? { start } : { start, restoredAt: f.restoredAt });
  }
  return merged;
}

/** Lead time per commit: first successful deployment of each commit to the environment. */
function leadTimes(judged: readonly Judged[]): { at: number; ms: number }[] {
  const seen = new Set<string>();
  const out: { at: number; ms: number }[] = [];
  for (const { run } of [...judged].sort((a, b) => a.run.endedMs - b.run.endedMs)) {
    if (run.outcome !== "succeeded" || run.commitMs === undefined) continue;
    if (run.commitSha !== undefined) {
      if (seen.has(run.commitSha)) continue;
      seen.add(run.commitSha);
    }
    out.push({ at: run.endedMs, ms: run.endedMs - run.commitMs });
  }
  return out;
}

const durations = (values: readonly number[]): DurationStats => ({
  samples: values.length,
  medianMs: median(values),
  p90Ms: percentile(values, 0.9),
});

interface Tally {
  deploys: number;
  successful: number;
  changeFailures: number;
  lead: number[];
  restore: number[];
}

const emptyTally = (): Tally => ({ deploys: 0, successful: 0, changeFailures: 0, lead: [], restore: [] });

function summarise(t: Tally) {
  return {
    deploys: t.deploys,
    successful: t.successful,
    changeFailures: t.changeFailures,
    changeFailureRate: t.deploys === 0 ? null : t.changeFailures / t.deploys,
    leadTime: durations(t.lead),
    timeToRestore: durations(t.restore),
  };
}

interface EnvironmentResult {
  metrics: EnvironmentMetrics;
  negativeLeadTimes: number;
  withoutCommitTime: number;
}

function environmentMetrics(
  environment: string,
  envRuns: readonly Run[],
  win: { from: number; to: number; buckets: Bucket[] },
  fixPattern: RegExp | null,
): EnvironmentResult {
  const inWindow = (ms: number) => ms >= win.from && ms < win.to;
  const tallies = win.buckets.map(emptyTally);
  const total = emptyTally();
  const add = (ms: number, apply: (t: Tally) => void) => {
    if (!inWindow(ms)) return;
    apply(total);
    const i = bucketIndex(win.buckets, ms);
    if (i !== undefined) apply(tallies[i] as Tally);
  };

  const judged = judge(envRuns, fixPattern);
  for (const { run, why } of judged) {
    add(run.endedMs, (t) => {
      t.deploys += 1;
      if (run.outcome === "succeeded") t.successful += 1;
      if (why !== undefined) t.changeFailures += 1;
    });
  }
  let negativeLeadTimes = 0;
  for (const sample of leadTimes(judged)) {
    if (sample.ms < 0) {
      if (inWindow(sample.at)) negativeLeadTimes += 1;
      continue;
    }
    add(sample.at, (t) => t.lead.push(sample.ms));
  }
  let openFailures = 0;
  for (const outage of outages(judged)) {
    if (outage.restoredAt === undefined) {
      if (inWindow(outage.start)) openFailures += 1;
      continue;
    }
    const ms = outage.restoredAt - outage.start;
    add(outage.start, (t) => t.restore.push(ms));
  }
  const withoutCommitTime = judged.filter(
    (j) => j.run.outcome === "succeeded" && j.run.commitMs === undefined && inWindow(j.run.endedMs),
  ).length;

  const days = (win.to - win.from) / DAY_MS;
  const window: WindowMetrics = {
    start: iso(win.from),
    end: iso(win.to),
    ...summarise(total),
    successfulPerDay: total.successful / days,
    openFailures,
  };
  const periods = win.buckets.map((b, i) => ({
    period: b.label,
    start: iso(b.start),
    end: iso(b.end),
    partial: b.partial,
    ...summarise(tallies[i] as Tally),
  }));
  const changeFailures = judged
    .filter((j) => j.why !== undefined && inWindow(j.run.endedMs))
    .sort((a, b) => a.run.endedMs - b.run.endedMs)
    .map(({ run, why, failureStart, restoredAt }): ChangeFailure => ({
      runId: run.runId,
      ...(run.version === undefined ? {} : { version: run.version }),
      endedAt: iso(run.endedMs),
      why: why as string,
      failureStartedAt: iso(failureStart as number),
      ...(restoredAt === undefined ? {} : { restoredAt: iso(restoredAt) }),
    }));
  const bands: Record<MetricName, Band> = {
    deploymentFrequency: bandOf("deploymentFrequency", window.successfulPerDay),
    leadTime: bandOf("leadTime", window.leadTime.medianMs),
    changeFailureRate: bandOf("changeFailureRate", window.changeFailureRate),
    timeToRestore: bandOf("timeToRestore", window.timeToRestore.medianMs),
  };
  return { metrics: { environment, periods, window, bands, changeFailures }, negativeLeadTimes, withoutCommitTime };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The metrics for every environment in the trail (or the one asked for) over the window. */
export function deliveryMetrics(records: readonly DeliveryRecord[], options: DeliveryMetricsOptions): DeliveryMetrics {
  const now = typeof options.now === "number" ? options.now : options.now.getTime();
  const { now: _now, fixPattern = DEFAULT_FIX_PATTERN, pipelineRuns = [], ...query } = options;
  const win = resolveWindow(query, now);
  const { runs, unresolved } = resolveRuns(records);
  const known = [...new Set([...runs.map((r) => r.environment), ...unresolved.map((u) => u.environment)])].sort();
  const names = win.environment === undefined ? known : [win.environment];
  const notes: string[] = [];
  if (win.environment !== undefined && !known.includes(win.environment)) {
    notes.push(
      `no runs recorded for ${JSON.stringify(win.environment)}; the trail has ${known.length === 0 ? "no runs at all" : known.join(", ")}`,
    );
  }

  const environments = names.map((name) => {
    const result = environmentMetrics(
      name,
      runs.filter((r) => r.environment === name),
      win,
      fixPattern,
    );
    if (result.withoutCommitTime > 0) {
      notes.push(`${name}: ${plural(result.withoutCommitTime, "successful deploy")} without a commit time, left out of lead time`);
    }
    if (result.negativeLeadTimes > 0) {
      notes.push(
        `${name}: ${plural(result.negativeLeadTimes, "commit")} dated after its deploy ended (clock skew?), left out of lead time`,
      );
    }
    return result.metrics;
  });

  const listed = unresolved.filter((u) => {
    const started = u.startedAt === undefined ? undefined : Date.parse(u.startedAt);
    const inWindow = started === undefined || Number.isNaN(started) || (started >= win.from && started < win.to);
    return names.includes(u.environment) && inWindow;
  });
  if (listed.length > 0) notes.push(`${plural(listed.length, "run")} not counted: no outcome yet or unreadable (listed as unresolved)`);
  const corrected = runs.filter((r) => r.corrected && names.includes(r.environment) && r.endedMs >= win.from && r.endedMs < win.to).length;
  if (corrected > 0) notes.push(`${plural(corrected, "run")} counted as corrected`);

  const pipeline = pipelineRuns.length === 0 ? undefined : pipelineMetrics(pipelineRuns, win);
  if (pipeline) notes.push(...pipeline.notes.map((n) => `pipeline: ${n}`));
  return {
    period: win.period,
    from: iso(win.from),
    to: iso(win.to),
    generatedAt: iso(now),
    environments,
    unresolved: listed,
    notes,
    ...(pipeline ? { pipeline } : {}),
  };
}
