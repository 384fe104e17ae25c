/**
 * One deploy of a digest-pinned image to one environment, in the order that keeps failures cheap:
 * refuse bad input before any AWS call, take the environment's lock, register the new revision,
 * run the migration (a failure leaves the service untouched), then update the service and watch
 * the rollout to its real end. Dagger wiring calls this; it holds no Dagger types.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";
import { ecsOf, type EcsOptions } from "./aws.js";
import type { DeployStrategy, EnvironmentConfig } from "./config.js";
import {
  describeService,
  describeTaskDefinition,
  registerTaskDefinition,
  runMigration,
  updateService,
  type MigrationResult,
} from "./ecs.js";
import { gateStages, strategyMinutes, type GateDecision, type OnPause, type PauseInfo } from "./hooks.js";
import { DeploymentHooks } from "./deployment-hooks.js";
import { ensureDeployLock, withDeployLock, type LockInfo } from "./lock.js";
import { recoverUnder, type AbandonedRun } from "./recover.js";
import { assertNotPaused, checkProgressiveSetup, hooksPerDeployment } from "./progressive.js";
import { assertDigestImage, renderTaskDefinition, revisionName } from "./taskdef.js";
import { watchDeployment, type DeployResult, type DeploymentProgress, type TimelineEvent, type WatchGates } from "./watch.js";

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
  /**
   * Decides Shipshape's PAUSE hooks (blue-green, linear, canary). Without it the deploy stops at
   * the first one with result "paused", for promote or abort.
   */
  onPause?: OnPause;
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
  /** A run that ended without finishing, and what became of its deployment (recorded by the run that found it). */
  abandoned?: AbandonedRun;
  timeline: TimelineEvent[];
  /** The environment's strategy, or stepped-canary when it drives the load balancer's weights itself. */
  strategy: DeployStrategy | "stepped-canary";
  /** Every gate decision: approval, smoke checks, analysis, hook timeouts. */
  decisions: GateDecision[];
  /** The hook waiting for promote or abort, when the result is "paused". */
  pause?: PauseInfo;
}

/** The watch's gate settings for an environment: where our hooks sit and who decides them. */
export function watchGates(env: EnvironmentConfig, onPause?: OnPause): WatchGates {
  return { stages: gateStages(env), strategy: env.strategy, linear: env.linear, ...(onPause ? { onPause } : {}) };
}

/** The progress deadline plus the time the strategy spends baking by design. */
export const deadlineMinutes = (env: EnvironmentConfig): number => env.progressDeadlineMinutes + strategyMinutes(env);

/**
 * Alarms ECS itself rolls back on: the environment's, the caller's, and the analysis's
 * cloudwatchAlarm metrics, so a breach is undone even when no Shipshape run is left to see it.
 */
export function nativeAlarms(env: Pick<EnvironmentConfig, "alarms" | "analysis" | "region">, extra: readonly string[] = []): string[] {
  // ECS reads alarms in the service's own region only.
  const analysed = (env.analysis?.metrics ?? []).flatMap((m) =>
    "cloudwatchAlarm" in m.provider && (m.provider.cloudwatchAlarm.region ?? env.region) === env.region
      ? [m.provider.cloudwatchAlarm.alarmName]
      : [],
  );
  return [...new Set([...env.alarms, ...extra, ...analysed])];
}

/** The lock must outlive the slowest honest run: migration, rollout with every gate, and a rollback after the deadline. */
export const lockMinutes = (env: EnvironmentConfig): number =>
  (env.migration?.timeoutMinutes ?? 0) + 2 * deadlineMinutes(env) + hooksPerDeployment(env) * env.pauseTimeoutMinutes + 10;

/** A digest-pinned image, and a human's approval where the environment requires one: refused before any AWS call. */
export function assertDeployable(req: Pick<DeployRequest, "environment" | "config" | "image" | "approved">): void {
  assertDigestImage(req.image);
  if (req.config.requireApproval && req.approved !== true) {
    throw new Problem(
      `deploying to ${req.environment} needs approval`,
      "approve the deploy, or set requireApproval: false for this environment",
    );
  }
}

/** Checks that need no AWS call, so a bad request costs nothing and changes nothing. */
async function precheck(client: ECSClient, req: DeployRequest): Promise<void> {
  assertDeployable(req);
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
  const ttlMinutes = lockMinutes(env);
  checkProgressiveSetup(found, env);
  const decisions: GateDecision[] = [];
  if (env.requireApproval) {
    const at = new Date(clock.now()).toISOString();
    decisions.push({
      at,
      gate: "approval",
      stage: "before deploy",
      step: 0,
      verdict: "approved",
      reason: `${req.environment} requires approval; it was given`,
      values: [],
    });
  }
  const serviceArn = found.serviceArn;
  return withDeployLock(
    client,
    { serviceArn, runId: req.runId, ttlMinutes },
    async (lock) => {
      note(
        `lock taken by run ${req.runId} until ${lock.expiresAt}${lock.tookOver ? ` (took over expired run ${lock.tookOver.runId})` : ""}`,
      );
      // What a run that died left behind: its unjudged deployment rolled back, its hook removed, what ECS did recorded.
      const recovered = await recoverUnder(lock, { client, environment: req.environment, env, serviceArn }, opts);
      before.push(...recovered.timeline);
      decisions.push(...recovered.decisions);
      if (recovered.paused) throw pausedProblem(req.environment, recovered.paused.stage);
      // Read again under the lock: a run that just finished may have changed the revision.
      const service = await describeService(client, ref, opts);
      await assertNotPaused(client, service, req.environment, opts);
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

      // Before each change to the service: the lock is still ours (tags have no compare-and-swap; IaC deletes them).
      const guard = async () => {
        const retaken = await ensureDeployLock(client, lock, opts);
        if (retaken) note(retaken);
      };
      let migration: MigrationResult | undefined;
      if (env.migration) {
        await guard();
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

      const stages = gateStages(env);
      const hooks = new DeploymentHooks(client, { ref, serviceArn, runId: req.runId, stages, env, note }, opts);
      await guard();
      // The mark goes on before the hook does, so a crash between the two leaves nothing unrecognisable.
      await hooks.mark();
      const { serviceDeploymentArn } = await updateService(
        client,
        service,
        {
          taskDefinitionArn,
          strategy: env.strategy,
          alarms: nativeAlarms(env, req.alarms),
          progressive: {
            bakeTimeMinutes: env.bakeTimeMinutes,
            canary: env.canary,
            linear: env.linear,
            gateStages: stages,
            pauseTimeoutMinutes: env.pauseTimeoutMinutes,
          },
          ...(hooks.current ? { ours: hooks.current } : recovered.mark ? { ours: recovered.mark } : {}),
        },
        opts,
      );
      note(`service update started (${env.strategy}${stages.length ? `; Shipshape gates at ${stages.join(", ")}` : ""})`);
      await hooks.started(serviceDeploymentArn);
      const outcome = await watchDeployment(
        client,
        {
          ...ref,
          serviceDeploymentArn,
          taskDefinitionArn,
          previousTaskDefinitionArn: previous,
          progressDeadlineMinutes: deadlineMinutes(env),
          pollSeconds: env.pollSeconds,
          onProgress: req.onProgress,
          gates: watchGates(env, req.onPause),
          ...(hooks.current ? { hookMark: hooks.current } : {}),
          guard,
        },
        opts,
      );
      // Paused: the hook must stay for promote or abort. Any other ending: it comes off now.
      await hooks.ended(outcome.pause !== undefined);
      const ended = pausedUnasked(env, outcome);
      return {
        environment: req.environment,
        image: req.image,
        result: ended.result,
        reason: ended.reason,
        taskDefinitionArn,
        previousTaskDefinitionArn: previous,
        serviceDeploymentArn: outcome.serviceDeploymentArn,
        ...(migration ? { migration } : {}),
        ...(lock.tookOver ? { tookOverLock: lock.tookOver } : {}),
        ...(recovered.abandoned ? { abandoned: recovered.abandoned } : {}),
        timeline: [...before, ...outcome.timeline],
        strategy: env.strategy,
        decisions: [...decisions, ...outcome.decisions],
        ...(outcome.pause ? { pause: outcome.pause } : {}),
      };
    },
    opts,
  );
}

/**
 * A pause the config did not ask for (promotion: auto, and an analysis without data stopped the
 * deployment for a person) is not a finished deploy: it fails CI, so nobody walks away while ECS
 * rolls back at the hook's timeout with no one watching. The next run records what ECS did then.
 */
export function pausedUnasked(
  env: Pick<EnvironmentConfig, "promotion">,
  outcome: Pick<DeployReport, "result" | "reason" | "pause">,
): Pick<DeployReport, "result" | "reason"> {
  if (outcome.result !== "paused" || env.promotion === "manual") return outcome;
  const until = outcome.pause?.expiresAt ? ` before ${outcome.pause.expiresAt}, when ECS rolls it back (timeout action ROLLBACK)` : "";
  return {
    result: "failed",
    reason: `not finished: ${outcome.reason}; promotion is auto, so a pause is not a pass: promote or abort it${until}`,
  };
}

export const pausedProblem = (environment: string, stage: string): Problem =>
  new Problem(
    `the current deployment of ${environment} is paused at ${stage}, waiting for a decision`,
    `promote it (dagger call shipshape-deploy environment --name=${environment} promote) or abort it (dagger call shipshape-deploy environment --name=${environment} abort) before deploying again`,
  );
