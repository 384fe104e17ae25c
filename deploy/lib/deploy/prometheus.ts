/**
 * A minimal Prometheus HTTP API client: one instant query (GET /api/v1/query), no client
 * library, so the deploy step carries no extra dependency. Errors are Problems whose cause a
 * user can act on: Prometheus' own parse message for bad PromQL, the network reason when the
 * server cannot be reached.
 *
 * Which errors are the query's fault (fatal: a configuration error, the analysis fails at once)
 * and which are transient (counted against consecutiveErrorLimit) follows the HTTP API's own
 * split (prometheus.io/docs/prometheus/latest/querying/api/#format-overview): "400 Bad Request
 * when parameters are missing or incorrect" (errorType bad_data: a parse error), "422
 * Unprocessable Entity when an expression can't be executed" (execution: e.g. many-to-many
 * matching), "503 Service Unavailable when queries time out or abort" (timeout, canceled,
 * unavailable), 5xx otherwise. A range vector or string result is the query's fault too.
 */
import { z } from "zod";
import { Problem } from "../../src/project/problem.js";
import { FatalProblem, quoted } from "./analysis-problem.js";
import { fetchFailure } from "./fetch-error.js";

export interface PromSample {
  labels: Record<string, string>;
  /** NaN and ±Infinity come through as such (Prometheus sends "NaN", "+Inf", "-Inf"). */
  value: number;
}

const SampleValue = z.tuple([z.number(), z.string()]);
const ResponseSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("success"),
    data: z.discriminatedUnion("resultType", [
      z.object({
        resultType: z.literal("vector"),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: SampleValue })),
      }),
      z.object({ resultType: z.literal("scalar"), result: SampleValue }),
      z.object({ resultType: z.enum(["matrix", "string"]) }),
    ]),
  }),
  z.object({ status: z.literal("error"), errorType: z.string(), error: z.string() }),
]);

const number = (s: string) => (s === "+Inf" ? Infinity : s === "-Inf" ? -Infinity : Number(s));

export interface QueryOptions {
  /** Evaluation time; Prometheus' "now" when absent. */
  time?: Date;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function queryPrometheus(address: string, query: string, opts: QueryOptions = {}): Promise<PromSample[]> {
  const url = new URL(address.replace(/\/+$/, "") + "/api/v1/query");
  url.searchParams.set("query", query);
  if (opts.time !== undefined) url.searchParams.set("time", (opts.time.getTime() / 1000).toFixed(3));
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 10_000);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);

  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { signal, headers: { accept: "application/json" } });
    text = await res.text();
  } catch (e) {
    if (timeout.aborted) throw new Problem(`Prometheus at ${address} did not answer within ${opts.timeoutMs ?? 10_000} ms`, SLOW_HINT);
    if (opts.signal?.aborted) throw new Problem("query cancelled", "");
    throw new Problem(`Prometheus at ${address} is unreachable: ${fetchFailure(e)}`, UNREACHABLE_HINT);
  }

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A proxy's HTML error page, or not Prometheus at all.
    throw new Problem(`Prometheus at ${address} answered ${res.status} with no JSON`, UNREACHABLE_HINT);
  }
  const parsed = ResponseSchema.safeParse(json);
  if (!parsed.success) throw new Problem(`Prometheus at ${address} answered ${res.status} in an unexpected shape`, UNREACHABLE_HINT);
  const body = parsed.data;
  if (body.status === "error") {
    // 400 bad_data is a PromQL mistake, 422 execution a query that cannot run; both are the query's fault.
    const ours = body.errorType === "bad_data" || body.errorType === "execution";
    const cause = `Prometheus rejected the query (${res.status} ${body.errorType}): ${body.error.split("\n")[0] ?? ""}`;
    if (ours) throw new FatalProblem(`${cause}; query ${quoted(query)}`, BROKEN_HINT);
    throw new Problem(cause, SLOW_HINT);
  }
  // A 5xx with a success body is no answer to trust (a proxy in between); retry it like any 5xx.
  if (res.status >= 500) throw new Problem(`Prometheus at ${address} answered ${res.status}`, SLOW_HINT);
  const data = body.data;
  if (data.resultType === "vector") return data.result.map((s) => ({ labels: s.metric, value: number(s.value[1]) }));
  if (data.resultType === "scalar") return [{ labels: {}, value: number(data.result[1]) }];
  throw new FatalProblem(
    `the query returns a ${data.resultType === "matrix" ? "range vector" : data.resultType}, not a number: ${quoted(query)}`,
    "wrap range vectors in an aggregation such as rate() or avg_over_time(); a broken query fails the analysis (rollback)",
  );
}

/**
 * The one number a query must return where one is needed (requestsQuery): no series is no
 * value; several are a configuration error (which of them would count?).
 */
export function singleNumber(samples: readonly PromSample[], query: string): number | undefined {
  if (samples.length > 1)
    throw new FatalProblem(
      `the query returns ${samples.length} series where one number is needed: ${quoted(query)}`,
      "aggregate it into one, e.g. sum(increase(http_requests_total{...}[2m]))",
    );
  const value = samples[0]?.value;
  return value === undefined || Number.isNaN(value) ? undefined : value;
}

const BROKEN_HINT = "fix the PromQL (a broken query is a configuration error: the analysis fails and the deploy rolls back)";

const UNREACHABLE_HINT = "check the analysis metric's prometheus.address and that Prometheus runs and is reachable from the deploy";
const SLOW_HINT = "Prometheus is overloaded or the query too heavy; simplify it or raise prometheus.timeout";
