/**
 * Metric analysis settings, Argo Rollouts' AnalysisTemplate in our words: each metric is measured
 * `count` times, `interval` apart, and judged against `successCondition`; the limits say how many
 * failed, erroring or inconclusive measurements end the analysis.
 */
import { z } from "zod";
import { ConfigError, configErrorMap, formatZodIssues } from "../config/errors.js";

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
  address: z.url({ protocol: /^https?$/ }),
  query: z.string().min(1),
  timeout: DurationSchema.default(10_000),
});

/**
 * GetMetricData's own query shape, so the provider (not written yet) can pass it through. The
 * analysis judges the first returned series' latest datapoint within `lookback`.
 */
export const CloudWatchProviderSchema = z.strictObject({
  region: z.string().optional(),
  lookback: DurationSchema.default(300_000),
  metricDataQueries: z
    .array(
      z
        .strictObject({
          id: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/),
          expression: z.string().optional(),
          metricStat: z
            .strictObject({
              metric: z.strictObject({
                namespace: z.string(),
                metricName: z.string(),
                dimensions: z.array(z.strictObject({ name: z.string(), value: z.string() })).default([]),
              }),
              period: z.int().positive(),
              stat: z.string(),
              unit: z.string().optional(),
            })
            .optional(),
          returnData: z.boolean().optional(),
        })
        .refine((q) => (q.expression === undefined) !== (q.metricStat === undefined), "needs exactly one of expression or metricStat"),
    )
    .min(1),
});

export const MetricSchema = z
  .strictObject({
    name: z.string().min(1).describe("Name of the metric, shown in the timeline."),
    provider: z
      .union([z.strictObject({ prometheus: PrometheusProviderSchema }), z.strictObject({ cloudwatch: CloudWatchProviderSchema })])
      .describe("Where the values come from: prometheus {address, query} (cloudwatch is not implemented yet)."),
    /** A measurement passes when `value op threshold`. */
    successCondition: ConditionSchema.describe('A measurement passes when value <op> threshold, e.g. {op: "<=", threshold: 0.01}.'),
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
