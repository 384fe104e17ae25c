/**
 * Metric analysis settings, Argo Rollouts' AnalysisTemplate in our words: each metric is measured
 * `count` times, `interval` apart, and judged against `successCondition`; the limits say how many
 * failed, erroring or inconclusive measurements end the analysis.
 */
import type { StandardUnit } from "@aws-sdk/client-cloudwatch";
import { z } from "zod";
import { ConfigError, configErrorMap, expecting, formatZodIssues } from "../config/errors.js";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h)$/;

/** Argo's notation ("30s", "5m") or plain milliseconds; always milliseconds once parsed. */
export const DurationSchema = z
  .union([z.int().nonnegative(), z.string().regex(DURATION, 'a duration like "30s" or "5m"')])
  .transform((v) => {
    if (typeof v === "number") return v;
    const [, n = "0", unit = "ms"] = DURATION.exec(v) ?? [];
    return Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  });

export const ConditionSchema = z.strictObject({
  op: z.enum(["<", "<=", ">", ">="]).describe("Comparison of the measured value with the threshold."),
  threshold: z.number().describe("The threshold."),
});

export const PrometheusProviderSchema = z.strictObject({
  address: z.url({ protocol: /^https?$/ }).describe("Prometheus base URL, e.g. http://prometheus:9090."),
  query: z.string().min(1).describe("PromQL instant query; every returned series is judged."),
  timeout: DurationSchema.default(10_000).describe("How long one query may take."),
});

const REGION = expecting(
  z
    .string()
    .regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/)
    .describe("AWS region of the metric or alarm; defaults to the environment's region."),
  'an AWS region like "eu-west-1"',
);

const QUERY_ID = expecting(
  z
    .string()
    .regex(/^[a-z][a-zA-Z0-9_]*$/)
    .describe("Short name of the query, used in expressions (e.g. errors, requests)."),
  "a name starting with a lower-case letter (letters, digits, _)",
);

// CloudWatch's statistics: the five basic ones, percentiles (p95, p99.9) and the trimmed/winsorized family.
const STAT = expecting(
  z
    .string()
    .regex(/^(?:SampleCount|Average|Sum|Minimum|Maximum|IQM|(?:p|tm|wm|tc|ts)\d{1,2}(?:\.\d+)?|(?:PR|TM|WM|TC|TS)\([^)]*\))$/)
    .describe('Statistic, e.g. "Sum", "Average", "Maximum" or "p95".'),
  'a CloudWatch statistic like "Sum", "Average" or "p95"',
);

// CloudWatch's StandardUnit, listed here so loading the config does not load the SDK.
const UNITS = [
  "Bits",
  "Bits/Second",
  "Bytes",
  "Bytes/Second",
  "Count",
  "Count/Second",
  "Gigabits",
  "Gigabits/Second",
  "Gigabytes",
  "Gigabytes/Second",
  "Kilobits",
  "Kilobits/Second",
  "Kilobytes",
  "Kilobytes/Second",
  "Megabits",
  "Megabits/Second",
  "Megabytes",
  "Megabytes/Second",
  "Microseconds",
  "Milliseconds",
  "None",
  "Percent",
  "Seconds",
  "Terabits",
  "Terabits/Second",
  "Terabytes",
  "Terabytes/Second",
] as const satisfies readonly StandardUnit[];

// GetMetricData accepts 1, 5, 10, 20, 30 or a multiple of 60 seconds.
const PERIOD = expecting(
  z
    .int()
    .positive()
    .refine((p) => [1, 5, 10, 20, 30].includes(p) || p % 60 === 0)
    .describe("Seconds per datapoint: 60 (or a multiple of 60) for most AWS metrics."),
  "1, 5, 10, 20, 30 or a multiple of 60 seconds",
);

export const MetricDataQuerySchema = z
  .strictObject({
    id: QUERY_ID,
    expression: z.string().min(1).optional().describe('Metric math over other queries\' ids, e.g. "FILL(errors, 0) / requests".'),
    metricStat: z
      .strictObject({
        metric: z
          .strictObject({
            namespace: z.string().min(1).describe('Namespace, e.g. "AWS/ApplicationELB".'),
            metricName: z.string().min(1).describe('Metric name, e.g. "TargetResponseTime".'),
            dimensions: z
              .array(
                z.strictObject({
                  name: z.string().min(1).describe('Dimension name, e.g. "TargetGroup".'),
                  value: z.string().min(1).describe('Dimension value, e.g. "targetgroup/api/0123456789abcdef".'),
                }),
              )
              .default([])
              .describe("All of the metric's dimensions: CloudWatch matches the exact set."),
          })
          .describe("Which metric."),
        period: PERIOD,
        stat: STAT,
        unit: z.enum(UNITS).optional().describe('Only datapoints published with this unit, e.g. "Seconds"; usually left out.'),
      })
      .optional()
      .describe("A metric and statistic to fetch."),
    returnData: z
      .boolean()
      .optional()
      .describe("Whether this query's values are judged (default true); set false on an expression's inputs."),
  })
  .refine((q) => (q.expression === undefined) !== (q.metricStat === undefined), "needs exactly one of expression or metricStat")
  .describe("One GetMetricData query: a metricStat or an expression.");

/**
 * GetMetricData in shipshape.yaml's words (lower-case keys, mapped 1:1 to the API's). Each query
 * that returns data yields one series; its newest datapoint within `lookback` is the measurement.
 */
export const CloudWatchProviderSchema = z
  .strictObject({
    region: REGION.optional(),
    lookback: DurationSchema.default(300_000).describe('Window before each measurement searched for the newest datapoint, e.g. "5m".'),
    timeout: DurationSchema.default(10_000).describe("How long one GetMetricData call may take."),
    metricDataQueries: z
      .array(MetricDataQuerySchema)
      .min(1)
      .describe("GetMetricData queries; the ones that return data are judged.")
      .superRefine((queries, ctx) => {
        const ids = queries.map((q) => q.id);
        ids.forEach((id, i) => {
          if (ids.indexOf(id) !== i) ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate id "${id}": ids must be unique` });
        });
        if (!queries.some((q) => q.returnData !== false))
          ctx.addIssue({ code: "custom", message: "no query returns data: leave returnData unset (true) on the one to judge" });
      }),
  })
  .describe("CloudWatch GetMetricData: the newest datapoint of each returned series is judged.");

/** An existing CloudWatch alarm as the judge: OK passes, ALARM fails, INSUFFICIENT_DATA is no data. */
export const CloudWatchAlarmProviderSchema = z
  .strictObject({
    alarmName: expecting(z.string().min(1).max(255).describe("Name of the metric or composite alarm."), "an alarm name"),
    region: REGION.optional(),
  })
  .describe("A CloudWatch alarm's state: OK passes, ALARM fails, INSUFFICIENT_DATA counts as no data.");

/** Alarm measurements are 1 (ALARM) or 0 (OK); this condition is what "OK passes" means in numbers. */
export const ALARM_CONDITION = { op: "<", threshold: 1 } as const satisfies z.input<typeof ConditionSchema>;

export const MetricSchema = z
  .strictObject({
    name: z.string().min(1).describe("Name of the metric, shown in the timeline."),
    provider: z
      .union([
        z.strictObject({ prometheus: PrometheusProviderSchema }),
        z.strictObject({ cloudwatch: CloudWatchProviderSchema }),
        z.strictObject({ cloudwatchAlarm: CloudWatchAlarmProviderSchema }),
      ])
      .describe("Where the values come from: prometheus {address, query}, cloudwatch {metricDataQueries} or cloudwatchAlarm {alarmName}."),
    /** A measurement passes when `value op threshold`. */
    successCondition: ConditionSchema.optional().describe(
      'A measurement passes when value <op> threshold, e.g. {op: "<=", threshold: 0.01}; cloudwatchAlarm metrics take none.',
    ),
    interval: DurationSchema.default(60_000).describe('Time between measurements, e.g. "1m".'),
    count: z.int().positive().default(5).describe("Measurements in one analysis run."),
    initialDelay: DurationSchema.default(0).describe("Wait before the first measurement."),
    /** Failed measurements tolerated; one more fails the analysis. -1 never fails (Argo's meaning). */
    failureLimit: z.int().min(-1).default(0).describe("Failed measurements tolerated; one more fails the analysis (-1: never)."),
    consecutiveErrorLimit: z.int().nonnegative().default(4).describe("Query errors in a row tolerated; one more fails the analysis."),
    inconclusiveLimit: z
      .int()
      .nonnegative()
      .default(0)
      .describe("Measurements without data tolerated before the analysis is inconclusive."),
  })
  .superRefine((m, ctx) => {
    const alarm = "cloudwatchAlarm" in m.provider;
    if (alarm && m.successCondition !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["successCondition"],
        message: "a cloudwatchAlarm metric takes no successCondition: OK passes, ALARM fails, INSUFFICIENT_DATA is no data",
      });
    if (!alarm && m.successCondition === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["successCondition"],
        message: 'required: expected a mapping like {op: "<=", threshold: 0.01}',
      });
  })
  .transform(({ successCondition, ...m }) => ({ ...m, successCondition: successCondition ?? { ...ALARM_CONDITION } }))
  .describe("One metric judged after the rollout.");

export const AnalysisConfigSchema = z
  .strictObject({
    metrics: z.array(MetricSchema).min(1).describe("Metrics to judge; the first to fail stops the analysis."),
    /** After the deploy completes the metrics keep being measured this long, and a breach still rolls back. */
    watchWindow: DurationSchema.default(300_000).describe('How long after the rollout a breach still rolls back, e.g. "5m".'),
  })
  .describe("Metric analysis in the style of Argo Rollouts.");

export type Condition = z.output<typeof ConditionSchema>;
export type MetricInput = z.input<typeof MetricSchema>;
export type Metric = z.output<typeof MetricSchema>;
export type AnalysisConfigInput = z.input<typeof AnalysisConfigSchema>;
export type AnalysisConfig = z.output<typeof AnalysisConfigSchema>;

export function parseAnalysisConfig(input: unknown): AnalysisConfig {
  const r = AnalysisConfigSchema.safeParse(input, { error: configErrorMap, reportInput: true });
  if (r.success) return r.data;
  throw new ConfigError(formatZodIssues(r.error, AnalysisConfigSchema), "fix the analysis settings", "analysis config is invalid");
}

/**
 * Default queries from our users' runbooks. ASSUMPTION about the service's metrics: it exports
 * the conventional `http_requests_total` counter with a `status` label (5xx = error) and the
 * `http_request_duration_seconds` histogram (seconds), both labelled `service="<name>"`.
 * `or vector(0)`: a service that never failed has no 5xx series at all, and without it the
 * whole ratio would be empty, i.e. inconclusive, for a perfectly healthy service.
 */
export const DEFAULT_QUERIES = {
  errorRate:
    '(sum(rate(http_requests_total{service="{{service}}",status=~"5.."}[{{window}}])) or vector(0))' +
    ' / sum(rate(http_requests_total{service="{{service}}"}[{{window}}]))',
  p95Latency: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}"}[{{window}}])))',
} as const;

/** Fills `{{name}}` placeholders; values are escaped for a double-quoted PromQL string. */
export function renderQuery(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new ConfigError([`query placeholder {{${key}}} has no value`], `pass ${key} when rendering the query`);
    return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  });
}

export interface DefaultMetricsOptions {
  service: string;
  /** Prometheus base URL, e.g. http://prometheus:9090 */
  address: string;
  /** rate() window; needs at least two scrapes in it. */
  window?: string;
  interval?: string | number;
  count?: number;
}

/** The runbooks' rules: error rate above 1 % fails, p95 latency above 2 s fails. */
export function defaultMetrics(o: DefaultMetricsOptions): MetricInput[] {
  const vars = { service: o.service, window: o.window ?? "2m" };
  const timing = { interval: o.interval ?? "1m", count: o.count ?? 5 };
  return [
    {
      name: "error-rate",
      provider: { prometheus: { address: o.address, query: renderQuery(DEFAULT_QUERIES.errorRate, vars) } },
      successCondition: { op: "<=", threshold: 0.01 },
      ...timing,
    },
    {
      name: "p95-latency",
      provider: { prometheus: { address: o.address, query: renderQuery(DEFAULT_QUERIES.p95Latency, vars) } },
      successCondition: { op: "<=", threshold: 2 },
      ...timing,
    },
  ];
}

export interface DefaultCloudWatchMetricsOptions {
  /** The ALB: its ARN or its dimension value `app/<name>/<id>`. */
  loadBalancer: string;
  /** The service's target group: its ARN or its dimension value `targetgroup/<name>/<id>`. */
  targetGroup: string;
  region?: string;
  /** Seconds per datapoint; ALB metrics are per minute. */
  period?: number;
  lookback?: string | number;
  interval?: string | number;
  count?: number;
}

/** `arn:aws:elasticloadbalancing:<region>:<acct>:loadbalancer/app/api/50dc…` → `app/api/50dc…`, the dimension value. */
export function elbDimension(value: string, kind: "loadbalancer" | "targetgroup"): string {
  const trimmed = value.trim();
  const resource = trimmed.startsWith("arn:") ? (trimmed.split(":").slice(5).join(":") ?? "") : trimmed;
  const dimension = kind === "loadbalancer" ? resource.replace(/^loadbalancer\//, "") : resource;
  const shape =
    kind === "loadbalancer" ? /^(?:app|net)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/ : /^targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;
  if (!shape.test(dimension)) {
    const example = kind === "loadbalancer" ? "app/api/50dc6c495c0c9188" : "targetgroup/api/73e2d6bc24d8a067";
    throw new ConfigError([`"${trimmed.slice(0, 120)}" is not a ${kind} ARN or dimension value`], `pass its ARN or "${example}"`);
  }
  return dimension;
}

/**
 * The runbooks' rules on an ALB target group, the CloudWatch twin of defaultMetrics: 5xx ratio
 * above 1 % fails, p95 TargetResponseTime (seconds) above 2 s fails. The ALB publishes
 * HTTPCode_Target_5XX_Count only for minutes that had a 5xx, so FILL(errors, 0) stands in for
 * the `or vector(0)` of the PromQL; a minute without requests still has no ratio (no data).
 */
export function defaultCloudWatchMetrics(o: DefaultCloudWatchMetricsOptions): MetricInput[] {
  const dimensions = [
    { name: "TargetGroup", value: elbDimension(o.targetGroup, "targetgroup") },
    { name: "LoadBalancer", value: elbDimension(o.loadBalancer, "loadbalancer") },
  ];
  const period = o.period ?? 60;
  const alb = (metricName: string, stat: string) => ({ metric: { namespace: "AWS/ApplicationELB", metricName, dimensions }, period, stat });
  const where = { ...(o.region === undefined ? {} : { region: o.region }), lookback: o.lookback ?? "5m" };
  const timing = { interval: o.interval ?? "1m", count: o.count ?? 5 };
  return [
    {
      name: "error-rate",
      provider: {
        cloudwatch: {
          ...where,
          metricDataQueries: [
            { id: "errors", metricStat: alb("HTTPCode_Target_5XX_Count", "Sum"), returnData: false },
            { id: "requests", metricStat: alb("RequestCount", "Sum"), returnData: false },
            { id: "errorRate", expression: "FILL(errors, 0) / requests" },
          ],
        },
      },
      successCondition: { op: "<=", threshold: 0.01 },
      ...timing,
    },
    {
      name: "p95-latency",
      provider: { cloudwatch: { ...where, metricDataQueries: [{ id: "p95", metricStat: alb("TargetResponseTime", "p95") }] } },
      successCondition: { op: "<=", threshold: 2 },
      ...timing,
    },
  ];
}
