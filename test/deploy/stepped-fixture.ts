/**
 * One stepped-canary environment on the fakes: the main service `api` behind api-stable, the
 * canary service `api-canary` (0 tasks) behind api-canary, and a listener rule weighted 100/0
 * between them. The two fakes share one crash counter (one process calls both services).
 */
import { ModifyRuleCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, vi } from "vitest";
import { DEPLOY_LOCK_TAG, encodeLock } from "../../deploy/lib/deploy/lock.js";
import { STEPPED_TAG, encodeSteppedMark } from "../../deploy/lib/deploy/stepped/mark.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { steppedCanaryDeploy, type CanaryGate, type GateStep } from "../../deploy/lib/deploy/stepped/canary.js";
import { Problem } from "../../deploy/src/project/problem.js";
import type { FakeCloudWatch } from "./fake-cloudwatch.js";
import { FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";
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

const MAIN_SERVICE_ARN = arnOf("service/main/api");

/** What a run killed at 20% leaves: the rule at 80/20, the canary service up, its mark, and its lock expiring at `expiresAt`. */
export async function deadRunAt20(f: SteppedFakes, expiresAt: number): Promise<void> {
  const forward = [
    { TargetGroupArn: STABLE, Weight: 80 },
    { TargetGroupArn: CANARY, Weight: 20 },
  ];
  await f.elb.client.send(
    new ModifyRuleCommand({ RuleArn: f.rule, Actions: [{ Type: "forward", ForwardConfig: { TargetGroups: forward } }] }),
  );
  await f.ecs.client.send(new UpdateServiceCommand({ cluster: "main", service: "api-canary", desiredCount: 2 }));
  const startedAt = new Date(expiresAt - 20 * 60_000).toISOString();
  f.ecs.tags.set(MAIN_SERVICE_ARN, [
    ...(f.ecs.tags.get(MAIN_SERVICE_ARN) ?? []),
    { key: DEPLOY_LOCK_TAG, value: encodeLock({ runId: "gh-dead", startedAt, expiresAt: new Date(expiresAt).toISOString() }) },
    { key: STEPPED_TAG, value: encodeSteppedMark({ runId: "gh-dead", revision: "app:2", startedAt }) },
  ]);
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

/**
 * Fresh fakes and environment for every test of a file, on fake time from 2026-11-20T10:00Z;
 * `onEach` hands them to the file's own variables, so test bodies read them as plain names.
 */
export function useSteppedFakes(onEach: (f: SteppedFakes, env: EnvironmentConfig) => void): void {
  let current: SteppedFakes | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
    current = steppedFakes();
    onEach(current, steppedEnv(current.rule));
  });
  afterEach(() => {
    current?.ecs.restore();
    current?.elb.restore();
    vi.useRealTimers();
  });
}

const SERVICE_ARN = arnOf("service/main/api");

/** What the command and safety tests do to the file's current fakes: a run, the weights' history, a tag, a Problem. */
export function steppedActions(now: () => { f: SteppedFakes; env: EnvironmentConfig }) {
  return {
    run: (gate: CanaryGate = passingGate(), e?: EnvironmentConfig, runId = "gh-run", cloudwatch?: FakeCloudWatch) => {
      const { f, env } = now();
      const config = e ?? env;
      return steppedCanaryDeploy(
        { ecs: f.ecs.client, elb: f.elb.client, ...(cloudwatch ? { cloudwatch: cloudwatch.client } : {}) },
        { environment: "staging", config, canary: config.steppedCanary!, image: IMAGE, runId },
        gate,
      );
    },
    weights: () => now().f.elb.history(now().f.rule, STABLE, CANARY),
    tag: (key: string) =>
      now()
        .f.ecs.tags.get(SERVICE_ARN)
        ?.find((t) => t.key === key)?.value,
    /** The Problem `p` ends with (its fake time run to the end); anything else fails the test. */
    problemOf: async (p: Promise<unknown>): Promise<Problem> => {
      const e = await onFakeTime(p, 5000).then(
        () => undefined,
        (x: unknown) => x,
      );
      if (e instanceof Problem) return e;
      throw new Error(`expected a Problem, got ${String(e)}`);
    },
  };
}
