/**
 * A stateful fake of the CloudWatch API behind aws-sdk-client-mock: raw samples the test
 * publishes at (fake) times, GetMetricData aggregating them per period the way CloudWatch does,
 * a narrow metric-math subset, and alarms whose state the test sets (standing in for CloudWatch's
 * own alarm evaluation). Errors are the SDK's classes with the names and HTTP statuses CloudWatch
 * sends: AccessDenied (403) and Throttling (400) are unmodelled, so they arrive as
 * CloudWatchServiceException with that name, as they do over the query-compatible protocol.
 *
 * GetMetricData as modelled:
 * - StartTime is rounded down to the whole minute (CloudWatch does this for data < 15 days old);
 *   EndTime is exclusive. A datapoint stands for [t, t + Period) and carries timestamp t
 *   (periods aligned to the epoch), so the current, partly filled period is returned too.
 * - Dimensions must match the published set exactly, as CloudWatch treats each combination as
 *   its own metric.
 * - Stats over the period's raw samples: SampleCount, Sum, Average, Minimum, Maximum and pNN
 *   (nearest rank; CloudWatch's own percentiles come from a sketch and may differ slightly).
 * - Expressions: numbers, query ids, + - * /, parentheses and FILL(x, number), which fills every
 *   period of the window that x lacks. Series combine on common timestamps; a division by zero
 *   drops the point. Anything else is refused as CloudWatch refuses a bad expression.
 * - Only ReturnData queries are returned, newest first unless ScanBy says TimestampAscending.
 * - Ingestion lag: a published sample becomes visible only `lag` after its timestamp, 1-3 minutes
 *   by default, spread over the samples (ALB metrics are sent "in 60-second intervals" and
 *   CloudWatch makes them available with a delay; load-balancer-cloudwatch-metrics, CloudWatch
 *   User Guide "GetMetricData": recent datapoints may be missing or change). So the newest
 *   periods are missing or partial: a period's Sum grows as its late samples arrive.
 * - A metric nobody published returns no datapoints, never an error (GetMetricData has no notion
 *   of an unknown metric); ListMetrics lists the metrics published in the past two weeks, with
 *   their dimensions, filtered by Namespace and MetricName, 500 a page.
 */
import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListMetricsCommand,
  type ListMetricsCommandInput,
  type Metric,
  type CompositeAlarm,
  type DescribeAlarmsCommandInput,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricAlarm,
  type MetricDataQuery,
  type MetricDataResult,
  type StateValue,
} from "@aws-sdk/client-cloudwatch";
import { mockClient } from "aws-sdk-client-mock";
import { FakeAwsService } from "./fake-aws.js";

export const CW_REGION = "us-east-1";
export const CW_ACCOUNT = "123456789012";

export interface FakeMetric {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

interface Sample extends FakeMetric {
  at: number;
  value: number;
  unit?: string;
  /** When CloudWatch has ingested it: `at` plus the ingestion lag. */
  visibleAt: number;
}

export interface FakeCloudWatchOptions {
  /** Ingestion lag range in ms; each sample gets one in it (default 60-180 s, as AWS metrics arrive 1-3 minutes late). */
  ingestionLagMs?: [number, number];
}

const TWO_WEEKS = 14 * 24 * 3600_000;

/** A series: timestamp (ms) → value, plus the period it was computed at. */
interface Series {
  points: Map<number, number>;
  periodMs: number;
}

type Value = Series | number;

const exception = (name: string, message: string, httpStatusCode: number) =>
  new CloudWatchServiceException({ name, $fault: httpStatusCode >= 500 ? "server" : "client", $metadata: { httpStatusCode }, message });

export const cwThrottling = () => exception("Throttling", "Rate exceeded", 400);
const validation = (message: string) => exception("ValidationError", message, 400);

const sameDimensions = (a: Record<string, string>, b: readonly { Name?: string; Value?: string }[]) =>
  Object.keys(a).length === b.length && b.every((d) => a[d.Name ?? ""] === d.Value);

function statistic(stat: string, values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const sum = sorted.reduce((s, v) => s + v, 0);
  switch (stat) {
    case "SampleCount":
      return sorted.length;
    case "Sum":
      return sum;
    case "Average":
      return sum / sorted.length;
    case "Minimum":
      return sorted[0] ?? NaN;
    case "Maximum":
      return sorted.at(-1) ?? NaN;
  }
  const p = /^p(\d{1,2}(?:\.\d+)?)$/.exec(stat);
  if (!p) throw new Error(`fake-cloudwatch: the statistic ${stat} is not modelled`);
  const rank = Math.ceil((Number(p[1]) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] ?? NaN;
}

const VALID_STAT = /^(?:SampleCount|Average|Sum|Minimum|Maximum|IQM|(?:p|tm|wm|tc|ts)\d{1,2}(?:\.\d+)?|(?:PR|TM|WM|TC|TS)\([^)]*\))$/;

export class FakeCloudWatch extends FakeAwsService {
  readonly mock = mockClient(CloudWatchClient);
  readonly client = new CloudWatchClient({
    region: CW_REGION,
    credentials: { accessKeyId: "AKIAFAKEFAKEFAKEFAKE", secretAccessKey: "fake" },
  });
  readonly alarms = new Map<string, { type: "MetricAlarm" | "CompositeAlarm"; state: StateValue; reason: string; updatedAt: number }>();
  private readonly samples: Sample[] = [];
  private readonly resultOverrides: { id: string; override: Partial<MetricDataResult> }[] = [];
  private readonly lag: [number, number];

  constructor(opts: FakeCloudWatchOptions = {}) {
    super();
    this.lag = opts.ingestionLagMs ?? [60_000, 180_000];
    this.mock.on(ListMetricsCommand).callsFake((i: ListMetricsCommandInput) => this.handle("ListMetrics", i, () => this.listMetrics(i)));
    this.mock
      .on(GetMetricDataCommand)
      .callsFake((i: GetMetricDataCommandInput) => this.handle("GetMetricData", i, () => this.getMetricData(i)));
    this.mock
      .on(DescribeAlarmsCommand)
      .callsFake((i: DescribeAlarmsCommandInput) => this.handle("DescribeAlarms", i, () => this.describeAlarms(i)));
  }

  // --- scripting ---------------------------------------------------------------------------

  /** Publishes raw samples of a metric at `at` (default: now), as PutMetricData with Values would. */
  put(metric: FakeMetric, values: number | number[], at = Date.now(), unit?: string): void {
    for (const value of Array.isArray(values) ? values : [values]) {
      // Spread deterministically over the lag range (golden-ratio steps), so a period fills up gradually.
      const [min, max] = this.lag;
      const visibleAt = at + min + Math.round(((this.samples.length * 0.618034) % 1) * (max - min));
      this.samples.push({ ...metric, dimensions: { ...metric.dimensions }, at, value, visibleAt, ...(unit === undefined ? {} : { unit }) });
    }
  }

  /** An alarm in a state, as CloudWatch's evaluation would have left it. */
  setAlarm(name: string, state: StateValue, reason = "", type: "MetricAlarm" | "CompositeAlarm" = "MetricAlarm"): void {
    this.alarms.set(name, { type, state, reason, updatedAt: Date.now() });
  }

  /** The next GetMetricData's result for `id` is altered (StatusCode, Messages, dropped Values...). */
  nextResult(id: string, override: Partial<MetricDataResult>): void {
    this.resultOverrides.push({ id, override });
  }

  restore(): void {
    this.mock.restore();
  }

  // --- plumbing ----------------------------------------------------------------------------

  protected throttlingError(): Error {
    return cwThrottling();
  }

  protected accessDenied(command: string): Error {
    return exception(
      "AccessDenied",
      `User: arn:aws:sts::${CW_ACCOUNT}:assumed-role/deployer/ci is not authorized to perform: cloudwatch:${command} ` +
        `because no identity-based policy allows the cloudwatch:${command} action`,
      403,
    );
  }

  private async handle<T>(command: string, input: unknown, fn: () => T): Promise<T> {
    this.enter(command, input);
    return fn();
  }

  // --- GetMetricData ---------------------------------------------------------------------------

  private getMetricData(input: GetMetricDataCommandInput): GetMetricDataCommandOutput {
    const queries = input.MetricDataQueries ?? [];
    if (queries.length === 0 || queries.length > 500)
      throw validation("The collection MetricDataQueries must not be empty and can hold at most 500 items.");
    if (!input.StartTime || !input.EndTime) throw validation("StartTime and EndTime are required.");
    const start = Math.floor(input.StartTime.getTime() / 60_000) * 60_000;
    const end = input.EndTime.getTime();
    if (start >= end) throw validation("The parameter StartTime must be less than the parameter EndTime.");
    const ids = new Set<string>();
    queries.forEach((q, i) => {
      if (!q.Id || !/^[a-z][a-zA-Z0-9_]*$/.test(q.Id))
        throw validation(`The value ${q.Id} for parameter MetricDataQueries.member.${i + 1}.Id is invalid.`);
      if (ids.has(q.Id)) throw validation(`The values for parameter id in MetricDataQueries are not unique.`);
      ids.add(q.Id);
      if ((q.MetricStat === undefined) === (q.Expression === undefined))
        throw validation(`Exactly one element of MetricStat or Expression in MetricDataQueries.member.${i + 1} must be set.`);
      const stat = q.MetricStat?.Stat ?? "";
      if (q.MetricStat && !VALID_STAT.test(stat))
        throw validation(`The value ${stat} for parameter MetricDataQueries.member.${i + 1}.MetricStat.Stat is not a valid statistic.`);
    });
    const computed = new Map<string, Value>();
    const resolving = new Set<string>();
    const resolve = (id: string): Value => {
      const known = computed.get(id);
      if (known !== undefined) return known;
      const q = queries.find((x) => x.Id === id);
      if (!q) throw validation(`Error in expression: Unrecognized identifier ${id}`);
      if (resolving.has(id)) throw validation(`Error in expression ${id}: Circular dependency`);
      resolving.add(id);
      const value = q.MetricStat
        ? this.metricSeries(q, start, end)
        : new ExpressionEvaluator(q.Expression ?? "", resolve, start, end).run();
      resolving.delete(id);
      computed.set(id, value);
      return value;
    };
    const ascending = input.ScanBy === "TimestampAscending";
    const results: MetricDataResult[] = queries
      .filter((q) => q.ReturnData !== false)
      .map((q) => {
        const value = resolve(q.Id ?? "");
        if (typeof value === "number") throw validation(`Error in expression ${q.Id}: the expression must return a time series`);
        const points = [...value.points.entries()].filter(([t]) => t >= start && t < end).sort(([a], [b]) => (ascending ? a - b : b - a));
        const result: MetricDataResult = {
          Id: q.Id,
          Label: q.Label ?? q.MetricStat?.Metric?.MetricName ?? q.Id,
          Timestamps: points.map(([t]) => new Date(t)),
          Values: points.map(([, v]) => v),
          StatusCode: "Complete",
          Messages: [],
        };
        const i = this.resultOverrides.findIndex((o) => o.id === q.Id);
        if (i >= 0) Object.assign(result, this.resultOverrides.splice(i, 1)[0]?.override);
        return result;
      });
    return { MetricDataResults: results, Messages: [], $metadata: { httpStatusCode: 200 } };
  }

  private metricSeries(q: MetricDataQuery, start: number, end: number): Series {
    const stat = q.MetricStat;
    const periodMs = (stat?.Period ?? 60) * 1000;
    if (![1, 5, 10, 20, 30].includes(stat?.Period ?? 0) && (stat?.Period ?? 0) % 60 !== 0)
      throw validation(`The parameter MetricDataQueries.member.Period must be 1, 5, 10, 30, or a multiple of 60.`);
    const metric = stat?.Metric;
    const buckets = new Map<number, number[]>();
    const now = Date.now();
    for (const s of this.samples) {
      if (s.visibleAt > now) continue; // not ingested yet
      if (s.namespace !== metric?.Namespace || s.metricName !== metric.MetricName) continue;
      if (!sameDimensions(s.dimensions, metric.Dimensions ?? [])) continue;
      if (stat?.Unit !== undefined && s.unit !== stat.Unit) continue;
      if (s.at < start || s.at >= end) continue;
      const bucket = Math.floor(s.at / periodMs) * periodMs;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), s.value]);
    }
    const points = new Map<number, number>();
    for (const [t, values] of buckets) points.set(t, statistic(stat?.Stat ?? "", values));
    return { points, periodMs };
  }

  // --- ListMetrics -----------------------------------------------------------------------------

  private listMetrics(input: ListMetricsCommandInput) {
    const now = Date.now();
    const seen = new Map<string, Metric>();
    for (const s of this.samples) {
      if (s.visibleAt > now || s.at < now - TWO_WEEKS) continue;
      if (input.Namespace !== undefined && s.namespace !== input.Namespace) continue;
      if (input.MetricName !== undefined && s.metricName !== input.MetricName) continue;
      // A dimension filter without a value matches any value of that dimension.
      if (
        !(input.Dimensions ?? []).every(
          (d) => d.Name !== undefined && d.Name in s.dimensions && (d.Value === undefined || s.dimensions[d.Name] === d.Value),
        )
      )
        continue;
      const dims = Object.entries(s.dimensions).sort(([a], [b]) => a.localeCompare(b));
      const key = `${s.namespace}|${s.metricName}|${JSON.stringify(dims)}`;
      if (!seen.has(key))
        seen.set(key, { Namespace: s.namespace, MetricName: s.metricName, Dimensions: dims.map(([Name, Value]) => ({ Name, Value })) });
    }
    const all = [...seen.values()];
    const from = input.NextToken ? Number(input.NextToken) : 0;
    const page = all.slice(from, from + 500);
    return { Metrics: page, ...(from + 500 < all.length ? { NextToken: String(from + 500) } : {}) };
  }

  // --- DescribeAlarms --------------------------------------------------------------------------

  private describeAlarms(input: DescribeAlarmsCommandInput) {
    // Without AlarmTypes CloudWatch returns metric alarms only.
    const types = input.AlarmTypes ?? ["MetricAlarm"];
    const wanted = [...this.alarms.entries()].filter(([name, a]) => (input.AlarmNames ?? [name]).includes(name) && types.includes(a.type));
    const shape = (name: string, a: { state: StateValue; reason: string; updatedAt: number }) => ({
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:${CW_REGION}:${CW_ACCOUNT}:alarm:${name}`,
      StateValue: a.state,
      StateReason: a.reason,
      StateUpdatedTimestamp: new Date(a.updatedAt),
    });
    return {
      MetricAlarms: wanted.filter(([, a]) => a.type === "MetricAlarm").map(([n, a]) => shape(n, a) as MetricAlarm),
      CompositeAlarms: wanted.filter(([, a]) => a.type === "CompositeAlarm").map(([n, a]) => shape(n, a) as CompositeAlarm),
    };
  }
}

/** Recursive descent over the expression subset described at the top of the file. */
class ExpressionEvaluator {
  private readonly tokens: string[];
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly resolve: (id: string) => Value,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.tokens = text.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/(),]|\S/g) ?? [];
  }

  run(): Value {
    const v = this.sum();
    if (this.pos < this.tokens.length) this.fail(`Unexpected token ${this.tokens[this.pos]}`);
    return v;
  }

  private fail(why: string): never {
    throw validation(`Error in expression '${this.text}': ${why}`);
  }

  private peek = () => this.tokens[this.pos];
  private next = () => this.tokens[this.pos++];

  private sum(): Value {
    let v = this.product();
    while (this.peek() === "+" || this.peek() === "-") {
      const op = this.next();
      v = combine(v, this.product(), op === "+" ? (a, b) => a + b : (a, b) => a - b);
    }
    return v;
  }

  private product(): Value {
    let v = this.factor();
    while (this.peek() === "*" || this.peek() === "/") {
      const op = this.next();
      v = combine(v, this.factor(), op === "*" ? (a, b) => a * b : (a, b) => (b === 0 ? undefined : a / b));
    }
    return v;
  }

  private factor(): Value {
    const t = this.next();
    if (t === undefined) return this.fail("Unexpected end of expression");
    if (t === "-") return combine(0, this.factor(), (a, b) => a - b);
    if (t === "(") {
      const v = this.sum();
      if (this.next() !== ")") this.fail("Missing )");
      return v;
    }
    if (/^\d/.test(t)) return Number(t);
    if (t === "FILL") return this.fill();
    if (/^[a-z][a-zA-Z0-9_]*$/.test(t)) return this.resolve(t);
    return this.fail(`Unrecognized function or identifier ${t}`);
  }

  private fill(): Value {
    if (this.next() !== "(") this.fail("FILL needs (");
    const series = this.sum();
    if (this.next() !== ",") this.fail("FILL takes two arguments");
    const value = this.sum();
    if (this.next() !== ")") this.fail("Missing )");
    if (typeof series === "number" || typeof value !== "number") return this.fail("FILL takes a time series and a number");
    const points = new Map(series.points);
    const first = Math.ceil(this.start / series.periodMs) * series.periodMs;
    for (let t = first; t < this.end; t += series.periodMs) if (!points.has(t)) points.set(t, value);
    return { points, periodMs: series.periodMs };
  }
}

function combine(a: Value, b: Value, op: (x: number, y: number) => number | undefined): Value {
  if (typeof a === "number" && typeof b === "number") return op(a, b) ?? NaN;
  const periodMs = typeof a === "number" ? (b as Series).periodMs : a.periodMs;
  const points = new Map<number, number>();
  const stamps = typeof a === "number" ? [...(b as Series).points.keys()] : [...a.points.keys()];
  for (const t of stamps) {
    const x = typeof a === "number" ? a : a.points.get(t);
    const y = typeof b === "number" ? b : b.points.get(t);
    if (x === undefined || y === undefined) continue;
    const v = op(x, y);
    if (v !== undefined && Number.isFinite(v)) points.set(t, v);
  }
  return { points, periodMs };
}
