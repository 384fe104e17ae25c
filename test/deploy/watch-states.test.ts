/**
 * The watch's state machine against ECS's: an answer to a hook that took effect although its reply
 * was lost must not start a second rollback (or undo a CONTINUE), and ROLLBACK_SUCCESSFUL is
 * reported with the revision that really serves, which is ECS's last completed one.
 */
import { RegisterTaskDefinitionCommand, ServerException, UpdateServiceCommand, type UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import { ALB_WITH_ADVANCED_CONFIG, CLUSTER, FakeEcs, IMAGE, SERVICE, arnOf, onFakeTime } from "./fake-ecs.js";

const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
const APP3 = arnOf("task-definition/app:3");
let fake: FakeEcs;

const base = {
  cluster: "main",
  service: "api",
  region: "us-east-1",
  containerName: "app",
  bakeTimeMinutes: 2,
  progressDeadlineMinutes: 10,
};
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
const env = EnvironmentsConfigSchema.parse({ staging: { ...base, strategy: "blue-green", analysis } }).staging as EnvironmentConfig;
const errorRate = (value: number): CheckDeps => ({ providerFor: () => ({ measure: async () => [value] }) });
const request = (deps: CheckDeps): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId: "gh-7-1",
  onPause: progressiveGate(env, deps),
});
const lostReply = () => new ServerException({ message: "We encountered an internal error.", $metadata: { httpStatusCode: 500 } });
const redeploys = () => fake.inputs<UpdateServiceCommandInput>("UpdateService").filter((u) => u.taskDefinition);

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService({ loadBalancers: [ALB_WITH_ADVANCED_CONFIG] });
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

describe("an answer that took effect with its reply lost", () => {
  it("ROLLBACK: ECS is already rolling back, so nothing else is asked for (no StopServiceDeployment, no redeploy)", async () => {
    fake.failAfterApplying("ContinueServiceDeployment", lostReply());
    const report = await onFakeTime(deploy(fake.client, request(errorRate(0.5))));
    expect(report.result).toBe("rolled back");
    expect(fake.count("StopServiceDeployment")).toBe(0);
    expect(redeploys().map((u) => u.taskDefinition)).toEqual([APP2]);
    expect(report.timeline.map((e) => e.message).join("\n")).toMatch(
      /ContinueServiceDeployment\(ROLLBACK\) for hook \S+ errored \(.*InvalidParameterException.*\), but ECS had applied it/,
    );
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("CONTINUE: the deployment goes on and succeeds, instead of being rolled back for a refusal", async () => {
    fake.failAfterApplying("ContinueServiceDeployment", lostReply());
    const report = await onFakeTime(deploy(fake.client, request(errorRate(0))));
    expect(report.result).toBe("succeeded");
    expect(fake.count("StopServiceDeployment")).toBe(0);
    expect(fake.service().taskDefinition).toBe(APP2);
  });
});

describe("ROLLBACK_SUCCESSFUL, confirmed by what serves", () => {
  it("names the revision ECS went back to (its last completed one) when the replaced one had never finished", async () => {
    // Someone else's app:2 is still rolling out (and never will) when Shipshape deploys app:3, which fails its gate.
    const td = fake.taskDefinitions.get(APP1);
    await fake.client.send(
      new RegisterTaskDefinitionCommand({
        family: "app",
        containerDefinitions: td?.containerDefinitions,
        networkMode: "awsvpc",
        cpu: "256",
        memory: "512",
      }),
    );
    fake.nextDeployments({ outcome: "stuck" });
    await fake.client.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: APP2 }));
    const report = await onFakeTime(deploy(fake.client, request(errorRate(0.5))));
    expect(report).toMatchObject({ result: "rolled back", previousTaskDefinitionArn: APP2, taskDefinitionArn: APP3 });
    expect(report.reason).toMatch(/; ECS went back to app:1 \(its last completed deployment\), not app:2, which had not finished$/);
    expect(fake.service().taskDefinition).toBe(APP1);
  });
});

describe("the fake's circuit breaker follows ThresholdConfiguration", () => {
  it("trips at 50% of the desired count, clamped to 3..200 (BOUNDED_PERCENT, the default)", async () => {
    for (const [desired, threshold] of [
      [2, 3],
      [20, 10],
      [1000, 200],
    ] as const) {
      fake.service().desiredCount = desired;
      fake.nextDeployments({ outcome: "unhealthy" });
      await fake.client.send(
        new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: APP1, forceNewDeployment: true }),
      );
      const sd = fake.deployments.get(fake.service().currentServiceDeployment ?? "")?.sd;
      expect(sd?.deploymentCircuitBreaker?.threshold).toBe(threshold);
    }
  });
});
