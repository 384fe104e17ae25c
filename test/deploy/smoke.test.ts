// Smoke checks against real node:http servers on loopback; only the backoff sleep is fake, so
// retries are instant but every request, timeout and refused connection is real.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../deploy/lib/config/errors.js";
import { backoffMs, runSmokeChecks, type SmokeProgress } from "../../deploy/lib/deploy/smoke.js";
import { freePort } from "../helpers/prometheus.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A service whose health the test flips; counts requests. */
async function service(initial: { status: number; body?: string; delayMs?: number }) {
  const state = { ...initial, hits: 0, headers: [] as IncomingMessage["headers"][] };
  const baseUrl = await serve((req, res) => {
    state.hits++;
    state.headers.push(req.headers);
    setTimeout(
      () => res.writeHead(state.status, { "content-type": "application/json" }).end(state.body ?? '{"status":"ok"}'),
      state.delayMs ?? 0,
    );
  });
  return { state, baseUrl };
}

/** Fake sleep that records delays and can change the world between attempts. */
function fakeSleep(onSleep: (n: number) => void = () => {}) {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void onSleep(delays.push(ms)) };
}
const noJitter = () => 0.5;

describe("runSmokeChecks", () => {
  it("passes a healthy service on the first attempt and sends the extra headers", async () => {
    const { state, baseUrl } = await service({ status: 200 });
    const { delays, sleep } = fakeSleep();
    const v = await runSmokeChecks([{ name: "health", path: "/healthz", bodyMatch: '"status":"ok"' }], {
      baseUrl,
      headers: { "x-amzn-ecs-blue-green-test": "1" },
      sleep,
    });
    expect(v).toMatchObject({ passed: true, cause: "all 1 smoke checks passed", hint: "" });
    expect(v.results[0]).toMatchObject({ name: "health", passed: true, attempts: 1, lastStatus: 200, lastError: null });
    expect(delays).toEqual([]);
    expect(state.headers[0]?.["x-amzn-ecs-blue-green-test"]).toBe("1");
  });

  it("retries a service that turns healthy mid-run, with exponential backoff", async () => {
    const { state, baseUrl } = await service({ status: 503 });
    const progress: SmokeProgress[] = [];
    const { delays, sleep } = fakeSleep((n) => {
      if (n === 2) state.status = 200; // healthy from the third attempt on
    });
    const v = await runSmokeChecks([{ name: "health", path: "/healthz" }], {
      baseUrl,
      sleep,
      random: noJitter,
      onProgress: (p) => progress.push(p),
    });
    expect(v.passed).toBe(true);
    expect(v.results[0]).toMatchObject({ attempts: 3, lastStatus: 200 });
    expect(delays).toEqual([1000, 2000]);
    expect(progress.map((p) => [p.attempt, p.ok, p.detail, p.retryInMs])).toEqual([
      [1, false, "answered 503, expected 200", 1000],
      [2, false, "answered 503, expected 200", 2000],
      [3, true, "answered 200", undefined],
    ]);
  });

  it("fails a service that turns unhealthy mid-run, naming the status and attempts", async () => {
    const { state, baseUrl } = await service({ status: 200 });
    const { delays, sleep } = fakeSleep();
    const checks = [
      { name: "health", path: "/healthz" },
      { name: "orders", path: "/api/orders", expectStatus: [200, 204] },
    ];
    const v = await runSmokeChecks(checks, {
      baseUrl,
      sleep,
      random: noJitter,
      onProgress: (p) => {
        if (p.check === "health") state.status = 503; // breaks right after the first check passed
      },
    });
    expect(v.passed).toBe(false);
    expect(v.cause).toBe("GET /api/orders answered 503 after 5 attempts");
    expect(v.hint).toContain("expected 200 or 204");
    expect(v.results.map((r) => [r.name, r.passed, r.attempts, r.lastStatus])).toEqual([
      ["health", true, 1, 200],
      ["orders", false, 5, 503],
    ]);
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    expect(state.hits).toBe(6);
  });

  it("times out a slow endpoint with AbortController", async () => {
    const { baseUrl } = await service({ status: 200, delayMs: 1000 });
    const started = Date.now();
    const v = await runSmokeChecks([{ name: "slow", path: "/slow", timeoutMs: 150, retries: 2 }], { baseUrl, sleep: fakeSleep().sleep });
    expect(Date.now() - started).toBeLessThan(900); // two 150 ms timeouts, not two 1 s answers
    expect(v.cause).toBe("GET /slow did not answer within 150 ms after 2 attempts");
    expect(v.results[0]).toMatchObject({ passed: false, attempts: 2, lastStatus: null, lastError: "no answer within 150 ms" });
    expect(v.results[0]?.durationMs).toBeGreaterThanOrEqual(290);
  });

  it("fails on a wrong body even when the status is right", async () => {
    const { baseUrl } = await service({ status: 200, body: '{"status":"degraded"}' });
    const v = await runSmokeChecks([{ name: "health", path: "/healthz", bodyMatch: '"status":"ok"', retries: 2 }], {
      baseUrl,
      sleep: fakeSleep().sleep,
    });
    expect(v.cause).toBe('GET /healthz answered 200 but the body did not match /"status":"ok"/ after 2 attempts');
    expect(v.hint).toContain('{\\"status\\":\\"degraded\\"}');
  });

  it("reports a refused connection in plain words", async () => {
    const baseUrl = `http://127.0.0.1:${await freePort()}`; // nothing listens there any more
    const v = await runSmokeChecks([{ name: "health", path: "/healthz", retries: 3 }], {
      baseUrl,
      sleep: fakeSleep().sleep,
      random: noJitter,
    });
    expect(v.cause).toBe("GET /healthz failed after 3 attempts: connection refused (ECONNREFUSED)");
    expect(v.hint).toContain(baseUrl);
    expect(v.results[0]).toMatchObject({ attempts: 3, lastStatus: null, lastError: "connection refused (ECONNREFUSED)" });
  });

  it("keeps a path prefix in the base URL and does not follow redirects", async () => {
    const seen: string[] = [];
    const baseUrl = await serve((req, res) => {
      seen.push(req.url ?? "");
      res.writeHead(302, { location: "/login" }).end();
    });
    const v = await runSmokeChecks([{ name: "home", path: "/", expectStatus: 302 }], {
      baseUrl: `${baseUrl}/app/`,
      sleep: fakeSleep().sleep,
    });
    expect(v.passed).toBe(true);
    expect(seen).toEqual(["/app/"]);
  });

  it("rejects bad checks before sending anything", async () => {
    await expect(runSmokeChecks([{ name: "x", path: "/", bodyMatch: "(" }], { baseUrl: "http://127.0.0.1:1" })).rejects.toThrow(
      ConfigError,
    );
    await expect(runSmokeChecks([{ name: "x", path: "healthz" }], { baseUrl: "http://127.0.0.1:1" })).rejects.toThrow(/path/);
    await expect(runSmokeChecks([], { baseUrl: "127.0.0.1:8080" })).rejects.toThrow(/baseUrl/);
  });
});

describe("backoffMs", () => {
  const backoff = { initialMs: 1000, maxMs: 15_000 };
  it("doubles from 1 s and caps at 15 s", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, backoff, noJitter))).toEqual([1000, 2000, 4000, 8000, 15_000, 15_000]);
  });
  it("jitters by ±20 % without passing the cap", () => {
    expect(backoffMs(1, backoff, () => 0)).toBe(800);
    expect(backoffMs(1, backoff, () => 0.999999)).toBe(1200);
    expect(backoffMs(5, backoff, () => 0.999999)).toBe(15_000);
  });
});
