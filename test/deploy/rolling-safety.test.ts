/**
 * Rolling deploys judge the new revision while ECS still holds the deployment: the checks and
 * the watch window run at a PAUSE hook at POST_PRODUCTION_TRAFFIC_SHIFT (ECS applies PAUSE hooks to
 * ROLLING), with the lock held. If the run dies there, the hook's timeout (ROLLBACK) undoes the
 * unjudged revision without anyone; the analysis's CloudWatch alarms go to ECS's own alarm rollback.
 */
import { DescribeServicesCommand, type UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import type { OnPause } from "../../deploy/lib/deploy/hooks.js";
import { DEPLOY_LOCK_TAG } from "../../deploy/lib/deploy/lock.js";
import { FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";

const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
const SERVICE_ARN = arnOf("service/main/api");
let fake: FakeEcs;

const metric = (name: string) => ({
  name,
  provider: { prometheus: { address: "http://prom.invalid", query: "x" } },
  successCondition: { op: "<=", threshold: 0.01 },
  interval: "10s",
  count: 2,
});
const envOf = (settings: Record<string, unknown> = {}): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({
    staging: {
      cluster: "main",
      service: "api",
      region: "us-east-1",
      containerName: "app",
      progressDeadlineMinutes: 10,
      pauseTimeoutMinutes: 30,
      analysis: { metrics: [metric("error-rate")], watchWindow: "2m" },
      ...settings,
    },
  }).staging as EnvironmentConfig;
const errorRate = (value: number): CheckDeps => ({ providerFor: () => ({ measure: async () => [value] }) });
const request = (env: EnvironmentConfig, onPause: OnPause): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId: "gh-2-1",
  onPause,
});
const lockHeld = () => fake.tags.get(SERVICE_ARN)?.some((t) => t.key === DEPLOY_LOCK_TAG) ?? false;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

describe("rolling, judged inside ECS's deployment", () => {
  it("runs the analysis and the watch window at POST_PRODUCTION_TRAFFIC_SHIFT, holding the lock, then continues and takes the hook off", async () => {
    const env = envOf();
    const gate = progressiveGate(env, errorRate(0));
    const held: boolean[] = [];
    const report = await onFakeTime(
      deploy(
        fake.client,
        request(env, async (p) => {
          held.push(lockHeld());
          return gate(p);
        }),
      ),
    );
    expect(report.result).toBe("succeeded");
    expect(held).toEqual([true]);
    expect(report.decisions.map((d) => [d.gate, d.stage, d.verdict])).toEqual([
      ["analysis", "POST_PRODUCTION_TRAFFIC_SHIFT", "passed"],
      ["analysis", "POST_PRODUCTION_TRAFFIC_SHIFT", "passed"],
    ]);
    expect(fake.inputs<UpdateServiceCommandInput>("UpdateService")[0]?.deploymentConfiguration?.lifecycleHooks).toEqual([
      {
        targetType: "PAUSE",
        lifecycleStages: ["POST_PRODUCTION_TRAFFIC_SHIFT"],
        timeoutConfiguration: { timeoutInMinutes: 30, action: "ROLLBACK" },
      },
    ]);
    expect(fake.service().deploymentConfiguration?.lifecycleHooks).toEqual([]);
    expect(fake.service().taskDefinition).toBe(APP2);
  });

  it("a failed check rolls back through the hook: ECS restores app:1", async () => {
    const env = envOf();
    const report = await onFakeTime(deploy(fake.client, request(env, progressiveGate(env, errorRate(0.2)))));
    expect(report.result).toBe("rolled back");
    expect(fake.inputs<{ action: string }>("ContinueServiceDeployment").map((c) => c.action)).toEqual(["ROLLBACK"]);
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("a run killed during its checks leaves nothing unjudged serving: the hook's timeout makes ECS roll back by itself", async () => {
    const env = envOf();
    const dying = deploy(
      fake.client,
      request(env, () => new Promise(() => undefined)),
    );
    dying.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(fake.service().taskDefinition).toBe(APP2);
    fake.crashAfter(1); // the job is cancelled: nothing of Shipshape's runs any more
    fake.revive(); // ECS itself goes on; a console user looks 40 minutes later
    vi.setSystemTime(Date.now() + 40 * 60_000);
    expect(fake.service().taskDefinition).toBe(APP2);
    await fake.client.send(new DescribeServicesCommand({ cluster: "main", services: ["api"] }));
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    await fake.client.send(new DescribeServicesCommand({ cluster: "main", services: ["api"] }));
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("hands the analysis's CloudWatch alarms to ECS's alarm rollback, which works with no Shipshape run left", async () => {
    const alarm = { name: "5xx", provider: { cloudwatchAlarm: { alarmName: "api-5xx" } } };
    const env = envOf({ alarms: ["api-latency"], analysis: { metrics: [alarm], watchWindow: "1m" } });
    await onFakeTime(
      deploy(
        fake.client,
        request(env, async () => ({ action: "CONTINUE", reason: "ok", decisions: [] })),
      ),
    );
    expect(fake.inputs<UpdateServiceCommandInput>("UpdateService")[0]?.deploymentConfiguration?.alarms).toEqual({
      alarmNames: ["api-latency", "api-5xx"],
      enable: true,
      rollback: true,
    });
  });
});
