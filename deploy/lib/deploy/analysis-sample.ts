/**
 * One sample of one metric: where the new revision's traffic is now (the context, read every
 * time), its value, whether it had enough traffic to count, the absolute condition, and the
 * canary-vs-baseline comparison. The run loop (analysis.ts) only tallies what comes out.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { RetryOptions } from "../aws/retry.js";
import { describeError, Problem } from "../../src/project/problem.js";
import { placeholdersOf, type Compare, type Condition, type Metric } from "./analysis-config.js";
import { placeholderValues, type AnalysisContext, type RevisionTraffic, type TrafficTargets } from "./analysis-context.js";
import { FatalProblem, fillPlaceholders, type QueryVars } from "./analysis-problem.js";
import { cloudwatchAlarmProvider } from "./cloudwatch-alarm.js";
import { cloudwatchMetricProvider } from "./cloudwatch.js";
import { queryPrometheus, singleNumber } from "./prometheus.js";

/** Insufficient: not enough traffic or no settled datapoint yet; neither a pass nor a failure. */
export type MeasurementPhase = "Successful" | "Failed" | "Error" | "Inconclusive" | "Insufficient";

/** One entry of the deploy timeline. */
export interface Measurement {
  metric: string;
  /** The value judged (the least favourable series); null for no data or an error. */
  value: number | null;
  /** The baseline's value where the canary was compared with one. */
  baseline?: number | null;
  /** Requests in the judged window, where the metric counts them (minRequests). */
  requests?: number;
  /** ISO 8601. */
  at: string;
  phase: MeasurementPhase;
  message?: string;
}

/** Values plus what the source said about them (CloudWatch's messages, an alarm's state reason). */
export interface Reading {
  values: number[];
  message?: string;
  /** Requests the judged window saw, when the provider counts them. */
  requests?: number;
  /** Set when the source cannot answer yet (CloudWatch's newest datapoints still arriving): the reason. */
  insufficient?: string;
}

/**
 * Returns every series' current value for the traffic `vars` name; an empty list means "no data".
 * Throws on errors; an error with `fatal: true` (a broken query, a missing permission or alarm:
 * no retry fixes it) fails the metric at once.
 */
export interface MetricProvider {
  measure(at: Date, signal: AbortSignal, vars?: QueryVars): Promise<number[] | Reading>;
}

export interface ProviderDeps {
  cloudwatch?: CloudWatchClient | ((region: string | undefined) => CloudWatchClient);
  retry?: Omit<RetryOptions, "sleep">;
}

export function prometheusProvider(cfg: {
  address: string;
  query: string;
  requestsQuery?: string | undefined;
  timeout: number;
}): MetricProvider {
  return {
    async measure(at, signal, vars = {}) {
      const opts = { time: at, timeoutMs: cfg.timeout, signal };
      const query = fillPlaceholders(cfg.query, vars, "promql");
      const samples = await queryPrometheus(cfg.address, query, opts);
      const values = samples.map((s) => s.value);
      if (cfg.requestsQuery === undefined) return values;
      const requestsQuery = fillPlaceholders(cfg.requestsQuery, vars, "promql");
      const requests = singleNumber(await queryPrometheus(cfg.address, requestsQuery, opts), requestsQuery);
      return requests === undefined ? { values } : { values, requests };
    },
  };
}

export function defaultProvider(metric: Metric, deps: ProviderDeps, sleep: (ms: number) => Promise<void>): MetricProvider {
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

/**
 * The canary against the baseline: worse means above `baseline × maxRatio + tolerance` when the
 * condition caps the value ("<", "<="), below `baseline / maxRatio − tolerance` when it floors it.
 */
export function compareWithBaseline(canary: number, baseline: number, cond: Condition, c: Compare): { worse: boolean; limit: number } {
  const capped = cond.op.startsWith("<");
  const limit = capped ? baseline * c.maxRatio + c.tolerance : baseline / c.maxRatio - c.tolerance;
  return { worse: capped ? canary > limit : canary < limit, limit };
}

export interface SampleCtx {
  signal: AbortSignal;
  context?: AnalysisContext;
}

export interface Sample {
  measurement: Measurement;
  fatal?: { cause: string; hint: string };
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined ? "no value" : String(Number(v.toPrecision(4))));
const asReading = (got: number[] | Reading): Reading => (Array.isArray(got) ? { values: got } : got);
const who = (t: RevisionTraffic) => t.revision ?? t.targetGroupArn?.split(":").pop() ?? "the new revision";

/** Whose traffic the metric's queries name; undefined when they name nobody (service-wide). */
async function trafficFor(metric: Metric, ctx: SampleCtx): Promise<TrafficTargets | undefined> {
  const uses = placeholdersOf(metric.provider);
  if (uses.length === 0) return undefined;
  if (ctx.context === undefined)
    throw new FatalProblem(
      `its queries use ${uses.map((u) => `{{${u}}}`).join(", ")}, but this deploy did not say which revision and target group are new`,
      "per-revision queries need the deploy's traffic context (ECS-native strategies and the stepped canary give it); use fixed values otherwise",
    );
  return ctx.context.targets(ctx.signal);
}

export async function measureOnce(metric: Metric, provider: MetricProvider, at: Date, ctx: SampleCtx): Promise<Sample> {
  const base = { metric: metric.name, at: at.toISOString() };
  try {
    const targets = await trafficFor(metric, ctx);
    const reading = asReading(await provider.measure(at, ctx.signal, targets ? placeholderValues(targets.canary) : {}));
    const counted = reading.requests === undefined ? {} : { requests: reading.requests };
    const note = reading.message === undefined ? {} : { message: reading.message };
    if (reading.insufficient !== undefined)
      return { measurement: { ...base, value: null, ...counted, phase: "Insufficient", message: reading.insufficient } };
    if (metric.minRequests !== undefined && (reading.requests ?? 0) < metric.minRequests) {
      const message = `not enough traffic: ${reading.requests ?? 0} requests < minRequests ${metric.minRequests}`;
      return { measurement: { ...base, value: null, ...counted, phase: "Insufficient", message } };
    }
    const { phase, value } = evaluate(reading.values, metric.successCondition);
    if (phase === "Inconclusive")
      return { measurement: { ...base, value, ...counted, phase, message: reading.message ?? "the query returned no data" } };
    if (metric.compare === undefined || value === null) return { measurement: { ...base, value, ...counted, phase, ...note } };
    if (targets?.baseline === undefined)
      return {
        measurement: { ...base, value, ...counted, phase, message: "no baseline serves next to the canary: absolute threshold only" },
      };
    const b = asReading(await provider.measure(at, ctx.signal, placeholderValues(targets.baseline)));
    const bv = evaluate(b.values, metric.successCondition).value;
    const thin = metric.minRequests !== undefined && (b.requests ?? 0) < metric.minRequests;
    if (bv === null || b.insufficient !== undefined || thin) {
      const why = b.insufficient ?? (thin ? `${b.requests ?? 0} requests` : "no data");
      return {
        measurement: {
          ...base,
          value,
          baseline: null,
          ...counted,
          phase,
          message: `baseline not comparable (${why}): absolute threshold only`,
        },
      };
    }
    const { worse, limit } = compareWithBaseline(value, bv, metric.successCondition, metric.compare);
    const vs = `canary ${who(targets.canary)} ${fmt(value)} vs baseline ${who(targets.baseline)} ${fmt(bv)}`;
    if (worse)
      return { measurement: { ...base, value, baseline: bv, ...counted, phase: "Failed", message: `${vs}: worse than ${fmt(limit)}` } };
    return { measurement: { ...base, value, baseline: bv, ...counted, phase, message: vs } };
  } catch (e) {
    const said = describeError(e);
    const measurement: Measurement = { ...base, value: null, phase: "Error", message: said.cause };
    const fatal = typeof e === "object" && e !== null && (e as { fatal?: unknown }).fatal === true;
    return fatal ? { measurement, fatal: said } : { measurement };
  }
}
