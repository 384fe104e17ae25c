/**
 * Blue/green, linear and canary deploys with Shipshape's gates in ECS PAUSE hooks, end to end on
 * the stateful fake over fake time: smoke checks against real loopback HTTP servers (the test
 * listener and production), analysis through an injected provider that reads the traffic the
 * fake has shifted, promote and abort by hand.
 */
import type {
  ContinueServiceDeploymentCommandInput,
  DeploymentLifecycleHook,
  StopServiceDeploymentCommandInput,
  UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployReport, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import type { OnPause } from "../../deploy/lib/deploy/hooks.js";
import { DEPLOY_LOCK_TAG } from "../../deploy/lib/deploy/lock.js";
import { abortDeployment, promoteDeployment } from "../../deploy/lib/deploy/promote.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { ALB_WITH_ADVANCED_CONFIG, FakeEcs, IMAGE, arnOf, onFakeTime, trackFetches } from "./fake-ecs.js";

const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
const APP3 = arnOf("task-definition/app:3");
const SERVICE_ARN = arnOf("service/main/api");
const base = {
  cluster: "main",
  service: "api",
  region: "us-east-1",
  containerName: "app",
  bakeTimeMinutes: 2,
  progressDeadlineMinutes: 10,
};
let fake: FakeEcs;
let untrack: () => void;

const envOf = (settings: Record<string, unknown>): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({ staging: { ...base, ...settings } }).staging as EnvironmentConfig;

beforeEach(() => {
  // Real sockets below: only the timers the product code sleeps on are faked.
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService({ loadBalancers: [ALB_WITH_ADVANCED_CONFIG] });
  untrack = trackFetches();
});
afterEach(async () => {
  untrack();
  fake.restore();
  vi.useRealTimers();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const servers: Server[] = [];
/** A loopback service answering /healthz with the status the test sets; remembers the production weight ECS had given app:2 at each hit. */
async function site(status = 200) {
  const state = { status, hits: [] as { weight: number; headers: IncomingMessage["headers"] }[] };
  const server = createServer((req, res) => {
    state.hits.push({ weight: targetWeight(), headers: req.headers });
    res.writeHead(req.url === "/healthz" ? state.status : 404, { connection: "close" }).end("ok");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { state, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** The production traffic the current deployment's new revision has, per the fake. */
function targetWeight(): number {
  const arn = fake.service().currentServiceDeployment ?? "";
  return fake.deployments.get(arn)?.sd.targetServiceRevision?.requestedProductionTrafficWeight ?? 0;
}

const checks = [{ name: "health", path: "/healthz", retries: 2, backoff: { initialMs: 100, maxMs: 100 } }];
const errorRate = { name: "error-rate", provider: { prometheus: { address: "http://prom.invalid", query: "x" } } };
/** error-rate as a function of the production traffic the new revision has. */
const metric = (valueAt: (weight: number) => number): CheckDeps => ({
  providerFor: () => ({ measure: async () => [valueAt(targetWeight())] }),
});
const analysis = {
  metrics: [{ ...errorRate, successCondition: { op: "<=", threshold: 0.01 }, interval: "10s", count: 2 }],
  watchWindow: "20s",
};

const request = (env: EnvironmentConfig, onPause?: OnPause): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId: "gh-7-1",
  ...(onPause ? { onPause } : {}),
});
const run = (env: EnvironmentConfig, deps: CheckDeps = {}) => onFakeTime(deploy(fake.client, request(env, progressiveGate(env, deps))));
const continues = () => fake.inputs<ContinueServiceDeploymentCommandInput>("ContinueServiceDeployment");
const lockHeld = () => fake.tags.get(SERVICE_ARN)?.some((t) => t.key === DEPLOY_LOCK_TAG) ?? false;
const summary = (r: DeployReport) => r.decisions.map((d) => [d.gate, d.stage, d.step, d.verdict]);

async function problemOf(p: Promise<unknown>): Promise<Problem> {
  const e = await onFakeTime(p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof Problem) return e;
  throw new Error(`expected a Problem, got ${String(e)}`);
}

describe("blue/green", () => {
  it("smoke-checks the test listener at POST_TEST_TRAFFIC_SHIFT before production traffic, then production, and succeeds", async () => {
    const [test, prod] = [await site(), await site()];
    const env = envOf({ strategy: "blue-green", smoke: { baseUrl: prod.url, testUrl: test.url, checks } });
    const report = await run(env);

    expect(report).toMatchObject({ result: "succeeded", strategy: "blue-green", taskDefinitionArn: APP2 });
    expect(fake.service().taskDefinition).toBe(APP2);
    const sent = fake.inputs<UpdateServiceCommandInput>("UpdateService")[0]?.deploymentConfiguration;
    expect(sent).toMatchObject({ strategy: "BLUE_GREEN", bakeTimeInMinutes: 2 });
    expect(sent?.lifecycleHooks).toEqual([
      {
        targetType: "PAUSE",
        lifecycleStages: ["POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"],
        timeoutConfiguration: { timeoutInMinutes: 60, action: "ROLLBACK" },
      },
    ]);
    // The test listener was checked while app:2 had no production traffic; production once it had all of it.
    expect(test.state.hits.map((h) => h.weight)).toEqual([0]);
    expect(prod.state.hits.map((h) => h.weight)).toEqual([100]);
    expect(continues().map((c) => c.action)).toEqual(["CONTINUE", "CONTINUE"]);
    expect(new Set(continues().map((c) => c.hookId)).size).toBe(2);
    expect(summary(report)).toEqual([
      ["smoke", "POST_TEST_TRAFFIC_SHIFT", 0, "passed"],
      ["smoke", "POST_PRODUCTION_TRAFFIC_SHIFT", 0, "passed"],
    ]);
    expect(report.decisions[0]?.values).toEqual([
      { name: "health status", value: 200 },
      { name: "health attempts", value: 1 },
    ]);
    expect(lockHeld()).toBe(false);
  });

  it("rolls back with ContinueServiceDeployment(ROLLBACK) when the test listener fails, before production sees app:2", async () => {
    const [test, prod] = [await site(503), await site()];
    const env = envOf({ strategy: "blue-green", smoke: { baseUrl: prod.url, testUrl: test.url, checks } });
    const report = await run(env);

    expect(report.result).toBe("rolled back");
    expect(report.reason).toBe(
      "smoke checks failed on the test listener: GET /healthz answered 503 after 2 attempts; rolled back to app:1",
    );
    expect(continues()).toEqual([{ serviceDeploymentArn: report.serviceDeploymentArn, hookId: expect.any(String), action: "ROLLBACK" }]);
    expect(fake.service().taskDefinition).toBe(APP1);
    expect(fake.service().deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition).toBe(APP1);
    expect(prod.state.hits).toEqual([]);
    expect(report.decisions).toEqual([
      expect.objectContaining({
        gate: "smoke",
        stage: "POST_TEST_TRAFFIC_SHIFT",
        verdict: "failed",
        values: expect.arrayContaining([{ name: "health status", value: 503 }]),
      }),
    ]);
    const sd = fake.deployments.get(report.serviceDeploymentArn)?.sd;
    expect(sd?.status).toBe("ROLLBACK_SUCCESSFUL");
  });

  it("sends Service Connect's test header to the test traffic", async () => {
    const prod = await site();
    fake.service().deployments?.forEach((d) => (d.serviceConnectConfiguration = { enabled: true, namespace: "internal" }));
    fake.service().loadBalancers = [];
    const env = envOf({ strategy: "blue-green", smoke: { baseUrl: prod.url, testHeader: {}, checks } });
    const report = await run(env);
    expect(report.result).toBe("succeeded");
    expect(prod.state.hits.map((h) => [h.weight, h.headers["x-amzn-ecs-blue-green-test"]])).toEqual([
      [0, "true"],
      [100, undefined],
    ]);
  });

  it("is a Problem before anything changes when the load balancer has no advancedConfiguration", async () => {
    fake.service().loadBalancers = [{ targetGroupArn: ALB_WITH_ADVANCED_CONFIG.targetGroupArn, containerName: "app", containerPort: 8080 }];
    const p = await problemOf(deploy(fake.client, request(envOf({ strategy: "blue-green" }))));
    expect(p.cause_).toMatch(/^blue-green on service api needs its load balancer's advancedConfiguration \(target group arn:.*api-blue/);
    expect(p.hint).toMatch(/alternateTargetGroupArn, productionListenerRule and roleArn/);
    expect(fake.count("RegisterTaskDefinition")).toBe(0);
    expect(fake.count("UpdateService")).toBe(0);
  });

  it("is a Problem when smoke.testUrl is set but the load balancer has no test listener rule", async () => {
    const { testListenerRule, ...advanced } = ALB_WITH_ADVANCED_CONFIG.advancedConfiguration;
    expect(testListenerRule).toBeDefined();
    fake.service().loadBalancers = [{ ...ALB_WITH_ADVANCED_CONFIG, advancedConfiguration: advanced }];
    const env = envOf({ strategy: "blue-green", smoke: { baseUrl: "http://127.0.0.1:9", testUrl: "http://127.0.0.1:9", checks } });
    const p = await problemOf(deploy(fake.client, request(env)));
    expect(p.cause_).toMatch(/^smoke\.testUrl is set, but service api's load balancer has no test listener rule/);
    expect(p.hint).toMatch(/advancedConfiguration\.testListenerRule/);
  });
});

describe("canary and linear", () => {
  it("canary: a new hookId per step, and an analysis breach at step 2 rolls back with the value in the decisions", async () => {
    const env = envOf({ strategy: "canary", canary: { percent: 10, bakeMinutes: 3 }, analysis });
    const report = await run(
      env,
      metric((w) => (w > 0 ? 0.05 : 0.001)),
    );

    expect(report.result).toBe("rolled back");
    expect(report.reason).toMatch(
      /^analysis failed at PRE_PRODUCTION_TRAFFIC_SHIFT step 2\/2 \(10% production traffic\): error-rate: measured 0\.05/,
    );
    const sent = fake.inputs<UpdateServiceCommandInput>("UpdateService")[0]?.deploymentConfiguration;
    expect(sent).toMatchObject({ strategy: "CANARY", canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 3 } });
    expect(sent?.lifecycleHooks?.[0]?.lifecycleStages).toEqual(["PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"]);
    const [first, second] = continues();
    expect([first?.action, second?.action]).toEqual(["CONTINUE", "ROLLBACK"]);
    expect(first?.hookId).not.toBe(second?.hookId);
    expect(summary(report)).toEqual([
      ["analysis", "PRE_PRODUCTION_TRAFFIC_SHIFT", 1, "skipped"],
      ["analysis", "PRE_PRODUCTION_TRAFFIC_SHIFT", 2, "failed"],
    ]);
    expect(report.decisions[1]?.values).toEqual([{ name: "error-rate", value: 0.05 }]);
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("linear: each step is judged at its own hook, then the rollout succeeds", async () => {
    const env = envOf({ strategy: "linear", linear: { stepPercent: 25, stepBakeMinutes: 1 }, analysis });
    const seen: number[] = [];
    const report = await run(
      env,
      metric((w) => (seen.push(w), 0.004)),
    );

    expect(report.result).toBe("succeeded");
    expect(fake.service().taskDefinition).toBe(APP2);
    const hookIds = continues().map((c) => c.hookId);
    expect(hookIds).toHaveLength(5); // four steps and the final shift
    expect(new Set(hookIds).size).toBe(5);
    expect(summary(report)).toEqual([
      ["analysis", "PRE_PRODUCTION_TRAFFIC_SHIFT", 1, "skipped"],
      ["analysis", "PRE_PRODUCTION_TRAFFIC_SHIFT", 2, "passed"],
      ["analysis", "PRE_PRODUCTION_TRAFFIC_SHIFT", 3, "passed"],
      ["analysis", "PRE_PRODUCTION_TRAFFIC_SHIFT", 4, "passed"],
      ["analysis", "POST_PRODUCTION_TRAFFIC_SHIFT", 0, "passed"],
      ["analysis", "POST_PRODUCTION_TRAFFIC_SHIFT", 0, "passed"],
    ]);
    expect([...new Set(seen)]).toEqual([25, 50, 75, 100]);
  });

  it("linear: a breach at step 2 rolls back to the old revision", async () => {
    const env = envOf({ strategy: "linear", linear: { stepPercent: 20, stepBakeMinutes: 1 }, analysis });
    const report = await run(
      env,
      metric((w) => (w >= 20 ? 0.2 : 0)),
    );
    expect(report.result).toBe("rolled back");
    expect(report.decisions.at(-1)).toMatchObject({ step: 2, verdict: "failed", values: [{ name: "error-rate", value: 0.2 }] });
    expect(continues().map((c) => c.action)).toEqual(["CONTINUE", "ROLLBACK"]);
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("an analysis without data pauses for a human instead of guessing, and that pause is no pass (promotion: auto)", async () => {
    const env = envOf({ strategy: "canary", canary: { percent: 10, bakeMinutes: 1 }, analysis });
    const report = await run(env, { providerFor: () => ({ measure: async () => [] }) });
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(
      /^not finished: analysis inconclusive at PRE_PRODUCTION_TRAFFIC_SHIFT step 2\/2 .*promote or abort by hand; promotion is auto, so a pause is not a pass: promote or abort it before .*, when ECS rolls it back \(timeout action ROLLBACK\)$/,
    );
    expect(report.pause).toMatchObject({ stage: "PRE_PRODUCTION_TRAFFIC_SHIFT", step: 2, productionTrafficPercent: 10 });
  });
});

describe("hook timeouts", () => {
  it("reports a gate that outlived its PAUSE hook: ECS applied ROLLBACK, and the decision says so", async () => {
    const env = envOf({
      strategy: "blue-green",
      pauseTimeoutMinutes: 1,
      smoke: { baseUrl: "http://127.0.0.1:9", testUrl: "http://127.0.0.1:9", checks },
    });
    // A gate still deciding after the hook's minute (a hung dependency, say) answers too late.
    const slow: OnPause = () =>
      new Promise((resolve) => setTimeout(() => resolve({ action: "CONTINUE", reason: "fine", decisions: [] }), 3 * 60_000));
    const report = await onFakeTime(deploy(fake.client, request(env, slow)));

    expect(report.result).toBe("rolled back");
    expect(report.reason).toMatch(
      /^Shipshape's PAUSE hook at POST_TEST_TRAFFIC_SHIFT \(0% production traffic\) got no decision before it expired at .*, so ECS rolled back \(timeout action ROLLBACK\); rolled back to app:1$/,
    );
    expect(report.decisions).toEqual([
      expect.objectContaining({ gate: "hook-timeout", stage: "POST_TEST_TRAFFIC_SHIFT", verdict: "timed out" }),
    ]);
    expect(
      report.timeline.some((e) =>
        /ContinueServiceDeployment\(CONTINUE\) for hook .* was refused: .*InvalidParameterException/.test(e.message),
      ),
    ).toBe(true);
    expect(fake.service().taskDefinition).toBe(APP1);
  });
});

describe("manual promotion", () => {
  it("pauses before production traffic, refuses a second deploy, and promote finishes the rollout", async () => {
    const env = envOf({ strategy: "blue-green", promotion: "manual" });
    const paused = await run(env);
    expect(paused.result).toBe("paused");
    expect(paused.pause).toMatchObject({ stage: "POST_TEST_TRAFFIC_SHIFT", productionTrafficPercent: 0, testTrafficPercent: 100 });
    expect(paused.reason).toMatch(
      /^waiting at POST_TEST_TRAFFIC_SHIFT \(0% production traffic\) for promote or abort \(promotion: manual\)$/,
    );
    expect(summary(paused)).toEqual([["approval", "POST_TEST_TRAFFIC_SHIFT", 0, "waiting"]]);
    expect(lockHeld()).toBe(false);
    expect(continues()).toEqual([]);

    const again = await problemOf(deploy(fake.client, request(env)));
    expect(again.cause_).toBe("the current deployment of staging is paused at POST_TEST_TRAFFIC_SHIFT, waiting for a decision");
    expect(again.hint).toMatch(/promote it .* or abort it/);

    const done = await onFakeTime(promoteDeployment(fake.client, { environment: "staging", config: env, onPause: progressiveGate(env) }));
    expect(done).toMatchObject({ result: "succeeded", taskDefinitionArn: APP2, previousTaskDefinitionArn: APP1, image: IMAGE });
    expect(summary(done)).toEqual([["approval", "POST_TEST_TRAFFIC_SHIFT", 0, "approved"]]);
    expect(continues().map((c) => [c.hookId, c.action])).toEqual([[paused.pause?.hookId, "CONTINUE"]]);
    expect(fake.service().taskDefinition).toBe(APP2);
  });

  it("linear: promote moves one step at a time, each at a new hook", async () => {
    const env = envOf({ strategy: "linear", linear: { stepPercent: 50, stepBakeMinutes: 1 }, promotion: "manual" });
    const first = await run(env);
    expect(first.pause).toMatchObject({ step: 1, steps: 2, productionTrafficPercent: 0 });
    const resume = () => onFakeTime(promoteDeployment(fake.client, { environment: "staging", config: env, onPause: progressiveGate(env) }));
    const second = await resume();
    expect(second.result).toBe("paused");
    expect(second.pause).toMatchObject({ step: 2, productionTrafficPercent: 50 });
    expect(second.pause?.hookId).not.toBe(first.pause?.hookId);
    const third = await resume();
    expect(third.result).toBe("succeeded");
    // Taking the hook off is a settings-only UpdateService, which may start a deployment of app:2 again (never a pause).
    await expect(onFakeTime(promoteDeployment(fake.client, { environment: "staging", config: env }))).rejects.toThrow(
      /^nothing to promote: the (latest )?deployment of staging is (SUCCESSFUL|in progress \(\w+\) but not paused at a Shipshape gate)/,
    );
  });

  it("says clearly when nobody promoted before the hook expired", async () => {
    const env = envOf({ strategy: "blue-green", promotion: "manual", pauseTimeoutMinutes: 30 });
    await run(env);
    await vi.advanceTimersByTimeAsync(31 * 60_000 + 2 * 60_000);
    const p = await problemOf(promoteDeployment(fake.client, { environment: "staging", config: env }));
    expect(p.cause_).toMatch(
      /^nothing to promote: the latest deployment of staging is ROLLBACK_SUCCESSFUL \(a PAUSE hook timed out without a decision, so ECS applied its timeout action\): .*timed out/,
    );
    expect(fake.service().taskDefinition).toBe(APP1);
  });
});

describe("abort", () => {
  it("rolls a paused deployment back through its waiting hook and waits until app:1 serves", async () => {
    const env = envOf({ strategy: "canary", promotion: "manual" });
    const paused = await run(env);
    const report = await onFakeTime(abortDeployment(fake.client, { environment: "staging", config: env }));
    expect(report).toMatchObject({ result: "rolled back", taskDefinitionArn: APP2, previousTaskDefinitionArn: APP1 });
    expect(report.reason).toBe("aborted by hand at PRE_PRODUCTION_TRAFFIC_SHIFT; app:1 is serving again");
    expect(continues()).toEqual([{ serviceDeploymentArn: paused.serviceDeploymentArn, hookId: paused.pause?.hookId, action: "ROLLBACK" }]);
    expect(summary(report)).toEqual([["approval", "PRE_PRODUCTION_TRAFFIC_SHIFT", 1, "aborted"]]);
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("stops an unpaused deployment with StopServiceDeployment(ROLLBACK), and refuses when nothing is in progress", async () => {
    const env = envOf({ strategy: "blue-green" });
    fake.nextDeployments({ outcome: "stuck" });
    const deploying = deploy(fake.client, request(env, progressiveGate(env)));
    deploying.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(60_000);
    const report = await onFakeTime(abortDeployment(fake.client, { environment: "staging", config: env }));
    expect(report.result).toBe("rolled back");
    expect(fake.inputs<StopServiceDeploymentCommandInput>("StopServiceDeployment")).toEqual([
      { serviceDeploymentArn: report.serviceDeploymentArn, stopType: "ROLLBACK" },
    ]);
    expect((await onFakeTime(deploying)).result).toBe("rolled back");
    const p = await problemOf(abortDeployment(fake.client, { environment: "staging", config: env }));
    expect(p.cause_).toMatch(/^nothing to abort: the latest deployment of staging is ROLLBACK_SUCCESSFUL/);
    expect(p.hint).toMatch(/use rollback/);
  });
});

describe("the service's own hooks", () => {
  const lambda: DeploymentLifecycleHook = {
    targetType: "AWS_LAMBDA",
    hookTargetArn: "arn:aws:lambda:us-east-1:123456789012:function:warm-cache",
    roleArn: "arn:aws:iam::123456789012:role/ecs-hooks",
    lifecycleStages: ["POST_SCALE_UP"],
  };

  it("keeps a user's Lambda hook, and replaces rather than duplicates Shipshape's own on the next deploy", async () => {
    fake.service().deploymentConfiguration = { ...fake.service().deploymentConfiguration, lifecycleHooks: [lambda] };
    const env = envOf({ strategy: "blue-green", analysis });
    for (const _ of [1, 2])
      expect(
        (
          await run(
            env,
            metric(() => 0),
          )
        ).result,
      ).toBe("succeeded");
    const updates = fake.inputs<UpdateServiceCommandInput>("UpdateService");
    const sent = updates.filter((u) => u.taskDefinition).map((u) => u.deploymentConfiguration?.lifecycleHooks);
    expect(sent).toHaveLength(2);
    for (const hooks of sent) {
      expect(hooks).toHaveLength(2);
      expect(hooks?.[0]).toEqual(lambda);
      expect(hooks?.[1]).toMatchObject({ targetType: "PAUSE", lifecycleStages: ["POST_PRODUCTION_TRAFFIC_SHIFT"] });
    }
    // Each deploy took its hook off again, keeping the user's.
    expect(updates.filter((u) => !u.taskDefinition).map((u) => u.deploymentConfiguration?.lifecycleHooks)).toEqual([[lambda], [lambda]]);
    const sd = [...fake.deployments.values()].find((d) => d.to === APP3)?.sd;
    expect(sd?.lifecycleHookDetails?.find((h) => h.targetType === "AWS_LAMBDA")).toMatchObject({
      targetArn: lambda.hookTargetArn,
      status: "SUCCEEDED",
    });
  });

  it("refuses when the user's own PAUSE hook sits at a stage Shipshape needs", async () => {
    const theirs: DeploymentLifecycleHook = { targetType: "PAUSE", lifecycleStages: ["POST_PRODUCTION_TRAFFIC_SHIFT"] };
    fake.service().deploymentConfiguration = { ...fake.service().deploymentConfiguration, lifecycleHooks: [theirs] };
    const p = await problemOf(deploy(fake.client, request(envOf({ strategy: "blue-green", analysis }))));
    expect(p.cause_).toBe(
      "service api already has a PAUSE hook of its own at POST_PRODUCTION_TRAFFIC_SHIFT, where Shipshape's gate pauses",
    );
    expect(fake.count("UpdateService")).toBe(0);
  });

  it("a rolling deploy after a progressive one drops Shipshape's hooks, so nothing pauses unanswered", async () => {
    fake.service().deploymentConfiguration = { ...fake.service().deploymentConfiguration, lifecycleHooks: [lambda] };
    expect(
      (
        await run(
          envOf({ strategy: "blue-green", analysis }),
          metric(() => 0),
        )
      ).result,
    ).toBe("succeeded");
    expect((await run(envOf({}))).result).toBe("succeeded");
    const last = fake.inputs<UpdateServiceCommandInput>("UpdateService").at(-1)?.deploymentConfiguration;
    expect(last).toMatchObject({ strategy: "ROLLING", lifecycleHooks: [lambda] });
  });
});

describe("ECS throttling", () => {
  it("retries a throttled ContinueServiceDeployment and carries on", async () => {
    const prod = await site();
    fake.throttle("ContinueServiceDeployment", 2);
    const env = envOf({ strategy: "blue-green", smoke: { baseUrl: prod.url, checks } });
    const report = await run(env);
    expect(report.result).toBe("succeeded");
    expect(fake.count("ContinueServiceDeployment")).toBe(3); // two throttled, then the one ECS took
    expect(continues().map((c) => c.hookId)).toEqual(Array(3).fill(continues()[0]?.hookId));
  });
});
