/**
 * Metric analysis with Argo Rollouts' semantics: measurements are Successful, Failed, Error or
 * Inconclusive; a metric fails once its failed measurements exceed failureLimit or its
 * consecutive errors exceed consecutiveErrorLimit, and is inconclusive (a human decides) once its
 * inconclusive ones exceed inconclusiveLimit. Unlike Argo, a metric that never had a single
 * Successful measurement is Inconclusive, never Successful: no data must not promote a deploy.
 * The first failing metric stops the others, so the deploy can roll back at once.
 *
 * Beyond Argo: a sample below `minRequests` (or whose CloudWatch datapoints are still arriving) is
 * Insufficient, neither a pass nor a failure nor "no data"; a metric ending with fewer than
 * `minSamples` passes is Inconclusive. With `for`, a failure is a breach on every sample for that
 * long (Prometheus alerting's `for`), not one bad sample; failureLimit then counts such breaches.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { RetryOptions } from "../aws/retry.js";
import { parseAnalysisConfig, type AnalysisConfigInput, type Metric } from "./analysis-config.js";
import type { AnalysisContext } from "./analysis-context.js";
import { defaultProvider, measureOnce, type Measurement, type MetricProvider } from "./analysis-sample.js";

export {
  compareWithBaseline,
  evaluate,
  prometheusProvider,
  type Measurement,
  type MeasurementPhase,
  type MetricProvider,
  type Reading,
} from "./analysis-sample.js";
export type { AnalysisContext } from "./analysis-context.js";

export type AnalysisPhase = "Successful" | "Failed" | "Inconclusive";

export interface MetricOutcome {
  metric: string;
  phase: AnalysisPhase;
  measurements: number;
  successful: number;
  /** Failed samples, whether or not they lasted `for`. */
  failed: number;
  /** Samples without enough traffic (minRequests) or without a settled datapoint yet. */
  insufficient: number;
  inconclusive: number;
  errors: number;
  cause: string;
  /** Set when the metric failed on a fatal error, which knows its own fix. */
  hint?: string;
}

export interface AnalysisResult {
  phase: AnalysisPhase;
  cause: string;
  hint: string;
  metrics: MetricOutcome[];
  measurements: Measurement[];
}

export interface AnalysisDeps {
  now?: () => number;
  /** Resolves early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Where values come from; defaults to the configured provider (prometheus, cloudwatch, cloudwatchAlarm). */
  providerFor?: (metric: Metric) => MetricProvider;
  /**
   * CloudWatch, for cloudwatch and cloudwatchAlarm metrics: a client (region and credentials set),
   * or a factory given the metric's own `region` (undefined: the environment's).
   */
  cloudwatch?: CloudWatchClient | ((region: string | undefined) => CloudWatchClient);
  /** Retries of throttled CloudWatch calls; their sleep defaults to the analysis' sleep. */
  retry?: Omit<RetryOptions, "sleep">;
  /** Whose traffic is the new revision's, read before every sample of a per-revision query. */
  context?: AnalysisContext;
  onMeasurement?: (m: Measurement) => void;
  signal?: AbortSignal;
}

/** The global timer, like the deploy core's clock; resolves early (never rejects) when aborted. */
const sleepUnlessAborted = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** Runs every metric `count` times; resolves as soon as the outcome is known. */
export function runAnalysis(config: AnalysisConfigInput, deps: AnalysisDeps = {}): Promise<AnalysisResult> {
  return run(config, deps, false);
}

/** The post-deploy watch: each metric is measured across `watchWindow` (at its interval) with the same limits. */
export function watchAfterDeploy(config: AnalysisConfigInput, deps: AnalysisDeps = {}): Promise<AnalysisResult> {
  return run(config, deps, true);
}

async function run(input: AnalysisConfigInput, deps: AnalysisDeps, watch: boolean): Promise<AnalysisResult> {
  const config = parseAnalysisConfig(input);
  const stop = new AbortController();
  const signal = deps.signal === undefined ? stop.signal : AbortSignal.any([deps.signal, stop.signal]);
  const measurements: Measurement[] = [];
  const ctx: Ctx = {
    now: deps.now ?? Date.now,
    sleep: deps.sleep ?? sleepUnlessAborted,
    signal,
    ...(deps.context ? { context: deps.context } : {}),
    record: (m) => {
      measurements.push(m);
      deps.onMeasurement?.(m);
    },
  };
  const decided: MetricOutcome[] = []; // in the order outcomes were reached
  const outcomes = await Promise.all(
    config.metrics.map(async (metric) => {
      const count = watch ? Math.floor(config.watchWindow / Math.max(1, metric.interval)) + 1 : metric.count;
      const provider = deps.providerFor?.(metric) ?? defaultProvider(metric, deps, (ms) => ctx.sleep(ms, signal));
      const outcome = await runMetric({ ...metric, count }, provider, ctx);
      decided.push(outcome);
      if (outcome.phase === "Failed") stop.abort();
      return outcome;
    }),
  );
  const failed = decided.find((o) => o.phase === "Failed");
  const inconclusive = decided.find((o) => o.phase === "Inconclusive");
  if (failed !== undefined)
    return { phase: "Failed", cause: failed.cause, hint: failed.hint ?? failHint(failed), metrics: outcomes, measurements };
  if (deps.signal?.aborted) return { phase: "Inconclusive", cause: "analysis cancelled", hint: "", metrics: outcomes, measurements };
  if (inconclusive !== undefined)
    return { phase: "Inconclusive", cause: inconclusive.cause, hint: NO_DATA_HINT, metrics: outcomes, measurements };
  const cause = outcomes.map((o) => o.cause).join("; ");
  return { phase: "Successful", cause, hint: "", metrics: outcomes, measurements };
}

interface Ctx {
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  signal: AbortSignal;
  context?: AnalysisContext;
  record: (m: Measurement) => void;
}

/**
 * Failed samples in a row that make one failure: the breach must have lasted `for`, as in a
 * Prometheus alerting rule (samples at t, t+interval, ... t+for all failing). 1 without `for`.
 */
export const samplesFor = (m: Pick<Metric, "for" | "interval">): number =>
  m.for === undefined ? 1 : Math.floor(m.for / Math.max(1, m.interval)) + 1;

async function runMetric(metric: Metric, provider: MetricProvider, ctx: Ctx): Promise<MetricOutcome> {
  const tally = { metric: metric.name, measurements: 0, successful: 0, failed: 0, insufficient: 0, inconclusive: 0, errors: 0 };
  const outcome = (phase: AnalysisPhase, cause: string): MetricOutcome => ({ ...tally, phase, cause: `${metric.name}: ${cause}` });
  const needed = samplesFor(metric);
  let consecutiveErrors = 0;
  let streak = 0; // failed samples in a row; an error neither extends nor breaks it
  let breaches = 0; // samples at which the breach had lasted `for`: what failureLimit counts
  // Fixed-rate schedule: a slow query does not push every later measurement back.
  const start = ctx.now() + metric.initialDelay;
  for (let i = 0; i < metric.count; i++) {
    await ctx.sleep(Math.max(0, start + i * metric.interval - ctx.now()), ctx.signal);
    if (ctx.signal.aborted) break;
    const { measurement: m, fatal } = await measureOnce(metric, provider, new Date(ctx.now()), ctx);
    ctx.record(m);
    tally.measurements++;
    if (m.phase === "Error") {
      tally.errors++;
      consecutiveErrors++;
    } else {
      consecutiveErrors = 0;
      // Anything but a failed sample ends a breach: not enough traffic is no evidence that it lasted.
      streak = m.phase === "Failed" ? streak + 1 : 0;
      if (m.phase === "Successful") tally.successful++;
      else if (m.phase === "Failed") tally.failed++;
      else if (m.phase === "Insufficient") tally.insufficient++;
      else tally.inconclusive++;
      if (streak >= needed) breaches++;
    }
    if (fatal !== undefined) return { ...outcome("Failed", fatal.cause), hint: fatal.hint };
    if (m.phase === "Failed" && streak >= needed && metric.failureLimit >= 0 && breaches > metric.failureLimit) {
      const lasted = needed > 1 ? ` on ${streak} samples in a row (for ${minutes(metric.for ?? 0)})` : "";
      const count = needed > 1 ? `${breaches} breach(es)` : `${tally.failed} failed measurement(s)`;
      return outcome(
        "Failed",
        `measured ${fmt(m.value)} (needs ${needs(metric)})${lasted}, ${count} > failureLimit ${metric.failureLimit}` +
          (m.message === undefined ? "" : `: ${m.message}`),
      );
    }
    if (consecutiveErrors > metric.consecutiveErrorLimit)
      return outcome(
        "Failed",
        `${consecutiveErrors} consecutive errors > consecutiveErrorLimit ${metric.consecutiveErrorLimit}: ${m.message ?? ""}`,
      );
    if (tally.inconclusive > metric.inconclusiveLimit)
      return outcome(
        "Inconclusive",
        `${m.message ?? "no data"}; ${tally.inconclusive} inconclusive > inconclusiveLimit ${metric.inconclusiveLimit}`,
      );
  }
  const stopped = ctx.signal.aborted ? ` (stopped after ${tally.measurements})` : "";
  if (tally.successful === 0 && tally.insufficient > 0 && !ctx.signal.aborted)
    return outcome("Inconclusive", `not enough traffic to judge: ${tally.insufficient} of ${tally.measurements} samples too thin`);
  if (tally.successful === 0) return outcome("Inconclusive", `no successful measurement${stopped}`);
  if (tally.successful < metric.minSamples && !ctx.signal.aborted)
    return outcome(
      "Inconclusive",
      `only ${tally.successful} of ${tally.measurements} samples could be judged and passed (minSamples ${metric.minSamples}` +
        `${tally.insufficient > 0 ? `; ${tally.insufficient} without enough traffic` : ""})`,
    );
  return outcome("Successful", `${tally.successful} of ${tally.measurements} measurements passed (needs ${needs(metric)})${stopped}`);
}

const fmt = (v: number | null) => (v === null ? "no value" : String(Number(v.toPrecision(4))));
const needs = (m: Metric) => `${m.successCondition.op} ${m.successCondition.threshold}`;
const minutes = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

function failHint(o: MetricOutcome): string {
  if (o.failed > 0) return "the new revision breaches this metric: roll back, then compare the measurements in the deploy timeline";
  return "the analysis could not measure: check the provider's address and query; a deploy it cannot judge is rolled back";
}

const NO_DATA_HINT =
  "no data usually means the query's metric, label or dimension names differ from the service's (see DEFAULT_QUERIES' " +
  "assumptions; for CloudWatch, the TargetGroup and LoadBalancer dimension values) " +
  "or the service had too little traffic (minRequests); it never promotes: promote or abort by hand (analysis.onInconclusive)";
