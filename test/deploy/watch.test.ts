import {
  InvalidParameterException,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type Service,
  type StopServiceDeploymentCommandInput,
  type UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { describeTaskDefinition, registerTaskDefinition, updateService } from "../../deploy/lib/deploy/ecs.js";
import { renderTaskDefinition } from "../../deploy/lib/deploy/taskdef.js";
import {
  rollbackTo,
  rollbackToPrevious,
  watchDeployment,
  type DeploymentProgress,
  type WatchOptions,
} from "../../deploy/lib/deploy/watch.js";
import { CLUSTER, FakeEcs, IMAGE, SERVICE, arnOf, onFakeTime, type DeploymentScript } from "./fake-ecs.js";

const T0 = new Date("2026-11-20T10:00:00Z");
const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
let fake: FakeEcs;
let service: Service;

beforeEach(() => {
  vi.useFakeTimers({ now: T0.getTime() - 3600_000 }); // the service has run app:1 for an hour
  fake = new FakeEcs();
  service = fake.addService();
  vi.setSystemTime(T0);
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

/** Registers app:2 and starts its rollout as the deploy would. */
async function startRollout(script: DeploymentScript): Promise<WatchOptions> {
  fake.nextDeployments(script);
  const { taskDefinition } = await describeTaskDefinition(fake.client, APP1);
  const { taskDefinitionArn } = await registerTaskDefinition(
    fake.client,
    renderTaskDefinition(taskDefinition, { containerName: "app", image: IMAGE }),
  );
  const { serviceDeploymentArn } = await updateService(fake.client, service, { taskDefinitionArn });
  return {
    cluster: CLUSTER,
    service: SERVICE,
    serviceDeploymentArn,
    taskDefinitionArn,
    previousTaskDefinitionArn: APP1,
    progressDeadlineMinutes: 10,
    pollSeconds: 15,
  };
}

const secondsAfterT0 = (iso: string) => (Date.parse(iso) - T0.getTime()) / 1000;

describe("watchDeployment", () => {
  it("reports success only once ECS says SUCCESSFUL and the PRIMARY runs the new revision", async () => {
    const seen: DeploymentProgress[] = [];
    const opts = await startRollout({ outcome: "healthy", afterMs: 100_000 });
    const outcome = await onFakeTime(watchDeployment(fake.client, { ...opts, onProgress: (p) => seen.push(p) }));
    expect(outcome).toMatchObject({ result: "succeeded", reason: "app:2 is serving", runningTaskDefinitionArn: APP2 });
    expect(seen.map((p) => [p.elapsedSeconds, p.status, p.running])).toEqual([
      [0, "IN_PROGRESS", 0],
      [15, "IN_PROGRESS", 0],
      [30, "IN_PROGRESS", 0],
      [45, "IN_PROGRESS", 0],
      [60, "IN_PROGRESS", 1],
      [75, "IN_PROGRESS", 1],
      [90, "IN_PROGRESS", 1],
      [105, "SUCCESSFUL", 2],
    ]);
    expect(outcome.timeline.map((e) => [secondsAfterT0(e.at), e.message])).toEqual([
      [0, "watching the deployment of app:2 (progress deadline 10 min)"],
      [0, "ECS: (service api) has started a deployment to app:2."],
      [0, "service deployment IN_PROGRESS (SCALE_UP)"],
      [100, "ECS: (service api) has reached a steady state."],
      [105, "service deployment SUCCESSFUL (CLEAN_UP)"],
      [105, "succeeded: app:2 is serving"],
    ]);
    expect(fake.count("StopServiceDeployment")).toBe(0);
  });

  it("detects a circuit-breaker rollback that waitUntilServicesStable, watching the same rollout, calls a success", async () => {
    const opts = await startRollout({ outcome: "unhealthy", failAfterMs: 120_000, rollbackMs: 60_000 });
    const [stable, outcome] = await onFakeTime(
      Promise.all([
        waitUntilServicesStable(
          { client: fake.client, maxWaitTime: 1800, minDelay: 15, maxDelay: 15 },
          { cluster: CLUSTER, services: [SERVICE] },
        ),
        watchDeployment(fake.client, opts),
      ]),
    );
    expect(stable.state).toBe("SUCCESS"); // the trap: one deployment, running == desired ... on app:1
    expect(fake.service().taskDefinition).toBe(APP1);
    expect(outcome.result).toBe("rolled back");
    expect(outcome.reason).toBe(
      "circuit breaker tripped after 3 failed tasks (threshold 3): Service deployment rolled back because the circuit breaker threshold was exceeded.; rolled back to app:1",
    );
    expect(outcome.runningTaskDefinitionArn).toBe(APP1);
  });

  it("judges a deployment that had already rolled back when watching began", async () => {
    const opts = await startRollout({ outcome: "unhealthy", failAfterMs: 30_000, rollbackMs: 30_000 });
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    const outcome = await onFakeTime(watchDeployment(fake.client, opts));
    expect(outcome).toMatchObject({ result: "rolled back", runningTaskDefinitionArn: APP1 });
    expect(outcome.reason).toMatch(/^circuit breaker tripped/);
  });

  it("takes its time only from the injected clock", async () => {
    const opts = await startRollout({ outcome: "healthy", afterMs: 40_000 });
    let now = Date.parse("2030-01-01T00:00:00Z"); // deliberately not the fake ECS's time
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
        vi.advanceTimersByTime(ms); // the fake ECS moves on too
      },
    };
    const outcome = await watchDeployment(fake.client, opts, { clock });
    expect(outcome.result).toBe("succeeded");
    const ours = outcome.timeline.filter((e) => !e.message.startsWith("ECS:"));
    expect(ours.map((e) => e.at)).toEqual([
      "2030-01-01T00:00:00.000Z",
      "2030-01-01T00:00:00.000Z",
      "2030-01-01T00:00:45.000Z",
      "2030-01-01T00:00:45.000Z",
    ]);
  });

  it("sees a rollback through while it runs, and names the cause", async () => {
    const opts = await startRollout({ outcome: "unhealthy", failAfterMs: 30_000, rollbackMs: 90_000 });
    const outcome = await onFakeTime(watchDeployment(fake.client, opts));
    const messages = outcome.timeline.map((e) => e.message);
    expect(messages).toContain("service deployment ROLLBACK_IN_PROGRESS (SCALE_UP)");
    expect(messages).toContain("ECS: (service api) deployment failed: tasks failed container health checks.");
    expect(messages.at(-1)).toMatch(/^rolled back: circuit breaker tripped/);
    expect(secondsAfterT0(outcome.timeline.at(-1)?.at ?? "")).toBe(120);
  });

  it("rolls back with StopServiceDeployment(ROLLBACK) when the progress deadline passes", async () => {
    const opts = await startRollout({ outcome: "stuck" });
    const outcome = await onFakeTime(watchDeployment(fake.client, opts));
    expect(fake.inputs<StopServiceDeploymentCommandInput>("StopServiceDeployment")).toEqual([
      { serviceDeploymentArn: opts.serviceDeploymentArn, stopType: "ROLLBACK" },
    ]);
    expect(outcome).toMatchObject({
      result: "rolled back",
      reason: "app:2 did not finish within the 10-minute progress deadline; rolled back to app:1",
      runningTaskDefinitionArn: APP1,
    });
    const rolling = outcome.timeline.find((e) => e.message.endsWith("; rolling back"));
    expect(secondsAfterT0(rolling?.at ?? "")).toBe(600);
  });

  it("falls back to redeploying the previous revision when StopServiceDeployment is refused", async () => {
    const opts = await startRollout({ outcome: "stuck" });
    fake.fail("StopServiceDeployment", new InvalidParameterException({ message: "Rollback is not supported", $metadata: {} }));
    const outcome = await onFakeTime(watchDeployment(fake.client, opts));
    const updates = fake.inputs<UpdateServiceCommandInput>("UpdateService");
    expect(updates.at(-1)?.taskDefinition).toBe(APP1);
    expect(outcome.result).toBe("rolled back");
    expect(outcome.serviceDeploymentArn).not.toBe(opts.serviceDeploymentArn);
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("fails when another deployment supersedes this one, waiting out STOP_REQUESTED (ongoing) for STOPPED", async () => {
    const opts = await startRollout({ outcome: "healthy", afterMs: 120_000 });
    let once = false;
    const onProgress = () => {
      if (once) return;
      once = true;
      void fake.client.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: APP1 })); // another pipeline
    };
    const outcome = await onFakeTime(watchDeployment(fake.client, { ...opts, onProgress }));
    expect(outcome).toMatchObject({
      result: "failed",
      reason: "the deployment ended STOPPED: superseded by a newer deployment; app:1 serves",
    });
    const states = outcome.timeline.map((e) => e.message).filter((m) => m.startsWith("service deployment "));
    expect(states.slice(-2)).toEqual(["service deployment STOP_REQUESTED (SCALE_UP)", "service deployment STOPPED (SCALE_UP)"]);
  });

  it("does not call it a success when ECS says SUCCESSFUL but the PRIMARY runs another revision", async () => {
    const opts = await startRollout({ outcome: "healthy", afterMs: 20_000 });
    // Another pipeline deploys app:1 between our polls, right after ours finished.
    setTimeout(() => void fake.client.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: APP1 })), 25_000);
    const outcome = await onFakeTime(watchDeployment(fake.client, opts));
    expect(outcome).toMatchObject({
      result: "failed",
      reason: "ECS reports the deployment SUCCESSFUL but the service runs app:1, not app:2",
    });
  });
});

describe("watchDeployment with PAUSE hooks", () => {
  it("stops at Shipshape's waiting hook with result 'paused' when no gate decides, and leaves the hook waiting", async () => {
    fake.service().deploymentConfiguration = { strategy: "BLUE_GREEN", bakeTimeInMinutes: 1 };
    const { taskDefinition } = await describeTaskDefinition(fake.client, APP1);
    const { taskDefinitionArn } = await registerTaskDefinition(
      fake.client,
      renderTaskDefinition(taskDefinition, { containerName: "app", image: IMAGE }),
    );
    const { serviceDeploymentArn } = await updateService(fake.client, fake.service(), {
      taskDefinitionArn,
      strategy: "blue-green",
      progressive: { bakeTimeMinutes: 1, gateStages: ["POST_TEST_TRAFFIC_SHIFT"], pauseTimeoutMinutes: 30 },
    });
    const gates = { stages: ["POST_TEST_TRAFFIC_SHIFT"] as const, strategy: "blue-green" as const, linear: { stepPercent: 10 } };
    const outcome = await onFakeTime(
      watchDeployment(fake.client, {
        cluster: CLUSTER,
        service: SERVICE,
        serviceDeploymentArn,
        taskDefinitionArn,
        progressDeadlineMinutes: 10,
        pollSeconds: 15,
        gates,
      }),
    );
    expect(outcome.result).toBe("paused");
    expect(outcome.pause).toMatchObject({
      stage: "POST_TEST_TRAFFIC_SHIFT",
      step: 0,
      testTrafficPercent: 100,
      productionTrafficPercent: 0,
    });
    expect(outcome.reason).toMatch(
      /^waiting at POST_TEST_TRAFFIC_SHIFT \(0% production traffic\) for promote or abort; ECS rolls it back at 2026-11-20T10:31:/,
    );
    expect(fake.deployments.get(serviceDeploymentArn)?.sd.lifecycleHookDetails).toEqual([
      expect.objectContaining({ hookId: outcome.pause?.hookId, status: "AWAITING_ACTION", timeoutAction: "ROLLBACK" }),
    ]);
    expect(fake.count("ContinueServiceDeployment")).toBe(0);
  });
});

describe("rollback on demand", () => {
  it("rollbackToPrevious redeploys the last successful earlier revision after a finished deploy", async () => {
    const opts = await startRollout({ outcome: "healthy", afterMs: 30_000 });
    await onFakeTime(watchDeployment(fake.client, opts));
    const started = await rollbackToPrevious(fake.client, { cluster: CLUSTER, service: SERVICE });
    expect(started).toMatchObject({ method: "update-service", taskDefinitionArn: APP1 });
    const outcome = await onFakeTime(watchDeployment(fake.client, { ...opts, ...started, taskDefinitionArn: APP1 }));
    expect(outcome.result).toBe("succeeded");
    expect(fake.service().taskDefinition).toBe(APP1);
  });

  it("rollbackToPrevious stops an unfinished deployment with rollback", async () => {
    const opts = await startRollout({ outcome: "stuck" });
    const started = await rollbackToPrevious(fake.client, { cluster: CLUSTER, service: SERVICE });
    expect(started).toEqual({ method: "stop-service-deployment", serviceDeploymentArn: opts.serviceDeploymentArn });
    expect((await onFakeTime(watchDeployment(fake.client, opts))).result).toBe("rolled back");
  });

  it("rollbackToPrevious refuses when there is nothing earlier", async () => {
    await expect(rollbackToPrevious(fake.client, { cluster: CLUSTER, service: SERVICE })).rejects.toThrow(
      /no earlier successful deployment/,
    );
  });

  it("rollbackTo takes a revision number and deploys that revision's full ARN", async () => {
    const opts = await startRollout({ outcome: "healthy", afterMs: 30_000 });
    await onFakeTime(watchDeployment(fake.client, opts));
    const started = await rollbackTo(fake.client, { cluster: CLUSTER, service: SERVICE }, 1);
    expect(started.taskDefinitionArn).toBe(APP1);
    expect(fake.inputs<UpdateServiceCommandInput>("UpdateService").at(-1)?.taskDefinition).toBe(APP1);
    await expect(rollbackTo(fake.client, { cluster: CLUSTER, service: SERVICE }, "app:9")).rejects.toThrow(/app:9 could not be read/);
  });
});
