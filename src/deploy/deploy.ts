/**
 * One deploy of a digest-pinned image to one environment, in the order that keeps failures cheap:
 * refuse bad input before any AWS call, take the environment's lock, register the new revision,
 * run the migration (a failure leaves the service untouched), then update the service and watch
 * the rollout to its real end. Dagger wiring calls this; it holds no Dagger types.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { Problem } from "../project/problem.js";
import { ecsOf, type EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import {
  describeService,
  describeTaskDefinition,
  registerTaskDefinition,
  runMigration,
  updateService,
  type MigrationResult,
} from "./ecs.js";
import { withDeployLock, type LockInfo } from "./lock.js";
import { assertDigestImage, renderTaskDefinition, revisionName } from "./taskdef.js";
import { watchDeployment, type DeployResult, type DeploymentProgress, type TimelineEvent } from "./watch.js";

export interface DeployRequest {
  environment: string;
  config: EnvironmentConfig;
  /** repository@sha256:<64 hex>. */
  image: string;
  runId: string;
  /** Whether a human approved this deploy; required when the environment has requireApproval. */
  approved?: boolean;
  /** CloudWatch alarms that roll the deployment back natively. */
  alarms?: string[];
  onProgress?: (progress: DeploymentProgress) => void;
}

export interface DeployReport {
  environment: string;
  image: string;
  result: DeployResult;
  reason: string;
  taskDefinitionArn: string;
  previousTaskDefinitionArn?: string;
  serviceDeploymentArn: string;
  migration?: MigrationResult;
  /** A crashed run's expired lock that this run took over. */
  tookOverLock?: LockInfo;
  timeline: TimelineEvent[];
}

/** Checks that need no AWS call, so a bad request costs nothing and changes nothing. */
async function precheck(client: ECSClient, req: DeployRequest): Promise<void> {
  assertDigestImage(req.image);
  if (req.config.requireApproval && req.approved !== true) {
    throw new Problem(
      `deploying to ${req.environment} needs approval`,
      "approve the deploy, or set requireApproval: false for this environment",
    );
  }
  const region: unknown = await client.config.region();
  if (region !== req.config.region) {
    throw new Problem(
      `environment ${req.environment} is in ${req.config.region}, but the ECS client calls ${String(region)}`,
      `build the ECS client for ${req.config.region}`,
    );
  }
}

/**
 * Throws a Problem for anything that fails before the service is updated; once the rollout has
 * started, returns the outcome (succeeded, rolled back or failed) with its timeline instead.
 */
export async function deploy(client: ECSClient, req: DeployRequest, opts?: EcsOptions): Promise<DeployReport> {
  await precheck(client, req);
  const { config: env } = req;
  const ref = { cluster: env.cluster, service: env.service };
  const clock = ecsOf(client, opts).clock;
  const before: TimelineEvent[] = [];
  const note = (message: string) => before.push({ at: new Date(clock.now()).toISOString(), message });

  const found = await describeService(client, ref, opts);
  if (!found.serviceArn) throw new Problem(`ECS returned no ARN for service ${env.service}`, "rerun; check the ECS console");
  // The lock must outlive the slowest honest run: migration, rollout, and a rollback after the deadline.
  const ttlMinutes = (env.migration?.timeoutMinutes ?? 0) + 2 * env.progressDeadlineMinutes + 10;
  return withDeployLock(
    client,
    { serviceArn: found.serviceArn, runId: req.runId, ttlMinutes },
    async (lock) => {
      note(
        `lock taken by run ${req.runId} until ${lock.expiresAt}${lock.tookOver ? ` (took over expired run ${lock.tookOver.runId})` : ""}`,
      );
      // Read again under the lock: a run that just finished may have changed the revision.
      const service = await describeService(client, ref, opts);
      const previous = service.taskDefinition;
      if (!previous) throw new Problem(`service ${env.service} has no task definition`, "check the service in the ECS console");
      const { taskDefinition, tags } = await describeTaskDefinition(client, previous, opts);
      const input = renderTaskDefinition(taskDefinition, {
        containerName: env.containerName,
        image: req.image,
        overrides: env.overrides,
        tags,
      });
      const { taskDefinitionArn } = await registerTaskDefinition(client, input, opts);
      note(`registered ${revisionName(taskDefinitionArn)} (from ${revisionName(previous)})`);

      let migration: MigrationResult | undefined;
      if (env.migration) {
        note(`migration started: ${env.migration.command.join(" ")}`);
        migration = await runMigration(
          client,
          {
            service,
            taskDefinitionArn,
            containerName: env.migration.containerName ?? env.containerName,
            command: env.migration.command,
            timeoutMinutes: env.migration.timeoutMinutes,
            runId: req.runId,
          },
          opts,
        );
        note(`migration succeeded in ${migration.durationSeconds}s`);
      }

      const { serviceDeploymentArn } = await updateService(
        client,
        service,
        { taskDefinitionArn, strategy: env.strategy, alarms: req.alarms },
        opts,
      );
      note(`service update started (${env.strategy})`);
      const outcome = await watchDeployment(
        client,
        {
          ...ref,
          serviceDeploymentArn,
          taskDefinitionArn,
          previousTaskDefinitionArn: previous,
          progressDeadlineMinutes: env.progressDeadlineMinutes,
          pollSeconds: env.pollSeconds,
          onProgress: req.onProgress,
        },
        opts,
      );
      return {
        environment: req.environment,
        image: req.image,
        result: outcome.result,
        reason: outcome.reason,
        taskDefinitionArn,
        previousTaskDefinitionArn: previous,
        serviceDeploymentArn: outcome.serviceDeploymentArn,
        ...(migration ? { migration } : {}),
        ...(lock.tookOver ? { tookOverLock: lock.tookOver } : {}),
        timeline: [...before, ...outcome.timeline],
      };
    },
    opts,
  );
}
