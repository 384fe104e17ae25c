/**
 * Kill the run at every point: for each strategy, a clean deploy is counted call by call, then
 * replayed once per call with the process killed just before it (that call and every later one
 * never reach AWS; no finally block runs). ECS goes on alone; once the dead run's lock has expired,
 * `status`, `rollback` or the next `deploy` comes along. Every case must end with:
 *
 * - production on a revision that passed its checks (app:1, app:2 only if the dead run's final gate
 *   CONTINUE reached ECS, or the recovering deploy's own app:3);
 * - no PAUSE hook of ours and no hook mark left on the service;
 * - a record of what happened, naming the dead run, whenever it had changed anything.
 */
import type { ContinueServiceDeploymentCommandInput, DeploymentLifecycleHook, UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, lockMinutes, type DeployReport, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import { HOOK_TAG } from "../../deploy/lib/deploy/hook-mark.js";
import { DEPLOY_LOCK_TAG } from "../../deploy/lib/deploy/lock.js";
import { abortDeployment } from "../../deploy/lib/deploy/promote.js";
import { steppedCanaryDeploy } from "../../deploy/lib/deploy/stepped/canary.js";
import { steppedLockMinutes } from "../../deploy/lib/deploy/stepped/lease.js";
import { STEPPED_TAG } from "../../deploy/lib/deploy/stepped/mark.js";
import { Problem } from "../../deploy/src/project/problem.js";
import type { OnPause } from "../../deploy/lib/deploy/hooks.js";
import { rollbackEnvironment } from "../../deploy/lib/deploy/rollback.js";
import { environmentStatus } from "../../deploy/lib/deploy/status.js";
import { ALB_WITH_ADVANCED_CONFIG, FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";
import { CANARY, STABLE, passingGate, steppedEnv, steppedFakes, type SteppedFakes } from "./stepped-fixture.js";

const APP = (n: number) => arnOf(`task-definition/app:${n}`);
const SERVICE_ARN = arnOf("service/main/api");
const STRATEGIES = {
  rolling: {},
  "blue-green": { strategy: "blue-green" },
  linear: { strategy: "linear", linear: { stepPercent: 50, stepBakeMinutes: 1 } },
  canary: { strategy: "canary", canary: { percent: 10, bakeMinutes: 1 } },
} as const;
const RECOVERIES = ["status", "rollback", "deploy"] as const;

const envOf = (settings: Record<string, unknown>): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({
    staging: {
      cluster: "main",
      service: "api",
      region: "us-east-1",
      containerName: "app",
      bakeTimeMinutes: 1,
      progressDeadlineMinutes: 10,
      pauseTimeoutMinutes: 20,
      analysis: {
        metrics: [
          {
            name: "error-rate",
            provider: { prometheus: { address: "http://prom.invalid", query: "x" } },
            successCondition: { op: "<=", threshold: 0.01 },
            interval: "10s",
            count: 2,
          },
        ],
        watchWindow: "30s",
      },
      ...settings,
    },
  }).staging as EnvironmentConfig;
const healthy: CheckDeps = { providerFor: () => ({ measure: async () => [0] }) };

let fake: FakeEcs | undefined;
afterEach(() => {
  fake?.restore();
  vi.useRealTimers();
});

function fresh(): FakeEcs {
  fake?.restore();
  vi.useRealTimers();
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  const f = new FakeEcs();
  f.addService({ loadBalancers: [ALB_WITH_ADVANCED_CONFIG] });
  vi.setSystemTime(Date.now() + 1000);
  fake = f;
  return f;
}

/** The gate, remembering which hooks it continued at POST_PRODUCTION_TRAFFIC_SHIFT: the final verdict. */
function judging(env: EnvironmentConfig, finals: string[]): OnPause {
  const gate = progressiveGate(env, healthy);
  return async (p) => {
    const decided = await gate(p);
    if (decided.action === "CONTINUE" && p.stage === "POST_PRODUCTION_TRAFFIC_SHIFT") finals.push(p.hookId);
    return decided;
  };
}

const request = (env: EnvironmentConfig, onPause: OnPause, runId: string): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId,
  onPause,
});

/** The calls a run that nothing interrupts makes. */
async function cleanCalls(env: EnvironmentConfig): Promise<number> {
  const f = fresh();
  const report = await onFakeTime(deploy(f.client, request(env, judging(env, []), "gh-clean")));
  expect(report.result).toBe("succeeded");
  return f.calls.length;
}

interface Case {
  strategy: keyof typeof STRATEGIES;
  crashAt: number;
  recovery: (typeof RECOVERIES)[number];
}

/** One kill and one recovery, then the three checks. */
async function crashAndRecover(env: EnvironmentConfig, c: Case): Promise<void> {
  const f = fresh();
  const finals: string[] = [];
  f.crashAfter(c.crashAt);
  const dying = deploy(f.client, request(env, judging(env, finals), "gh-dead"));
  await onFakeTime(
    dying.catch(() => undefined),
    1000,
    6 * 3600_000,
  );
  const reached = f.calls.map((x) => x.command);
  const changed = reached.includes("UpdateService") || reached.includes("RunTask");
  const finalContinue = f
    .inputs<ContinueServiceDeploymentCommandInput>("ContinueServiceDeployment")
    .some((x) => x.action === "CONTINUE" && finals.includes(x.hookId ?? ""));
  f.revive();
  // ECS goes on without anyone; the dead run's lock expires, then someone comes along.
  vi.setSystemTime(Date.now() + (lockMinutes(env) + 1) * 60_000);

  let said: string;
  const allowed = new Set([APP(1), ...(finalContinue ? [APP(2)] : [])]);
  if (c.recovery === "status") {
    said = (await onFakeTime(environmentStatus(f.client, { environment: "staging", config: env, runId: "gh-next" }))).lines.join("\n");
  } else if (c.recovery === "rollback") {
    const report = await onFakeTime(rollbackEnvironment(f.client, { environment: "staging", config: env, runId: "gh-next" }));
    // Failed only when there is nothing earlier to return to: right only if the service never left app:1.
    if (report.result !== "succeeded") {
      expect(report.reason).toMatch(/no earlier revision to roll back to/);
      expect(f.service().taskDefinition).toBe(APP(1));
    }
    said = report.timeline.map((e) => e.message).join("\n");
  } else {
    const report = await onFakeTime(deploy(f.client, request(env, judging(env, []), "gh-next")));
    expect(report.result).toBe("succeeded");
    allowed.add(report.taskDefinitionArn);
    said = report.timeline.map((e) => e.message).join("\n");
  }

  // Production on a revision that passed its checks.
  const primary = f.service().deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition;
  expect(allowed, `serving ${primary ?? "?"}`).toContain(f.service().taskDefinition);
  // No hook left behind, no mark either.
  const pauses = (f.service().deploymentConfiguration?.lifecycleHooks ?? []).filter(
    (h: DeploymentLifecycleHook) => h.targetType === "PAUSE",
  );
  expect(pauses).toEqual([]);
  expect(f.tags.get(SERVICE_ARN)?.some((t) => t.key === HOOK_TAG) ?? false).toBe(false);
  // A record naming the dead run, whenever it had changed anything (or held the lock).
  if (changed || reached.includes("TagResource")) expect(said).toMatch(/gh-dead/);
}

describe.each(Object.keys(STRATEGIES) as (keyof typeof STRATEGIES)[])("%s, killed before every AWS call", (strategy) => {
  it("ends on a revision that passed its checks, with no hook left and a record, whatever comes next", async () => {
    const env = envOf(STRATEGIES[strategy]);
    const total = await cleanCalls(env);
    expect(total).toBeGreaterThan(15);
    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const recovery = RECOVERIES[crashAt % RECOVERIES.length] ?? "status";
      try {
        await crashAndRecover(env, { strategy, crashAt, recovery });
      } catch (e) {
        throw new Error(`${strategy}: killed before call ${crashAt} of ${total}, then ${recovery}: ${(e as Error).message}`, { cause: e });
      }
    }
  }, 120_000);
});

/**
 * The stepped canary, killed before every ECS and ELB call (one counter: one process), then
 * `status`, `rollback`, `abort` or the next `deploy`. Every case ends with the weights at stable
 * 100 / canary 0, the canary service at 0, the main service on a revision that passed its checks
 * (app:1, or app:2 once the dead run's every step passed and it promoted), no mark or lock left,
 * and a record naming the dead run whenever it had changed anything.
 */
const STEPPED_RECOVERIES = ["status", "rollback", "abort", "deploy"] as const;
let stepped: SteppedFakes | undefined;
afterEach(() => {
  stepped?.ecs.restore();
  stepped?.elb.restore();
  stepped = undefined;
});

function freshStepped(): SteppedFakes {
  stepped?.ecs.restore();
  stepped?.elb.restore();
  vi.useRealTimers();
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  stepped = steppedFakes();
  vi.setSystemTime(Date.now() + 1000);
  return stepped;
}

const steppedRun = (f: SteppedFakes, env: EnvironmentConfig, runId: string) =>
  steppedCanaryDeploy(
    { ecs: f.ecs.client, elb: f.elb.client },
    { environment: "staging", config: env, canary: env.steppedCanary!, image: IMAGE, runId },
    passingGate(),
  );

async function steppedCleanCalls(): Promise<number> {
  const f = freshStepped();
  const report = await onFakeTime(steppedRun(f, steppedEnv(f.rule), "gh-clean"), 5000);
  expect(report.result).toBe("succeeded");
  return f.ecs.calls.length + f.elb.calls.length;
}

async function steppedCrashAndRecover(crashAt: number, recovery: (typeof STEPPED_RECOVERIES)[number]): Promise<void> {
  const f = freshStepped();
  const env = steppedEnv(f.rule);
  f.ecs.crashAfter(crashAt);
  await onFakeTime(
    steppedRun(f, env, "gh-dead").catch(() => undefined),
    5000,
    6 * 3600_000,
  );
  const ecsReached = f.ecs.calls.map((x) => x.command);
  const changed = ecsReached.includes("UpdateService") || ecsReached.includes("TagResource") || f.elb.count("ModifyRule") > 0;
  const promoted = f.ecs.inputs<UpdateServiceCommandInput>("UpdateService").some((i) => i.service?.endsWith("/api") && i.taskDefinition);
  const inFlight =
    f.elb.weightsOf(f.rule).some((w) => w.arn === CANARY && w.weight > 0) || (f.ecs.service("api-canary").desiredCount ?? 0) > 0;
  f.ecs.revive();
  vi.setSystemTime(Date.now() + (steppedLockMinutes(env) + 1) * 60_000);

  const clients = { elb: f.elb.client, runId: "gh-next", environment: "staging", config: env };
  const allowed = new Set([APP(1), ...(promoted ? [APP(2)] : [])]);
  let said: string;
  if (recovery === "status") {
    said = (await onFakeTime(environmentStatus(f.ecs.client, clients), 5000)).lines.join("\n");
  } else if (recovery === "rollback") {
    const report = await onFakeTime(rollbackEnvironment(f.ecs.client, clients), 5000);
    if (report.result !== "succeeded") expect(report.reason).toMatch(/no earlier revision to roll back to/);
    said = [report.reason, ...report.timeline.map((e) => e.message)].join("\n");
  } else if (recovery === "abort") {
    const out = await onFakeTime(abortDeployment(f.ecs.client, clients), 5000).catch((e: unknown) => e);
    if (out instanceof Problem) {
      expect(out.cause_).toMatch(/^nothing to abort/);
      expect(inFlight).toBe(false);
      said = "";
    } else {
      const report = out as DeployReport;
      expect(report.result).toBe("rolled back");
      said = [report.reason, ...report.timeline.map((e) => e.message)].join("\n");
    }
  } else {
    const report = await onFakeTime(steppedRun(f, env, "gh-next"), 5000);
    expect(report.result, report.reason).toBe("succeeded");
    allowed.add(report.taskDefinitionArn);
    said = report.timeline.map((e) => e.message).join("\n");
  }

  // Traffic on stable only, the canary at 0, the main service on a judged revision.
  expect(f.elb.weightsOf(f.rule)).toEqual([
    { arn: STABLE, weight: 100 },
    { arn: CANARY, weight: 0 },
  ]);
  expect(f.ecs.service("api-canary").desiredCount).toBe(0);
  expect(allowed, `serving ${f.ecs.service().taskDefinition ?? "?"}`).toContain(f.ecs.service().taskDefinition);
  const keys = (f.ecs.tags.get(SERVICE_ARN) ?? []).map((t) => t.key);
  expect(keys.filter((k) => k === STEPPED_TAG || k === HOOK_TAG || k === DEPLOY_LOCK_TAG)).toEqual([]);
  if (changed && !(recovery === "abort" && !inFlight)) expect(said).toMatch(/gh-dead/);
}

describe("stepped canary, killed before every ECS and ELB call", () => {
  it("ends on stable 100 / canary 0 with the canary at 0, a judged revision serving, no mark and a record", async () => {
    const total = await steppedCleanCalls();
    expect(total).toBeGreaterThan(30);
    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const recovery = STEPPED_RECOVERIES[crashAt % STEPPED_RECOVERIES.length] ?? "status";
      try {
        await steppedCrashAndRecover(crashAt, recovery);
      } catch (e) {
        throw new Error(`stepped canary: killed before call ${crashAt} of ${total}, then ${recovery}: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
  }, 300_000);
});
