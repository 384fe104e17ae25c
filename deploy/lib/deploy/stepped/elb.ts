/**
 * The ELB calls a stepped canary makes: read and rewrite the weighted forward action (of a
 * listener rule, or of a listener's default action) and count healthy targets. Retries and
 * Problems are deploy/aws.ts's, shared with ECS.
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
import type { RetryOptions } from "../../aws/retry.js";
import { Problem } from "../../../src/project/problem.js";
import { sendAws, withPolicy, type EcsOptions, type Known, type WithPolicy } from "../aws.js";

export type Elb = WithPolicy<ElasticLoadBalancingV2Client>;
export const elbOf = (client: ElasticLoadBalancingV2Client, opts?: EcsOptions): Elb => withPolicy(client, opts);

/** One ELB call, with the deploy core's retries and Problems (ELB's Query-protocol "Throttling" is retried too). */
export const sendElb = <T>(elb: Elb, action: string, fn: () => Promise<T>, known: Known = {}): Promise<T> =>
  sendAws(elb, "ELB", action, fn, known);

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
