/**
 * What the next run (deploy, rollback, promote, abort, status) does about a Shipshape run that
 * ended without finishing: killed, cancelled, or crashed between two AWS calls. It runs holding the
 * lock, so the run it cleans up after is known to be gone, and it leaves three guarantees:
 *
 * - an unfinished deployment of that run is rolled back: nobody judged it, so it must not finish;
 * - what ECS did meanwhile (a PAUSE hook that timed out and rolled back, a rollback that finished)
 *   is recorded as a decision and in the timeline, so it reaches the audit trail and notifications;
 * - no hook of ours stays on the service, where it would stop every later deploy (anyone's).
 *
 * A deployment paused on purpose (its mark says paused) is left for promote or abort.
 */
import { DescribeServiceRevisionsCommand, type ECSClient, type ServiceDeployment } from "@aws-sdk/client-ecs";
import { ecsOf, send, type EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import {
  continueServiceDeployment,
  describeService,
  describeServiceDeployment,
  migrationTasks,
  stopServiceDeploymentWithRollback,
  type ServiceRef,
} from "./ecs.js";
import { deploymentId, readMark, removeOurHooks } from "./hook-mark.js";
import { awaitingPauseHooks, gateStageOf, isShipshapeHook, type GateDecision, type HookMark } from "./hooks.js";
import type { DeployLock, LockInfo } from "./lock.js";
import { revisionName } from "./taskdef.js";
import { watchDeployment, type TimelineEvent } from "./watch.js";

/** Statuses ECS is still working on (STOP_REQUESTED and ROLLBACK_REQUESTED included: they are requests, not ends). */
export const UNFINISHED = new Set(["PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"]);

export interface RecoverContext {
  client: ECSClient;
  environment: string;
  env: EnvironmentConfig;
  serviceArn: string;
  /** The expired lock this run took over: a Shipshape run died holding it. */
  tookOver?: LockInfo;
  opts?: EcsOptions;
}

/** A run that ended without finishing, and what became of its deployment. */
export interface AbandonedRun {
  runId: string;
  serviceDeploymentArn: string;
  /** How the deployment ended, in the audit trail's words. */
  outcome: "succeeded" | "rolled back" | "failed";
  reason: string;
}

export interface Recovered {
  timeline: TimelineEvent[];
  decisions: GateDecision[];
  abandoned?: AbandonedRun;
  /** A deployment of ours paused on purpose, waiting for promote or abort; its hook and mark stay. */
  paused?: { serviceDeploymentArn: string; mark: HookMark; stage: string };
  /** The mark found (still on the service only when paused). */
  mark?: HookMark;
}

/** Task definitions of a deployment's target and (first) source revision. */
export async function revisionsOf(
  client: ECSClient,
  sd: ServiceDeployment,
  opts?: EcsOptions,
): Promise<{ target?: string; source?: string }> {
  const arns = [sd.targetServiceRevision?.arn, sd.sourceServiceRevisions?.[0]?.arn].filter((a): a is string => a !== undefined);
  if (arns.length === 0) return {};
  const out = await send(ecsOf(client, opts), "ecs:DescribeServiceRevisions", () =>
    client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: arns })),
  );
  const td = (arn?: string) => out.serviceRevisions?.find((r) => r.serviceRevisionArn === arn)?.taskDefinition;
  const target = td(sd.targetServiceRevision?.arn);
  const source = td(sd.sourceServiceRevisions?.[0]?.arn);
  return { ...(target ? { target } : {}), ...(source ? { source } : {}) };
}

const outcomeOf = (status: string | undefined): AbandonedRun["outcome"] =>
  status === "SUCCESSFUL" ? "succeeded" : status === "ROLLBACK_SUCCESSFUL" ? "rolled back" : "failed";

/** Recovery as every locked command starts it: what the lock it just took says about a dead run. */
export function recoverUnder(lock: DeployLock, ctx: Omit<RecoverContext, "tookOver" | "opts">, opts?: EcsOptions): Promise<Recovered> {
  return recover({ ...ctx, ...(lock.tookOver ? { tookOver: lock.tookOver } : {}), ...(opts ? { opts } : {}) });
}

export async function recover(ctx: RecoverContext): Promise<Recovered> {
  const { client, env, opts } = ctx;
  const ref: ServiceRef = { cluster: env.cluster, service: env.service };
  const clock = ecsOf(client, opts).clock;
  const out: Recovered = { timeline: [], decisions: [] };
  const note = (message: string) => out.timeline.push({ at: new Date(clock.now()).toISOString(), message });

  if (ctx.tookOver) note(`run ${ctx.tookOver.runId} held the lock until ${ctx.tookOver.expiresAt} and ended without releasing it`);
  const mark = await readMark(client, ctx.serviceArn, opts);
  if (mark) out.mark = mark;
  const service = await describeService(client, ref, opts);
  const arn = service.currentServiceDeployment;
  let sd = arn ? await describeServiceDeployment(client, arn, opts) : undefined;
  const carriesOurHook = (sd?.deploymentConfiguration?.lifecycleHooks ?? []).some((h) => isShipshapeHook(h, mark));
  // The mark's deployment: by the id it names, or (a crash before the id was written) by carrying the hook.
  const marked = mark !== undefined && arn !== undefined && (mark.deployment ? deploymentId(arn) === mark.deployment : carriesOurHook);
  // Or a deployment started while the dead run held the lock we took over.
  const created = sd?.createdAt?.getTime() ?? 0;
  const dead = ctx.tookOver;
  // Strictly after: the deployment that was current when the dead run took the lock is not its own.
  const inDeadLock = dead !== undefined && created > Date.parse(dead.startedAt) && created <= Date.parse(dead.expiresAt);
  const runId = marked ? mark.runId : inDeadLock ? dead.runId : undefined;
  if (arn && sd && runId) {
    if (mark?.paused && marked && sd.status === "IN_PROGRESS" && awaitingPauseHooks(sd).length > 0) {
      out.paused = { serviceDeploymentArn: arn, mark, stage: gateStageOf(sd.lifecycleStage) ?? sd.lifecycleStage ?? "a PAUSE hook" };
      return out;
    }
    if (UNFINISHED.has(sd.status ?? "")) sd = await rollBackAbandoned(ctx, ref, arn, sd, runId, note);
    const r = (sd ? recordEnd(sd, runId, out, clock.now()) : undefined) ?? {
      runId,
      serviceDeploymentArn: arn,
      outcome: "failed" as const,
      reason: "ECS no longer describes the deployment",
    };
    out.abandoned = r;
    note(`run ${runId} ended without finishing; its deployment ${r.outcome}: ${r.reason}`);
  } else if (arn && sd?.status === "IN_PROGRESS" && carriesOurHook) {
    // Someone else's deployment inherited the hook a dead run left: it was never meant for them.
    for (const hook of awaitingPauseHooks(sd)) {
      await continueServiceDeployment(client, arn, hook.hookId, "CONTINUE", opts);
      note(`deployment ${deploymentId(arn)} (not Shipshape's) waited at the PAUSE hook run ${mark?.runId ?? "?"} left: continued it`);
    }
  }
  if (ctx.tookOver && env.migration) await reportMigration(ctx, service.taskDefinition ?? "", ctx.tookOver.runId, note);
  if (mark && !(sd && UNFINISHED.has(sd.status ?? ""))) {
    const removed = await removeOurHooks(client, ref, mark, opts);
    note(
      removed > 0
        ? `removed the PAUSE hook run ${mark.runId} left on the service (it would stop every later deploy)`
        : `cleared the hook mark of run ${mark.runId} (its hook was already gone)`,
    );
    delete out.mark;
  }
  return out;
}

/** Nobody judged the dead run's deployment: it goes back, and we wait until ECS says how that ended. */
async function rollBackAbandoned(
  ctx: RecoverContext,
  ref: ServiceRef,
  arn: string,
  sd: ServiceDeployment,
  runId: string,
  note: (m: string) => void,
): Promise<ServiceDeployment | undefined> {
  const { client, env, opts } = ctx;
  const hook = awaitingPauseHooks(sd)[0];
  if (sd.status === "IN_PROGRESS" || sd.status === "PENDING") {
    const how = hook ? `ContinueServiceDeployment(ROLLBACK) for hook ${hook.hookId}` : "StopServiceDeployment(ROLLBACK)";
    note(`run ${runId} ended without finishing while its deployment was ${sd.status} (${sd.lifecycleStage ?? "?"}): ${how}`);
    if (hook) await continueServiceDeployment(client, arn, hook.hookId, "ROLLBACK", opts);
    else await stopServiceDeploymentWithRollback(client, arn, opts);
  }
  const { target, source } = await revisionsOf(client, sd, opts);
  const watched = await watchDeployment(
    client,
    {
      ...ref,
      serviceDeploymentArn: arn,
      taskDefinitionArn: target ?? "?",
      ...(source ? { previousTaskDefinitionArn: source } : {}),
      progressDeadlineMinutes: env.progressDeadlineMinutes,
      pollSeconds: env.pollSeconds,
    },
    opts,
  );
  note(
    `the abandoned deployment ended ${watched.result}: ${watched.reason}; ${revisionName(watched.runningTaskDefinitionArn ?? "?")} serves`,
  );
  return describeServiceDeployment(client, arn, opts);
}

/** What ECS did with the dead run's deployment, as a decision (a hook timeout) and an outcome. */
function recordEnd(sd: ServiceDeployment, runId: string, out: Recovered, now: number): AbandonedRun | undefined {
  if (UNFINISHED.has(sd.status ?? "")) return undefined;
  for (const h of sd.lifecycleHookDetails ?? []) {
    if (h.targetType !== "PAUSE" || h.status !== "TIMED_OUT") continue;
    out.decisions.push({
      at: new Date(h.expiresAt?.getTime() ?? now).toISOString(),
      gate: "hook-timeout",
      stage: sd.lifecycleStage ?? "?",
      step: 0,
      verdict: "timed out",
      reason: `run ${runId}'s PAUSE hook ${h.hookId ?? "?"} got no decision before ${h.expiresAt?.toISOString() ?? "?"}; ECS applied ${h.timeoutAction ?? "ROLLBACK"}`,
      values: [],
    });
  }
  const why = sd.rollback?.reason ?? sd.statusReason ?? "no reason given";
  return {
    runId,
    serviceDeploymentArn: sd.serviceDeploymentArn ?? "",
    outcome: outcomeOf(sd.status),
    reason: `ECS reports the deployment ${sd.status ?? "?"}: ${why}`,
  };
}

/** A dead run's migration task: still running (the next migration waits for it), or how it ended. */
async function reportMigration(ctx: RecoverContext, taskDefinition: string, runId: string, note: (m: string) => void): Promise<void> {
  const family = revisionName(taskDefinition).split(":")[0] ?? "";
  const tasks = await migrationTasks(ctx.client, ctx.env.cluster, family, ctx.opts);
  for (const t of tasks.filter((task) => task.startedBy === `shipshape/${runId}`.slice(0, 128))) {
    const name = ctx.env.migration?.containerName ?? ctx.env.containerName;
    const exit = t.containers?.find((c) => c.name === name)?.exitCode;
    const id = (t.taskArn ?? "?").split("/").pop() ?? "?";
    note(
      t.lastStatus === "STOPPED"
        ? `run ${runId}'s migration task ${id} stopped (exit code ${exit ?? "none"}: ${t.stoppedReason ?? "no reason given"})`
        : `run ${runId}'s migration task ${id} is still ${t.lastStatus ?? "running"}: no new migration starts until it ends`,
    );
  }
}
