// CloudWatch analysis: GetMetricData metrics and alarm states against the stateful fake in
// fake-cloudwatch.ts, on fake time. An ALB "serves" traffic every 10 s of fake time; the fake
// aggregates the samples per minute as CloudWatch does, delivering each 1-3 minutes late, and the
// analysis judges the newest settled point (a period older than its length + ingestionDelay, 4 min).
import {
  GetMetricDataCommand,
  type Dimension,
  type GetMetricDataCommandInput,
  type MetricDataQuery,
  type MetricDataResult,
} from "@aws-sdk/client-cloudwatch";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { ConfigError } from "../../deploy/lib/config/errors.js";
import {
  defaultCloudWatchMetrics,
  elbDimension,
  parseAnalysisConfig,
  type AnalysisConfigInput,
  type MetricInput,
} from "../../deploy/lib/deploy/analysis-config.js";
import { runAnalysis, watchAfterDeploy, type AnalysisDeps } from "../../deploy/lib/deploy/analysis.js";
import { cloudwatchMetricProvider, readResults, toMetricDataQueries } from "../../deploy/lib/deploy/cloudwatch.js";
import { cwThrottling, FakeCloudWatch, type FakeMetric } from "./fake-cloudwatch.js";
import { onFakeTime } from "./fake-ecs.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");
const LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api-alb/50dc6c495c0c9188";
const LB = "app/api-alb/50dc6c495c0c9188";
const TG = "targetgroup/api/73e2d6bc24d8a067";
const alb = (metricName: string): FakeMetric => ({
  namespace: "AWS/ApplicationELB",
  metricName,
  dimensions: { TargetGroup: TG, LoadBalancer: LB },
});

interface Traffic {
  perTick: number;
  errorRate: number;
  latency: number;
  slowShare: number;
  slowLatency: number;
}

let fake: FakeCloudWatch;
let traffic: { set(t: Partial<Traffic>): void; stop(): void } | undefined;

/** The ALB's view of the service: every 10 s, `perTick` requests, some 5xx, one latency sample per request. */
function serve(over: Partial<Traffic> = {}) {
  const t: Traffic = { perTick: 20, errorRate: 0, latency: 0.08, slowShare: 0, slowLatency: 3, ...over };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    fake.put(alb("RequestCount"), t.perTick);
    const errors = Math.round(t.perTick * t.errorRate);
    // Like the ALB: no 5xx, no HTTPCode_Target_5XX_Count datapoint at all.
    if (errors > 0) fake.put(alb("HTTPCode_Target_5XX_Count"), errors);
    const slow = Math.round(t.perTick * t.slowShare);
    fake.put(
      alb("TargetResponseTime"),
      Array.from({ length: t.perTick }, (_, i) => (i < slow ? t.slowLatency : t.latency)),
    );
    timer = setTimeout(tick, 10_000);
  };
  tick();
  traffic = { set: (next) => Object.assign(t, next), stop: () => clearTimeout(timer) };
  return traffic;
}

const deps = (over: AnalysisDeps = {}): AnalysisDeps => ({ cloudwatch: fake.client, retry: { random: () => 0.5 }, ...over });
const defaults = (count = 3) => defaultCloudWatchMetrics({ loadBalancer: LB_ARN, targetGroup: TG, count });
const alarmMetric = (alarmName: string, over: Partial<MetricInput> = {}): MetricInput => ({
  name: "alb-alarm",
  provider: { cloudwatchAlarm: { alarmName } },
  interval: "1m",
  count: 3,
  ...over,
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: T0 });
  fake = new FakeCloudWatch();
});
afterEach(() => {
  traffic?.stop();
  traffic = undefined;
  fake.restore();
  vi.useRealTimers();
});

const metricOf = (m: FakeMetric) => ({
  Namespace: m.namespace,
  MetricName: m.metricName,
  Dimensions: Object.entries(m.dimensions).map(([Name, Value]): Dimension => ({ Name, Value })),
});

describe("the fake's GetMetricData, as CloudWatch aggregates", () => {
  // Asked ten minutes later, once every sample has been ingested: these tests are about aggregation.
  const get = async (queries: MetricDataQuery[], extra: Partial<GetMetricDataCommandInput> = {}) => {
    await vi.advanceTimersByTimeAsync(600_000);
    return fake.client.send(
      new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(T0), EndTime: new Date(T0 + 180_000), ...extra }),
    );
  };
  const stat = (Id: string, Stat: string, metric = alb("TargetResponseTime")): MetricDataQuery => ({
    Id,
    MetricStat: { Metric: metricOf(metric), Period: 60, Stat },
  });

  it("computes Sum, Average, Maximum, SampleCount and p95 per period, newest first", async () => {
    fake.put(alb("TargetResponseTime"), [0.1, 0.2, 0.3, 0.4, 5], T0 + 10_000);
    fake.put(
      alb("TargetResponseTime"),
      Array.from({ length: 100 }, (_, i) => (i < 94 ? 0.1 : 2)),
      T0 + 70_000,
    );
    const out = await get([stat("sum", "Sum"), stat("avg", "Average"), stat("max", "Maximum"), stat("n", "SampleCount"), stat("p", "p95")]);
    const byId: Record<string, MetricDataResult> = Object.fromEntries((out.MetricDataResults ?? []).map((r) => [r.Id ?? "", r]));
    expect(byId.sum?.Timestamps).toEqual([new Date(T0 + 60_000), new Date(T0)]);
    expect(byId.sum?.Values?.map((v) => Number(v.toFixed(6)))).toEqual([21.4, 6]);
    expect(byId.avg?.Values?.map((v) => Number(v.toFixed(6)))).toEqual([0.214, 1.2]);
    expect(byId.max?.Values).toEqual([2, 5]);
    expect(byId.n?.Values).toEqual([100, 5]);
    // 100 samples, 6 of them 2 s: the 95th is slow; of 5 samples the 95th is the largest
    expect(byId.p?.Values).toEqual([2, 5]);
    expect(byId.p?.StatusCode).toBe("Complete");
  });

  it("matches the exact dimension set, rounds StartTime down to the minute and excludes EndTime", async () => {
    fake.put(alb("RequestCount"), 7, T0 + 5_000);
    fake.put({ ...alb("RequestCount"), dimensions: { LoadBalancer: LB } }, 1000, T0 + 5_000);
    fake.put(alb("RequestCount"), 9, T0 + 120_000);
    const out = await get([stat("r", "Sum", alb("RequestCount"))], {
      StartTime: new Date(T0 + 30_000),
      EndTime: new Date(T0 + 120_000),
      ScanBy: "TimestampAscending",
    });
    expect(out.MetricDataResults?.[0]).toMatchObject({ Timestamps: [new Date(T0)], Values: [7] });
  });

  it("evaluates FILL(errors, 0) / requests on common timestamps and returns only ReturnData queries", async () => {
    fake.put(alb("RequestCount"), 100, T0 + 1_000);
    fake.put(alb("RequestCount"), 200, T0 + 61_000);
    fake.put(alb("HTTPCode_Target_5XX_Count"), 10, T0 + 61_000);
    const out = await get([
      { ...stat("errors", "Sum", alb("HTTPCode_Target_5XX_Count")), ReturnData: false },
      { ...stat("requests", "Sum", alb("RequestCount")), ReturnData: false },
      { Id: "rate", Expression: "FILL(errors, 0) / requests" },
      { Id: "raw", Expression: "errors / requests * 100" },
    ]);
    expect(out.MetricDataResults?.map((r) => [r.Id, r.Values])).toEqual([
      ["rate", [0.05, 0]],
      ["raw", [5]],
    ]);
  });

  it("refuses what CloudWatch refuses, with its error names", async () => {
    await expect(get([stat("m", "p95x")])).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringMatching(/not a valid statistic/),
    });
    await expect(get([{ Id: "e", Expression: "LOG(m1)" }])).rejects.toMatchObject({ name: "ValidationError" });
    fake.deny("GetMetricData");
    await expect(get([stat("m", "Sum")])).rejects.toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
  });
});

describe("CloudWatch metrics in the analysis", () => {
  it("passes a healthy service on the default ALB metrics, querying the window that ends at each measurement", async () => {
    serve();
    await vi.advanceTimersByTimeAsync(360_000);
    const r = await onFakeTime(runAnalysis({ metrics: defaults() }, deps()));
    expect(r.phase, r.cause).toBe("Successful");
    expect(r.measurements.map((m) => [m.metric, m.phase, m.value])).toEqual([
      ["error-rate", "Successful", 0],
      ["p95-latency", "Successful", 0.08],
      ["error-rate", "Successful", 0],
      ["p95-latency", "Successful", 0.08],
      ["error-rate", "Successful", 0],
      ["p95-latency", "Successful", 0.08],
    ]);
    const inputs = fake.inputs<GetMetricDataCommandInput>("GetMetricData");
    expect(inputs.map((i) => (i.EndTime?.getTime() ?? 0) - T0)).toEqual([360_000, 360_000, 420_000, 420_000, 480_000, 480_000]);
    expect(inputs[0]).toMatchObject({ ScanBy: "TimestampDescending", StartTime: new Date(T0 + 360_000 - 300_000) });
    // The requests query returns data too: its count at the judged minute is what minRequests checks.
    expect(inputs[0]?.MetricDataQueries?.map((q) => [q.Id, q.ReturnData])).toEqual([
      ["errors", false],
      ["requests", true],
      ["errorRate", true],
    ]);
    expect(r.measurements[0]?.requests).toBe(120);
    expect(inputs[0]?.MetricDataQueries?.[0]).toEqual({
      Id: "errors",
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: "AWS/ApplicationELB",
          MetricName: "HTTPCode_Target_5XX_Count",
          Dimensions: [
            { Name: "TargetGroup", Value: TG },
            { Name: "LoadBalancer", Value: LB },
          ],
        },
        Period: 60,
        Stat: "Sum",
      },
    });
  });

  it("fails at a 5 % error rate, with the measured value in the record", async () => {
    serve({ errorRate: 0.05 });
    await vi.advanceTimersByTimeAsync(300_000);
    const r = await onFakeTime(runAnalysis({ metrics: defaults() }, deps()));
    expect(r.phase).toBe("Failed");
    expect(r.measurements.find((m) => m.metric === "error-rate")).toMatchObject({ phase: "Failed", value: 0.05 });
    expect(r.cause).toBe("error-rate: measured 0.05 (needs <= 0.01), 1 failed measurement(s) > failureLimit 0");
    expect(r.hint).toContain("roll back");
  });

  it("fails when p95 latency rises above 2 s during the watch window", async () => {
    serve({ slowShare: 0 });
    await vi.advanceTimersByTimeAsync(300_000);
    // A minute in, one request in ten takes 3 s: that minute settles 4 minutes later (length + ingestionDelay).
    setTimeout(() => traffic?.set({ slowShare: 0.1 }), 60_000);
    const r = await onFakeTime(watchAfterDeploy({ metrics: [defaults(1)[1] as MetricInput], watchWindow: "5m" }, deps()));
    expect(r.phase).toBe("Failed");
    expect(r.measurements.map((m) => m.value)).toEqual([0.08, 0.08, 0.08, 0.08, 0.08, 3]);
    expect(r.cause).toMatch(/^p95-latency: measured 3 \(needs <= 2\)/);
  });

  it("is Inconclusive, never Successful, when a known metric has no datapoints in the window: each sample is not enough data", async () => {
    serve();
    await vi.advanceTimersByTimeAsync(60_000);
    traffic?.stop();
    await vi.advanceTimersByTimeAsync(1_200_000); // the ALB was used 20 minutes ago, then nothing
    const r = await onFakeTime(runAnalysis({ metrics: defaults(2) }, deps()));
    expect(r.phase).toBe("Inconclusive");
    expect(r.measurements.every((m) => m.phase === "Insufficient" && m.value === null)).toBe(true);
    expect(r.measurements[0]?.message).toBe(
      "no datapoints for errorRate in the last 5m (yet: no traffic, or CloudWatch has not delivered it)",
    );
    expect(r.cause).toBe("error-rate: not enough traffic to judge: 2 of 2 samples too thin");
    expect(r.hint).toContain("no data");
  });

  it("does not call a service without 5xx and without traffic healthy: FILL only covers missing errors", async () => {
    serve();
    await vi.advanceTimersByTimeAsync(60_000);
    traffic?.stop();
    await vi.advanceTimersByTimeAsync(600_000); // ten quiet minutes: nothing in the 5-minute window
    const r = await onFakeTime(runAnalysis({ metrics: [defaults(1)[0] as MetricInput] }, deps()));
    expect(r.phase).toBe("Inconclusive");
  });

  it("surfaces CloudWatch's StatusCode and Messages", async () => {
    serve();
    await vi.advanceTimersByTimeAsync(300_000);
    const p95 = { ...(defaults(1)[1] as MetricInput), count: 3, interval: "1m", consecutiveErrorLimit: 4 };
    fake.nextResult("p95", { StatusCode: "PartialData", Messages: [{ Code: "MaxQueryTimeRangeExceed", Value: "window clipped" }] });
    setTimeout(() => fake.nextResult("p95", { StatusCode: "InternalError", Timestamps: [], Values: [] }), 30_000);
    const r = await onFakeTime(runAnalysis({ metrics: [p95] }, deps()));
    expect(r.measurements.map((m) => [m.phase, m.value, m.message])).toEqual([
      ["Successful", 0.08, "p95: PartialData; p95: MaxQueryTimeRangeExceed: window clipped"],
      ["Error", null, "CloudWatch could not compute p95 (InternalError)"],
      ["Successful", 0.08, undefined],
    ]);
    expect(r.phase).toBe("Successful");

    fake.nextResult("p95", {
      StatusCode: "Forbidden",
      Messages: [{ Code: "Forbidden", Value: "Authentication too complex to retrieve cross region data" }],
    });
    const forbidden = await onFakeTime(runAnalysis({ metrics: [p95] }, deps()));
    expect(forbidden).toMatchObject({ phase: "Failed", hint: "query the metric in its own region (cloudwatch.region)" });
    expect(forbidden.cause).toContain("Authentication too complex");
  });

  it("fails at once, naming cloudwatch:GetMetricData, when the role may not read metrics", async () => {
    serve();
    fake.deny("GetMetricData");
    const r = await onFakeTime(runAnalysis({ metrics: [defaults(5)[0] as MetricInput] }, deps()));
    expect(r.phase).toBe("Failed");
    expect(r.measurements).toHaveLength(1); // not five errors in a row: no retry grants a permission
    expect(fake.count("GetMetricData")).toBe(1);
    expect(r.cause).toMatch(
      /^error-rate: the AWS role lacks cloudwatch:GetMetricData: User: arn:aws:sts::\d+:assumed-role\/deployer\/ci is not authorized/,
    );
    expect(r.hint).toBe('allow cloudwatch:GetMetricData on Resource "*" in the deploy role\'s policy (it takes no resource ARNs)');
  });

  it("retries throttling with backoff on the analysis' clock, and counts exhausted retries as one error", async () => {
    serve();
    await vi.advanceTimersByTimeAsync(300_000);
    fake.throttle("GetMetricData", 2);
    const once = await onFakeTime(runAnalysis({ metrics: [{ ...(defaults(1)[1] as MetricInput) }] }, deps()));
    expect(once.measurements.map((m) => m.phase)).toEqual(["Successful"]);
    expect(fake.count("GetMetricData")).toBe(3);

    fake.fail("GetMetricData", ...Array.from({ length: 6 }, cwThrottling));
    const p95 = { ...(defaults(1)[1] as MetricInput), count: 3 };
    const r = await onFakeTime(runAnalysis({ metrics: [p95] }, deps()));
    expect(r.measurements.map((m) => [m.phase, m.message])).toEqual([
      ["Error", "CloudWatch kept failing GetMetricData (Throttling) after 4 attempts"],
      ["Successful", undefined],
      ["Successful", undefined],
    ]);
    expect(r.phase).toBe("Successful");
  });

  it("reads a metric's own region through a client factory, and needs a client at all", async () => {
    serve();
    await vi.advanceTimersByTimeAsync(300_000);
    const regions: (string | undefined)[] = [];
    const metrics = defaultCloudWatchMetrics({ loadBalancer: LB, targetGroup: TG, region: "eu-west-1", count: 1 });
    const r = await onFakeTime(runAnalysis({ metrics }, deps({ cloudwatch: (region) => (regions.push(region), fake.client) })));
    expect(r.phase).toBe("Successful");
    expect(regions).toEqual(["eu-west-1", "eu-west-1"]);
    await expect(runAnalysis({ metrics })).rejects.toThrow(/metric error-rate reads CloudWatch, but no CloudWatch client was given/);
  });
});

describe("CloudWatch alarms in the analysis", () => {
  it("passes while OK, fails once ALARM, with the state reason in the cause", async () => {
    fake.setAlarm("api-5xx", "OK", "Threshold Crossed: no datapoints were breaching");
    setTimeout(
      () =>
        fake.setAlarm(
          "api-5xx",
          "ALARM",
          "Threshold Crossed: 1 datapoint [12.0 (23/11/26 10:01:00)] was greater than the threshold (10.0).",
        ),
      90_000,
    );
    const r = await onFakeTime(runAnalysis({ metrics: [alarmMetric("api-5xx")] }, deps()));
    expect(r.measurements.map((m) => [m.phase, m.value])).toEqual([
      ["Successful", 0],
      ["Successful", 0],
      ["Failed", 1],
    ]);
    expect(r.phase).toBe("Failed");
    expect(r.cause).toBe(
      "alb-alarm: measured 1 (needs < 1), 1 failed measurement(s) > failureLimit 0: alarm api-5xx is ALARM: " +
        "Threshold Crossed: 1 datapoint [12.0 (23/11/26 10:01:00)] was greater than the threshold (10.0).",
    );
  });

  it("treats INSUFFICIENT_DATA as no data, and finds composite alarms too", async () => {
    fake.setAlarm("api-health", "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", "CompositeAlarm");
    const r = await onFakeTime(runAnalysis({ metrics: [alarmMetric("api-health", { count: 2 })] }, deps()));
    expect(r.phase).toBe("Inconclusive");
    expect(r.measurements[0]).toMatchObject({
      phase: "Inconclusive",
      value: null,
      message: "alarm api-health is INSUFFICIENT_DATA: Unchecked: Initial alarm creation",
    });
    fake.setAlarm("api-health", "OK", "", "CompositeAlarm");
    expect((await onFakeTime(runAnalysis({ metrics: [alarmMetric("api-health")] }, deps()))).phase).toBe("Successful");
  });

  it("names a missing alarm and fails at once", async () => {
    fake.setAlarm("api-5xx", "OK");
    const r = await onFakeTime(runAnalysis({ metrics: [alarmMetric("api-5XX")] }, deps()));
    expect(r).toMatchObject({
      phase: "Failed",
      cause: 'alb-alarm: the CloudWatch alarm "api-5XX" does not exist',
      hint: "check cloudwatchAlarm.alarmName (case-sensitive) and the region the alarm lives in",
    });
    expect(r.measurements).toHaveLength(1);
  });

  it("names cloudwatch:DescribeAlarms when the role may not read alarms", async () => {
    fake.setAlarm("api-5xx", "OK");
    fake.deny("DescribeAlarms");
    const r = await onFakeTime(runAnalysis({ metrics: [alarmMetric("api-5xx")] }, deps()));
    expect(r.cause).toMatch(/^alb-alarm: the AWS role lacks cloudwatch:DescribeAlarms: /);
    expect(r.hint).toContain("allow cloudwatch:DescribeAlarms");
  });
});

describe("CloudWatch config", () => {
  it("reads the YAML a user writes, lower-case keys mapped to GetMetricData's", () => {
    const yaml = `
metrics:
  - name: error-rate
    provider:
      cloudwatch:
        lookback: 10m
        metricDataQueries:
          - id: errors
            metricStat:
              metric:
                namespace: AWS/ApplicationELB
                metricName: HTTPCode_Target_5XX_Count
                dimensions: [{ name: TargetGroup, value: ${TG} }, { name: LoadBalancer, value: ${LB} }]
              period: 60
              stat: Sum
            returnData: false
          - id: requests
            metricStat:
              metric: { namespace: AWS/ApplicationELB, metricName: RequestCount }
              period: 300
              stat: Sum
            returnData: false
          - id: errorRate
            expression: FILL(errors, 0) / requests
    successCondition: { op: "<=", threshold: 0.01 }
  - name: alarm
    provider: { cloudwatchAlarm: { alarmName: api-5xx, region: eu-west-1 } }
`;
    const cfg = parseAnalysisConfig(parse(yaml) as AnalysisConfigInput);
    const [metric, alarm] = cfg.metrics;
    if (!metric || !("cloudwatch" in metric.provider)) throw new Error("expected a cloudwatch metric");
    expect(metric.provider.cloudwatch).toMatchObject({ lookback: 600_000, timeout: 10_000 });
    expect(toMetricDataQueries(metric.provider.cloudwatch).map((q) => [q.Id, q.ReturnData, q.MetricStat?.Period ?? q.Expression])).toEqual([
      ["errors", false, 60],
      ["requests", false, 300],
      ["errorRate", true, "FILL(errors, 0) / requests"],
    ]);
    expect(alarm?.successCondition).toEqual({ op: "<", threshold: 1 });
  });

  it("explains mistakes in plain words", () => {
    const bad = (provider: unknown, extra: Record<string, unknown> = {}) => {
      try {
        parseAnalysisConfig({ metrics: [{ name: "m", provider, successCondition: { op: "<", threshold: 1 }, ...extra }] });
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
      }
      return [];
    };
    const q = (over: Record<string, unknown>) => ({
      id: "m1",
      metricStat: { metric: { namespace: "AWS/ApplicationELB", metricName: "RequestCount" }, period: 60, stat: "Sum" },
      ...over,
    });
    expect(bad({ cloudwatch: { metricDataQueries: [q({ metricStat: { ...q({}).metricStat, period: 45 } })] } })).toEqual([
      "metrics[0].provider.cloudwatch.metricDataQueries[0].metricStat.period: expected 1, 5, 10, 20, 30 or a multiple of 60 seconds, got 45",
    ]);
    expect(bad({ cloudwatch: { metricDataQueries: [q({ metricStat: { ...q({}).metricStat, stat: "P95" } })] } })[0]).toBe(
      'metrics[0].provider.cloudwatch.metricDataQueries[0].metricStat.stat: expected a CloudWatch statistic like "Sum", "Average" or "p95", got "P95"',
    );
    expect(bad({ cloudwatch: { metricDataQueries: [q({}), q({})] } })).toEqual([
      'metrics[0].provider.cloudwatch.metricDataQueries[1].id: duplicate id "m1": ids must be unique',
    ]);
    expect(bad({ cloudwatch: { metricDataQueries: [q({ returnData: false })] } })[0]).toMatch(/no query returns data/);
    expect(bad({ cloudwatchAlarm: { alarmName: "a" } })).toEqual([
      "metrics[0].successCondition: a cloudwatchAlarm metric takes no successCondition: OK passes, ALARM fails, INSUFFICIENT_DATA is no data",
    ]);
    expect(() =>
      parseAnalysisConfig({ metrics: [{ name: "m", provider: { prometheus: { address: "http://p:9090", query: "up" } } }] }),
    ).toThrow(/metrics\[0\]\.successCondition: required/);
  });

  it("takes ALB and target group ARNs or dimension values", () => {
    expect(elbDimension(LB_ARN, "loadbalancer")).toBe(LB);
    expect(elbDimension(`arn:aws:elasticloadbalancing:us-east-1:123456789012:${TG}`, "targetgroup")).toBe(TG);
    expect(elbDimension(TG, "targetgroup")).toBe(TG);
    expect(() => elbDimension("api-alb", "loadbalancer")).toThrow(/is not a loadbalancer ARN or dimension value/);
  });

  it("judges the newest point of each returned series, whatever their order", () => {
    const at = (s: number) => new Date(T0 + s * 1000);
    const results = new Map([["a", { Id: "a", Timestamps: [at(0), at(120), at(60)], Values: [1, 3, 2], StatusCode: "Complete" as const }]]);
    expect(readResults(["a"], results, [], 300_000)).toEqual({ values: [3], noData: [] });
    expect(readResults(["a", "b"], results, [{ Code: "Note", Value: "x" }], 300_000)).toEqual({
      values: [3],
      noData: ["b"],
      message: "Note: x; no datapoints for b in the last 5m",
    });
    // Settling: at 10:04 with a 60 s period and 3 min delay, only the 10:00 point is complete.
    const settle = { at: T0 + 240_000, horizonMs: 240_000 };
    expect(readResults(["a"], results, [], 300_000, settle)).toEqual({ values: [1], noData: [] });
    const early = readResults(["a"], results, [], 300_000, { at: T0 + 200_000, horizonMs: 240_000 });
    expect(early).toMatchObject({ values: [], insufficient: expect.stringMatching(/^a has datapoints only after 09:59 \(newest 10:02\)/) });
    expect(cloudwatchMetricProvider).toBeTypeOf("function");
  });
});
