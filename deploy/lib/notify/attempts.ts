/**
 * The retry policy every notification channel shares, whatever it speaks (HTTP, SMTP, the SNS
 * API): a per-attempt timeout, bounded attempts with jittered exponential backoff, a server's
 * Retry-After honoured up to a cap, and an overall deadline so notifying can never hold a pipeline
 * hostage. A channel only says how one attempt went; this loop decides whether to try again. It
 * never throws, and every line it writes or returns is scrubbed of the channel's secrets.
 */
import { systemClock, type Clock } from "../project/clock.js";
import { progress } from "../gates/progress.js";
import { scrub } from "./redact.js";

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
  /** Scheme and host only (for SNS, the topic's region and name; for email, the SMTP host). */
  endpoint: string;
  delivered: boolean;
  attempts: number;
  /** The last HTTP status (or SMTP reply code), when there was an answer. */
  status?: number;
  /** Why it was not delivered, one line, secrets scrubbed. */
  error?: string;
  /** Set instead of error when the target was deliberately not sent to. */
  skipped?: string;
}

/** A target deliberately not sent to. */
export const skipped = (target: string, endpoint: string, why: string): DeliveryResult => ({
  target,
  endpoint,
  delivered: false,
  attempts: 0,
  skipped: why,
});

/** A target that could not be tried: a setup mistake, said in one line. */
export const refused = (target: string, endpoint: string, error: string): DeliveryResult => ({
  target,
  endpoint,
  delivered: false,
  attempts: 0,
  error,
});

/** How one attempt went: delivered, or why not and whether another try could help. */
export type Attempt =
  { ok: true; status?: number } | { ok: false; retryable: boolean; message: string; status?: number; retryAfterMs?: number };

export interface Attempted {
  name: string;
  /** What results name the target by: never a credential. */
  endpoint: string;
  /** Values that must never reach a message. */
  secrets: readonly (string | undefined)[];
  /** One attempt with at most `timeoutMs`; `now` is the clock's time when it starts. */
  attempt: (timeoutMs: number, now: number) => Promise<Attempt>;
}

/** Exponential from initialMs, capped at maxMs, ±20 % jitter so many pipelines never retry in step. */
export function backoffMs(failedAttempts: number, backoff: DeliveryPolicy["backoff"], random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failedAttempts - 1));
  return Math.round(Math.min(backoff.maxMs, base * (0.8 + 0.4 * random())));
}

export async function withRetries(job: Attempted, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
  const policy: DeliveryPolicy = { ...DEFAULT_POLICY, ...opts.policy };
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const { endpoint } = job;
  const result = (r: Omit<DeliveryResult, "target" | "endpoint">): DeliveryResult => {
    const error = r.error === undefined ? {} : { error: scrub(r.error, job.secrets) };
    return { target: job.name, endpoint, ...r, ...error };
  };
  const note = (message: string) => progress("notify", scrub(`${job.name}: ${message}`, job.secrets));

  const deadline = clock.now() + policy.deadlineMs;
  let attempts = 0;
  let last: Extract<Attempt, { ok: false }> | undefined;
  let stop = "";
  while (attempts < policy.attempts) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      stop = `; gave up at the ${policy.deadlineMs / 1000} s deadline`;
      break;
    }
    attempts++;
    const outcome = await job.attempt(Math.min(policy.timeoutMs, remaining), clock.now());
    if (outcome.ok) {
      note(`delivered to ${endpoint} (attempt ${attempts})`);
      return result({ delivered: true, attempts, ...(outcome.status === undefined ? {} : { status: outcome.status }) });
    }
    last = outcome;
    if (!outcome.retryable || attempts >= policy.attempts) break;
    const wait =
      outcome.retryAfterMs === undefined
        ? backoffMs(attempts, policy.backoff, random)
        : Math.min(outcome.retryAfterMs, policy.maxRetryAfterMs);
    if (clock.now() + wait >= deadline) {
      stop = `; the next retry (in ${Math.ceil(wait / 1000)} s) would pass the ${policy.deadlineMs / 1000} s deadline`;
      break;
    }
    note(`${outcome.message}; retrying in ${(wait / 1000).toFixed(1)} s`);
    await clock.sleep(wait);
  }
  const error = `${last === undefined ? `${endpoint} was not tried` : last.message} (after ${attempts} attempt${attempts === 1 ? "" : "s"})${stop}`;
  note(`not delivered: ${error}`);
  return result({ delivered: false, attempts, ...(last?.status === undefined ? {} : { status: last.status }), error });
}
