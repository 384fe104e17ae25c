import {
  ClientException,
  ContinueServiceDeploymentCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ServiceDeploymentNotFoundException,
  UpdateServiceCommand,
  RunTaskCommand,
  ServerException,
  waitUntilTasksStopped,
  type RunTaskCommandInput,
  type Service,
  type StopTaskCommandInput,
  type UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import {
  continueServiceDeployment,
  describeService,
  describeTaskDefinition,
  registerTaskDefinition,
  runMigration,
  updateService,
  type MigrationOptions,
} from "../../deploy/lib/deploy/ecs.js";
import { renderTaskDefinition } from "../../deploy/lib/deploy/taskdef.js";
import { ALB_WITH_ADVANCED_CONFIG, CLUSTER, FakeEcs, IMAGE, SERVICE, arnOf, onFakeTime } from "./fake-ecs.js";

let fake: FakeEcs;
let service: Service;
const delays: number[] = [];
const fast = { retry: { sleep: async (ms: number) => void delays.push(ms), random: () => 0.5 } };

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z") });
  fake = new FakeEcs();
  service = fake.addService();
  delays.length = 0;
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

async function problemOf(p: Promise<unknown>): Promise<Problem> {
  const settled = await onFakeTime(p).then(
    () => new Error("expected a Problem, got success"),
    (e: unknown) => e,
  );
  if (settled instanceof Problem) return settled;
  throw settled instanceof Error ? settled : new Error(String(settled));
}

describe("describeService", () => {
  it("returns the live service", async () => {
    const s = await describeService(fake.client, { cluster: CLUSTER, service: SERVICE });
    expect(s.taskDefinition).toBe(arnOf("task-definition/app:1"));
  });

  it("turns a MISSING answer into 'service X not found in cluster Y'", async () => {
    const p = await problemOf(describeService(fake.client, { cluster: CLUSTER, service: "payments" }));
    expect(p.cause_).toBe("service payments not found in cluster main (us-east-1)");
    expect(p.hint).toMatch(/check environments.<env>.service, cluster and region/);
  });

  it("names a missing cluster", async () => {
    const p = await problemOf(describeService(fake.client, { cluster: "other", service: SERVICE }));
    expect(p.cause_).toBe("cluster other not found in us-east-1");
  });

  it("names the permission the role lacks", async () => {
    fake.deny("DescribeServices");
    const p = await problemOf(describeService(fake.client, { cluster: CLUSTER, service: SERVICE }));
    expect(p.cause_).toMatch(/^the AWS role lacks ecs:DescribeServices \(during ecs:DescribeServices\): User: arn:aws:sts::/);
    expect(p.hint).toBe("add ecs:DescribeServices to the deploy role's policy");
  });

  it("retries throttling with jittered, growing backoff, then succeeds", async () => {
    fake.throttle("DescribeServices", 3);
    await describeService(fake.client, { cluster: CLUSTER, service: SERVICE }, fast);
    expect(fake.count("DescribeServices")).toBe(4);
    expect(delays).toEqual([250, 500, 1000]); // random 0.5 × 500·2^n
  });

  it("retries ECS 5xx (ServerException) too, and gives up after the attempts with a Problem", async () => {
    fake.fail("DescribeServices", new ServerException({ message: "Service unavailable", $metadata: { httpStatusCode: 500 } }));
    await describeService(fake.client, { cluster: CLUSTER, service: SERVICE }, fast);
    fake.throttle("DescribeServices", 5);
    const p = await problemOf(describeService(fake.client, { cluster: CLUSTER, service: SERVICE }, fast));
    expect(p.cause_).toBe("ECS kept failing ecs:DescribeServices (ThrottlingException) after 5 attempts");
  });
});

describe("registerTaskDefinition and updateService", () => {
  it("names iam:PassRole when ECS refuses to pass the task role", async () => {
    fake.fail(
      "RegisterTaskDefinition",
      new ClientException({
        message:
          "User: arn:aws:sts::123456789012:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: app-exec",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const p = await problemOf(
      registerTaskDefinition(fake.client, { family: "app", containerDefinitions: [{ name: "app", image: IMAGE }] }),
    );
    expect(p.cause_).toMatch(/^the AWS role lacks iam:PassRole/);
    expect(p.hint).toMatch(/iam:PassRole on the task role and execution role/);
  });

  it("keeps the service's deployment settings and forces the circuit breaker with rollback on", async () => {
    const out = await updateService(fake.client, service, {
      taskDefinitionArn: arnOf("task-definition/app:1"),
      strategy: "rolling",
      alarms: ["api-5xx"],
    });
    const [input] = fake.inputs<UpdateServiceCommandInput>("UpdateService");
    expect(input?.deploymentConfiguration).toEqual({
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      strategy: "ROLLING",
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: { alarmNames: ["api-5xx"], enable: true, rollback: true },
    });
    expect(out.serviceDeploymentArn).toMatch(/:service-deployment\/main\/api\//);
  });

  it("refuses services driven by CodeDeploy, whose rollouts have no ECS service deployment to watch", async () => {
    const p = await problemOf(
      updateService(fake.client, { ...service, deploymentController: { type: "CODE_DEPLOY" } }, { taskDefinitionArn: "app:1" }),
    );
    expect(p.cause_).toMatch(/uses the CODE_DEPLOY deployment controller/);
    expect(fake.count("UpdateService")).toBe(0);
  });
});

describe("updateService for blue/green, linear and canary (the fake refuses what ECS refuses)", () => {
  const APP1 = arnOf("task-definition/app:1");
  const send = (deploymentConfiguration: UpdateServiceCommandInput["deploymentConfiguration"]) =>
    fake.client.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition: APP1, deploymentConfiguration }));

  it("sends the strategy's settings with Shipshape's PAUSE hook, failing safe with ROLLBACK", async () => {
    fake.service().loadBalancers = [ALB_WITH_ADVANCED_CONFIG];
    await updateService(fake.client, fake.service(), {
      taskDefinitionArn: APP1,
      strategy: "linear",
      progressive: {
        bakeTimeMinutes: 5,
        linear: { stepPercent: 20, stepBakeMinutes: 2 },
        canary: { percent: 5, bakeMinutes: 10 },
        gateStages: ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
        pauseTimeoutMinutes: 45,
      },
    });
    const [input] = fake.inputs<UpdateServiceCommandInput>("UpdateService");
    expect(input?.deploymentConfiguration).toMatchObject({
      strategy: "LINEAR",
      bakeTimeInMinutes: 5,
      linearConfiguration: { stepPercent: 20, stepBakeTimeInMinutes: 2 },
      lifecycleHooks: [
        {
          targetType: "PAUSE",
          lifecycleStages: ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
          timeoutConfiguration: { timeoutInMinutes: 45, action: "ROLLBACK" },
        },
      ],
    });
    expect(input?.deploymentConfiguration).not.toHaveProperty("canaryConfiguration");
  });

  it("keeps hookDetails for a Lambda hook but not for a PAUSE hook, for which the model says it is not used", async () => {
    const lambda = {
      targetType: "AWS_LAMBDA" as const,
      hookTargetArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
      lifecycleStages: ["POST_SCALE_UP" as const],
      hookDetails: { warm: true },
    };
    const pause = { targetType: "PAUSE" as const, lifecycleStages: ["POST_SCALE_UP" as const], hookDetails: { managedBy: "shipshape" } };
    await send({ strategy: "ROLLING", lifecycleHooks: [lambda, pause] });
    expect(fake.service().deploymentConfiguration?.lifecycleHooks).toEqual([
      lambda,
      { targetType: "PAUSE", lifecycleStages: ["POST_SCALE_UP"] },
    ]);
  });

  it("BLUE_GREEN without bakeTimeInMinutes, or with a bare load balancer, is refused by ECS (and turned into a Problem)", async () => {
    const noBake = await problemOf(updateService(fake.client, service, { taskDefinitionArn: APP1, strategy: "blue-green" }));
    expect(noBake.cause_).toBe(
      "ECS ecs:UpdateService failed: InvalidParameterException: bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.",
    );
    fake.service().loadBalancers = [{ targetGroupArn: ALB_WITH_ADVANCED_CONFIG.targetGroupArn, containerName: "app", containerPort: 8080 }];
    await expect(send({ strategy: "CANARY", bakeTimeInMinutes: 5 })).rejects.toThrow(InvalidParameterException);
    await expect(send({ strategy: "CANARY", bakeTimeInMinutes: 5 })).rejects.toThrow(/requires advancedConfiguration/);
  });

  it("refuses PAUSE hooks at TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT, and percentages ECS does not take", async () => {
    fake.service().loadBalancers = [ALB_WITH_ADVANCED_CONFIG];
    const pause = (stage: "TEST_TRAFFIC_SHIFT" | "PRODUCTION_TRAFFIC_SHIFT") => ({
      targetType: "PAUSE" as const,
      lifecycleStages: [stage],
    });
    for (const stage of ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"] as const)
      await expect(send({ strategy: "BLUE_GREEN", bakeTimeInMinutes: 5, lifecycleHooks: [pause(stage)] })).rejects.toThrow(
        /cannot be configured at/,
      );
    await expect(send({ strategy: "LINEAR", linearConfiguration: { stepPercent: 2.5 } })).rejects.toThrow(/stepPercent must be/);
    await expect(send({ strategy: "CANARY", canaryConfiguration: { canaryPercent: 0.05 } })).rejects.toThrow(/canaryPercent must be/);
  });

  it("ContinueServiceDeployment needs the deployment IN_PROGRESS and the hook AWAITING_ACTION", async () => {
    await expect(
      fake.client.send(
        new ContinueServiceDeploymentCommand({ serviceDeploymentArn: arnOf("service-deployment/main/api/nope"), hookId: "x" }),
      ),
    ).rejects.toThrow(ServiceDeploymentNotFoundException);
    const done = fake.service().currentServiceDeployment ?? "";
    const p = await problemOf(continueServiceDeployment(fake.client, done, "ecs-pause-1", "CONTINUE"));
    expect(p.cause_).toMatch(
      /^ECS ecs:ContinueServiceDeployment failed: InvalidParameterException: The service deployment is in SUCCESSFUL status/,
    );
  });
});

describe("runMigration", () => {
  let migration: MigrationOptions;
  beforeEach(async () => {
    const { taskDefinition } = await describeTaskDefinition(fake.client, "app:1");
    const rendered = renderTaskDefinition(taskDefinition, { containerName: "app", image: IMAGE });
    const { taskDefinitionArn } = await registerTaskDefinition(fake.client, rendered);
    migration = {
      service,
      taskDefinitionArn,
      containerName: "app",
      command: ["npm", "run", "migrate"],
      timeoutMinutes: 10,
      runId: "run-1",
    };
  });

  it("runs the command in the service's network and judges the migration container, not the sidecar (exit 0)", async () => {
    fake.nextTasks({ exitCode: 0, runMs: 45_000 });
    const result = await onFakeTime(runMigration(fake.client, migration));
    expect(result).toMatchObject({ exitCode: 0, durationSeconds: 48 }); // stopped at 45 s, seen at the 8th 6-second poll
    const [input] = fake.inputs<RunTaskCommandInput>("RunTask");
    expect(input).toMatchObject({
      cluster: arnOf("cluster/main"),
      taskDefinition: arnOf("task-definition/app:2"),
      launchType: "FARGATE",
      networkConfiguration: service.networkConfiguration,
      overrides: { containerOverrides: [{ name: "app", command: ["npm", "run", "migrate"] }] },
      startedBy: "shipshape/run-1",
    });
    expect(input?.clientToken).toMatch(/^[0-9a-f]{64}$/);
    const task = [...fake.tasks.values()][0]?.task;
    expect(task?.containers?.find((c) => c.name === "log-router")?.exitCode).toBe(137);
  });

  it("uses the capacity provider strategy instead of a launch type when the service has one", async () => {
    const cps = [{ capacityProvider: "FARGATE_SPOT", weight: 1 }];
    await onFakeTime(
      runMigration(fake.client, { ...migration, service: { ...service, launchType: undefined, capacityProviderStrategy: cps } }),
    );
    const [input] = fake.inputs<RunTaskCommandInput>("RunTask");
    expect(input?.capacityProviderStrategy).toEqual(cps);
    expect(input).not.toHaveProperty("launchType");
  });

  it("fails on a non-zero exit with the code and ECS's reason", async () => {
    fake.nextTasks({ exitCode: 1 });
    const p = await problemOf(runMigration(fake.client, migration));
    expect(p.cause_).toMatch(
      /^the migration \(npm run migrate\) exited with code 1 in task \w+: EssentialContainerExited; Essential container in task exited$/,
    );
    expect(p.hint).toMatch(/the service was not updated/);
  });

  it("fails when the container has no exit code: it never ran", async () => {
    fake.nextTasks({ exitCode: "none" });
    const p = await problemOf(runMigration(fake.client, migration));
    expect(p.cause_).toMatch(/stopped without an exit code \(it never ran\): TaskFailedToStart; CannotPullContainerError/);
  });

  it("stops the task at the timeout and fails", async () => {
    fake.nextTasks({ runMs: Infinity });
    const started = Date.now();
    const p = await problemOf(runMigration(fake.client, migration));
    expect(p.cause_).toMatch(/did not finish within 10 minutes; Shipshape stopped it$/);
    const [stop] = fake.inputs<StopTaskCommandInput>("StopTask");
    expect(stop).toMatchObject({ cluster: arnOf("cluster/main"), reason: "shipshape: migration timed out after 10 min" });
    expect(Date.now() - started).toBeLessThan(10 * 60_000 + 2000);
    expect([...fake.tasks.values()][0]?.task.stopCode).toBe("UserInitiated");
  });

  it("reports a task ECS could not place", async () => {
    fake.nextTasks({ startFailure: "RESOURCE:MEMORY" });
    const p = await problemOf(runMigration(fake.client, migration));
    expect(p.cause_).toBe("ECS could not start the migration task: RESOURCE:MEMORY");
  });

  it("starts one task only when RunTask is retried after its answer was lost (client token)", async () => {
    let lost = false;
    fake.afterCall.set("RunTask", () => {
      if (lost) return;
      lost = true; // ECS started the task, but the response never arrived
      throw new ServerException({ message: "internal", $metadata: { httpStatusCode: 500 } });
    });
    await onFakeTime(runMigration(fake.client, migration, fast));
    expect(fake.count("RunTask")).toBe(2);
    expect(fake.tasks.size).toBe(1);
  });

  it("the SDK's waitUntilTasksStopped works against the fake, and calls a failed migration a success", async () => {
    fake.nextTasks({ exitCode: 1, runMs: 40_000 });
    const run = await fake.client.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: migration.taskDefinitionArn,
        networkConfiguration: service.networkConfiguration,
      }),
    );
    const tasks = [run.tasks?.[0]?.taskArn ?? ""];
    const waited = await onFakeTime(
      waitUntilTasksStopped({ client: fake.client, maxWaitTime: 300, minDelay: 6, maxDelay: 6 }, { cluster: CLUSTER, tasks }),
    );
    expect(waited.state).toBe("SUCCESS");
    const described = await fake.client.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks }));
    expect(described.tasks?.[0]?.containers?.find((c) => c.name === "app")?.exitCode).toBe(1); // the waiter never looked
  });
});
