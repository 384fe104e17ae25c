// Delivery against real node:http receivers on loopback. Backoff waits run on a virtual clock (or
// on vitest's fake timers, to prove product sleeps use the global setTimeout); requests, timeouts
// and refused connections are real.
import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffMs, deliver, parseRetryAfter, type DeliveryTarget } from "../../deploy/lib/notify/deliver.js";
import { slackHint } from "../../deploy/lib/notify/slack.js";
import { freePort } from "../helpers/prometheus.js";
import { captureStderr, closeAll, receiver, virtualClock } from "./receiver.js";

afterEach(async () => {
  vi.useRealTimers();
  await closeAll();
});

const noJitter = () => 0.5;
const slackTarget = (url: string): DeliveryTarget => ({
  name: "slack",
  url,
  body: JSON.stringify({ text: "Deploy to prod: failed" }),
  headers: { "Content-Type": "application/json" },
  explain: slackHint,
});

const SECRET_PATH = "/services/T0TEST/B0TEST/s3cr3tWebhookToken0123";

describe("deliver", () => {
  it("POSTs the body and headers once to a receiver that answers 200", async () => {
    const r = await receiver();
    const { clock, sleeps } = virtualClock();
    const result = await deliver(slackTarget(r.url), { clock });
    expect(result).toEqual({
      target: "slack",
      endpoint: r.url.slice(0, r.url.indexOf("/services")),
      delivered: true,
      attempts: 1,
      status: 200,
    });
    expect(r.received).toHaveLength(1);
    expect(r.received[0]).toMatchObject({ method: "POST", path: SECRET_PATH, body: '{"text":"Deploy to prod: failed"}' });
    expect(r.received[0]?.headers["content-type"]).toBe("application/json");
    expect(sleeps).toEqual([]);
  });

  it("retries 5xx with exponential backoff until the receiver recovers", async () => {
    const r = await receiver((n) => (n < 3 ? { status: n === 1 ? 500 : 503, body: "rollup_error" } : { status: 200, body: "ok" }));
    const { clock, sleeps } = virtualClock();
    const result = await deliver(slackTarget(r.url), { clock, random: noJitter, policy: { backoff: { initialMs: 1000, maxMs: 15_000 } } });
    expect(result).toMatchObject({ delivered: true, attempts: 3, status: 200 });
    expect(sleeps).toEqual([1000, 2000]);
    expect(r.received).toHaveLength(3);
  });

  it("gives up on 5xx after the configured attempts and reports the last answer", async () => {
    const r = await receiver(() => ({ status: 502, body: "<html>Bad Gateway</html>" }));
    const { clock, sleeps } = virtualClock();
    const result = await deliver(slackTarget(r.url), { clock, random: noJitter, policy: { attempts: 4 } });
    expect(result.delivered).toBe(false);
    expect(result.attempts).toBe(4);
    expect(result.status).toBe(502);
    expect(result.error).toBe(`${result.endpoint} answered 502 (after 4 attempts)`); // HTML bodies are not quoted
    expect(sleeps).toEqual([1000, 2000, 4000]);
  });

  it("honours Retry-After on 429, in seconds and as an HTTP date, capped", async () => {
    const start = Date.parse("2026-11-20T10:00:00Z");
    const answers = [
      { status: 429, body: "rate_limited", headers: { "Retry-After": "7" } },
      { status: 429, body: "rate_limited", headers: { "Retry-After": new Date(start + 7000 + 12_000).toUTCString() } },
      { status: 429, body: "rate_limited", headers: { "Retry-After": "3600" } },
      { status: 200, body: "ok" },
    ];
    const r = await receiver((n) => answers[n - 1] ?? { status: 500 });
    const { clock, sleeps } = virtualClock(start);
    const result = await deliver(slackTarget(r.url), { clock, policy: { attempts: 5, deadlineMs: 120_000, maxRetryAfterMs: 20_000 } });
    expect(result).toMatchObject({ delivered: true, attempts: 4 });
    expect(sleeps).toEqual([7000, 12_000, 20_000]); // the hour-long Retry-After is cut to the cap
  });

  it("stops when a Retry-After would pass the overall deadline", async () => {
    const r = await receiver(() => ({ status: 429, body: "rate_limited", headers: { "Retry-After": "50" } }));
    const { clock, sleeps } = virtualClock();
    const result = await deliver(slackTarget(r.url), { clock, policy: { deadlineMs: 30_000, maxRetryAfterMs: 60_000 } });
    expect(result).toMatchObject({ delivered: false, attempts: 1, status: 429 });
    expect(result.error).toContain("answered 429 rate_limited");
    expect(result.error).toContain("the next retry (in 50 s) would pass the 30 s deadline");
    expect(sleeps).toEqual([]);
  });

  // Slack's incoming-webhook errors: the status plus a bare error code as the whole body.
  it.each([
    [400, "invalid_blocks", "Slack rejected the message itself"],
    [400, "invalid_payload", "Slack rejected the message itself"],
    [403, "invalid_token", "the webhook URL is revoked or mistyped"],
    [404, "no_service", "the webhook URL is revoked or mistyped"],
    [410, "channel_is_archived", "the webhook's channel is archived or deleted"],
    [403, "action_prohibited", "the workspace does not let this webhook post there"],
  ])("does not retry Slack's %i %s and explains it", async (status, code, hint) => {
    const r = await receiver(() => ({ status, body: code }));
    const { clock, sleeps } = virtualClock();
    const result = await deliver(slackTarget(r.url), { clock });
    expect(result).toMatchObject({ delivered: false, attempts: 1, status });
    expect(result.error).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+ answered ${status} ${code}: ${hint}`));
    expect(result.error).not.toContain("/services");
    expect(r.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("times out a hanging receiver per attempt, in real time", async () => {
    const r = await receiver(() => ({ hang: true }));
    const { clock, sleeps } = virtualClock();
    const started = Date.now();
    const result = await deliver(slackTarget(r.url), { clock, random: noJitter, policy: { timeoutMs: 150, attempts: 2 } });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    expect(result).toMatchObject({ delivered: false, attempts: 2 });
    expect(result.status).toBeUndefined();
    expect(result.error).toBe(`${result.endpoint} did not answer within 150 ms (after 2 attempts)`);
    expect(r.received).toHaveLength(2);
    expect(sleeps).toEqual([1000]);
  });

  it("times out a receiver that sends headers and then stalls the body", async () => {
    const r = await receiver(() => ({ status: 200, stallBodyMs: 5000 }));
    const started = Date.now();
    const result = await deliver(slackTarget(r.url), { clock: virtualClock().clock, policy: { timeoutMs: 200, attempts: 1 } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result).toMatchObject({ delivered: false, attempts: 1 });
    expect(result.error).toContain("did not answer within 200 ms");
  });

  it("delivers to a slow receiver that answers within the timeout", async () => {
    const r = await receiver(() => ({ status: 200, stallBodyMs: 100, body: "k" }));
    const result = await deliver(slackTarget(r.url), { clock: virtualClock().clock, policy: { timeoutMs: 2000 } });
    expect(result).toMatchObject({ delivered: true, attempts: 1, status: 200 });
  });

  it("keeps to the overall deadline on fake time, sleeping with the global setTimeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: Date.parse("2026-11-20T10:00:00Z") });
    const r = await receiver(() => ({ hang: true }));
    const started = Date.now();
    const pending = deliver(slackTarget(r.url), { random: noJitter, policy: { timeoutMs: 10_000, attempts: 10, deadlineMs: 25_000 } });
    const result = await onFakeTimeWithSockets(pending);
    // 10 s timeout, 1 s wait, 10 s timeout, 2 s wait, then only 2 s left for the third attempt; a 4 s wait would pass the deadline.
    expect(result).toMatchObject({ delivered: false, attempts: 3 });
    expect(result.error).toContain(
      "did not answer within 2000 ms (after 3 attempts); the next retry (in 4 s) would pass the 25 s deadline",
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(25_000);
    expect(Date.now() - started).toBeLessThan(27_000);
    expect(r.received.map((x) => x.at - started)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
    expect(r.received[1]!.at - started).toBeGreaterThanOrEqual(11_000);
    expect(r.received[2]!.at - started).toBeGreaterThanOrEqual(23_000);
  });

  it("retries a refused connection and says so in plain words", async () => {
    const url = `http://127.0.0.1:${await freePort()}/services/T0TEST/B0TEST/s3cr3tWebhookToken0123`;
    const { clock, sleeps } = virtualClock();
    const result = await deliver(slackTarget(url), { clock, random: noJitter, policy: { attempts: 2 } });
    expect(result).toMatchObject({ delivered: false, attempts: 2 });
    expect(result.error).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+ could not be reached: connection refused \(ECONNREFUSED\) \(after 2 attempts\)$/,
    );
    expect(sleeps).toEqual([1000]);
  });

  it("does not follow redirects, which could carry the payload elsewhere", async () => {
    const elsewhere = await receiver();
    const r = await receiver(() => ({ status: 301, headers: { Location: elsewhere.url } }));
    const result = await deliver(slackTarget(r.url), { clock: virtualClock().clock });
    expect(result).toMatchObject({ delivered: false, attempts: 1, status: 301 });
    expect(result.error).toContain("use the final URL");
    expect(elsewhere.received).toHaveLength(0);
  });

  it("refuses a non-http URL without sending, and never echoes it", async () => {
    const result = await deliver(slackTarget("ftp://hooks.example.com/services/T0/B0/topsecret"), { clock: virtualClock().clock });
    expect(result).toEqual({
      target: "slack",
      endpoint: "ftp://hooks.example.com",
      delivered: false,
      attempts: 0,
      error: "ftp://hooks.example.com is not an http(s) URL; check the slack secret",
    });
    const garbled = await deliver(slackTarget("hooks.slack.com/services/T0/B0/topsecret"), { clock: virtualClock().clock });
    expect(garbled.endpoint).toBe("an unparseable URL");
    expect(JSON.stringify(garbled)).not.toContain("topsecret");
  });

  it("never writes the webhook URL's path or a signing secret to results or progress lines", async () => {
    const r = await receiver((n) => (n === 1 ? { status: 500, body: `oops ${SECRET_PATH}` } : { status: 404, body: "no_service" }));
    const target = { ...slackTarget(r.url), secrets: ["signing-secret-value"], body: "{}" };
    const { value, output } = await captureStderr(() => deliver(target, { clock: virtualClock().clock, random: noJitter }));
    expect(output).toContain("slack: ");
    expect(output).toContain("retrying in 1.0 s");
    for (const text of [output, JSON.stringify(value)]) {
      expect(text).not.toContain("s3cr3tWebhookToken0123");
      expect(text).not.toContain("/services/");
      expect(text).not.toContain("signing-secret-value");
    }
  });
});

describe("backoffMs and parseRetryAfter", () => {
  it("doubles, caps, and jitters by ±20 %", () => {
    const backoff = { initialMs: 1000, maxMs: 15_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, backoff, noJitter))).toEqual([1000, 2000, 4000, 8000, 15_000]);
    expect(backoffMs(1, backoff, () => 0)).toBe(800);
    expect(backoffMs(1, backoff, () => 0.999999)).toBe(1200);
  });

  it("reads seconds and HTTP dates, and ignores garbage", () => {
    const now = Date.parse("2026-11-20T10:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30_000);
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:00:45 GMT", now)).toBe(45_000);
    expect(parseRetryAfter("Fri, 20 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

/** Advances fake time in small steps, letting real sockets do their I/O between steps. */
async function onFakeTimeWithSockets<T>(promise: Promise<T>, stepMs = 250, limitMs = 600_000): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined);
  for (let waited = 0; !settled && waited < limitMs; waited += stepMs) {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    await vi.advanceTimersByTimeAsync(stepMs);
  }
  return tracked;
}
