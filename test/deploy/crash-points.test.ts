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
import type { ContinueServiceDeploymentCommandInput, DeploymentLifecycleHook } from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../src/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../src/deploy/config.js";
import { deploy, lockMinutes, type DeployRequest } from "../../src/deploy/deploy.js";
import { HOOK_TAG } from "../../src/deploy/hook-mark.js";
import type { OnPause } from "../../src/deploy/hooks.js";
import { rollbackEnvironment } from "../../src/deploy/rollback.js";
import { environmentStatus } from "../../src/deploy/status.js";
import { ALB_WITH_ADVANCED_CONFIG, FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";

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
