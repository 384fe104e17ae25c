/**
 * CloudWatch GetMetricData as an analysis provider: each judged series' newest SETTLED datapoint
 * is the measured value. CloudWatch delivers ALB metrics 1-3 minutes late and a period's
 * datapoint grows while its samples arrive, so a period younger than `ingestionDelay` (plus its
 * own length) may be partial or missing and is not judged: with only such points the sample is
 * Insufficient ("not yet"), never a pass and never "broken".
 *
 * Dimension values may name the new revision's traffic ({{targetGroup}}), filled at every sample
 * from the deploy's context, because ECS-native blue/green swaps target groups on every deploy.
 *
 * GetMetricData reports no error for a metric that does not exist: it simply has no datapoints
 * (CloudWatch User Guide, "Metrics concepts": a metric is identified by namespace, name and its
 * exact dimension set). So when a judged series has none at all, ListMetrics (which lists the
 * metrics with datapoints in the past two weeks; API reference, ListMetrics) is asked once
 * whether the metric name and its dimension NAMES exist: a misspelt name or dimension is a
 * configuration error at once, not a deploy paused for lack of data. Counts that are published
 * only when non-zero (HTTPCode_Target_5XX_Count, used inside FILL()) are not required to exist.
 */
import {
  GetMetricDataCommand,
  ListMetricsCommand,
  type CloudWatchClient,
  type MessageData,
  type MetricDataQuery,
  type MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import type { z } from "zod";
import { Problem } from "../../src/project/problem.js";
import type { CloudWatchProviderSchema } from "./analysis-config.js";
import { FatalProblem, fillPlaceholders, type QueryVars } from "./analysis-problem.js";
import type { MetricProvider, Reading } from "./analysis-sample.js";
import { call, type CloudWatchCallOptions } from "./cloudwatch-call.js";

export { FatalProblem } from "./analysis-problem.js";
export { cloudwatchAlarmProvider, type CloudWatchAlarmConfig } from "./cloudwatch-alarm.js";
export type { CloudWatchCallOptions } from "./cloudwatch-call.js";

export type CloudWatchMetricConfig = z.output<typeof CloudWatchProviderSchema>;

// One page is the norm: the window is minutes long and ScanBy puts the newest points first.
const MAX_PAGES = 5;
// ListMetrics answers 500 metrics a page; a name with more dimension combinations than this is not refused.
const LIST_PAGES = 3;

/**
 * Our lower-case config keys to GetMetricData's; every query's ReturnData is explicit, the
 * requests query returns data (GetMetricData returns only ReturnData queries), and dimension
 * values get this sample's placeholders.
 */
export function toMetricDataQueries(
  cfg: Pick<CloudWatchMetricConfig, "metricDataQueries"> & { requests?: string | undefined },
  vars: QueryVars = {},
): MetricDataQuery[] {
  return cfg.metricDataQueries.map((q) => ({
    Id: q.id,
    ReturnData: q.id === cfg.requests ? true : (q.returnData ?? true),
    ...(q.expression !== undefined ? { Expression: q.expression } : {}),
    ...(q.metricStat !== undefined
      ? {
          MetricStat: {
            Metric: {
              Namespace: q.metricStat.metric.namespace,
              MetricName: q.metricStat.metric.metricName,
              Dimensions: q.metricStat.metric.dimensions.map((d) => ({ Name: d.name, Value: fillPlaceholders(d.value, vars, "raw") })),
            },
            Period: q.metricStat.period,
            Stat: q.metricStat.stat,
            ...(q.metricStat.unit !== undefined ? { Unit: q.metricStat.unit } : {}),
          },
        }
      : {}),
  }));
}

const say = (messages: readonly MessageData[] | undefined) =>
  (messages ?? []).map((m) => `${m.Code ?? "?"}: ${m.Value ?? ""}`.slice(0, 200)).join("; ");

const minutes = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

/** Pages merged per query id: later pages continue the same series. */
function merge(into: Map<string, MetricDataResult>, results: readonly MetricDataResult[]): void {
  for (const r of results) {
    const id = r.Id ?? "";
    const seen = into.get(id);
    if (!seen) {
      into.set(id, { ...r, Timestamps: [...(r.Timestamps ?? [])], Values: [...(r.Values ?? [])] });
      continue;
    }
    seen.Timestamps = [...(seen.Timestamps ?? []), ...(r.Timestamps ?? [])];
    seen.Values = [...(seen.Values ?? []), ...(r.Values ?? [])];
    seen.StatusCode = r.StatusCode;
    seen.Messages = [...(seen.Messages ?? []), ...(r.Messages ?? [])];
  }
}

/** Points of a result as (time, value), newest first. */
function points(r: MetricDataResult | undefined): { at: number; value: number }[] {
  const ts = r?.Timestamps ?? [];
  return (r?.Values ?? []).map((value, i) => ({ at: ts[i]?.getTime() ?? -Infinity, value })).sort((x, y) => y.at - x.at);
}

/** When a period counts as complete: its start + `horizonMs` (its length plus the ingestion delay) has passed `at`. */
export interface Settle {
  at: number;
  horizonMs: number;
  /** Id of the requests query: its value at the judged timestamp (none: 0, the ALB reports no requests as no datapoint). */
  requests?: string;
}

const clock = (t: number) => new Date(t).toISOString().slice(11, 16);

/**
 * Judges GetMetricData results: the newest (settled) value of each query that returns data. A
 * result that CloudWatch could not compute (InternalError) without values is an error, never a
 * pass; one refused cross-region (Forbidden) is fatal; no datapoints is no data, with
 * CloudWatch's messages; only unsettled ones is Insufficient.
 */
export function readResults(
  judged: readonly string[],
  results: ReadonlyMap<string, MetricDataResult>,
  globalMessages: readonly MessageData[],
  lookbackMs: number,
  settle?: Settle,
): Reading & { noData: string[] } {
  const values: number[] = [];
  const notes: string[] = [];
  const waiting: string[] = [];
  const noData: string[] = [];
  let judgedAt: number | undefined;
  if (globalMessages.length > 0) notes.push(say(globalMessages));
  for (const id of judged) {
    const r = results.get(id);
    const all = points(r);
    const ready = settle === undefined ? all : all.filter((p) => p.at + settle.horizonMs <= settle.at);
    const value = ready[0];
    const messages = say(r?.Messages);
    if (r?.StatusCode === "Forbidden")
      throw new FatalProblem(
        `CloudWatch refused the query ${id}: ${messages || "Forbidden"}`,
        "query the metric in its own region (cloudwatch.region)",
      );
    if (r?.StatusCode === "InternalError" && all.length === 0)
      throw new Problem(`CloudWatch could not compute ${id} (InternalError)${messages ? `: ${messages}` : ""}`, "usually transient; rerun");
    if (value === undefined && all.length > 0 && settle !== undefined)
      waiting.push(
        `${id} has datapoints only after ${clock(settle.at - settle.horizonMs)} (newest ${clock(all[0]?.at ?? 0)}), ` +
          "which CloudWatch may still be filling in: waiting for them to settle",
      );
    else if (value === undefined) {
      noData.push(id);
      notes.push(`no datapoints for ${id} in the last ${minutes(lookbackMs)}${messages ? ` (${messages})` : ""}`);
    } else {
      values.push(value.value);
      judgedAt ??= value.at;
      if (r?.StatusCode === "PartialData" || r?.StatusCode === "InternalError") notes.push(`${id}: ${r.StatusCode}`);
      if (messages) notes.push(`${id}: ${messages}`);
    }
  }
  const requestsId = settle?.requests;
  const requests =
    requestsId === undefined || judgedAt === undefined
      ? undefined
      : (points(results.get(requestsId)).find((p) => p.at === judgedAt)?.value ?? 0);
  const reading: Reading & { noData: string[] } = { values, noData, ...(requests === undefined ? {} : { requests }) };
  if (values.length === 0 && waiting.length > 0) reading.insufficient = waiting.join("; ");
  if (notes.length > 0) reading.message = notes.join("; ");
  return reading;
}

/** Ids used only as FILL(id, …) in expressions: counts the source publishes only when non-zero. */
function filledOnly(cfg: CloudWatchMetricConfig, id: string): boolean {
  const exprs = cfg.metricDataQueries.flatMap((q) => (q.expression === undefined ? [] : [q.expression]));
  const uses = exprs.flatMap((e) => [...e.matchAll(new RegExp(`\\b${id}\\b`, "g"))].map((m) => e.slice(0, m.index)));
  return uses.length > 0 && uses.every((before) => /FILL\(\s*$/.test(before));
}

/**
 * Asks ListMetrics whether each metricStat's name, and its exact set of dimension NAMES, exist:
 * the one check that tells a typo from a quiet service. Without the permission it stays silent.
 */
async function checkMetricsExist(
  client: CloudWatchClient,
  cfg: CloudWatchMetricConfig,
  opts: CloudWatchCallOptions,
  signal: AbortSignal,
): Promise<void> {
  for (const q of cfg.metricDataQueries) {
    const m = q.metricStat?.metric;
    if (!m) continue;
    const wanted = m.dimensions
      .map((d) => d.name)
      .sort()
      .join(",");
    const seen = new Set<string>();
    let token: string | undefined;
    let complete = false;
    try {
      for (let page = 0; page < LIST_PAGES; page++) {
        const out = await call(
          "ListMetrics",
          () =>
            client.send(
              new ListMetricsCommand({ Namespace: m.namespace, MetricName: m.metricName, ...(token ? { NextToken: token } : {}) }),
              { abortSignal: signal },
            ),
          opts.retry ?? {},
          signal,
        );
        for (const found of out.Metrics ?? [])
          seen.add(
            (found.Dimensions ?? [])
              .map((d) => d.Name ?? "")
              .sort()
              .join(","),
          );
        token = out.NextToken;
        if (seen.has(wanted)) return;
        if (token === undefined) {
          complete = true;
          break;
        }
      }
    } catch (e) {
      if (e instanceof FatalProblem && /lacks cloudwatch:ListMetrics/.test(e.cause_)) return; // optional check
      throw e;
    }
    if (!complete || seen.has(wanted)) continue;
    const names = `{${m.dimensions.map((d) => d.name).join(", ")}}`;
    if (seen.size === 0 && !filledOnly(cfg, q.id))
      throw new FatalProblem(
        `query ${q.id}: CloudWatch has no metric ${m.namespace} ${m.metricName} (none with datapoints in the past two weeks)`,
        "check metricStat.metric.namespace and metricName (case-sensitive) against the CloudWatch console",
      );
    if (seen.size > 0)
      throw new FatalProblem(
        `query ${q.id}: no ${m.namespace} ${m.metricName} has the dimensions ${names}; it has ${[...seen].map((s) => `{${s.replaceAll(",", ", ")}}`).join(" or ")}`,
        "dimension names are case-sensitive and CloudWatch matches the exact set: fix metricStat.metric.dimensions",
      );
  }
}

/** GetMetricData over the window ending at the measurement time; newest points first. */
export function cloudwatchMetricProvider(
  client: CloudWatchClient,
  cfg: CloudWatchMetricConfig,
  opts: CloudWatchCallOptions = {},
): MetricProvider {
  const periodMs = Math.max(0, ...cfg.metricDataQueries.map((q) => (q.metricStat?.period ?? 0) * 1000)) || 60_000;
  let checked = false;
  return {
    async measure(at, signal, vars = {}) {
      const queries = toMetricDataQueries(cfg, vars);
      const judged = queries.filter((q) => q.ReturnData !== false && q.Id !== cfg.requests).map((q) => q.Id ?? "");
      const results = new Map<string, MetricDataResult>();
      const globalMessages: MessageData[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const timeout = AbortSignal.timeout(cfg.timeout);
        const out = await call(
          "GetMetricData",
          () =>
            client.send(
              new GetMetricDataCommand({
                MetricDataQueries: queries,
                StartTime: new Date(at.getTime() - cfg.lookback),
                EndTime: at,
                ScanBy: "TimestampDescending",
                ...(nextToken === undefined ? {} : { NextToken: nextToken }),
              }),
              { abortSignal: AbortSignal.any([signal, timeout]) },
            ),
          opts.retry ?? {},
          signal,
        );
        globalMessages.push(...(out.Messages ?? []));
        merge(results, out.MetricDataResults ?? []);
        nextToken = out.NextToken;
        // Only a judged series still without points is worth another page.
        const waiting = judged.some((id) => (results.get(id)?.Values?.length ?? 0) === 0 && results.get(id)?.StatusCode === "PartialData");
        if (nextToken === undefined || !waiting) break;
      }
      const settle: Settle = {
        at: at.getTime(),
        horizonMs: periodMs + cfg.ingestionDelay,
        ...(cfg.requests ? { requests: cfg.requests } : {}),
      };
      const { noData, ...reading } = readResults(judged, results, globalMessages, cfg.lookback, settle);
      if (reading.values.length > 0 || reading.insufficient !== undefined || noData.length === 0) return reading;
      if (!checked) {
        await checkMetricsExist(client, cfg, opts, signal);
        checked = true;
      }
      // Nothing in the whole window: no traffic yet, or CloudWatch has not delivered any. Not a pass, not broken.
      return { ...reading, insufficient: `${reading.message ?? "no datapoints"} (yet: no traffic, or CloudWatch has not delivered it)` };
    },
  };
}
