/**
 * How every ECS call in the deploy core is made: bounded jittered retries for throttling and 5xx,
 * and AWS errors turned into one-line Problems with anything credential-like scrubbed out. The
 * retryable-error rules are shared with ECR (aws/retry.ts).
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";
import { errorName, isRetryable, saidBy, type RetryOptions } from "../aws/retry.js";
import { systemClock, type Clock } from "../project/clock.js";

export type { RetryOptions };
// The clock lives in project/clock.ts so code the CI module loads can wait without the ECS types.
export { systemClock, type Clock } from "../project/clock.js";

export interface EcsOptions {
  retry?: RetryOptions;
  clock?: Clock;
}

/** A client plus the policies every call uses (ECS, ELB...). */
export interface WithPolicy<C> {
  client: C;
  retry: RetryOptions;
  clock: Clock;
}

export const withPolicy = <C>(client: C, opts: EcsOptions = {}): WithPolicy<C> => ({
  client,
  retry: opts.retry ?? {},
  clock: opts.clock ?? systemClock,
});

export type Ecs = WithPolicy<ECSClient>;
export const ecsOf = (client: ECSClient, opts?: EcsOptions): Ecs => withPolicy(client, opts);

// How AWS errors read (name, scrubbed message) lives in aws/retry.ts, shared with STS and ECR.
export { errorName, saidBy, scrub } from "../aws/retry.js";

/** "…is not authorized to perform: ecs:UpdateService on resource…" names the permission exactly (iam:PassRole included). */
function missingPermission(message: string): string | undefined {
  return /not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)/.exec(message)?.[1];
}

/** Per error name, a Problem for this call; anything not listed gets the generic translation. */
export type Known = Record<string, (said: string) => Problem>;

function problemFrom(e: unknown, service: string, action: string, known: Known): Problem {
  if (e instanceof Problem) return e;
  const name = errorName(e);
  const said = saidBy(e);
  const specific = known[name];
  if (specific) return specific(said);
  const permission = missingPermission(said) ?? (/AccessDenied/.test(name) ? action : undefined);
  if (permission) {
    return new Problem(
      `the AWS role lacks ${permission} (during ${action}): ${said}`,
      permission === "iam:PassRole"
        ? "allow iam:PassRole on the task role and execution role named in the task definition"
        : `add ${permission} to the deploy role's policy`,
    );
  }
  switch (name) {
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
      return new Problem("AWS does not recognise the access key", "check the AWS credential secrets (and the session token)");
    case "ExpiredTokenException":
    case "ExpiredToken":
      return new Problem("the AWS credentials have expired", "refresh them (or lengthen the role session) and rerun");
    case "ClusterNotFoundException":
      return new Problem(`${service} ${action} failed: the cluster was not found: ${said}`, "check environments.<env>.cluster and region");
  }
  return new Problem(`${service} ${action} failed: ${name}: ${said}`, "see the AWS message; rerun if it was transient");
}

/** What every AWS call needs besides the client: how to retry, and the clock to wait on. */
export interface CallPolicy {
  retry: RetryOptions;
  clock: Clock;
}

/** One AWS call (ECS, ELB...): retried while AWS is throttling or failing, then translated into a Problem. */
export async function sendAws<T>(policy: CallPolicy, service: string, action: string, fn: () => Promise<T>, known: Known = {}): Promise<T> {
  const { attempts = 5, baseMs = 500, maxMs = 8000, random = Math.random } = policy.retry;
  const sleep = policy.retry.sleep ?? ((ms: number) => policy.clock.sleep(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryable(e)) throw problemFrom(e, service, action, known);
      if (attempt >= attempts) {
        throw new Problem(
          `${service} kept failing ${action} (${errorName(e)}) after ${attempts} attempts`,
          `AWS is throttling or unavailable: rerun later; pipelines sharing the account share ${service}'s rate limits`,
        );
      }
      // Full jitter: parallel pipelines throttled together should not retry together.
      await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))));
    }
  }
}

/** One ECS call. */
export const send = <T>(ecs: Ecs, action: string, fn: () => Promise<T>, known: Known = {}): Promise<T> =>
  sendAws(ecs, "ECS", action, fn, known);
