/**
 * Metric analysis settings, Argo Rollouts' AnalysisTemplate in our words: each metric is measured
 * `count` times, `interval` apart, and judged against `successCondition`; the limits say how many
 * failed, erroring or inconclusive measurements end the analysis.
 */
import { z } from "zod";
import { ConfigError, configErrorMap, expecting, formatZodIssues } from "../config/errors.js";
import { TRAFFIC_PLACEHOLDERS } from "./analysis-context.js";

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
  query: z
    .string()
    .min(1)
    .describe("PromQL instant query; every returned series is judged. {{revision}}, {{targetGroup}}... are filled per sample."),
  requestsQuery: z
    .string()
    .min(1)
    .optional()
    .describe("PromQL returning ONE number: the requests the judged window saw (for minRequests); same placeholders as query."),
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

// CloudWatch's StandardUnit, listed here so loading the config neither loads nor type-checks the SDK
// (the CI module loads this schema too); test/deploy/config.test.ts checks it against the SDK's.
export const UNITS = [
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
] as const;

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
    ingestionDelay: DurationSchema.default(180_000).describe(
      'How late CloudWatch delivers datapoints (1-3 minutes for ALB metrics): newer periods may be partial and are not judged, e.g. "3m".',
    ),
    requests: QUERY_ID.optional().describe(
      "Id of the query counting requests (e.g. RequestCount, Sum): its value at the judged timestamp is checked against minRequests.",
    ),
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
  .superRefine((c, ctx) => {
    const period = Math.max(0, ...c.metricDataQueries.map((q) => q.metricStat?.period ?? 0)) || 60;
    if (c.lookback <= period * 1000 + c.ingestionDelay)
      ctx.addIssue({
        code: "custom",
        path: ["lookback"],
        message: `lookback ${c.lookback / 1000}s must exceed the period (${period}s) plus ingestionDelay (${c.ingestionDelay / 1000}s): no datapoint would ever settle`,
      });
    if (c.requests !== undefined && !c.metricDataQueries.some((q) => q.id === c.requests))
      ctx.addIssue({
        code: "custom",
        path: ["requests"],
        message: `no query has the id "${c.requests}": name the query counting requests`,
      });
    const judged = c.metricDataQueries.filter((q) => q.returnData !== false && q.id !== c.requests);
    if (c.requests !== undefined && judged.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["requests"],
        message: "the requests query is the only one returning data: add the one to judge",
      });
  })
  .describe("CloudWatch GetMetricData: the newest settled datapoint of each returned series is judged.");

/** An existing CloudWatch alarm as the judge: OK passes, ALARM fails, INSUFFICIENT_DATA is no data. */
export const CloudWatchAlarmProviderSchema = z
  .strictObject({
    alarmName: expecting(z.string().min(1).max(255).describe("Name of the metric or composite alarm."), "an alarm name"),
    region: REGION.optional(),
  })
  .describe("A CloudWatch alarm's state: OK passes, ALARM fails, INSUFFICIENT_DATA counts as no data.");

/** Alarm measurements are 1 (ALARM) or 0 (OK); this condition is what "OK passes" means in numbers. */
export const ALARM_CONDITION = { op: "<", threshold: 1 } as const satisfies z.input<typeof ConditionSchema>;

/** How much worse than the baseline the canary may be: worse means above for "<"/"<=" conditions, below for ">"/">=". */
export const CompareSchema = z.strictObject({
  maxRatio: z.number().min(1).describe("The canary may be at most this many times the baseline's value (e.g. 1.5); 1 allows no worse."),
  tolerance: z
    .number()
    .nonnegative()
    .default(0)
    .describe("Absolute slack on top, so a baseline of 0 errors does not fail the canary's first one (e.g. 0.005)."),
});

const PLACEHOLDER = /\{\{(\w+)\}\}/g;
/** The {{name}} placeholders in a text, in order, without duplicates. */
export const placeholdersIn = (text: string): string[] => [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ""))];

type ProviderInput = {
  prometheus?: { query: string; requestsQuery?: string | undefined };
  cloudwatch?: {
    requests?: string | undefined;
    metricDataQueries: { metricStat?: { metric: { dimensions?: { value: string }[] } } | undefined }[];
  };
  cloudwatchAlarm?: unknown;
};

/** Every placeholder the provider's queries use: PromQL texts, CloudWatch dimension values. */
export function placeholdersOf(p: ProviderInput): string[] {
  const texts = p.prometheus
    ? [p.prometheus.query, p.prometheus.requestsQuery ?? ""]
    : (p.cloudwatch?.metricDataQueries ?? []).flatMap((q) => (q.metricStat?.metric.dimensions ?? []).map((d) => d.value));
  return [...new Set(texts.flatMap(placeholdersIn))];
}

const requestsSource = (p: ProviderInput): string | undefined => p.prometheus?.requestsQuery ?? p.cloudwatch?.requests;

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
    for: DurationSchema.optional().describe(
      'A failure needs the condition breached on every sample for this long (Prometheus alerting\'s "for"), e.g. "5m"; unset: one sample.',
    ),
    minRequests: z
      .int()
      .positive()
      .optional()
      .describe("Fewer requests than this in a sample is not enough traffic: that sample neither passes nor fails."),
    minSamples: z
      .int()
      .positive()
      .default(1)
      .describe("Samples that must pass before the metric passes; fewer (not enough traffic) is inconclusive."),
    compare: CompareSchema.optional().describe(
      "Canary vs baseline: also fail when the new revision's value is worse than the previous revision's by this much.",
    ),
  })
  .superRefine((m, ctx) => {
    const alarm = "cloudwatchAlarm" in m.provider;
    const templated = placeholdersOf(m.provider);
    for (const name of templated)
      if (!(TRAFFIC_PLACEHOLDERS as readonly string[]).includes(name))
        ctx.addIssue({
          code: "custom",
          path: ["provider"],
          message: `unknown placeholder {{${name}}}: the deploy fills ${TRAFFIC_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}`,
        });
    if (m.minRequests !== undefined && requestsSource(m.provider) === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["minRequests"],
        message: alarm
          ? "a cloudwatchAlarm metric cannot count requests: put minRequests on a prometheus or cloudwatch metric"
          : "needs a request count: set prometheus.requestsQuery, or cloudwatch.requests (the id of the query counting requests)",
      });
    if (m.compare !== undefined && templated.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["compare"],
        message: alarm
          ? "a cloudwatchAlarm metric has no per-revision value to compare"
          : "the query must name whose traffic it reads: use {{targetGroup}} or {{revision}} so canary and baseline differ",
      });
    const needed = m.for === undefined ? 1 : Math.floor(m.for / Math.max(1, m.interval)) + 1;
    if (needed > m.count)
      ctx.addIssue({
        code: "custom",
        path: ["for"],
        message: `for ${m.for ?? 0} ms at interval ${m.interval} ms needs ${needed} samples in a row, but count is ${m.count}: raise count or shorten for`,
      });
    if (m.minSamples > m.count)
      ctx.addIssue({ code: "custom", path: ["minSamples"], message: `minSamples ${m.minSamples} > count ${m.count}: it could never pass` });
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
    onInconclusive: z
      .enum(["pause", "rollback"])
      .default("pause")
      .describe("An analysis without enough data or traffic never promotes: pause for promote/abort (default), or roll back at once."),
  })
  .describe("Metric analysis in the style of Argo Rollouts.");

export type Condition = z.output<typeof ConditionSchema>;
export type Compare = z.output<typeof CompareSchema>;
export type MetricInput = z.input<typeof MetricSchema>;
export type Metric = z.output<typeof MetricSchema>;
export type AnalysisConfigInput = z.input<typeof AnalysisConfigSchema>;
export type AnalysisConfig = z.output<typeof AnalysisConfigSchema>;

export function parseAnalysisConfig(input: unknown): AnalysisConfig {
  const r = AnalysisConfigSchema.safeParse(input, { error: configErrorMap, reportInput: true });
  if (r.success) return r.data;
  throw new ConfigError(formatZodIssues(r.error, AnalysisConfigSchema), "fix the analysis settings", "analysis config is invalid");
}

export {
  DEFAULT_QUERIES,
  defaultCloudWatchMetrics,
  defaultMetrics,
  elbDimension,
  renderQuery,
  type DefaultCloudWatchMetricsOptions,
  type DefaultMetricsOptions,
} from "./analysis-defaults.js";
