// Per-revision analysis against a real Prometheus: a canary app (app:8, a twentieth of the
// traffic) next to its baseline (app:7), both scraped every second. Service-wide, the canary's
// 15 % errors read 0.75 % and pass a 1 % threshold; judged on its own traffic they fail, and
// against the baseline too. Broken queries are configuration errors at once; 5xx stays transient.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultMetrics, type MetricInput } from "../../deploy/lib/deploy/analysis-config.js";
import { runAnalysis, type AnalysisContext } from "../../deploy/lib/deploy/analysis.js";
import { queryPrometheus } from "../../deploy/lib/deploy/prometheus.js";
import { startFakeApp, startPrometheus, type FakeApp, type PrometheusInstance } from "../helpers/prometheus.js";

const window = "5s";
const context: AnalysisContext = { targets: async () => ({ canary: { revision: "app:8" }, baseline: { revision: "app:7" } }) };

let canary: FakeApp;
let baseline: FakeApp;
let prom: PrometheusInstance;

const errorRate = (o: { revisionLabel?: string; count?: number } = {}): MetricInput => ({
  ...(defaultMetrics({ service: "shop", address: prom.address, window, interval: 400, count: o.count ?? 6, ...o })[0] as MetricInput),
});
const promql = (query: string, requestsQuery?: string): MetricInput["provider"] => ({
  prometheus: { address: prom.address, query, ...(requestsQuery ? { requestsQuery } : {}) },
});

beforeAll(async () => {
  canary = await startFakeApp("shop", { labels: { revision: "app:8" }, requestsPerTick: 1 });
  baseline = await startFakeApp("shop", { labels: { revision: "app:7" }, requestsPerTick: 19 });
  canary.set({ errorRate: 0.15 });
  prom = await startPrometheus([canary.target, baseline.target]);
  // Real waiting, once: until both revisions have a rate.
  const deadline = Date.now() + 30_000;
  const q = `sum by (revision) (rate(http_requests_total{service="shop"}[${window}]))`;
  while ((await queryPrometheus(prom.address, q).catch(() => [])).filter((s) => s.value > 0).length < 2) {
    if (Date.now() > deadline) throw new Error(`no data from Prometheus after 30 s:\n${prom.log()}`);
    await delay(250);
  }
  await delay(5000); // a full rate() window of both
});
afterAll(async () => {
  await prom?.stop();
  await canary?.close();
  await baseline?.close();
});

describe("judging the new revision's own traffic", () => {
  it("service-wide, a 5 % canary at 15 % errors reads under 1 % and passes: the dilution this fixes", async () => {
    const r = await runAnalysis({ metrics: [errorRate({ count: 3 })] });
    expect(r.phase, r.cause).toBe("Successful");
    const worst = Math.max(...r.measurements.map((m) => m.value ?? 0));
    expect(worst).toBeGreaterThan(0.003);
    expect(worst).toBeLessThan(0.01);
  });

  it("per revision ({{revision}} from the context), the canary's own 15 % fails, naming canary and baseline", async () => {
    const r = await runAnalysis({ metrics: [errorRate({ revisionLabel: "revision" })] }, { context });
    expect(r.phase).toBe("Failed");
    const failed = r.measurements.find((m) => m.phase === "Failed");
    expect(failed?.value).toBeGreaterThan(0.1);
    expect(failed?.baseline).toBe(0);
  });

  it("fails on the comparison alone when the canary is within the absolute threshold but far worse than the baseline", async () => {
    canary.set({ errorRate: 0.04 });
    baseline.set({ errorRate: 0.005 });
    await delay(5500);
    const q = `(sum(rate(http_requests_total{service="shop",revision="{{revision}}",status=~"5.."}[${window}])) or vector(0)) / sum(rate(http_requests_total{service="shop",revision="{{revision}}"}[${window}]))`;
    const m: MetricInput = {
      name: "own-errors",
      provider: promql(q),
      successCondition: { op: "<=", threshold: 0.1 },
      compare: { maxRatio: 2, tolerance: 0.002 },
      interval: 400,
      count: 6,
    };
    const r = await runAnalysis({ metrics: [m] }, { context });
    canary.set({ errorRate: 0.15 });
    baseline.set({ errorRate: 0 });
    expect(r.phase).toBe("Failed");
    expect(r.cause).toMatch(/canary app:8 0\.0\d+ vs baseline app:7 0\.00\d+: worse than 0\.0\d+/);
  });

  it("below minRequests (requestsQuery, one number per revision) a sample is not enough traffic, and the window inconclusive", async () => {
    const req = `sum(increase(http_requests_total{service="shop",revision="{{revision}}"}[${window}]))`;
    const m: MetricInput = {
      name: "own-errors",
      provider: promql(`sum(rate(http_requests_total{service="shop",revision="{{revision}}",status=~"5.."}[${window}])) or vector(0)`, req),
      successCondition: { op: "<=", threshold: 0.01 },
      minRequests: 1000, // the canary serves ~10 a second: ~50 in the window
      interval: 300,
      count: 3,
    };
    const r = await runAnalysis({ metrics: [m] }, { context });
    expect(r.measurements.map((x) => x.phase)).toEqual(["Insufficient", "Insufficient", "Insufficient"]);
    expect(r.measurements[0]?.requests).toBeGreaterThan(20);
    expect(r.measurements[0]?.requests).toBeLessThan(1000);
    expect(r.phase).toBe("Inconclusive");
  });
});

describe("a broken query is a configuration error at once", () => {
  const at = (query: string, requestsQuery?: string): MetricInput => ({
    name: "broken",
    provider: promql(query, requestsQuery),
    successCondition: { op: "<=", threshold: 1 },
    interval: 200,
    count: 5,
    consecutiveErrorLimit: 4,
  });

  it("a parse error (400 bad_data) fails after one sample, naming the check and the query", async () => {
    const r = await runAnalysis({ metrics: [at("sum(rate(http_requests_total[5s])")] });
    expect(r.phase).toBe("Failed");
    expect(r.measurements).toHaveLength(1);
    expect(r.cause).toMatch(
      /^broken: Prometheus rejected the query \(400 bad_data\): .*parse error.*; query "sum\(rate\(http_requests_total\[5s\]\)"$/,
    );
    expect(r.hint).toMatch(/^fix the PromQL/);
  });

  it("a range vector where a number is needed, and several series where one count is needed, are fatal too", async () => {
    const range = await runAnalysis({ metrics: [at("http_requests_total[5s]")] });
    expect(range).toMatchObject({ phase: "Failed", hint: expect.stringMatching(/wrap range vectors/) });
    expect(range.cause).toMatch(/^broken: the query returns a range vector, not a number: "http_requests_total\[5s\]"$/);
    expect(range.measurements).toHaveLength(1);
    const many = await runAnalysis({
      metrics: [{ ...at("vector(0)", "sum by (revision) (increase(http_requests_total[5s]))"), minRequests: 1 }],
    });
    expect(many.phase).toBe("Failed");
    expect(many.cause).toMatch(/^broken: the query returns 2 series where one number is needed/);
    expect(many.measurements).toHaveLength(1);
  });

  it("a 5xx stays transient: counted against consecutiveErrorLimit, not fatal", async () => {
    let server: Server | undefined;
    try {
      server = createServer((_req, res) =>
        res
          .writeHead(503, { "content-type": "application/json" })
          .end(JSON.stringify({ status: "error", errorType: "unavailable", error: "overloaded" })),
      );
      await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
      const address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await runAnalysis({
        metrics: [{ ...at("up"), provider: { prometheus: { address, query: "up" } }, interval: 50, consecutiveErrorLimit: 2 }],
      });
      expect(r.measurements.map((m) => m.phase)).toEqual(["Error", "Error", "Error"]);
      expect(r.cause).toBe(
        "broken: 3 consecutive errors > consecutiveErrorLimit 2: Prometheus rejected the query (503 unavailable): overloaded",
      );
    } finally {
      await new Promise((resolve) => server?.close(resolve));
    }
  });
});
