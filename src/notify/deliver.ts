/**
 * One notification POST with the policies every target shares: a per-attempt timeout (the timer
 * also covers the body, so a receiver that sends headers and stalls is still cut off), bounded
 * attempts with jittered exponential backoff, Retry-After honoured up to a cap, and an overall
 * deadline so notifying can never hold a pipeline hostage. It never throws: the result says what
 * happened, naming the target only by scheme and host.
 */
import { systemClock, type Clock } from "../deploy/aws.js";
import { fetchFailure } from "../deploy/fetch-error.js";
import { progress } from "../gates/progress.js";
import { redactUrl, scrub } from "./redact.js";

export interface DeliveryTarget {
  /** What the results call it: "slack", "slack-failures", "webhook". */
  name: string;
  /** A credential: never printed, only its scheme and host. */
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Plain words for a rejection, for receivers with their own error vocabulary (Slack). */
  explain?: (status: number, body: string) => string | undefined;
  /** More values that must never reach a message (a signing secret). */
  secrets?: string[];
}

export interface DeliveryPolicy {
  /** Per attempt, headers and body. */
  timeoutMs: number;
  /** In all, the first included. */
  attempts: number;
  /** For the whole delivery, retries and waits included. */
  deadlineMs: number;
  backoff: { initialMs: number; maxMs: number };
  /** Longest Retry-After we wait for; a longer one is cut to this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_POLICY: DeliveryPolicy = {
  timeoutMs: 10_000,
  attempts: 3,
  deadlineMs: 60_000,
  backoff: { initialMs: 1000, maxMs: 15_000 },
  maxRetryAfterMs: 30_000,
};

export interface DeliveryOptions {
  policy?: Partial<DeliveryPolicy>;
  clock?: Clock;
  /** In [0, 1); the jitter source, injectable so tests see exact waits. */
  random?: () => number;
}

export interface DeliveryResult {
  target: string;
  /** Scheme and host only. */
  endpoint: string;
  delivered: boolean;
  attempts: number;
  /** The last HTTP status, when there was an answer. */
  status?: number;
  /** Why it was not delivered, one line, secrets scrubbed. */
  error?: string;
  /** Set instead of error when the target was deliberately not sent to. */
  skipped?: string;
}

type Outcome =
  | { kind: "ok"; status: number }
  | { kind: "status"; status: number; body: string; retryAfterMs?: number }
  | { kind: "timeout"; ms: number }
  | { kind: "network"; error: string };

/** Exponential from initialMs, capped at maxMs, ±20 % jitter so many pipelines never retry in step. */
export function backoffMs(failedAttempts: number, backoff: DeliveryPolicy["backoff"], random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failedAttempts - 1));
  return Math.round(Math.min(backoff.maxMs, base * (0.8 + 0.4 * random())));
}

/** Retry-After is either whole seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const retryable = (o: Outcome) =>
  o.kind === "timeout" || o.kind === "network" || (o.kind === "status" && (o.status === 429 || o.status === 408 || o.status >= 500));

async function post(target: DeliveryTarget, timeoutMs: number, now: number): Promise<Outcome> {
  const abort = new AbortController();
  // The global setTimeout on purpose: fake timers in tests drive it like the rest of the deploy's time.
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    // manual: a redirect could carry the payload to another host; a moved webhook should be updated instead.
    const res = await fetch(target.url, {
      method: "POST",
      headers: target.headers,
      body: target.body,
      signal: abort.signal,
      redirect: "manual",
    });
    const body = await res.text();
    if (res.status >= 200 && res.status < 300) return { kind: "ok", status: res.status };
    const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now);
    return { kind: "status", status: res.status, body, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  } catch (e) {
    if (abort.signal.aborted) return { kind: "timeout", ms: timeoutMs };
    return { kind: "network", error: fetchFailure(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** Slack's answers are a bare error code like `no_service`; quote a body only when it is that short and plain. */
function bodyCode(body: string): string | undefined {
  const first = body.trim().split("\n")[0] ?? "";
  return first.length > 0 && first.length <= 100 && !/[<>{}]/.test(first) ? first : undefined;
}

function describe(target: DeliveryTarget, endpoint: string, o: Exclude<Outcome, { kind: "ok" }>): string {
  switch (o.kind) {
    case "timeout":
      return `${endpoint} did not answer within ${o.ms} ms`;
    case "network":
      return `${endpoint} could not be reached: ${o.error}`;
    case "status": {
      const code = bodyCode(o.body);
      const hint = target.explain?.(o.status, o.body);
      const redirect = o.status >= 300 && o.status < 400 ? "; webhooks are not followed through redirects, use the final URL" : "";
      return `${endpoint} answered ${o.status}${code === undefined ? "" : ` ${code}`}${hint === undefined ? "" : `: ${hint}`}${redirect}`;
    }
  }
}

export async function deliver(target: DeliveryTarget, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  const policy: DeliveryPolicy = { ...DEFAULT_POLICY, ...opts.policy };
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const endpoint = redactUrl(target.url);
  const secrets = [target.url, ...(target.secrets ?? [])];
  const result = (r: Omit<DeliveryResult, "target" | "endpoint">): DeliveryResult => {
    const error = r.error === undefined ? {} : { error: scrub(r.error, secrets) };
    return { target: target.name, endpoint, ...r, ...error };
  };
  const note = (message: string) => progress("notify", scrub(`${target.name}: ${message}`, secrets));

  if (!/^https?:$/.test(URL.canParse(target.url) ? new URL(target.url).protocol : "")) {
    return result({ delivered: false, attempts: 0, error: `${endpoint} is not an http(s) URL; check the ${target.name} secret` });
  }

  const deadline = clock.now() + policy.deadlineMs;
  let attempts = 0;
  let last: Exclude<Outcome, { kind: "ok" }> | undefined;
  let stop = "";
  while (attempts < policy.attempts) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      stop = `; gave up at the ${policy.deadlineMs / 1000} s deadline`;
      break;
    }
    attempts++;
    const outcome = await post(target, Math.min(policy.timeoutMs, remaining), clock.now());
    if (outcome.kind === "ok") {
      note(`delivered to ${endpoint} (attempt ${attempts})`);
      return result({ delivered: true, attempts, status: outcome.status });
    }
    last = outcome;
    if (!retryable(outcome) || attempts >= policy.attempts) break;
    const hinted = outcome.kind === "status" ? outcome.retryAfterMs : undefined;
    const wait = hinted === undefined ? backoffMs(attempts, policy.backoff, random) : Math.min(hinted, policy.maxRetryAfterMs);
    if (clock.now() + wait >= deadline) {
      stop = `; the next retry (in ${Math.ceil(wait / 1000)} s) would pass the ${policy.deadlineMs / 1000} s deadline`;
      break;
    }
    note(`${describe(target, endpoint, outcome)}; retrying in ${(wait / 1000).toFixed(1)} s`);
    await clock.sleep(wait);
  }
  const error = `${last === undefined ? `${endpoint} was not tried` : describe(target, endpoint, last)} (after ${attempts} attempt${attempts === 1 ? "" : "s"})${stop}`;
  note(`not delivered: ${error}`);
  return result({ delivered: false, attempts, ...(last?.kind === "status" ? { status: last.status } : {}), error });
}
