/**
 * The runbooks' default metrics (Prometheus and ALB/CloudWatch) and the query templating they
 * use. Split from analysis-config.ts, which re-exports everything here.
 */
import { ConfigError } from "../config/errors.js";
import type { MetricInput } from "./analysis-config.js";
import { TRAFFIC_PLACEHOLDERS } from "./analysis-context.js";

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

/**
 * Fills `{{name}}` placeholders; values are escaped for a double-quoted PromQL string. The
 * per-sample ones ({{revision}}, {{targetGroup}}...) stay for the analysis to fill unless given.
 */
export function renderQuery(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole: string, key: string) => {
    const value = vars[key];
    if (value === undefined && (TRAFFIC_PLACEHOLDERS as readonly string[]).includes(key)) return whole;
    if (value === undefined) throw new ConfigError([`query placeholder {{${key}}} has no value`], `pass ${key} when rendering the query`);
    return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  });
}

export interface DefaultMetricsOptions {
  service: string;
  /**
   * The label naming the revision a series comes from (e.g. "revision", filled with the task
   * definition's "family:revision"): the queries then judge the new revision's own traffic and
   * compare it with the baseline's. ASSUMPTION: the service's metrics carry such a label.
   */
  revisionLabel?: string;
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
  const query = (q: string) => renderQuery(o.revisionLabel === undefined ? q : perRevision(q, o.revisionLabel), vars);
  const own = o.revisionLabel === undefined ? {} : { compare: { maxRatio: 2, tolerance: 0.005 } };
  return [
    {
      name: "error-rate",
      provider: { prometheus: { address: o.address, query: query(DEFAULT_QUERIES.errorRate) } },
      successCondition: { op: "<=", threshold: 0.01 },
      ...own,
      ...timing,
    },
    {
      name: "p95-latency",
      provider: { prometheus: { address: o.address, query: query(DEFAULT_QUERIES.p95Latency) } },
      successCondition: { op: "<=", threshold: 2 },
      ...timing,
    },
  ];
}

/** Narrows every `service="…"` selector of a default query to one revision's series. */
const perRevision = (q: string, label: string) => q.replaceAll('service="{{service}}"', `service="{{service}}",${label}="{{revision}}"`);

export interface DefaultCloudWatchMetricsOptions {
  /** The ALB: its ARN or its dimension value `app/<name>/<id>`. */
  loadBalancer: string;
  /**
   * A fixed target group (ARN or `targetgroup/<name>/<id>`). Leave it out to follow the one ECS
   * routes the new revision's traffic to at every sample (`{{targetGroup}}`), which native
   * blue/green swaps on every deploy; then the canary is also compared with the baseline.
   */
  targetGroup?: string;
  /** Fewer requests than this in a judged minute is not enough traffic (default 50). */
  minRequests?: number;
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
  const follow = o.targetGroup === undefined;
  const dimensions = [
    { name: "TargetGroup", value: o.targetGroup === undefined ? "{{targetGroup}}" : elbDimension(o.targetGroup, "targetgroup") },
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
          requests: "requests",
        },
      },
      successCondition: { op: "<=", threshold: 0.01 },
      minRequests: o.minRequests ?? 50,
      ...(follow ? { compare: { maxRatio: 2, tolerance: 0.005 } } : {}),
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
