// CloudWatch analysis of ECS-native blue/green, on fake time: the target groups swap on every
// deploy (fake-bluegreen.ts), CloudWatch delivers datapoints 1-3 minutes late (fake-cloudwatch.ts),
// and a misspelt metric or dimension is a configuration error at once.
import { GetMetricDataCommand, type GetMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { defaultCloudWatchMetrics, type MetricInput } from "../../deploy/lib/deploy/analysis-config.js";
import { runAnalysis, type AnalysisDeps } from "../../deploy/lib/deploy/analysis.js";
import { ecsTrafficContext } from "../../deploy/lib/deploy/analysis-traffic.js";
import { ALB_DIMENSION, BLUE, FakeBlueGreen, GREEN } from "./fake-bluegreen.js";
import { FakeCloudWatch } from "./fake-cloudwatch.js";
import { onFakeTime } from "./fake-ecs.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");
let cw: FakeCloudWatch;
let bg: FakeBlueGreen;
let stop: (() => void) | undefined;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: T0 });
  cw = new FakeCloudWatch();
  bg = new FakeBlueGreen("app:1");
});
afterEach(() => {
  stop?.();
  cw.restore();
  bg.restore();
  vi.useRealTimers();
});

const deps = (sd: string): AnalysisDeps => ({
  cloudwatch: cw.client,
  retry: { random: () => 0.5 },
  context: ecsTrafficContext(bg.client, sd),
});
const errorRate = (targetGroup?: string) =>
  defaultCloudWatchMetrics({ loadBalancer: ALB_DIMENSION, count: 3, ...(targetGroup ? { targetGroup } : {}) })[0] as MetricInput;

describe("following the target group ECS routes the new revision's traffic to", () => {
  it("judges each deploy's own group although they swap, where a pinned group reads the baseline", async () => {
    stop = bg.serve(cw);
    // Deploy 1: app:2 lands on green and gets 5 %.
    const first = bg.deploy("app:2");
    bg.shift(first, 5);
    await vi.advanceTimersByTimeAsync(360_000);
    const before = bg.calls.length;
    const one = await onFakeTime(runAnalysis({ metrics: [errorRate()] }, deps(first)));
    expect(one.phase, one.cause).toBe("Successful");
    expect(one.measurements[0]?.message).toBe("canary app:2 0 vs baseline app:1 0");
    // The context is read at every sample (three), two ECS reads each.
    expect(bg.calls.slice(before).filter((c) => c === "DescribeServiceRevisions")).toHaveLength(3);
    const asked = cw
      .inputs<GetMetricDataCommandInput>("GetMetricData")
      .map((i) => i.MetricDataQueries?.[0]?.MetricStat?.Metric?.Dimensions?.[0]?.Value);
    expect(asked.slice(0, 2)).toEqual(["targetgroup/api-green/fedcba9876543210", "targetgroup/api-blue/0123456789abcdef"]);
    bg.complete(first);
    await vi.advanceTimersByTimeAsync(360_000);

    // Deploy 2: app:3, failing 15 % of its requests, lands on BLUE this time.
    bg.errorRates.set("app:3", 0.15);
    const second = bg.deploy("app:3");
    bg.shift(second, 5);
    await vi.advanceTimersByTimeAsync(360_000);
    const followed = await onFakeTime(runAnalysis({ metrics: [errorRate()] }, deps(second)));
    expect(followed.phase).toBe("Failed");
    expect(followed.measurements[0]).toMatchObject({ phase: "Failed", value: 0.15, baseline: 0, requests: 120 });
    expect(followed.cause).toMatch(/^error-rate: measured 0\.15 \(needs <= 0\.01\)/);

    // The old configuration pinned the group the canary had last time (green): it now reads app:2, the healthy baseline.
    const pinned = await onFakeTime(runAnalysis({ metrics: [errorRate(GREEN)] }, deps(second)));
    expect(pinned.phase).toBe("Successful");
    expect(BLUE).not.toBe(GREEN);
  });

  it("does not judge a datapoint CloudWatch may still be filling in: early samples wait, then the canary is judged", async () => {
    stop = bg.serve(cw);
    bg.errorRates.set("app:2", 0.15);
    const sd = bg.deploy("app:2");
    bg.shift(sd, 5);
    await vi.advanceTimersByTimeAsync(60_000); // a minute of canary traffic: nothing settled yet
    const r = await onFakeTime(runAnalysis({ metrics: [{ ...errorRate(), count: 6 }] }, deps(sd)));
    const phases = r.measurements.map((m) => m.phase);
    expect(phases.slice(0, 3)).toEqual(["Insufficient", "Insufficient", "Insufficient"]);
    expect(r.measurements[0]?.message).toMatch(/waiting for them to settle|CloudWatch has not delivered it/);
    expect(r.phase).toBe("Failed");
    expect(r.measurements.at(-1)).toMatchObject({ phase: "Failed", value: 0.15 });
  });
});

describe("the fake's ingestion lag", () => {
  it("shows a sample only 1-3 minutes after its timestamp, so the newest period is missing or partial", async () => {
    const m = { namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: { LoadBalancer: ALB_DIMENSION } };
    for (let s = 0; s < 60; s += 10) cw.put(m, 10, T0 + s * 1000);
    const sum = async () => {
      const out = await cw.client.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            {
              Id: "r",
              MetricStat: {
                Metric: { Namespace: m.namespace, MetricName: m.metricName, Dimensions: [{ Name: "LoadBalancer", Value: ALB_DIMENSION }] },
                Period: 60,
                Stat: "Sum",
              },
            },
          ],
          StartTime: new Date(T0),
          EndTime: new Date(T0 + 60_000),
        }),
      );
      return out.MetricDataResults?.[0]?.Values?.[0];
    };
    await vi.advanceTimersByTimeAsync(59_000);
    expect(await sum()).toBeUndefined(); // nothing ingested within the first minute
    await vi.advanceTimersByTimeAsync(61_000); // 2 minutes after T0: partly there
    const partial = await sum();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(60);
    await vi.advanceTimersByTimeAsync(120_000); // 4 minutes after T0: complete
    expect(await sum()).toBe(60);
  });
});

describe("a misspelt CloudWatch metric or dimension is a configuration error at once", () => {
  const withDims = (metricName: string, dimension: string): MetricInput => ({
    name: "own-5xx",
    provider: {
      cloudwatch: {
        metricDataQueries: [
          {
            id: "r",
            metricStat: {
              metric: {
                namespace: "AWS/ApplicationELB",
                metricName,
                dimensions: [
                  { name: dimension, value: "{{targetGroup}}" },
                  { name: "LoadBalancer", value: ALB_DIMENSION },
                ],
              },
              period: 60,
              stat: "Sum",
            },
          },
        ],
      },
    },
    successCondition: { op: "<=", threshold: 5 },
    interval: "1m",
    count: 5,
  });

  it("names a dimension CloudWatch does not have for that metric, after one sample", async () => {
    stop = bg.serve(cw);
    const sd = bg.deploy("app:2");
    bg.shift(sd, 5);
    await vi.advanceTimersByTimeAsync(360_000);
    const r = await onFakeTime(runAnalysis({ metrics: [withDims("RequestCount", "TargetGroupName")] }, deps(sd)));
    expect(r.phase).toBe("Failed");
    expect(r.measurements).toHaveLength(1);
    expect(r.cause).toBe(
      "own-5xx: query r: no AWS/ApplicationELB RequestCount has the dimensions {TargetGroupName, LoadBalancer}; it has {LoadBalancer, TargetGroup}",
    );
    expect(r.hint).toMatch(/dimension names are case-sensitive/);
  });

  it("names a metric nobody publishes, and leaves a count published only when non-zero (inside FILL) alone", async () => {
    stop = bg.serve(cw);
    const sd = bg.deploy("app:2");
    bg.shift(sd, 5);
    await vi.advanceTimersByTimeAsync(360_000);
    const r = await onFakeTime(runAnalysis({ metrics: [withDims("RequestCnt", "TargetGroup")] }, deps(sd)));
    expect(r.cause).toBe(
      "own-5xx: query r: CloudWatch has no metric AWS/ApplicationELB RequestCnt (none with datapoints in the past two weeks)",
    );
    expect(r.measurements).toHaveLength(1);
    // The default error rate: no 5xx has ever been published, and it passes on FILL(errors, 0).
    const ok = await onFakeTime(runAnalysis({ metrics: [errorRate()] }, deps(sd)));
    expect(ok.phase, ok.cause).toBe("Successful");
  });
});
