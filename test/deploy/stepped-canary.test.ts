import type { UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { DEPLOY_LOCK_TAG, encodeLock } from "../../deploy/lib/deploy/lock.js";
import {
  steppedCanaryDeploy,
  type CanaryGate,
  type GateStep,
  type GateVerdict,
  type SteppedCanaryRequest,
} from "../../deploy/lib/deploy/stepped/canary.js";
import { SteppedCanaryConfigSchema, type SteppedCanaryConfig } from "../../deploy/lib/deploy/stepped/config.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";
import { FakeElb, LISTENER, elbThrottling, tgArnOf } from "./fake-elb.js";

const STABLE = tgArnOf("api-stable");
const CANARY = tgArnOf("api-canary");
const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
const SERVICE_ARN = arnOf("service/main/api");
const START = new Date("2026-11-20T10:00:00Z");

let ecs: FakeEcs;
let elb: FakeElb;
let rule: string;

const staging = EnvironmentsConfigSchema.parse({
  staging: { cluster: "main", service: "api", region: "us-east-1", containerName: "app", progressDeadlineMinutes: 10 },
}).staging as EnvironmentConfig;

const canaryConfig = (overrides: Record<string, unknown> = {}): SteppedCanaryConfig =>
  SteppedCanaryConfigSchema.parse({
    listenerRuleArn: rule,
    stableTargetGroupArn: STABLE,
    canaryTargetGroupArn: CANARY,
    canaryService: "api-canary",
    steps: [
      { weight: 5, pauseMinutes: 5 },
      { weight: 20, pauseMinutes: 5 },
      { weight: 50, pauseMinutes: 5 },
      { weight: 100, pauseMinutes: 5 },
    ],
    ...overrides,
  });

const request = (canary = canaryConfig()): SteppedCanaryRequest => ({
  environment: "staging",
  config: staging,
  canary,
  image: IMAGE,
  runId: "gh-7-1",
});

/** A gate that passes with healthy numbers, except where `verdicts` says otherwise; it remembers what it was asked. */
function gate(verdicts: Record<number, GateVerdict> = {}): CanaryGate & { asked: GateStep[] } {
  const asked: GateStep[] = [];
  const fn = async (step: GateStep): Promise<GateVerdict> => {
    asked.push(step);
    return verdicts[step.weight] ?? { action: "CONTINUE", reason: "error rate 0.1% ≤ 1%", values: { errorRate: 0.001 } };
  };
  return Object.assign(fn, { asked });
}

const deploy = (g: CanaryGate = gate(), req = request()) =>
  onFakeTime(steppedCanaryDeploy({ ecs: ecs.client, elb: elb.client }, req, g), 5000);

async function problemOf(p: Promise<unknown>): Promise<Problem> {
  const e = await onFakeTime(p, 5000).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof Problem) return e;
  throw new Error(`expected a Problem, got ${String(e)}`);
}

const history = (arn = rule) => elb.history(arn, STABLE, CANARY);
const lastTrafficChange = () => elb.journal.map((j) => j.startsWith("elb:")).lastIndexOf(true);
const canaryScaledDown = () => elb.journal.indexOf("ecs:UpdateService api-canary desired=0");
const mainUpdates = () => ecs.inputs<UpdateServiceCommandInput>("UpdateService").filter((i) => i.service?.endsWith("/api"));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: new Date("2026-11-20T09:00:00Z") });
  ecs = new FakeEcs();
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
  elb = new FakeElb(ecs);
  elb.addTargetGroup("api-stable", "api");
  elb.addTargetGroup("api-canary", "api-canary");
  rule = elb.addRule([
    [STABLE, 100],
    [CANARY, 0],
  ]);
  vi.setSystemTime(START);
});
afterEach(() => {
  ecs.restore();
  elb.restore();
  vi.useRealTimers();
});

describe("steppedCanaryDeploy", () => {
  it("walks 5 → 20 → 50 → 100 on fake time, promotes the main service, then hands traffic back to it", async () => {
    const g = gate();
    const report = await deploy(g);

    expect(report).toMatchObject({ result: "succeeded", taskDefinitionArn: APP2, previousTaskDefinitionArn: APP1 });
    expect(history()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
    expect(report.traffic.map((t) => `${t.stable}/${t.canary}`)).toEqual(history());
    expect(ecs.service().taskDefinition).toBe(APP2);
    expect(ecs.service("api-canary").desiredCount).toBe(0);
    // The main service moved only while the canary carried everything, and got the traffic back after.
    const j = elb.journal;
    expect(j.indexOf("elb:ModifyRule api-stable=0 api-canary=100")).toBeLessThan(j.indexOf("ecs:UpdateService api"));
    expect(j.indexOf("ecs:UpdateService api")).toBeLessThan(j.lastIndexOf("elb:ModifyRule api-stable=100 api-canary=0"));
    expect(lastTrafficChange()).toBeLessThan(canaryScaledDown());
    // Each verdict came after its full pause, on the injected (fake) clock.
    expect(report.decisions.map((d) => [d.step, d.weight, d.verdict])).toEqual([
      [1, 5, "CONTINUE"],
      [2, 20, "CONTINUE"],
      [3, 50, "CONTINUE"],
      [4, 100, "CONTINUE"],
    ]);
    for (const [i, d] of report.decisions.entries()) {
      expect(Date.parse(d.at) - Date.parse(g.asked[i]?.since ?? "")).toBe(5 * 60_000);
    }
    expect(g.asked[0]).toMatchObject({
      step: 1,
      steps: 4,
      taskDefinitionArn: APP2,
      canaryTargetGroupArn: CANARY,
      stableTargetGroupArn: STABLE,
    });
    expect(Date.now() - START.getTime()).toBeGreaterThan(20 * 60_000);
    // The canary ran as many tasks as the main service: the last step sends it everything.
    const canaryUp = ecs.inputs<UpdateServiceCommandInput>("UpdateService").find((i) => i.service?.endsWith("/api-canary"));
    expect(canaryUp).toMatchObject({ taskDefinition: APP2, desiredCount: 2 });
    expect(ecs.tags.get(SERVICE_ARN)?.some((t) => t.key === DEPLOY_LOCK_TAG)).toBe(false);
  });

  it("rolls back when analysis fails at 20%: traffic to stable first, then the canary down; the main service untouched", async () => {
    const failing = { action: "ROLLBACK", reason: "error rate 12% > 5%", values: { errorRate: 0.12, threshold: 0.05 } } as const;
    const report = await deploy(gate({ 20: failing }));

    expect(report.result).toBe("rolled back");
    expect(report.reason).toBe("analysis at step 2 (20%) called for a rollback: error rate 12% > 5%");
    expect(history()).toEqual(["100/0", "95/5", "80/20", "100/0"]);
    expect(lastTrafficChange()).toBeLessThan(canaryScaledDown());
    expect(canaryScaledDown()).toBeGreaterThan(-1);
    expect(mainUpdates()).toEqual([]);
    expect(ecs.service().taskDefinition).toBe(APP1);
    expect(ecs.service("api-canary").desiredCount).toBe(0);
    expect(report.decisions.at(-1)).toMatchObject({
      step: 2,
      weight: 20,
      verdict: "ROLLBACK",
      values: { errorRate: 0.12, threshold: 0.05 },
    });
  });

  it("treats a gate that throws as a rollback verdict, with the error as its reason", async () => {
    const g: CanaryGate = async (step) => {
      if (step.weight === 50) throw new Error("Prometheus query timed out\nstack…");
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    const report = await deploy(g);
    expect(report.result).toBe("rolled back");
    expect(report.reason).toBe("analysis at step 3 (50%) called for a rollback: analysis failed: Prometheus query timed out");
    expect(history()).toEqual(["100/0", "95/5", "80/20", "50/50", "100/0"]);
  });

  it("rolls back with a clear reason when the canary's targets never pass health checks, having sent them nothing", async () => {
    elb.scriptHealth(CANARY, {
      State: "unhealthy",
      Reason: "Target.FailedHealthChecks",
      Description: "Health checks failed with these codes: [502]",
    });
    const g = gate();
    const report = await deploy(g);

    expect(report.result).toBe("rolled back");
    expect(report.reason).toBe(
      "the canary's targets never became healthy: 0/2 healthy after 10 min (2 unhealthy (Target.FailedHealthChecks))",
    );
    expect(history()).toEqual(["100/0"]);
    expect(g.asked).toEqual([]);
    expect(mainUpdates()).toEqual([]);
    expect(ecs.service("api-canary").desiredCount).toBe(0);
  });

  it("rolls back when ECS's circuit breaker undoes the canary service's deployment", async () => {
    ecs.nextDeployments({ outcome: "unhealthy" });
    const report = await deploy();
    expect(report.result).toBe("rolled back");
    expect(report.reason).toMatch(/^the canary service did not come up on app:2: circuit breaker tripped after 3 failed tasks/);
    expect(history()).toEqual(["100/0"]);
    expect(mainUpdates()).toEqual([]);
  });

  it("refuses a rule that does not forward to exactly the two target groups, before changing anything", async () => {
    elb.addTargetGroup("api-old");
    const elsewhere = elb.addRule([
      [STABLE, 100],
      [tgArnOf("api-old"), 0],
    ]);
    const p = await problemOf(
      steppedCanaryDeploy({ ecs: ecs.client, elb: elb.client }, request(canaryConfig({ listenerRuleArn: elsewhere })), gate()),
    );
    expect(p.cause_).toBe(
      `listener rule ${elsewhere} forwards to api-stable/${STABLE.split("/").pop()}, api-old/${tgArnOf("api-old").split("/").pop()}, not to exactly the stable and canary target groups`,
    );
    expect(p.hint).toMatch(/api-stable\/\w+ weight 100 and api-canary\/\w+ weight 0$/);
    const single = elb.addRule([[STABLE, 1]]);
    const q = await problemOf(
      steppedCanaryDeploy({ ecs: ecs.client, elb: elb.client }, request(canaryConfig({ listenerRuleArn: single })), gate()),
    );
    expect(q.cause_).toMatch(/forwards to api-stable\/\w+, not to exactly/);
    expect(elb.count("ModifyRule")).toBe(0);
    expect(ecs.count("RegisterTaskDefinition")).toBe(0);
    expect(ecs.count("UpdateService")).toBe(0);
    expect(ecs.tags.get(SERVICE_ARN)?.some((t) => t.key === DEPLOY_LOCK_TAG)).toBe(false);
  });

  it("refuses a canary service that is not behind the canary target group", async () => {
    ecs.service("api-canary").loadBalancers = [{ targetGroupArn: STABLE, containerName: "app", containerPort: 8080 }];
    const p = await problemOf(steppedCanaryDeploy({ ecs: ecs.client, elb: elb.client }, request(), gate()));
    expect(p.cause_).toBe(`canary service api-canary is not registered to the canary target group api-canary/${CANARY.split("/").pop()}`);
    expect(elb.count("ModifyRule")).toBe(0);
  });

  it("turns AccessDenied on ModifyRule into a Problem naming the permission, before the canary service is touched", async () => {
    elb.deny("ModifyRule");
    const p = await problemOf(steppedCanaryDeploy({ ecs: ecs.client, elb: elb.client }, request(), gate()));
    expect(p.cause_).toMatch(/^the AWS role lacks elasticloadbalancing:ModifyRule \(during elasticloadbalancing:ModifyRule\): User: /);
    expect(p.hint).toBe("add elasticloadbalancing:ModifyRule to the deploy role's policy");
    expect(ecs.count("RegisterTaskDefinition")).toBe(0);
    expect(ecs.count("UpdateService")).toBe(0);
  });

  it("retries a throttled ModifyRule, at the start and in the middle of a step", async () => {
    elb.throttle("ModifyRule", 3);
    const g: CanaryGate = async (step) => {
      if (step.weight === 5) elb.throttle("ModifyRule", 2); // hits the write of the 20% step
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    const report = await deploy(g);
    expect(report.result).toBe("succeeded");
    expect(history()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
    expect(elb.count("ModifyRule")).toBe(6 + 5);
  });

  it("reports 'failed' and says so when the rollback cannot restore the weights even after retrying", async () => {
    const g: CanaryGate = async (step): Promise<GateVerdict> => {
      if (step.weight !== 20) return { action: "CONTINUE", reason: "ok", values: {} };
      elb.fail("ModifyRule", ...Array.from({ length: 10 }, elbThrottling));
      return { action: "ROLLBACK", reason: "p99 900ms > 500ms", values: { p99: 0.9 } };
    };
    const report = await deploy(g);
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(
      /^analysis at step 2 \(20%\) called for a rollback: p99 900ms > 500ms; then the weights could not be set back to stable \(ELB kept failing elasticloadbalancing:ModifyRule \(Throttling\) after 10 attempts\)/,
    );
    expect(history()).toEqual(["100/0", "95/5", "80/20"]);
    expect(canaryScaledDown()).toBe(-1); // the canary keeps serving its share rather than vanish under it
  });

  it("resets the weights a crashed run left behind before anything else, taking over its expired lock", async () => {
    elb.rules.delete(rule);
    rule = elb.addRule([
      [STABLE, 50],
      [CANARY, 50],
    ]);
    ecs.setTag(
      SERVICE_ARN,
      DEPLOY_LOCK_TAG,
      encodeLock({ runId: "gh-6-1", startedAt: "2026-11-20T07:00:00.000Z", expiresAt: "2026-11-20T09:00:00.000Z" }),
    );
    const report = await deploy(gate({ 5: { action: "ROLLBACK", reason: "latency", values: { p99: 2 } } }), request(canaryConfig()));

    expect(report.tookOverLock?.runId).toBe("gh-6-1");
    expect(history()).toEqual(["100/0", "95/5", "100/0"]);
    expect(elb.journal[0]).toBe("elb:ModifyRule api-stable=100 api-canary=0");
    expect(report.timeline.map((e) => e.message)).toContain("traffic: stable 100% / canary 0% (reset: run gh-6-1 left the canary at 50%)");
    const reset = elb.weightChanges[0]?.at ?? Infinity;
    const registered = report.timeline.find((e) => e.message.startsWith("registered app:2"));
    expect(reset).toBeLessThanOrEqual(Date.parse(registered?.at ?? ""));
  });

  it("keeps the rule's stickiness through every weight change (ModifyRule drops what it is not sent)", async () => {
    elb.setStickiness(rule, { Enabled: true, DurationSeconds: 300 });
    const report = await deploy();
    expect(report.result).toBe("succeeded");
    expect(elb.rules.get(rule)?.Actions?.[0]?.ForwardConfig?.TargetGroupStickinessConfig).toEqual({ Enabled: true, DurationSeconds: 300 });
    expect(history()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
  });

  it("drives a listener's default action when given listenerArn", async () => {
    elb.forwardByDefault([
      [STABLE, 1],
      [CANARY, 0],
    ]);
    const canary = canaryConfig({
      listenerRuleArn: undefined,
      listenerArn: LISTENER,
      steps: [
        { weight: 50, pauseMinutes: 1 },
        { weight: 100, pauseMinutes: 1 },
      ],
    });
    const report = await deploy(gate(), request(canary));
    expect(report.result).toBe("succeeded");
    expect(elb.history(LISTENER, STABLE, CANARY)).toEqual(["100/0", "50/50", "0/100", "100/0"]);
    expect(elb.count("ModifyRule")).toBe(0);
  });

  it("hands traffic back to the stable group and reports the main service's rollback when promotion fails", async () => {
    ecs.nextDeployments({ outcome: "healthy", afterMs: 60_000 }, { outcome: "unhealthy" });
    const report = await deploy();
    expect(report.result).toBe("rolled back");
    expect(report.reason).toMatch(
      /^every step passed, but promoting service api ended rolled back: circuit breaker tripped .*; the main service runs app:1 and has the traffic again$/,
    );
    expect(history()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
    expect(ecs.service().taskDefinition).toBe(APP1);
    expect(lastTrafficChange()).toBeLessThan(canaryScaledDown());
  });

  it("keeps traffic on the healthy canary when the promoted main service's targets never pass health checks", async () => {
    const g: CanaryGate = async (step) => {
      if (step.weight === 100) elb.scriptHealth(STABLE, { State: "unhealthy", Reason: "Target.Timeout", Description: "Request timed out" });
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    const report = await deploy(g);
    expect(report.result).toBe("failed");
    expect(report.reason).toBe(
      "promoting service api: succeeded: app:2 is serving; traffic stays on the canary service (app:2) because the stable target group cannot take it: 0/2 targets healthy (2 unhealthy (Target.Timeout))",
    );
    expect(history().at(-1)).toBe("0/100");
    expect(canaryScaledDown()).toBe(-1);
  });
});
