/**
 * Benchmark, not a test: how long after the app starts failing does the analysis say Failed (the
 * moment the deploy calls rollback)? Runs the real analysis loop against a real Prometheus
 * (scrape_interval 1s) and the fake app from test/helpers, flips the app to 5 % errors at a random
 * phase of the poll, and splits the delay into
 *   signal: first 5xx in the app -> the query crosses 1 % (scrape + rate() needing two samples)
 *   poll:   the query crosses    -> the analysis reports Failed (waiting for the next measurement)
 * Target: poll <= one interval; the total adds the signal delay, which the interval cannot shrink.
 *
 *   npx tsx scripts/bench-detection.ts [--intervals 1000,2000,5000] [--trials 3]
 *
 * Also run by `npx tsx scripts/bench-rollback.ts --prometheus`; without the flag that script measures the
 * whole way (detection, then traffic back), through the fake ECS on fake time.
 */
import { parseArgs } from "node:util";
import { setTimeout as delay } from "node:timers/promises";
import { DEFAULT_QUERIES, defaultMetrics, renderQuery, type MetricInput } from "../deploy/lib/deploy/analysis-config.js";
import { runAnalysis } from "../deploy/lib/deploy/analysis.js";
import { queryPrometheus } from "../deploy/lib/deploy/prometheus.js";
import { startFakeApp, startPrometheus } from "../test/helpers/prometheus.js";

const { values: args } = parseArgs({
  options: {
    intervals: { type: "string", default: "1000,2000,5000" },
    trials: { type: "string", default: "3" },
    prometheus: { type: "boolean", default: false }, // how bench-rollback.ts hands over to this one
  },
});
const intervals = (args.intervals ?? "").split(",").map(Number);
const trials = Number(args.trials);
const WINDOW = "5s";
const THRESHOLD = 0.01;

const app = await startFakeApp("demo");
const prom = await startPrometheus([app.target]);
const query = renderQuery(DEFAULT_QUERIES.errorRate, { service: "demo", window: WINDOW });
const errorRateNow = async () => (await queryPrometheus(prom.address, query).catch(() => []))[0]?.value ?? NaN;

/** Polls every 50 ms until `ok(value)`; returns when it first held. */
async function until(ok: (v: number) => boolean, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (ok(await errorRateNow())) return Date.now();
    await delay(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms; Prometheus log:\n${prom.log()}`);
}

const rows: string[][] = [];
try {
  await until((v) => v === 0, 20_000); // two scrapes in, healthy
  for (const interval of intervals) {
    for (let t = 1; t <= trials; t++) {
      app.set({ errorRate: 0 });
      await until((v) => v === 0, 20_000); // the last trial's errors have left the rate() window
      const metric = defaultMetrics({ service: "demo", address: prom.address, window: WINDOW, interval, count: 1000 })[0] as MetricInput;
      const analysis = runAnalysis({ metrics: [metric] }).then((r) => ({ r, at: Date.now() }));
      await delay(Math.random() * interval); // flip at a random phase of the poll
      app.set({ errorRate: 0.05 });
      const crossedAt = await until((v) => v > THRESHOLD, 30_000);
      const { r, at: failedAt } = await analysis;
      const firstError = app.firstErrorAt ?? NaN;
      const failedValue = r.measurements.find((m) => m.phase === "Failed")?.value;
      const poll = failedAt - crossedAt;
      rows.push([
        String(interval),
        String(t),
        r.phase,
        String(failedValue?.toFixed(4)),
        String(crossedAt - firstError),
        String(poll),
        String(failedAt - firstError),
        poll <= interval ? "yes" : "NO",
        failedAt - firstError <= interval ? "yes" : "no",
      ]);
    }
  }
} finally {
  await prom.stop();
  await app.close();
}

const head = ["interval", "trial", "phase", "value", "signal ms", "poll ms", "total ms", "poll<=int", "total<=int"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join("  ");
console.log(`rate() window ${WINDOW}, scrape_interval 1s, app at 5 % errors, fail above ${THRESHOLD * 100} %`);
console.log(line(head));
for (const r of rows) console.log(line(r));
for (const interval of intervals) {
  const mine = rows.filter((r) => r[0] === String(interval));
  const mean = (col: number) => Math.round(mine.reduce((s, r) => s + Number(r[col]), 0) / mine.length);
  console.log(`interval ${interval} ms: mean signal ${mean(4)} ms, mean poll ${mean(5)} ms, mean total ${mean(6)} ms`);
}
