/**
 * Smoke checks: a few HTTP requests against the new revision (through the test listener when
 * there is one, so production traffic never sees a broken build) that must answer as expected
 * before traffic shifts. Each check retries with backoff because fresh tasks often need a few
 * seconds after "healthy" before every route answers.
 */
import { z } from "zod";
import { ConfigError, configErrorMap, formatZodIssues } from "../config/errors.js";
import { fetchFailure } from "./fetch-error.js";

const isRegex = (s: string) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
};

const status = z.int().min(100).max(599);

export const SmokeCheckSchema = z
  .strictObject({
    name: z.string().min(1).describe("Name of the check, shown in reports."),
    path: z.string().startsWith("/").describe('Path requested on the base URL, e.g. "/healthz".'),
    method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]).default("GET").describe("HTTP method."),
    expectStatus: z
      .union([status, z.array(status).min(1)])
      .transform((s) => (Array.isArray(s) ? s : [s]))
      .default([200])
      .describe("Status code (or list of codes) that counts as healthy."),
    bodyMatch: z.string().refine(isRegex, "not a valid regular expression").optional().describe("Regular expression the body must match."),
    timeoutMs: z.int().positive().default(5000).describe("Milliseconds one attempt may take."),
    /** Attempts in all, the first included: "answered 503 after 5 attempts" reads as configured. */
    retries: z.int().min(1).default(5).describe("Attempts in all, the first included."),
    backoff: z
      .strictObject({
        initialMs: z.int().nonnegative().default(1000).describe("Wait before the second attempt, in milliseconds."),
        maxMs: z.int().nonnegative().default(15_000).describe("Longest wait between attempts, in milliseconds."),
      })
      .prefault({})
      .describe("Exponential backoff between attempts, with jitter."),
  })
  .describe("One HTTP smoke check.");
export type SmokeCheckInput = z.input<typeof SmokeCheckSchema>;
export type SmokeCheck = z.output<typeof SmokeCheckSchema>;

export interface SmokeProgress {
  check: string;
  attempt: number;
  ok: boolean;
  detail: string;
  /** Set when another attempt follows after this many milliseconds. */
  retryInMs?: number;
}

export interface SmokeOptions {
  /** Where the new revision answers, e.g. the test listener: http://alb:8080 or https://host/prefix. */
  baseUrl: string;
  /** Sent with every request, e.g. `x-amzn-ecs-blue-green-test` to reach the new revision via Service Connect. */
  headers?: Record<string, string>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); jitter source, injectable so tests see exact delays. */
  random?: () => number;
  onProgress?: (event: SmokeProgress) => void;
}

export interface SmokeResult {
  name: string;
  passed: boolean;
  attempts: number;
  lastStatus: number | null;
  /** Why the last attempt failed; null when it passed. */
  lastError: string | null;
  durationMs: number;
}

export interface SmokeVerdict {
  passed: boolean;
  results: SmokeResult[];
  /** One line: "GET /healthz answered 503 after 5 attempts". */
  cause: string;
  hint: string;
}

type Outcome =
  | { kind: "ok"; status: number }
  | { kind: "status" | "body"; status: number; body: string }
  | { kind: "timeout" | "network"; error: string };

/** Exponential from initialMs, capped at maxMs, ±20 % jitter so a fleet of checkers never retries in step. */
export function backoffMs(failedAttempts: number, backoff: SmokeCheck["backoff"], random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failedAttempts - 1));
  return Math.round(Math.min(backoff.maxMs, base * (0.8 + 0.4 * random())));
}

export async function runSmokeChecks(checks: readonly SmokeCheckInput[], opts: SmokeOptions): Promise<SmokeVerdict> {
  const parsed = z.array(SmokeCheckSchema).safeParse(checks, { error: configErrorMap, reportInput: true });
  if (!parsed.success)
    throw new ConfigError(formatZodIssues(parsed.error, SmokeCheckSchema), "fix the smoke check", "smoke checks are invalid");
  if (!/^https?:\/\//.test(opts.baseUrl))
    throw new ConfigError([`baseUrl: expected an http(s) URL, got ${opts.baseUrl}`], "pass the listener's URL");
  const ctx: Ctx = {
    ...opts,
    now: opts.now ?? Date.now, // The global timer, like the deploy core's clock: one notion of time for the whole deploy.
    sleep: opts.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    random: opts.random ?? Math.random,
  };

  const results: SmokeResult[] = [];
  let firstFailure: { cause: string; hint: string } | undefined;
  // One after another: a handful of checks, and the progress log stays readable.
  for (const check of parsed.data) {
    const { result, failure } = await runCheck(check, ctx);
    results.push(result);
    firstFailure ??= failure;
  }
  const failed = results.filter((r) => !r.passed).length;
  if (firstFailure === undefined) return { passed: true, results, cause: `all ${results.length} smoke checks passed`, hint: "" };
  const more = failed > 1 ? ` (and ${failed - 1} more failed)` : "";
  return { passed: false, results, cause: firstFailure.cause + more, hint: firstFailure.hint };
}

type Ctx = Required<Pick<SmokeOptions, "now" | "sleep" | "random">> & SmokeOptions;

async function runCheck(check: SmokeCheck, ctx: Ctx): Promise<{ result: SmokeResult; failure?: { cause: string; hint: string } }> {
  const url = ctx.baseUrl.replace(/\/+$/, "") + check.path; // keeps a path prefix that new URL() would drop
  const started = ctx.now();
  let outcome: Outcome = { kind: "network", error: "not attempted" };
  let attempt = 0;
  while (attempt < check.retries) {
    attempt++;
    outcome = await once(check, url, ctx.headers ?? {});
    const ok = outcome.kind === "ok";
    const retryInMs = ok || attempt >= check.retries ? undefined : backoffMs(attempt, check.backoff, ctx.random);
    ctx.onProgress?.({ check: check.name, attempt, ok, detail: detail(check, outcome), ...(retryInMs === undefined ? {} : { retryInMs }) });
    if (retryInMs === undefined) break;
    await ctx.sleep(retryInMs);
  }
  const passed = outcome.kind === "ok";
  const result: SmokeResult = {
    name: check.name,
    passed,
    attempts: attempt,
    lastStatus: "status" in outcome ? outcome.status : null,
    lastError: passed ? null : detail(check, outcome),
    durationMs: ctx.now() - started,
  };
  return passed ? { result } : { result, failure: explain(check, outcome, attempt, ctx.baseUrl) };
}

async function once(check: SmokeCheck, url: string, headers: Record<string, string>): Promise<Outcome> {
  const abort = new AbortController();
  // The timer covers the body too: a server that sends headers and then stalls is still hung.
  const timer = setTimeout(() => abort.abort(), check.timeoutMs);
  try {
    // manual: a check on a redirecting route should see the 302, not whatever it points to.
    const res = await fetch(url, { method: check.method, headers, signal: abort.signal, redirect: "manual" });
    const body = await res.text();
    if (!check.expectStatus.includes(res.status)) return { kind: "status", status: res.status, body };
    if (check.bodyMatch !== undefined && !new RegExp(check.bodyMatch).test(body)) return { kind: "body", status: res.status, body };
    return { kind: "ok", status: res.status };
  } catch (e) {
    if (abort.signal.aborted) return { kind: "timeout", error: `no answer within ${check.timeoutMs} ms` };
    return { kind: "network", error: fetchFailure(e) };
  } finally {
    clearTimeout(timer);
  }
}

function detail(check: SmokeCheck, o: Outcome): string {
  switch (o.kind) {
    case "ok":
      return `answered ${o.status}`;
    case "status":
      return `answered ${o.status}, expected ${check.expectStatus.join(" or ")}`;
    case "body":
      return `answered ${o.status} but the body did not match /${check.bodyMatch ?? ""}/`;
    default:
      return o.error;
  }
}

function explain(check: SmokeCheck, o: Outcome, attempts: number, baseUrl: string): { cause: string; hint: string } {
  const what = `${check.method} ${check.path}`;
  const after = `after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  switch (o.kind) {
    case "status":
      return {
        cause: `${what} answered ${o.status} ${after}`,
        hint: `expected ${check.expectStatus.join(" or ")}; look at the new revision's logs and stopped tasks for why it answers ${o.status}`,
      };
    case "body":
      return {
        cause: `${what} answered ${o.status} but the body did not match /${check.bodyMatch ?? ""}/ ${after}`,
        hint: `the body began ${JSON.stringify(o.body.slice(0, 80))}; fix the endpoint or the check's bodyMatch`,
      };
    case "timeout":
      return {
        cause: `${what} did not answer within ${check.timeoutMs} ms ${after}`,
        hint: "the endpoint hangs or is slow; raise the check's timeoutMs only if it is slow by design",
      };
    case "network":
      return {
        cause: `${what} failed ${after}: ${o.error}`,
        hint: `nothing answered at ${baseUrl}; check the listener URL and that the new tasks are running`,
      };
    default:
      return { cause: `${what} passed`, hint: "" };
  }
}
