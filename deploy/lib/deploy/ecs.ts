/**
 * Thin ECS operations for a deploy: find the service, read and register task definitions, start
 * the rollout, and run a one-off migration task to completion. Each call goes through send()
 * (retries, one-line Problems); judging a rollout is watch.ts's job.
 */
import { createHash } from "node:crypto";
import {
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopServiceDeploymentCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type DeploymentConfiguration,
  type DeploymentLifecycleHookAction,
  type DeploymentStrategy,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
  type RunTaskCommandInput,
  type Service,
  type ServiceDeployment,
  type Tag,
  type Task,
  type TaskDefinition,
} from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";
import { ecsOf, errorName, saidBy, send, type EcsOptions } from "./aws.js";
import type { DeployStrategy } from "./config.js";
import { foreignPauseAt, withGateHooks, type GateStage, type HookMark } from "./hooks.js";
import { revisionName } from "./taskdef.js";

export interface ServiceRef {
  cluster: string;
  service: string;
}

async function regionOf(client: ECSClient): Promise<string> {
  const region: unknown = await client.config.region();
  return typeof region === "string" ? region : "?";
}

/** The live service; a missing, deleted or draining one is a Problem, not an empty answer. */
export async function describeService(client: ECSClient, ref: ServiceRef, opts?: EcsOptions): Promise<Service> {
  const region = await regionOf(client);
  const notFound = () =>
    new Problem(
      `service ${ref.service} not found in cluster ${ref.cluster} (${region})`,
      "check environments.<env>.service, cluster and region; a deleted service must be recreated first",
    );
  const out = await send(
    ecsOf(client, opts),
    "ecs:DescribeServices",
    () => client.send(new DescribeServicesCommand({ cluster: ref.cluster, services: [ref.service] })),
    {
      ClusterNotFoundException: () =>
        new Problem(`cluster ${ref.cluster} not found in ${region}`, "check environments.<env>.cluster and region"),
      ServiceNotFoundException: notFound,
    },
  );
  // DescribeServices answers a missing service with failures[{reason: "MISSING"}], not an exception.
  const service = out.services?.[0];
  if (!service || service.status === "INACTIVE") throw notFound();
  if (service.status === "DRAINING") {
    throw new Problem(`service ${ref.service} in cluster ${ref.cluster} is being deleted (DRAINING)`, "recreate the service, then deploy");
  }
  return service;
}

/** The definition and its tags (returned apart from it), ready for renderTaskDefinition. */
export async function describeTaskDefinition(
  client: ECSClient,
  taskDefinition: string,
  opts?: EcsOptions,
): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }> {
  const out = await send(
    ecsOf(client, opts),
    "ecs:DescribeTaskDefinition",
    () => client.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ["TAGS"] })),
    {
      ClientException: (said) =>
        new Problem(`task definition ${revisionName(taskDefinition)} could not be read: ${said}`, "check it exists in this region"),
    },
  );
  if (!out.taskDefinition) throw new Problem(`ECS returned no task definition for ${taskDefinition}`, "rerun; check the ECS console");
  return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
}

export interface Registered {
  taskDefinitionArn: string;
  revision: number;
}

export async function registerTaskDefinition(
  client: ECSClient,
  input: RegisterTaskDefinitionCommandInput,
  opts?: EcsOptions,
): Promise<Registered> {
  const out = await send(ecsOf(client, opts), "ecs:RegisterTaskDefinition", () => client.send(new RegisterTaskDefinitionCommand(input)));
  const { taskDefinitionArn, revision } = out.taskDefinition ?? {};
  if (!taskDefinitionArn || revision === undefined) throw new Problem("ECS registered no task definition", "rerun; check the ECS console");
  return { taskDefinitionArn, revision };
}

const STRATEGY: Record<DeployStrategy, DeploymentStrategy> = {
  rolling: "ROLLING",
  "blue-green": "BLUE_GREEN",
  linear: "LINEAR",
  canary: "CANARY",
};

export interface UpdateOptions {
  taskDefinitionArn: string;
  strategy?: DeployStrategy;
  /** CloudWatch alarms whose ALARM state rolls the deployment back (ECS-native alarm rollback). */
  alarms?: string[];
  /** blue-green, linear and canary settings; ECS's own (or the service's current) apply where unset. */
  progressive?: ProgressiveOptions;
  /** The mark on the service naming a hook of ours (a crashed run's): it is replaced, never kept. */
  ours?: HookMark;
}

export interface ProgressiveOptions {
  /** ECS bakeTimeInMinutes: required by ECS for blue-green. */
  bakeTimeMinutes?: number;
  canary?: { percent: number; bakeMinutes: number };
  linear?: { stepPercent: number; stepBakeMinutes: number };
  /** Stages for this deployment's PAUSE hook (any strategy: ECS applies PAUSE hooks to ROLLING too); none adds none. */
  gateStages?: readonly GateStage[];
  /** The hooks' timeout; ECS rolls back when it passes without a decision. */
  pauseTimeoutMinutes?: number;
}

/**
 * The deployment settings to send: the service's own, with the circuit breaker forced on, the
 * alarms, and the strategy's settings. A hook of ours already on the service (per `ours`) is
 * dropped, and this deployment's added: a hook nobody continues stops every later deploy.
 */
export function deploymentConfigurationFor(current: DeploymentConfiguration, opts: UpdateOptions): DeploymentConfiguration {
  const p = opts.progressive ?? {};
  const progressive = opts.strategy !== undefined && opts.strategy !== "rolling";
  const hooks = withGateHooks(current.lifecycleHooks ?? [], opts.ours, {
    stages: p.gateStages ?? [],
    timeoutMinutes: p.pauseTimeoutMinutes ?? 1440,
  });
  return {
    ...current,
    deploymentCircuitBreaker: { ...current.deploymentCircuitBreaker, enable: true, rollback: true },
    ...(opts.alarms && opts.alarms.length > 0 ? { alarms: { alarmNames: opts.alarms, enable: true, rollback: true } } : {}),
    ...(opts.strategy ? { strategy: STRATEGY[opts.strategy] } : {}),
    ...(progressive && p.bakeTimeMinutes !== undefined ? { bakeTimeInMinutes: p.bakeTimeMinutes } : {}),
    ...(opts.strategy === "canary" && p.canary
      ? { canaryConfiguration: { canaryPercent: p.canary.percent, canaryBakeTimeInMinutes: p.canary.bakeMinutes } }
      : {}),
    ...(opts.strategy === "linear" && p.linear
      ? { linearConfiguration: { stepPercent: p.linear.stepPercent, stepBakeTimeInMinutes: p.linear.stepBakeMinutes } }
      : {}),
    ...(hooks.length > 0 || current.lifecycleHooks ? { lifecycleHooks: hooks } : {}),
  };
}

/**
 * Starts the rollout. The service's own deployment settings are sent back with the circuit
 * breaker forced on with rollback, so a broken revision undoes itself even if Shipshape dies.
 */
export async function updateService(
  client: ECSClient,
  service: Service,
  opts: UpdateOptions,
  ecsOpts?: EcsOptions,
): Promise<{ serviceDeploymentArn: string; service: Service }> {
  const ecs = ecsOf(client, ecsOpts);
  const ref = { cluster: service.clusterArn ?? "?", service: service.serviceName ?? "?" };
  const controller = service.deploymentController?.type ?? "ECS";
  if (controller !== "ECS") {
    throw new Problem(
      `service ${ref.service} uses the ${controller} deployment controller, which has no ECS service deployments to watch`,
      "switch the service to the ECS controller (UpdateService deploymentController, allowed in place since July 2025)",
    );
  }
  const current = service.deploymentConfiguration ?? {};
  const clash = foreignPauseAt(current.lifecycleHooks ?? [], opts.progressive?.gateStages ?? [], opts.ours);
  if (clash) {
    throw new Problem(
      `service ${ref.service} already has a PAUSE hook of its own at ${clash}, where Shipshape's gate pauses`,
      "remove that hook from the service's deploymentConfiguration.lifecycleHooks (two pauses at one stage cannot be told apart); if Shipshape added it and its shipshape:pause-hook tag was deleted (IaC), remove it by hand",
    );
  }
  const deploymentConfiguration = deploymentConfigurationFor(current, opts);
  const out = await send(
    ecs,
    "ecs:UpdateService",
    () =>
      client.send(
        new UpdateServiceCommand({
          cluster: service.clusterArn,
          service: service.serviceArn ?? service.serviceName,
          taskDefinition: opts.taskDefinitionArn,
          deploymentConfiguration,
        }),
      ),
    { ServiceNotFoundException: () => new Problem(`service ${ref.service} not found in cluster ${ref.cluster}`, "check the environment") },
  );
  const serviceDeploymentArn = out.service?.currentServiceDeployment;
  if (!out.service || !serviceDeploymentArn) {
    throw new Problem("ECS started no service deployment for the update", "check the service's events in the ECS console");
  }
  return { serviceDeploymentArn, service: out.service };
}

// --- service deployments ---------------------------------------------------------------------

export async function describeServiceDeployment(client: ECSClient, arn: string, opts?: EcsOptions): Promise<ServiceDeployment | undefined> {
  const out = await send(ecsOf(client, opts), "ecs:DescribeServiceDeployments", () =>
    client.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] })),
  );
  return out.serviceDeployments?.find((d) => d.serviceDeploymentArn === arn);
}

/** Answers a PAUSE hook. ECS requires the deployment IN_PROGRESS and the hook AWAITING_ACTION, else InvalidParameterException. */
export async function continueServiceDeployment(
  client: ECSClient,
  serviceDeploymentArn: string,
  hookId: string,
  action: DeploymentLifecycleHookAction,
  opts?: EcsOptions,
): Promise<void> {
  await send(ecsOf(client, opts), "ecs:ContinueServiceDeployment", () =>
    client.send(new ContinueServiceDeploymentCommand({ serviceDeploymentArn, hookId, action })),
  );
}

/** Stops an unfinished deployment; ECS restores the revision it replaced. Works even when rollback is not configured. */
export async function stopServiceDeploymentWithRollback(client: ECSClient, serviceDeploymentArn: string, opts?: EcsOptions): Promise<void> {
  await send(ecsOf(client, opts), "ecs:StopServiceDeployment", () =>
    client.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: "ROLLBACK" })),
  );
}

// --- one-off migration task ----------------------------------------------------------------

export interface MigrationOptions {
  /** The live service: its cluster, network, launch type or capacity providers and platform are reused. */
  service: Service;
  taskDefinitionArn: string;
  containerName: string;
  command: string[];
  timeoutMinutes: number;
  /** Identifies the deploy run: startedBy on the task, and the idempotency token of RunTask retries. */
  runId: string;
  /** Seconds between DescribeTasks polls; 6 is what the SDK's tasksStopped waiter uses. */
  pollSeconds?: number;
}

export interface MigrationResult {
  taskArn: string;
  exitCode: 0;
  durationSeconds: number;
}

const taskId = (arn: string) => arn.split("/").pop() ?? arn;

function runTaskInput(o: MigrationOptions): RunTaskCommandInput {
  const s = o.service;
  return {
    cluster: s.clusterArn,
    taskDefinition: o.taskDefinitionArn,
    count: 1,
    // ECS refuses both at once; a capacity-provider service has launchType unset.
    ...(s.capacityProviderStrategy && s.capacityProviderStrategy.length > 0
      ? { capacityProviderStrategy: s.capacityProviderStrategy }
      : s.launchType
        ? { launchType: s.launchType }
        : {}),
    ...(s.networkConfiguration ? { networkConfiguration: s.networkConfiguration } : {}),
    ...(s.platformVersion ? { platformVersion: s.platformVersion } : {}),
    overrides: { containerOverrides: [{ name: o.containerName, command: o.command }] },
    startedBy: `shipshape/${o.runId}`.slice(0, 128),
    group: MIGRATION_GROUP,
    // A RunTask retried after a timeout must not start a second migration (token ≤ 64 chars).
    clientToken: createHash("sha256").update(`${o.runId}\n${o.taskDefinitionArn}\nmigrate`).digest("hex").slice(0, 64),
  };
}

/** Exit code of the migration container, found by name: sidecars and never-started containers do not count. */
function judge(task: Task, o: MigrationOptions, durationSeconds: number): MigrationResult {
  const arn = task.taskArn ?? "?";
  const container = task.containers?.find((c) => c.name === o.containerName);
  const why = [task.stopCode, task.stoppedReason, container?.reason].filter((s) => s).join("; ") || "no reason given";
  const untouched = "the service was not updated";
  if (container?.exitCode === undefined) {
    throw new Problem(
      `the migration container "${o.containerName}" in task ${taskId(arn)} stopped without an exit code (it never ran): ${why}`,
      `check the image pull, the execution role, subnets and capacity; ${untouched}`,
    );
  }
  if (container.exitCode !== 0) {
    throw new Problem(
      `the migration (${o.command.join(" ")}) exited with code ${container.exitCode} in task ${taskId(arn)}: ${why}`,
      `read the task's logs, fix the migration and redeploy; ${untouched}`,
    );
  }
  return { taskArn: arn, exitCode: 0, durationSeconds };
}

export const MIGRATION_GROUP = "shipshape-migration";

/**
 * Migration tasks of a task definition family, running and recently stopped (ECS lists stopped
 * tasks for about an hour). ListTasks cannot filter by group, and a startedBy filter must be its
 * only one, so: by family and desired status, then DescribeTasks for the group.
 */
export async function migrationTasks(client: ECSClient, cluster: string, family: string, opts?: EcsOptions): Promise<Task[]> {
  const ecs = ecsOf(client, opts);
  const arns: string[] = [];
  for (const desiredStatus of ["RUNNING", "STOPPED"] as const) {
    const out = await send(ecs, "ecs:ListTasks", () =>
      client.send(new ListTasksCommand({ cluster, family, desiredStatus, maxResults: 100 })),
    );
    arns.push(...(out.taskArns ?? []));
  }
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const chunk = arns.slice(i, i + 100); // DescribeTasks takes up to 100
    const out = await send(ecs, "ecs:DescribeTasks", () => client.send(new DescribeTasksCommand({ cluster, tasks: chunk })));
    tasks.push(...(out.tasks ?? []).filter((t) => t.group === MIGRATION_GROUP));
  }
  return tasks;
}

/** A migration of another run still running: a second one at the same time could corrupt the schema. */
async function assertNoOtherMigration(client: ECSClient, o: MigrationOptions, opts?: EcsOptions): Promise<void> {
  const family = revisionName(o.taskDefinitionArn).split(":")[0] ?? "";
  const mine = runTaskInput(o).startedBy;
  const other = (await migrationTasks(client, o.service.clusterArn ?? "", family, opts)).find(
    (t) => t.lastStatus !== "STOPPED" && t.startedBy !== mine,
  );
  if (other) {
    throw new Problem(
      `a migration task of ${other.startedBy ?? "another run"} is still running (task ${taskId(other.taskArn ?? "?")}, ${other.lastStatus ?? "?"} since ${other.startedAt?.toISOString() ?? other.createdAt?.toISOString() ?? "?"}); a second migration now could corrupt the schema`,
      "wait for it to finish (a cancelled run's task keeps running), or stop it in ECS once it is safe to; the service was not updated",
    );
  }
}

/** Runs the command with the new revision and waits for it; every way it can fail is a Problem. */
export async function runMigration(client: ECSClient, o: MigrationOptions, ecsOpts?: EcsOptions): Promise<MigrationResult> {
  const ecs = ecsOf(client, ecsOpts);
  const cluster = o.service.clusterArn;
  await assertNoOtherMigration(client, o, ecsOpts);
  const out = await send(ecs, "ecs:RunTask", () => client.send(new RunTaskCommand(runTaskInput(o))));
  const failure = out.failures?.[0];
  const arn = out.tasks?.[0]?.taskArn;
  if (failure || !arn) {
    const why = failure ? [failure.reason, failure.detail].filter((s) => s).join(": ") : "no task and no reason returned";
    throw new Problem(`ECS could not start the migration task: ${why}`, "check cluster capacity, subnets and the task definition");
  }
  const started = ecs.clock.now();
  const deadline = started + o.timeoutMinutes * 60_000;
  const pollMs = (o.pollSeconds ?? 6) * 1000;
  for (;;) {
    const described = await send(ecs, "ecs:DescribeTasks", () => client.send(new DescribeTasksCommand({ cluster, tasks: [arn] })));
    // Right after RunTask the task can be briefly MISSING (eventual consistency): keep polling.
    const task = described.tasks?.find((t) => t.taskArn === arn);
    const now = ecs.clock.now();
    if (task?.lastStatus === "STOPPED") return judge(task, o, Math.round((now - started) / 1000));
    if (now >= deadline) {
      const reason = `shipshape: migration timed out after ${o.timeoutMinutes} min`;
      const stopped = await send(ecs, "ecs:StopTask", () => client.send(new StopTaskCommand({ cluster, task: arn, reason }))).then(
        () => "stopped it",
        (e: unknown) => `could not stop it (${errorName(e)}: ${saidBy(e)}); stop it by hand`,
      );
      throw new Problem(
        `the migration task ${taskId(arn)} did not finish within ${o.timeoutMinutes} minutes; Shipshape ${stopped}`,
        "make the migration faster or raise migration.timeoutMinutes; the service was not updated",
      );
    }
    await ecs.clock.sleep(Math.min(pollMs, deadline - now));
  }
}
