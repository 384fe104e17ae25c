// monitor against real local HTTP servers (the service's health route, a webhook receiver), a real
// Prometheus scraping a local app, and the stateful fake GitHub: one incident per environment,
// opened, commented, closed with its duration, and notified on open and close only.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { DEFAULT_QUERIES, renderQuery } from "../../deploy/lib/deploy/analysis-config.js";
import { queryPrometheus } from "../../deploy/lib/deploy/prometheus.js";
import { readMarker } from "../../deploy/lib/github/incident-marker.js";
import { monitorEnvironment, type MonitorRequest } from "../../deploy/lib/monitor/monitor.js";
import { FakeGithub } from "../github/fake-github.js";
import { startFakeApp, startPrometheus, type FakeApp, type PrometheusInstance } from "../helpers/prometheus.js";
import { closeAll, receiver, virtualClock, type Receiver } from "../notify/receiver.js";
import { productionYaml } from "./config.js";

let gh: FakeGithub;
let hook: Receiver;
let server: Server;
let healthy = true;
let base = "";
const T0 = Date.parse("2026-11-20T10:00:00Z");
let time: ReturnType<typeof virtualClock>;

beforeEach(async () => {
  gh = await new FakeGithub().start();
  hook = await receiver();
  healthy = true;
  time = virtualClock(T0);
  gh.now = time.clock.now;
  server = createServer((req, res) => {
    res.writeHead(healthy && req.url === "/healthz" ? 200 : 503, { connection: "close" }).end(healthy ? "ok" : "down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await gh.stop();
  await closeAll();
  await new Promise((resolve) => server.close(resolve));
});

const yaml = (extra = "") =>
  productionYaml(
    gh.apiUrl,
    `{ baseUrl: "${base}", checks: [{ name: health, path: /healthz, retries: 2, backoff: { initialMs: 10, maxMs: 10 } }] }`,
    extra,
  );
const request = (over: Partial<MonitorRequest> = {}, config = yaml()): MonitorRequest => ({
  config: parseConfig(config).config,
  environment: "production",
  repository: "acme/shop",
  token: gh.token,
  notify: { webhook: hook.url },
  runUrl: "https://github.com/acme/shop/actions/runs/77",
  incident: { clock: time.clock, random: () => 0.5 },
  ...over,
});
const sent = () => hook.received.map((r) => JSON.parse(r.body) as { result: string; reason: string; environment: string });

describe("monitorEnvironment", () => {
  it("opens one incident on failure, comments while it lasts, closes it when healthy with its duration; notifies open and close", async () => {
    const ok = await monitorEnvironment(request());
    expect(ok.verdict).toMatchObject({ status: "passed", summary: "production is healthy: smoke passed; no incident open" });
    expect(gh.issues.list("acme/shop")).toEqual([]);
    expect(hook.received).toEqual([]);

    healthy = false;
    const down = await monitorEnvironment(request());
    expect(down.verdict.status).toBe("failed");
    expect(down.verdict.cause).toBe("smoke checks failed: GET /healthz answered 503 after 2 attempts");
    expect(down.verdict.summary).toMatch(/; incident #9 opened$/);
    expect(down.verdict.hint).toMatch(/follow https:\/\/github.com\/acme\/shop\/issues\/9 and docs\/RUNBOOKS.md \(Production incident\)$/);
    const [issue] = gh.issues.list("acme/shop");
    expect(issue).toMatchObject({ title: "Shipshape: production is unhealthy", state: "open" });
    expect(issue!.body).toMatch(/\n## production is unhealthy\n[\s\S]*\| smoke \| failed \| production: GET \/healthz answered 503/);
    expect(readMarker(issue!.body ?? "")).toMatchObject({ environment: "production", kind: "health" });
    expect(sent()).toEqual([expect.objectContaining({ environment: "production", result: "failed" })]);
    expect(sent()[0]).toMatchObject({
      schema: "shipshape.incident/v1",
      headline: "production is unhealthy (incident #9 opened)",
      incident: { kind: "health", action: "opened", issue: { number: 9, url: "https://github.com/acme/shop/issues/9" } },
    });
    expect(sent()[0]!.reason).toMatch(/^smoke checks failed: /);

    time.clock.now = () => T0 + 15 * 60_000;
    const still = await monitorEnvironment(request());
    expect(still.verdict.summary).toMatch(/; incident #9 commented$/);
    expect(gh.issues.list("acme/shop")).toHaveLength(1);
    expect(gh.list("acme/shop", 9)).toHaveLength(1);
    expect(hook.received).toHaveLength(1); // a comment is not news

    healthy = true;
    time.clock.now = () => T0 + 42 * 60_000;
    const back = await monitorEnvironment(request());
    expect(back.verdict).toMatchObject({ status: "passed" });
    expect(back.verdict.summary).toBe("production is healthy: smoke passed; incident #9 closed after 42 min");
    expect(gh.issues.find("acme/shop", 9)).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(sent()[1]).toMatchObject({ result: "succeeded" });
    expect(sent()[1]).toMatchObject({
      headline: "production healthy again after 42m (incident #9 closed)",
      incident: { kind: "health", action: "closed", durationSeconds: 42 * 60 },
    });
    expect(sent()[1]!.reason).toMatch(/^smoke passed/);
    expect(JSON.parse(back.files["monitor.json"]!)).toMatchObject({
      health: "healthy",
      incident: { action: "closed", durationSeconds: 2520 },
    });
  });

  it("keeps the outage visible when GitHub refuses the issue: failed, with the permission to grant", async () => {
    healthy = false;
    gh.readOnly = true;
    const r = await monitorEnvironment(request());
    expect(r.verdict.status).toBe("failed");
    expect(r.verdict.summary).toMatch(/incident not updated: the GitHub token may not write incident issues on acme\/shop/);
    expect(r.verdict.hint).toMatch(/issues: write/);
    expect(hook.received).toEqual([]);
  });

  it("is an error, not a pass, when healthy but the token cannot read the issues", async () => {
    const r = await monitorEnvironment(request({ token: "ghs_wrong" }));
    expect(r.verdict).toMatchObject({ status: "error", cause: "incident not updated: GitHub rejected the token (401: Bad credentials)" });
    expect(r.verdict.hint).toMatch(/token/);
  });

  it("refuses an environment with nothing to watch, and an unknown one, naming the fix", async () => {
    const bare = `notifications:\n  github: { apiUrl: "${gh.apiUrl}" }\nenvironments:\n  production: { cluster: main, service: api, region: us-east-1, containerName: app }\n`;
    await expect(monitorEnvironment(request({}, bare))).rejects.toThrow(
      /^environment production has no smoke checks or analysis to monitor\nhint: add environments.production.smoke/,
    );
    await expect(monitorEnvironment(request({ environment: "prod" }))).rejects.toThrow('unknown environment "prod" (known: production)');
  });
});

describe("monitorEnvironment with an analysis against a real Prometheus", () => {
  let app: FakeApp;
  let prom: PrometheusInstance;
  beforeAll(async () => {
    app = await startFakeApp("shop");
    prom = await startPrometheus([app.target]);
    const query = renderQuery(DEFAULT_QUERIES.errorRate, { service: "shop", window: "5s" });
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
  const analysis = () => `    analysis:
      metrics:
        - name: error-rate
          provider: { prometheus: { address: "${prom.address}", query: 'sum(rate(http_requests_total{service="shop",status=~"5.."}[5s])) / sum(rate(http_requests_total{service="shop"}[5s]))' } }
          successCondition: { op: "<=", threshold: 0.01 }
          interval: 300ms
          count: 3
`;

  it("leaves an open incident alone when the analysis has no data: an ERROR, neither healthy nor down", async () => {
    healthy = false;
    await monitorEnvironment(request());
    healthy = true;
    const ghost = analysis().replace(/service="shop"/g, 'service="ghost"');
    const r = await monitorEnvironment(request({}, yaml(ghost)));
    expect(r.verdict.status).toBe("error");
    expect(r.verdict.cause).toMatch(/^production: analysis inconclusive: error-rate: .*; the incident was left as it is$/);
    expect(gh.issues.find("acme/shop", 9)?.state).toBe("open");
    expect(gh.list("acme/shop", 9)).toEqual([]);
    expect(sent().map((e) => e.result)).toEqual(["failed"]);
  });

  it("opens the incident when the error rate breaches with the smoke checks passing, and closes it once it recovers", async () => {
    app.set({ errorRate: 0.2 });
    await delay(6000); // the 5 s rate window fills with errors
    const bad = await monitorEnvironment(request({}, yaml(analysis())));
    expect(bad.verdict.status, bad.verdict.summary).toBe("failed");
    expect(bad.verdict.cause).toMatch(/^analysis failed: error-rate: measured 0\.\d+ \(needs <= 0\.01\)/);
    expect(gh.issues.list("acme/shop")).toHaveLength(1);
    app.set({ errorRate: 0 });
    await delay(6000);
    const good = await monitorEnvironment(request({}, yaml(analysis())));
    expect(good.verdict.summary).toMatch(/^production is healthy: smoke and analysis passed; incident #9 closed/);
    expect(sent().map((e) => e.result)).toEqual(["failed", "succeeded"]);
  });
});
