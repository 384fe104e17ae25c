// Analysis: limit semantics with a scripted provider and a fake clock, then the real thing: a
// real Prometheus 2.x scraping a local app (scrape_interval 1s) whose error rate the test sets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as delay } from "node:timers/promises";
import { ConfigError } from "../../deploy/lib/config/errors.js";
import {
  DEFAULT_QUERIES,
  defaultMetrics,
  parseAnalysisConfig,
  renderQuery,
  type MetricInput,
} from "../../deploy/lib/deploy/analysis-config.js";
import { evaluate, runAnalysis, watchAfterDeploy, type AnalysisDeps, type MetricProvider } from "../../deploy/lib/deploy/analysis.js";
import { queryPrometheus } from "../../deploy/lib/deploy/prometheus.js";
import { startFakeApp, startPrometheus, type FakeApp, type PrometheusInstance } from "../helpers/prometheus.js";

const PROM = { prometheus: { address: "http://127.0.0.1:9", query: "up" } };
const metric = (over: Partial<MetricInput> = {}): MetricInput => ({
  name: "m",
  provider: PROM,
  successCondition: { op: "<=", threshold: 1 },
  interval: 1000,
  count: 5,
  ...over,
});

/** Each measurement takes the next scripted answer: a number list, [] (no data) or an Error. */
function scripted(...answers: (number[] | Error)[]): MetricProvider {
  return {
    measure: async () => {
      const a = answers.shift() ?? [0];
      if (a instanceof Error) throw a;
      return a;
    },
  };
}
function fakeClock(provider: MetricProvider): AnalysisDeps {
  let t = Date.parse("2026-11-23T10:00:00Z");
  return { now: () => t, sleep: async (ms) => void (t += ms), providerFor: () => provider };
}

describe("analysis semantics", () => {
  it("fails once failed measurements exceed failureLimit, recording each value", async () => {
    const r = await runAnalysis({ metrics: [metric({ failureLimit: 1 })] }, fakeClock(scripted([0.5], [2], [0.4], [3])));
    expect(r.phase).toBe("Failed");
    expect(r.measurements.map((m) => [m.phase, m.value, m.at])).toEqual([
      ["Successful", 0.5, "2026-11-23T10:00:00.000Z"],
      ["Failed", 2, "2026-11-23T10:00:01.000Z"],
      ["Successful", 0.4, "2026-11-23T10:00:02.000Z"],
      ["Failed", 3, "2026-11-23T10:00:03.000Z"],
    ]);
    expect(r.cause).toBe("m: measured 3 (needs <= 1), 2 failed measurement(s) > failureLimit 1");
  });

  it("counts only consecutive errors, and fails past consecutiveErrorLimit", async () => {
    const boom = new Error("connection refused");
    const ok = await runAnalysis({ metrics: [metric({ consecutiveErrorLimit: 1 })] }, fakeClock(scripted(boom, [0], boom, [0], boom)));
    expect(ok.phase).toBe("Successful");
    const bad = await runAnalysis({ metrics: [metric({ consecutiveErrorLimit: 1 })] }, fakeClock(scripted([0], boom, boom)));
    expect(bad).toMatchObject({ phase: "Failed", cause: "m: 2 consecutive errors > consecutiveErrorLimit 1: connection refused" });
    expect(bad.hint).toContain("could not measure");
  });

  it("never passes on no data: NaN or empty is Inconclusive, even within inconclusiveLimit", async () => {
    const over = await runAnalysis({ metrics: [metric()] }, fakeClock(scripted([NaN])));
    expect(over.phase).toBe("Inconclusive");
    const within = await runAnalysis({ metrics: [metric({ count: 2, inconclusiveLimit: 5 })] }, fakeClock(scripted([], [])));
    expect(within).toMatchObject({ phase: "Inconclusive", cause: "m: no successful measurement" });
  });

  it("judges the worst series and stops the other metrics once one fails", async () => {
    expect(evaluate([0.1, 5, NaN], { op: "<=", threshold: 1 })).toEqual({ phase: "Failed", value: 5 });
    expect(evaluate([0.99, 0.5], { op: ">=", threshold: 0.95 })).toEqual({ phase: "Failed", value: 0.5 });
    const providers: Record<string, MetricProvider> = { a: scripted([5]), b: scripted([0], [0], [0], [0], [0]) };
    const deps = { ...fakeClock(scripted()), providerFor: (m: { name: string }) => providers[m.name] ?? scripted() };
    const r = await runAnalysis({ metrics: [metric({ name: "a", initialDelay: 1500 }), metric({ name: "b" })] }, deps);
    expect(r.phase).toBe("Failed");
    // a failed at 1.5 s, so b never got to its five measurements
    expect(r.measurements.filter((m) => m.metric === "b").length).toBeLessThan(5);
    expect(r.metrics[1]?.cause).toMatch(/^b: \d of \d measurements passed \(needs <= 1\) \(stopped after \d\)$/);
  });

  it("watches for the whole window after the deploy", async () => {
    const answers = [[0], [0], [0], [0], [0.5], [0]];
    const r = await watchAfterDeploy(
      { metrics: [metric({ interval: "1m", count: 1 })], watchWindow: "5m" },
      fakeClock(scripted(...answers)),
    );
    expect(r.measurements.length).toBe(6);
    const late = await watchAfterDeploy({ metrics: [metric({ interval: "1m" })] }, fakeClock(scripted([0], [0], [0], [0], [7])));
    expect(late.phase).toBe("Failed"); // a breach 4 minutes after the deploy still fails it
  });

  it("validates config and fills the default query templates", () => {
    expect(() => parseAnalysisConfig({ metrics: [metric({ interval: "soon" })] })).toThrow(ConfigError);
    const cfg = parseAnalysisConfig({ metrics: defaultMetrics({ service: "shop", address: "http://prom:9090" }) });
    expect(cfg.metrics[0]).toMatchObject({ interval: 60_000, count: 5, failureLimit: 0, consecutiveErrorLimit: 4, inconclusiveLimit: 0 });
    expect(cfg.watchWindow).toBe(300_000);
    expect(DEFAULT_QUERIES.errorRate).toContain('status=~"5.."');
    expect(renderQuery('x{service="{{service}}"}', { service: 'a"b' })).toBe('x{service="a\\"b"}');
    expect(() => renderQuery("{{nope}}", {})).toThrow(/nope/);
  });

  it("dispatches cloudwatch metrics to CloudWatch, which needs a client (see cloudwatch.test.ts)", async () => {
    const cloudwatch = {
      metricDataQueries: [
        {
          id: "e",
          metricStat: { metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count" }, period: 60, stat: "Sum" },
        },
      ],
    };
    const r = await runAnalysis({ metrics: [metric({ provider: { cloudwatch } })] }).catch((e: unknown) => e);
    expect(String(r)).toMatch(/metric m reads CloudWatch, but no CloudWatch client was given/);
  });

  it("takes a provider's message and fails at once on a fatal error", async () => {
    const fatal = Object.assign(new Error("the AWS role lacks x:Y"), { fatal: true, hint: "allow x:Y" });
    const noted: MetricProvider = { measure: async () => ({ values: [], message: "alarm a is INSUFFICIENT_DATA" }) };
    const r = await runAnalysis({ metrics: [metric({ count: 1 })] }, fakeClock(noted));
    expect(r.measurements[0]).toMatchObject({ phase: "Inconclusive", message: "alarm a is INSUFFICIENT_DATA" });
    const dead = await runAnalysis({ metrics: [metric({ consecutiveErrorLimit: 4 })] }, fakeClock(scripted(fatal, [0])));
    expect(dead).toMatchObject({ phase: "Failed", cause: "m: the AWS role lacks x:Y", hint: "allow x:Y" });
    expect(dead.measurements).toHaveLength(1);
  });
});

describe("analysis against a real Prometheus", () => {
  let app: FakeApp;
  let prom: PrometheusInstance;
  const window = "5s"; // five scrapes: enough for rate(), short enough to follow the app quickly
  const errorRate = () => defaultMetrics({ service: "demo", address: prom.address, window, interval: 500, count: 20 })[0] as MetricInput;

  beforeAll(async () => {
    app = await startFakeApp("demo");
    prom = await startPrometheus([app.target]);
    // Real waiting, once: until two scrapes made the default error-rate query answer.
    const query = renderQuery(DEFAULT_QUERIES.errorRate, { service: "demo", window });
    const deadline = Date.now() + 20_000;
    while ((await queryPrometheus(prom.address, query).catch(() => [])).filter((s) => !Number.isNaN(s.value)).length === 0) {
      if (Date.now() > deadline) throw new Error(`no data from Prometheus after 20 s:\n${prom.log()}`);
      await delay(250);
    }
  });
  afterAll(async () => {
    await prom?.stop();
    await app?.close();
  });

  it("passes a healthy app on the default queries", async () => {
    const metrics = defaultMetrics({ service: "demo", address: prom.address, window, interval: 300, count: 3 });
    const r = await runAnalysis({ metrics });
    expect(r.phase, r.cause).toBe("Successful");
    const values = Object.fromEntries(r.measurements.map((m) => [m.metric, m.value]));
    expect(values["error-rate"]).toBe(0);
    expect(values["p95-latency"]).toBeCloseTo(0.0975, 3); // 0.08 s lands in (0.05, 0.1]: interpolated
  });

  it("fails when the error rate rises to 5 %, with the measured value in the record", async () => {
    app.set({ errorRate: 0.05 });
    const r = await runAnalysis({ metrics: [errorRate()] });
    app.set({ errorRate: 0 });
    expect(r.phase).toBe("Failed");
    const failed = r.measurements.find((m) => m.phase === "Failed");
    expect(failed?.value).toBeGreaterThan(0.01);
    expect(failed?.value).toBeLessThanOrEqual(0.06);
    expect(r.cause).toMatch(/^error-rate: measured 0\.0\d+ \(needs <= 0\.01\)/);
  });

  it("fails when p95 latency goes above 2 s", async () => {
    app.set({ latencySeconds: 3 });
    const p95 = defaultMetrics({ service: "demo", address: prom.address, window, interval: 500, count: 20 })[1] as MetricInput;
    const r = await runAnalysis({ metrics: [p95] });
    app.set({ latencySeconds: 0.08 });
    expect(r.phase).toBe("Failed");
    expect(r.measurements.at(-1)?.value).toBeGreaterThan(2);
  });

  it("is Inconclusive, not Successful, for a metric that does not exist", async () => {
    const ghost = defaultMetrics({ service: "no-such-service", address: prom.address, window, interval: 200, count: 3 });
    const r = await runAnalysis({
      metrics: [
        ...ghost,
        {
          ...errorRate(),
          name: "ghost",
          provider: { prometheus: { address: prom.address, query: "sum(rate(does_not_exist_total[5s]))" } },
        },
      ],
    });
    expect(r.phase).toBe("Inconclusive");
    expect(r.metrics.map((m) => m.phase)).toEqual(["Inconclusive", "Inconclusive", "Inconclusive"]);
    expect(r.measurements.every((m) => m.phase === "Inconclusive" && m.value === null)).toBe(true);
    expect(r.hint).toContain("no data");
  });

  it("records bad PromQL as an Error carrying Prometheus' message, and fails at once (a configuration error, no retries)", async () => {
    const bad = {
      ...errorRate(),
      consecutiveErrorLimit: 4,
      provider: { prometheus: { address: prom.address, query: "sum(rate(http_requests_total[5s])" } },
    };
    const r = await runAnalysis({ metrics: [bad] });
    expect(r.phase).toBe("Failed");
    expect(r.measurements[0]).toMatchObject({ phase: "Error", value: null });
    expect(r.measurements[0]?.message).toMatch(/^Prometheus rejected the query \(400 bad_data\): .*parse error/);
    expect(r.measurements).toHaveLength(1);
    expect(r.hint).toMatch(/^fix the PromQL/);
  });

  it("fails after consecutiveErrorLimit errors once Prometheus is gone", async () => {
    await prom.stop();
    const r = await runAnalysis({ metrics: [{ ...errorRate(), interval: 100, consecutiveErrorLimit: 2 }] });
    expect(r.phase).toBe("Failed");
    expect(r.measurements.map((m) => m.phase)).toEqual(["Error", "Error", "Error"]);
    expect(r.cause).toMatch(/3 consecutive errors > consecutiveErrorLimit 2: Prometheus at .* is unreachable: connection refused/);
  });
});
