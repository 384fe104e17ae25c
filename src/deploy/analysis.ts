/**
 * Metric analysis with Argo Rollouts' semantics: measurements are Successful, Failed, Error or
 * Inconclusive; a metric fails once its failed measurements exceed failureLimit or its
 * consecutive errors exceed consecutiveErrorLimit, and is inconclusive (a human decides) once its
 * inconclusive ones exceed inconclusiveLimit. Unlike Argo, a metric that never had a single
 * Successful measurement is Inconclusive, never Successful: no data must not promote a deploy.
 * The first failing metric stops the others, so the deploy can roll back at once.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { RetryOptions } from "../aws/retry.js";
import { describeError, Problem } from "../project/problem.js";
import { parseAnalysisConfig, type AnalysisConfigInput, type Condition, type Metric } from "./analysis-config.js";
import { cloudwatchAlarmProvider, cloudwatchMetricProvider } from "./cloudwatch.js";
import { queryPrometheus } from "./prometheus.js";

export type MeasurementPhase = "Successful" | "Failed" | "Error" | "Inconclusive";
export type AnalysisPhase = "Successful" | "Failed" | "Inconclusive";

/** One entry of the deploy timeline. */
export interface Measurement {
  metric: string;
  /** The value judged (the least favourable series); null for no data or an error. */
  value: number | null;
  /** ISO 8601. */
  at: string;
  phase: MeasurementPhase;
  message?: string;
}

/** Values plus what the source said about them (CloudWatch's messages, an alarm's state reason). */
export interface Reading {
  values: number[];
  message?: string;
}

/**
 * Returns every series' current value; an empty list means "no data". Throws on errors; an error
 * with `fatal: true` (a missing permission or alarm: no retry fixes it) fails the metric at once.
 */
export interface MetricProvider {
  measure(at: Date, signal: AbortSignal): Promise<number[] | Reading>;
}

export interface MetricOutcome {
  metric: string;
  phase: AnalysisPhase;
  measurements: number;
  successful: number;
  failed: number;
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
  onMeasurement?: (m: Measurement) => void;
  signal?: AbortSignal;
}

export function prometheusProvider(cfg: { address: string; query: string; timeout: number }): MetricProvider {
  return {
    async measure(at, signal) {
      const samples = await queryPrometheus(cfg.address, cfg.query, { time: at, timeoutMs: cfg.timeout, signal });
      return samples.map((s) => s.value);
    },
  };
}

function defaultProvider(metric: Metric, deps: AnalysisDeps, sleep: (ms: number) => Promise<void>): MetricProvider {
  const p = metric.provider;
  if ("prometheus" in p) return prometheusProvider(p.prometheus);
  const region = "cloudwatch" in p ? p.cloudwatch.region : p.cloudwatchAlarm.region;
  const source = deps.cloudwatch;
  if (source === undefined)
    throw new Problem(
      `metric ${metric.name} reads CloudWatch, but no CloudWatch client was given`,
      "pass AnalysisDeps.cloudwatch (a CloudWatchClient with the deploy's region and credentials)",
    );
  const client = typeof source === "function" ? source(region) : source;
  const opts = { retry: { ...deps.retry, sleep } };
  return "cloudwatch" in p
    ? cloudwatchMetricProvider(client, p.cloudwatch, opts)
    : cloudwatchAlarmProvider(client, p.cloudwatchAlarm, opts);
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

/** Judges values against the condition. NaN (e.g. 0/0 with no traffic) counts as no data. */
export function evaluate(values: readonly number[], cond: Condition): { phase: MeasurementPhase; value: number | null } {
  const real = values.filter((v) => !Number.isNaN(v));
  if (real.length === 0) return { phase: "Inconclusive", value: null };
  // Several series (say, one per task): judge the worst, so one bad task cannot hide behind good ones.
  const value = cond.op.startsWith("<") ? Math.max(...real) : Math.min(...real);
  const ok = { "<": value < cond.threshold, "<=": value <= cond.threshold, ">": value > cond.threshold, ">=": value >= cond.threshold }[
    cond.op
  ];
  return { phase: ok ? "Successful" : "Failed", value };
}

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
  record: (m: Measurement) => void;
}

async function runMetric(metric: Metric, provider: MetricProvider, ctx: Ctx): Promise<MetricOutcome> {
  const tally = { metric: metric.name, measurements: 0, successful: 0, failed: 0, inconclusive: 0, errors: 0 };
  const outcome = (phase: AnalysisPhase, cause: string): MetricOutcome => ({ ...tally, phase, cause: `${metric.name}: ${cause}` });
  let consecutiveErrors = 0;
  // Fixed-rate schedule: a slow query does not push every later measurement back.
  const start = ctx.now() + metric.initialDelay;
  for (let i = 0; i < metric.count; i++) {
    await ctx.sleep(Math.max(0, start + i * metric.interval - ctx.now()), ctx.signal);
    if (ctx.signal.aborted) break;
    const { measurement: m, fatal } = await measureOnce(metric, provider, ctx);
    ctx.record(m);
    tally.measurements++;
    if (m.phase === "Error") {
      tally.errors++;
      consecutiveErrors++;
    } else {
      consecutiveErrors = 0;
      if (m.phase === "Successful") tally.successful++;
      else if (m.phase === "Failed") tally.failed++;
      else tally.inconclusive++;
    }
    if (fatal !== undefined) return { ...outcome("Failed", fatal.cause), hint: fatal.hint };
    if (metric.failureLimit >= 0 && tally.failed > metric.failureLimit)
      return outcome(
        "Failed",
        `measured ${fmt(m.value)} (needs ${needs(metric)}), ${tally.failed} failed measurement(s) > failureLimit ${metric.failureLimit}` +
          (m.message === undefined ? "" : `: ${m.message}`),
      );
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
  if (tally.successful === 0) return outcome("Inconclusive", `no successful measurement${stopped}`);
  return outcome("Successful", `${tally.successful} of ${tally.measurements} measurements passed (needs ${needs(metric)})${stopped}`);
}

async function measureOnce(
  metric: Metric,
  provider: MetricProvider,
  ctx: Ctx,
): Promise<{ measurement: Measurement; fatal?: { cause: string; hint: string } }> {
  const at = new Date(ctx.now());
  const base = { metric: metric.name, at: at.toISOString() };
  try {
    const got = await provider.measure(at, ctx.signal);
    const reading = Array.isArray(got) ? { values: got } : got;
    const { phase, value } = evaluate(reading.values, metric.successCondition);
    if (phase === "Inconclusive")
      return { measurement: { ...base, value, phase, message: reading.message ?? "the query returned no data" } };
    return { measurement: { ...base, value, phase, ...(reading.message === undefined ? {} : { message: reading.message }) } };
  } catch (e) {
    const said = describeError(e);
    const measurement: Measurement = { ...base, value: null, phase: "Error", message: said.cause };
    const fatal = typeof e === "object" && e !== null && (e as { fatal?: unknown }).fatal === true;
    return fatal ? { measurement, fatal: said } : { measurement };
  }
}

const fmt = (v: number | null) => (v === null ? "no value" : String(Number(v.toPrecision(4))));
const needs = (m: Metric) => `${m.successCondition.op} ${m.successCondition.threshold}`;

function failHint(o: MetricOutcome): string {
  if (o.failed > 0) return "the new revision breaches this metric: roll back, then compare the measurements in the deploy timeline";
  return "the analysis could not measure: check the provider's address and query; a deploy it cannot judge is rolled back";
}

const NO_DATA_HINT =
  "no data usually means the query's metric, label or dimension names differ from the service's (see DEFAULT_QUERIES' " +
  "assumptions; for CloudWatch, the TargetGroup and LoadBalancer dimension values) " +
  "or the service had no traffic; promote or abort by hand";
