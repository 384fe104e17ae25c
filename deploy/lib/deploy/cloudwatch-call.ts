/**
 * How every CloudWatch call of the analysis is made: throttling and 5xx retried with jittered
 * backoff on the analysis' own (injected) sleep; anything else a one-line Problem with
 * credentials scrubbed out. Failures no retry can fix (a missing permission, a rejected query)
 * are FatalProblems, so the analysis fails the metric at once instead of after every interval.
 */
import { asAws, isRetryable, type RetryOptions } from "../aws/retry.js";
import { Problem } from "../../src/project/problem.js";
import { FatalProblem } from "./analysis-problem.js";
import { errorName, saidBy } from "./aws.js";

export type CloudWatchAction = "GetMetricData" | "DescribeAlarms" | "ListMetrics";

export interface CloudWatchCallOptions {
  /** attempts, backoff and the sleep between attempts (the analysis passes its own, so tests run on fake time). */
  retry?: RetryOptions;
}

// Over the query protocol CloudWatch says "Throttling" (HTTP 400), a name aws/retry.ts does not list.
const retryable = (e: unknown) => isRetryable(e) || asAws(e).name === "Throttling";

export function problemFrom(e: unknown, action: CloudWatchAction): Problem {
  if (e instanceof Problem) return e;
  const name = errorName(e);
  const said = saidBy(e);
  if (/AccessDenied/.test(name) || /not authorized to perform/.test(said))
    return new FatalProblem(
      `the AWS role lacks cloudwatch:${action}: ${said}`,
      `allow cloudwatch:${action} on Resource "*" in the deploy role's policy (it takes no resource ARNs)`,
    );
  if (name === "InvalidClientTokenId" || name === "UnrecognizedClientException")
    return new FatalProblem("AWS does not recognise the access key", "check the AWS credential secrets (and the session token)");
  if (/^(?:InvalidParameter|MissingRequiredParameter|Validation)/.test(name))
    return new FatalProblem(
      `CloudWatch rejected the ${action === "DescribeAlarms" ? "alarm lookup" : "metric queries"}: ${said}`,
      "fix the analysis metric's cloudwatch settings (ids, stat, period, expression)",
    );
  return new Problem(`CloudWatch ${action} failed: ${name}: ${said}`, "see the AWS message; rerun if it was transient");
}

/** One CloudWatch call, retried while AWS throttles or fails, then translated into a Problem. */
export async function call<T>(action: CloudWatchAction, fn: () => Promise<T>, retry: RetryOptions, signal: AbortSignal): Promise<T> {
  const { attempts = 4, baseMs = 500, maxMs = 8000, random = Math.random } = retry;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (signal.aborted) throw new Problem("measurement cancelled", "");
      if (!retryable(e)) throw problemFrom(e, action);
      if (attempt >= attempts)
        throw new Problem(
          `CloudWatch kept failing ${action} (${errorName(e)}) after ${attempts} attempts`,
          "CloudWatch is throttling or unavailable; pipelines sharing the account share its GetMetricData/DescribeAlarms rate",
        );
      // Full jitter: analyses of parallel deploys throttled together should not retry together.
      await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))));
      if (signal.aborted) throw new Problem("measurement cancelled", "");
    }
  }
}
