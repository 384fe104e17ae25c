/**
 * One notification POST under the shared retry policy (attempts.ts): the per-attempt timer also
 * covers the body, so a receiver that sends headers and stalls is still cut off; timeouts,
 * network errors, 408, 429 and 5xx are retried. It never throws: the result says what happened,
 * naming the target only by scheme and host.
 */
import { fetchFailure } from "../deploy/fetch-error.js";
import { withRetries, type Attempt, type DeliveryOptions, type DeliveryResult } from "./attempts.js";
import { redactUrl, scrub } from "./redact.js";

export { backoffMs, DEFAULT_POLICY, type DeliveryOptions, type DeliveryPolicy, type DeliveryResult } from "./attempts.js";

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

type Outcome =
  | { kind: "ok"; status: number }
  | { kind: "status"; status: number; body: string; retryAfterMs?: number }
  | { kind: "timeout"; ms: number }
  | { kind: "network"; error: string };

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
  const endpoint = redactUrl(target.url);
  const secrets = [target.url, ...(target.secrets ?? [])];
  if (!/^https?:$/.test(URL.canParse(target.url) ? new URL(target.url).protocol : "")) {
    const error = scrub(`${endpoint} is not an http(s) URL; check the ${target.name} secret`, secrets);
    return { target: target.name, endpoint, delivered: false, attempts: 0, error };
  }
  const attempt = async (timeoutMs: number, now: number): Promise<Attempt> => {
    const outcome = await post(target, timeoutMs, now);
    if (outcome.kind === "ok") return { ok: true, status: outcome.status };
    const message = describe(target, endpoint, outcome);
    if (outcome.kind !== "status") return { ok: false, retryable: true, message };
    const { status, retryAfterMs } = outcome;
    return { ok: false, retryable: retryable(outcome), message, status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  };
  return withRetries({ name: target.name, endpoint, secrets, attempt }, opts);
}
