/**
 * The ELB calls a stepped canary makes: read and rewrite the weighted forward action (of a
 * listener rule, or of a listener's default action) and count healthy targets. Retries and
 * Problems follow deploy/aws.ts send(); ELB is a Query-protocol API, so its throttling error is
 * named "Throttling" (HTTP 400, "Rate exceeded") and the shared rules alone would not retry it.
 */
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { asAws, isRetryable, type RetryOptions } from "../../aws/retry.js";
import { Problem } from "../../project/problem.js";
import { errorName, saidBy, systemClock, type Clock, type EcsOptions } from "../aws.js";

export interface Elb {
  client: ElasticLoadBalancingV2Client;
  retry: RetryOptions;
  clock: Clock;
}

export const elbOf = (client: ElasticLoadBalancingV2Client, opts: EcsOptions = {}): Elb => ({
  client,
  retry: opts.retry ?? {},
  clock: opts.clock ?? systemClock,
});

const THROTTLED = new Set(["Throttling", "ThrottlingException"]);

export const isElbRetryable = (e: unknown): boolean => isRetryable(e) || THROTTLED.has(asAws(e).name ?? "");

type Known = Record<string, (said: string) => Problem>;

function problemFrom(e: unknown, action: string, known: Known): Problem {
  if (e instanceof Problem) return e;
  const name = errorName(e);
  const said = saidBy(e);
  const specific = known[name];
  if (specific) return specific(said);
  // IAM names the exact action it refused; without that, the action we called is the one to allow.
  const permission =
    /not authorized to perform:?\s+([a-z0-9-]+:[A-Za-z0-9*]+)/.exec(said)?.[1] ?? (/AccessDenied/.test(name) ? action : undefined);
  if (permission) {
    return new Problem(`the AWS role lacks ${permission} (during ${action}): ${said}`, `add ${permission} to the deploy role's policy`);
  }
  if (["UnrecognizedClientException", "InvalidClientTokenId"].includes(name)) {
    return new Problem("AWS does not recognise the access key", "check the AWS credential secrets (and the session token)");
  }
  if (["ExpiredTokenException", "ExpiredToken"].includes(name)) {
    return new Problem("the AWS credentials have expired", "refresh them (or lengthen the role session) and rerun");
  }
  return new Problem(`ELB ${action} failed: ${name}: ${said}`, "see the AWS message; rerun if it was transient");
}

/** One ELB call: retried while AWS throttles or fails, then translated into a Problem. */
export async function sendElb<T>(elb: Elb, action: string, fn: () => Promise<T>, known: Known = {}): Promise<T> {
  const { attempts = 5, baseMs = 500, maxMs = 8000, random = Math.random } = elb.retry;
  const sleep = elb.retry.sleep ?? ((ms: number) => elb.clock.sleep(ms));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isElbRetryable(e)) throw problemFrom(e, action, known);
      if (attempt >= attempts) {
        throw new Problem(
          `ELB kept failing ${action} (${errorName(e)}) after ${attempts} attempts`,
          "AWS is throttling or unavailable: rerun later; pipelines sharing the account share ELB's rate limits",
        );
      }
      // Full jitter, as for ECS: parallel pipelines throttled together should not retry together.
      await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))));
    }
  }
}

/** Where the weighted forward action lives: a listener rule, or a listener's default action. */
export type TrafficRoute = { kind: "rule"; arn: string } | { kind: "listener"; arn: string };

export const describeRoute = (route: TrafficRoute): string => `${route.kind === "rule" ? "listener rule" : "listener"} ${route.arn}`;

const routeMissing = (route: TrafficRoute) => () =>
  new Problem(
    `${describeRoute(route)} was not found`,
    `check steppedCanary.${route.kind === "rule" ? "listenerRuleArn" : "listenerArn"} and that the ELB client uses its region`,
  );

export async function readRoute(elb: Elb, route: TrafficRoute): Promise<Action[]> {
  if (route.kind === "rule") {
    const out = await sendElb(
      elb,
      "elasticloadbalancing:DescribeRules",
      () => elb.client.send(new DescribeRulesCommand({ RuleArns: [route.arn] })),
      { RuleNotFoundException: routeMissing(route) },
    );
    const rule = out.Rules?.find((r) => r.RuleArn === route.arn);
    if (!rule) throw routeMissing(route)();
    return rule.Actions ?? [];
  }
  const out = await sendElb(
    elb,
    "elasticloadbalancing:DescribeListeners",
    () => elb.client.send(new DescribeListenersCommand({ ListenerArns: [route.arn] })),
    { ListenerNotFoundException: routeMissing(route) },
  );
  const listener = out.Listeners?.find((l) => l.ListenerArn === route.arn);
  if (!listener) throw routeMissing(route)();
  return listener.DefaultActions ?? [];
}

export async function writeRoute(elb: Elb, route: TrafficRoute, actions: Action[], retry?: RetryOptions): Promise<void> {
  const withRetry = retry ? { ...elb, retry: { ...elb.retry, ...retry } } : elb;
  const known: Known = {
    TargetGroupNotFoundException: (said) =>
      new Problem(`a target group in the weighted action no longer exists: ${said}`, "check steppedCanary's target group ARNs"),
  };
  if (route.kind === "rule") {
    await sendElb(
      withRetry,
      "elasticloadbalancing:ModifyRule",
      () => elb.client.send(new ModifyRuleCommand({ RuleArn: route.arn, Actions: actions })),
      { ...known, RuleNotFoundException: routeMissing(route) },
    );
    return;
  }
  await sendElb(
    withRetry,
    "elasticloadbalancing:ModifyListener",
    () => elb.client.send(new ModifyListenerCommand({ ListenerArn: route.arn, DefaultActions: actions })),
    { ...known, ListenerNotFoundException: routeMissing(route) },
  );
}

export interface TargetCounts {
  healthy: number;
  total: number;
  /** The other states with ELB's reasons, e.g. "2 unhealthy (Target.FailedHealthChecks)", for messages. */
  others: string;
}

export async function targetHealth(elb: Elb, targetGroupArn: string): Promise<TargetCounts> {
  const out = await sendElb(
    elb,
    "elasticloadbalancing:DescribeTargetHealth",
    () => elb.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    {
      TargetGroupNotFoundException: () =>
        new Problem(`target group ${targetGroupArn} was not found`, "check steppedCanary's target group ARNs and region"),
    },
  );
  const descriptions = out.TargetHealthDescriptions ?? [];
  const tally = new Map<string, number>();
  for (const d of descriptions) {
    const state = d.TargetHealth?.State ?? "unknown";
    if (state === "healthy") continue;
    const key = `${state}${d.TargetHealth?.Reason ? ` (${d.TargetHealth.Reason})` : ""}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return {
    healthy: descriptions.filter((d) => d.TargetHealth?.State === "healthy").length,
    total: descriptions.length,
    others: [...tally].map(([key, n]) => `${n} ${key}`).join(", "),
  };
}
