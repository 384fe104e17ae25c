/**
 * CloudWatch as an analysis provider: GetMetricData queries, whose series' newest datapoints are
 * the measured values, and alarms, whose state is the verdict (OK passes, ALARM fails,
 * INSUFFICIENT_DATA is no data). Throttling and 5xx are retried with jittered backoff on the
 * analysis' own (injected) sleep; anything else becomes a one-line Problem with credentials
 * scrubbed out. Failures no retry can fix (a missing permission or alarm, a rejected query) are
 * marked `fatal`, so the analysis fails the metric at once instead of after every interval.
 */
import {
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type CloudWatchClient,
  type MessageData,
  type MetricDataQuery,
  type MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import { asAws, isRetryable, type RetryOptions } from "../aws/retry.js";
import { Problem } from "../project/problem.js";
import type { z } from "zod";
import type { CloudWatchAlarmProviderSchema, CloudWatchProviderSchema } from "./analysis-config.js";
import type { MetricProvider, Reading } from "./analysis.js";
import { errorName, saidBy } from "./aws.js";

export type CloudWatchMetricConfig = z.output<typeof CloudWatchProviderSchema>;
export type CloudWatchAlarmConfig = z.output<typeof CloudWatchAlarmProviderSchema>;

export interface CloudWatchCallOptions {
  /** attempts, backoff and the sleep between attempts (the analysis passes its own, so tests run on fake time). */
  retry?: RetryOptions;
}

/** A Problem no retry fixes; the analysis fails the metric on the first one (see MetricProvider). */
export class FatalProblem extends Problem {
  readonly fatal = true;
}

// Over the query protocol CloudWatch says "Throttling" (HTTP 400), a name aws/retry.ts does not list.
const retryable = (e: unknown) => isRetryable(e) || asAws(e).name === "Throttling";

// One page is the norm: the window is minutes long and ScanBy puts the newest points first.
const MAX_PAGES = 5;

function problemFrom(e: unknown, action: "GetMetricData" | "DescribeAlarms"): Problem {
  if (e instanceof Problem) return e;
  const name = errorName(e);
  const said = saidBy(e);
  if (/AccessDenied/.test(name) || /not authorized to perform/.test(said))
    return new FatalProblem(
      `the AWS role lacks cloudwatch:${action}: ${said}`,
      `allow cloudwatch:${action} on Resource "*" in the deploy role's policy (it takes no resource ARNs)`,
    );
  if (name === "InvalidClientTokenId" || name === "UnrecognizedClientException")
    return new FatalProblem("AWS does not recognise the access key", "check the AWS credential secrets (and the session token)");
  if (/^(?:InvalidParameter|MissingRequiredParameter|Validation)/.test(name))
    return new FatalProblem(
      `CloudWatch rejected the ${action === "GetMetricData" ? "metric queries" : "alarm lookup"}: ${said}`,
      "fix the analysis metric's cloudwatch settings (ids, stat, period, expression)",
    );
  return new Problem(`CloudWatch ${action} failed: ${name}: ${said}`, "see the AWS message; rerun if it was transient");
}

/** One CloudWatch call, retried while AWS throttles or fails, then translated into a Problem. */
async function call<T>(
  action: "GetMetricData" | "DescribeAlarms",
  fn: () => Promise<T>,
  retry: RetryOptions,
  signal: AbortSignal,
): Promise<T> {
  const { attempts = 4, baseMs = 500, maxMs = 8000, random = Math.random } = retry;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (signal.aborted) throw new Problem("measurement cancelled", "");
      if (!retryable(e)) throw problemFrom(e, action);
      if (attempt >= attempts)
        throw new Problem(
          `CloudWatch kept failing ${action} (${errorName(e)}) after ${attempts} attempts`,
          "CloudWatch is throttling or unavailable; pipelines sharing the account share its GetMetricData/DescribeAlarms rate",
        );
      // Full jitter: analyses of parallel deploys throttled together should not retry together.
      await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))));
      if (signal.aborted) throw new Problem("measurement cancelled", "");
    }
  }
}

/** Our lower-case config keys to GetMetricData's; every query's ReturnData is explicit. */
export function toMetricDataQueries(cfg: Pick<CloudWatchMetricConfig, "metricDataQueries">): MetricDataQuery[] {
  return cfg.metricDataQueries.map((q) => ({
    Id: q.id,
    ReturnData: q.returnData ?? true,
    ...(q.expression !== undefined ? { Expression: q.expression } : {}),
    ...(q.metricStat !== undefined
      ? {
          MetricStat: {
            Metric: {
              Namespace: q.metricStat.metric.namespace,
              MetricName: q.metricStat.metric.metricName,
              Dimensions: q.metricStat.metric.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
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

/** The value at the newest timestamp, whatever order the points came in. */
function newest(r: MetricDataResult): number | undefined {
  const ts = r.Timestamps ?? [];
  const values = r.Values ?? [];
  let best: { at: number; value: number } | undefined;
  values.forEach((value, i) => {
    const at = ts[i]?.getTime() ?? -Infinity;
    if (best === undefined || at > best.at) best = { at, value };
  });
  return best?.value;
}

/**
 * Judges GetMetricData results: the newest value of each query that returns data. A result that
 * CloudWatch could not compute (InternalError) without values is an error, never a pass; one
 * refused cross-region (Forbidden) is fatal; no datapoints is no data, with CloudWatch's messages.
 */
export function readResults(
  judged: readonly string[],
  results: ReadonlyMap<string, MetricDataResult>,
  globalMessages: readonly MessageData[],
  lookbackMs: number,
): Reading {
  const values: number[] = [];
  const notes: string[] = [];
  if (globalMessages.length > 0) notes.push(say(globalMessages));
  for (const id of judged) {
    const r = results.get(id);
    const value = r === undefined ? undefined : newest(r);
    const messages = say(r?.Messages);
    if (r?.StatusCode === "Forbidden")
      throw new FatalProblem(
        `CloudWatch refused the query ${id}: ${messages || "Forbidden"}`,
        "query the metric in its own region (cloudwatch.region)",
      );
    if (r?.StatusCode === "InternalError" && value === undefined)
      throw new Problem(`CloudWatch could not compute ${id} (InternalError)${messages ? `: ${messages}` : ""}`, "usually transient; rerun");
    if (value === undefined) notes.push(`no datapoints for ${id} in the last ${minutes(lookbackMs)}${messages ? ` (${messages})` : ""}`);
    else {
      values.push(value);
      if (r?.StatusCode === "PartialData" || r?.StatusCode === "InternalError") notes.push(`${id}: ${r.StatusCode}`);
      if (messages) notes.push(`${id}: ${messages}`);
    }
  }
  return notes.length > 0 ? { values, message: notes.join("; ") } : { values };
}

/** GetMetricData over the window ending at the measurement time; newest points first. */
export function cloudwatchMetricProvider(
  client: CloudWatchClient,
  cfg: CloudWatchMetricConfig,
  opts: CloudWatchCallOptions = {},
): MetricProvider {
  const queries = toMetricDataQueries(cfg);
  const judged = queries.filter((q) => q.ReturnData !== false).map((q) => q.Id ?? "");
  return {
    async measure(at, signal) {
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
      return readResults(judged, results, globalMessages, cfg.lookback);
    },
  };
}

/** The alarm's state as a number the default condition (< 1) judges: 1 for ALARM, 0 for OK, none for INSUFFICIENT_DATA. */
export function cloudwatchAlarmProvider(
  client: CloudWatchClient,
  cfg: CloudWatchAlarmConfig,
  opts: CloudWatchCallOptions = {},
): MetricProvider {
  const name = cfg.alarmName;
  return {
    async measure(_at, signal) {
      const out = await call(
        "DescribeAlarms",
        // Without AlarmTypes, DescribeAlarms returns metric alarms only and a composite alarm would look missing.
        () =>
          client.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ["MetricAlarm", "CompositeAlarm"] }), {
            abortSignal: signal,
          }),
        opts.retry ?? {},
        signal,
      );
      const alarm = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].find((a) => a.AlarmName === name);
      if (!alarm)
        throw new FatalProblem(
          `the CloudWatch alarm "${name}" does not exist${cfg.region === undefined ? "" : ` in ${cfg.region}`}`,
          "check cloudwatchAlarm.alarmName (case-sensitive) and the region the alarm lives in",
        );
      const reason = (alarm.StateReason ?? "").slice(0, 300);
      switch (alarm.StateValue) {
        case "ALARM":
          return { values: [1], message: `alarm ${name} is ALARM: ${reason}` };
        case "OK":
          return { values: [0] };
        default:
          return { values: [], message: `alarm ${name} is ${alarm.StateValue ?? "in no state"}: ${reason}` };
      }
    },
  };
}
