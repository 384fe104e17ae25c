/**
 * Shipshape's PAUSE hook lives for one deployment: added with it, removed when it ends, whichever
 * way it ends, and recognised by the service tag that names it (ECS keeps no hookDetails on PAUSE
 * hooks, and the fake drops it as the model says). A hook left behind would stop every later
 * deploy, anyone's: the fake applies PAUSE hooks to ROLLING too, so a forced new deployment after a
 * Shipshape deploy is the proof.
 */
import { ClientException, DescribeServicesCommand, UpdateServiceCommand, type DeploymentLifecycleHook } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import { HOOK_TAG } from "../../deploy/lib/deploy/hook-mark.js";
import { abortDeployment } from "../../deploy/lib/deploy/promote.js";
import { ALB_WITH_ADVANCED_CONFIG, CLUSTER, FakeEcs, IMAGE, SERVICE, arnOf, onFakeTime } from "./fake-ecs.js";

const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
const SERVICE_ARN = arnOf("service/main/api");
let fake: FakeEcs;

const base = {
  cluster: "main",
  service: "api",
  region: "us-east-1",
  containerName: "app",
  bakeTimeMinutes: 2,
  progressDeadlineMinutes: 10,
};
const envOf = (settings: Record<string, unknown>): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({ staging: { ...base, ...settings } }).staging as EnvironmentConfig;
const analysis = {
  metrics: [
    {
      name: "error-rate",
      provider: { prometheus: { address: "http://prom.invalid", query: "x" } },
      successCondition: { op: "<=", threshold: 0.01 },
      interval: "10s",
      count: 2,
    },
  ],
  watchWindow: "20s",
};
const errorRate = (value: number): CheckDeps => ({ providerFor: () => ({ measure: async () => [value] }) });
const request = (env: EnvironmentConfig, deps?: CheckDeps, runId = "gh-9-1"): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId,
  ...(deps ? { onPause: progressiveGate(env, deps) } : {}),
});

const pauseHooks = (): DeploymentLifecycleHook[] =>
  (fake.service().deploymentConfiguration?.lifecycleHooks ?? []).filter((h) => h.targetType === "PAUSE");
const marked = () => fake.tags.get(SERVICE_ARN)?.some((t) => t.key === HOOK_TAG) ?? false;

/** Someone else redeploys (a secret rotation): a forced new deployment, watched until ECS ends it. */
async function forcedRedeploy(): Promise<string | undefined> {
  await fake.client.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, forceNewDeployment: true }));
  const arn = fake.service().currentServiceDeployment ?? "";
  const ended = async () => {
    for (;;) {
      await fake.client.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] })); // ECS time moves on
      const status = fake.deployments.get(arn)?.sd.status;
      if (!["IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"].includes(status ?? "")) return status;
      await new Promise((resolve) => setTimeout(resolve, 60_000));
    }
  };
  return onFakeTime(ended(), 60_000, 48 * 3600_000);
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService({ loadBalancers: [ALB_WITH_ADVANCED_CONFIG] });
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

describe("the fake follows the model", () => {
  it("applies a PAUSE hook to ROLLING: a forced deployment waits at it and ECS rolls it back at the timeout", async () => {
    const hook = {
      targetType: "PAUSE" as const,
      lifecycleStages: ["POST_SCALE_UP" as const],
      timeoutConfiguration: { timeoutInMinutes: 30 },
    };
    fake.service().deploymentConfiguration = { strategy: "ROLLING", lifecycleHooks: [hook] };
    fake.service().taskDefinition = APP1;
    expect(await forcedRedeploy()).toBe("ROLLBACK_SUCCESSFUL");
    const sd = fake.deployments.get(fake.service().currentServiceDeployment ?? "")?.sd;
    expect(sd?.lifecycleHookDetails).toEqual([
      expect.objectContaining({ targetType: "PAUSE", status: "TIMED_OUT", timeoutAction: "ROLLBACK" }),
    ]);
  });
});

describe("Shipshape's hook lives for one deployment", () => {
  it("success: the hook and its mark are gone, so someone else's forced redeploy completes instead of rolling back", async () => {
    const report = await onFakeTime(deploy(fake.client, request(envOf({ strategy: "blue-green", analysis }), errorRate(0))));
    expect(report.result).toBe("succeeded");
    expect(pauseHooks()).toEqual([]);
    expect(marked()).toBe(false);
    expect(await forcedRedeploy()).toBe("SUCCESSFUL");
    expect(fake.service().taskDefinition).toBe(APP2);
  });

  it("failure: a gate that rolls back also takes the hook off", async () => {
    const report = await onFakeTime(deploy(fake.client, request(envOf({ strategy: "canary", analysis }), errorRate(0.5))));
    expect(report.result).toBe("rolled back");
    expect(fake.service().taskDefinition).toBe(APP1);
    expect(pauseHooks()).toEqual([]);
    expect(marked()).toBe(false);
  });

  it("paused on purpose: the hook stays marked paused; abort ends the deployment and removes it", async () => {
    const env = envOf({ strategy: "blue-green", promotion: "manual" });
    const paused = await onFakeTime(deploy(fake.client, request(env)));
    expect(paused.result).toBe("paused");
    expect(pauseHooks()).toHaveLength(1);
    expect(fake.tags.get(SERVICE_ARN)?.find((t) => t.key === HOOK_TAG)?.value).toMatch(/ paused=yes sd=/);
    const aborted = await onFakeTime(abortDeployment(fake.client, { environment: "staging", config: env }));
    expect(aborted.result).toBe("rolled back");
    expect(pauseHooks()).toEqual([]);
    expect(marked()).toBe(false);
  });

  it("a run killed at its gate: after its lock expires, the next deploy records that ECS rolled back at the hook's timeout, and removes the hook", async () => {
    const env = envOf({ strategy: "blue-green", analysis });
    // The gate never answers and the process dies while it waits: no finally, no cleanup.
    const dying = deploy(fake.client, { ...request(env), onPause: () => new Promise(() => undefined) });
    dying.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(3 * 60_000);
    fake.crashAfter(1);
    expect(pauseHooks()).toHaveLength(1);
    fake.revive();
    vi.setSystemTime(Date.now() + 3 * 3600_000); // past the hook's 60 minutes and the dead run's lock
    const next = await onFakeTime(deploy(fake.client, request(env, errorRate(0), "gh-9-2")));
    expect(next.result).toBe("succeeded");
    expect(next.tookOverLock?.runId).toBe("gh-9-1");
    expect(next.abandoned).toMatchObject({ runId: "gh-9-1", outcome: "rolled back" });
    expect(next.decisions[0]).toMatchObject({ gate: "hook-timeout", verdict: "timed out" });
    expect(next.decisions[0]?.reason).toMatch(/^run gh-9-1's PAUSE hook .* got no decision before .*; ECS applied ROLLBACK$/);
    expect(pauseHooks()).toEqual([]);
    expect(marked()).toBe(false);
  });

  it("a run that failed mid-rollout (lock released, deployment unjudged): the next deploy rolls that deployment back first", async () => {
    const env = envOf({ strategy: "linear", linear: { stepPercent: 50, stepBakeMinutes: 1 }, analysis });
    // The watch's first poll fails with an error nothing retries: the run gives up, releasing its lock.
    fake.afterCall.set("UpdateService", () => {
      fake.afterCall.delete("UpdateService");
      fake.fail("DescribeServiceDeployments", new ClientException({ message: "boom", $metadata: { httpStatusCode: 400 } }));
    });
    await expect(onFakeTime(deploy(fake.client, request(env, errorRate(0))))).rejects.toThrow(/boom/);
    const abandoned = fake.service().currentServiceDeployment ?? "";
    expect(fake.deployments.get(abandoned)?.sd.status).toBe("IN_PROGRESS");
    const next = await onFakeTime(deploy(fake.client, request(env, errorRate(0), "gh-9-2")));
    expect(fake.deployments.get(abandoned)?.sd.status).toBe("ROLLBACK_SUCCESSFUL");
    expect(next.abandoned).toMatchObject({ runId: "gh-9-1", serviceDeploymentArn: abandoned, outcome: "rolled back" });
    expect(next.result).toBe("succeeded");
    expect(pauseHooks()).toEqual([]);
    expect(marked()).toBe(false);
  });
});
