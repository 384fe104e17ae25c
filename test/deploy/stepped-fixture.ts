/**
 * One stepped-canary environment on the fakes: the main service `api` behind api-stable, the
 * canary service `api-canary` (0 tasks) behind api-canary, and a listener rule weighted 100/0
 * between them. The two fakes share one crash counter (one process calls both services).
 */
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../src/deploy/config.js";
import type { CanaryGate, GateStep } from "../../src/deploy/stepped/canary.js";
import { FakeEcs } from "./fake-ecs.js";
import { FakeElb, tgArnOf } from "./fake-elb.js";

export const STABLE = tgArnOf("api-stable");
export const CANARY = tgArnOf("api-canary");

export interface SteppedFakes {
  ecs: FakeEcs;
  elb: FakeElb;
  rule: string;
}

export function steppedFakes(): SteppedFakes {
  const ecs = new FakeEcs();
  ecs.addService({ loadBalancers: [{ targetGroupArn: STABLE, containerName: "app", containerPort: 8080 }] });
  ecs.addService(
    {
      serviceName: "api-canary",
      desiredCount: 0,
      runningCount: 0,
      loadBalancers: [{ targetGroupArn: CANARY, containerName: "app", containerPort: 8080 }],
    },
    { family: "app-canary" },
  );
  const elb = new FakeElb(ecs);
  elb.addTargetGroup("api-stable", "api");
  elb.addTargetGroup("api-canary", "api-canary");
  const rule = elb.addRule([
    [STABLE, 100],
    [CANARY, 0],
  ]);
  return { ecs, elb, rule };
}

/** The environment with a 5 → 20 → 50 → 100 stepped canary on `rule`, plus `settings`. */
export const steppedEnv = (rule: string, settings: Record<string, unknown> = {}): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({
    staging: {
      cluster: "main",
      service: "api",
      region: "us-east-1",
      containerName: "app",
      progressDeadlineMinutes: 10,
      pollSeconds: 15,
      steppedCanary: {
        listenerRuleArn: rule,
        stableTargetGroupArn: STABLE,
        canaryTargetGroupArn: CANARY,
        canaryService: "api-canary",
        steps: [
          { weight: 5, pauseMinutes: 2 },
          { weight: 20, pauseMinutes: 2 },
          { weight: 50, pauseMinutes: 2 },
          { weight: 100, pauseMinutes: 2 },
        ],
      },
      ...settings,
    },
  }).staging as EnvironmentConfig;

/** A gate that passes every step and remembers which it judged. */
export function passingGate(): CanaryGate & { judged: GateStep[] } {
  const judged: GateStep[] = [];
  const fn = async (step: GateStep) => {
    judged.push(step);
    return { action: "CONTINUE" as const, reason: "error rate 0.1% <= 1%", values: { errorRate: 0.001 } };
  };
  return Object.assign(fn, { judged });
}
