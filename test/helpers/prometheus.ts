/**
 * A real Prometheus (Debian's, from .ci/install-prometheus.sh) scraping a small local app whose
 * error rate and latency the caller sets. Shared by the deploy, smoke and notify tests and
 * scripts/bench-detection.ts. Loopback only; each instance has its own config, storage and port.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REQUESTS_PER_TICK = 10;
const TICK_MS = 100;

export interface FakeApp {
  /** host:port, for a scrape target. */
  target: string;
  set(state: { errorRate?: number; latencySeconds?: number }): void;
  /** When the app served its first 5xx since the last set() that raised the error rate (epoch ms). */
  firstErrorAt: number | null;
  close(): Promise<void>;
}

/**
 * Simulates REQUESTS_PER_TICK requests every TICK_MS with the current error rate and latency and
 * exposes them in the Prometheus text format. Like a real client library, the 5xx series only
 * appears once there has been a 5xx, which is what DEFAULT_QUERIES' `or vector(0)` is for.
 */
export interface FakeAppOptions {
  /** More labels on every series, e.g. { revision: "app:7" } for per-revision queries. */
  labels?: Record<string, string>;
  /** Requests per 100 ms tick (default 10): a canary's small share of the traffic. */
  requestsPerTick?: number;
}

export async function startFakeApp(service = "demo", opts: FakeAppOptions = {}): Promise<FakeApp> {
  const perTick = opts.requestsPerTick ?? REQUESTS_PER_TICK;
  let state = { errorRate: 0, latencySeconds: 0.08 };
  const counts = { ok: 0, err: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
  let errorDebt = 0; // fractional errors carried over, so 5 % is exactly 5 % over any second
  const app: FakeApp = {
    target: "",
    firstErrorAt: null,
    set(next) {
      if ((next.errorRate ?? 0) > state.errorRate) app.firstErrorAt = null;
      state = { ...state, ...next };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const tick = setInterval(() => {
    errorDebt += perTick * state.errorRate;
    const errors = Math.floor(errorDebt);
    errorDebt -= errors;
    if (errors > 0) app.firstErrorAt ??= Date.now();
    counts.err += errors;
    counts.ok += perTick - errors;
    counts.sum += perTick * state.latencySeconds;
    BUCKETS.forEach((le, i) => {
      if (state.latencySeconds <= le) counts.buckets[i] = (counts.buckets[i] ?? 0) + perTick;
    });
  }, TICK_MS);
  const server = createHttpServer((req, res) => {
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    const extra = Object.entries(opts.labels ?? {}).map(([k, v]) => `,${k}="${v}"`);
    const l = `service="${service}"${extra.join("")}`;
    const total = counts.ok + counts.err;
    const lines = [
      "# TYPE http_requests_total counter",
      `http_requests_total{${l},status="200"} ${counts.ok}`,
      ...(counts.err > 0 ? [`http_requests_total{${l},status="500"} ${counts.err}`] : []),
      "# TYPE http_request_duration_seconds histogram",
      ...BUCKETS.map((le, i) => `http_request_duration_seconds_bucket{${l},le="${le}"} ${counts.buckets[i] ?? 0}`),
      `http_request_duration_seconds_bucket{${l},le="+Inf"} ${total}`,
      `http_request_duration_seconds_sum{${l}} ${counts.sum}`,
      `http_request_duration_seconds_count{${l}} ${total}`,
    ];
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(lines.join("\n") + "\n");
  });
  server.on("close", () => clearInterval(tick));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  app.target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return app;
}

export interface PrometheusInstance {
  address: string;
  /** Prometheus' own log so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

export async function startPrometheus(targets: string[], scrapeInterval = "1s"): Promise<PrometheusInstance> {
  if (spawnSync("prometheus", ["--version"]).error !== undefined)
    throw new Error("prometheus is not installed or not on PATH: run .ci/install-prometheus.sh (as root)");
  const dir = await mkdtemp(join(tmpdir(), "shipshape-prom-"));
  const config = [
    "global:",
    `  scrape_interval: ${scrapeInterval}`,
    `  evaluation_interval: ${scrapeInterval}`,
    "scrape_configs:",
    "  - job_name: app",
    "    static_configs:",
    `      - targets: ${JSON.stringify(targets)}`,
  ].join("\n");
  await writeFile(join(dir, "prometheus.yml"), config + "\n");
  const port = await freePort();
  const args = [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ];
  const child: ChildProcess = spawn("prometheus", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      // SIGKILL if the TSDB takes too long to close; the tmp dir goes either way.
      if ((await Promise.race([exited.then(() => true), delay(5000, false)])) === false) child.kill("SIGKILL");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}:\n${log}`);
    const ready = await fetch(`${address}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { address, log: () => log, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready in 20 s:\n${log}`);
    }
    await delay(100);
  }
}
