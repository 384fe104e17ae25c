/**
 * Watches one ECS service deployment to its end and says what really happened. Success is judged
 * ONLY from DescribeServiceDeployments (status SUCCESSFUL) plus the service's PRIMARY deployment
 * running the new revision: waitUntilServicesStable reports success after a circuit-breaker
 * rollback (one deployment, running == desired), so it is never used to judge.
 */
import {
  DescribeServiceRevisionsCommand,
  ListServiceDeploymentsCommand,
  type ECSClient,
  type Service,
  type ServiceDeployment,
  type ServiceDeploymentStatus,
} from "@aws-sdk/client-ecs";
import { describeError, Problem } from "../../src/project/problem.js";
import { ecsOf, errorName, saidBy, send, type Ecs, type EcsOptions } from "./aws.js";
import type { DeployStrategy } from "./config.js";
import {
  describeService,
  describeServiceDeployment as describeSd,
  describeTaskDefinition,
  stopServiceDeploymentWithRollback,
  updateService,
  type ServiceRef,
} from "./ecs.js";
import { answerHook, HookWatcher } from "./hook-watch.js";
import type { GateDecision, GateStage, HookMark, OnPause, PauseInfo } from "./hooks.js";
import { revisionName } from "./taskdef.js";

/** "paused": one of Shipshape's PAUSE hooks waits for a human's promote or abort. */
export type DeployResult = "succeeded" | "rolled back" | "failed" | "paused";
export type WatchPhase = "deploying" | "rolling back";

export interface TimelineEvent {
  /** ISO 8601, from the injected clock. */
  at: string;
  message: string;
}

export interface DeploymentProgress {
  at: string;
  elapsedSeconds: number;
  phase: WatchPhase;
  status: ServiceDeploymentStatus | "UNKNOWN";
  lifecycleStage?: string;
  /** Task counts of the service's PRIMARY deployment (the revision ECS is moving to). */
  desired: number;
  running: number;
  pending: number;
  failedTasks: number;
}

export interface WatchOptions extends ServiceRef {
  serviceDeploymentArn: string;
  /** The revision this deploy registered; success requires the PRIMARY deployment to run it. */
  taskDefinitionArn: string;
  /** Redeployed when StopServiceDeployment(ROLLBACK) is refused at the progress deadline. */
  previousTaskDefinitionArn?: string;
  progressDeadlineMinutes: number;
  pollSeconds: number;
  onProgress?: (progress: DeploymentProgress) => void;
  /** Shipshape's PAUSE-hook gates of a blue-green, linear or canary deployment. */
  gates?: WatchGates;
  /** Our hook on the service: a fallback redeploy of the previous revision must not stop at it. */
  hookMark?: HookMark;
  /** Throws when this run may no longer change the service (its lock is lost); called before each CONTINUE. */
  guard?: () => Promise<void>;
}

export interface WatchGates {
  /** Stages where Shipshape's PAUSE hooks sit; a PAUSE hook waiting elsewhere is someone else's. */
  stages: readonly GateStage[];
  /** Numbers the traffic steps of linear and canary deployments. */
  strategy: DeployStrategy;
  linear: { stepPercent: number };
  /** Decides each of our hooks; without it the watch stops at the first one with result "paused". */
  onPause?: OnPause;
  /** Hooks already answered (by promote): ECS may list them as waiting for a moment longer. */
  answered?: readonly string[];
}

export interface DeploymentOutcome {
  result: DeployResult;
  /** One line: why it ended this way. */
  reason: string;
  /** The service deployment watched last (a fallback redeploy's, when rollback went through UpdateService). */
  serviceDeploymentArn: string;
  taskDefinitionArn: string;
  runningTaskDefinitionArn?: string;
  timeline: TimelineEvent[];
  /** Gate decisions taken at PAUSE hooks, and hooks that timed out. */
  decisions: GateDecision[];
  /** The hook waiting for promote or abort, when the result is "paused". */
  pause?: PauseInfo;
}

const describeServiceDeployment = (ecs: Ecs, arn: string): Promise<ServiceDeployment | undefined> =>
  describeSd(ecs.client, arn, { retry: ecs.retry, clock: ecs.clock });

const stopWithRollback = (ecs: Ecs, arn: string): Promise<void> =>
  stopServiceDeploymentWithRollback(ecs.client, arn, { retry: ecs.retry, clock: ecs.clock });

/** The most specific cause ECS gives: tripped alarm, circuit breaker, then its own words. */
export function rollbackCause(sd: ServiceDeployment): string {
  const { alarms, deploymentCircuitBreaker: cb } = sd;
  const cause =
    alarms?.status === "TRIGGERED"
      ? `alarm ${(alarms.triggeredAlarmNames ?? []).join(", ") || "?"} went into ALARM`
      : cb?.status === "TRIGGERED"
        ? `circuit breaker tripped after ${cb.failureCount ?? "?"} failed tasks (threshold ${cb.threshold ?? "?"})`
        : undefined;
  const said = sd.rollback?.reason ?? sd.statusReason;
  return [cause, said].filter((s) => s).join(": ") || "ECS rolled the deployment back";
}

export class Timeline {
  readonly events: TimelineEvent[] = [];
  private readonly seen = new Set<string>();
  constructor(private readonly now: () => number) {}
  add(message: string, at = this.now()): void {
    this.events.push({ at: new Date(at).toISOString(), message });
  }
  /** ECS's own service events (newest first, up to 100) since the watch began, each once. */
  addServiceEvents(service: Service, since: number): void {
    const fresh = (service.events ?? []).filter((e) => e.createdAt && e.createdAt.getTime() >= since && !this.seen.has(e.id ?? ""));
    for (const e of fresh.reverse()) {
      this.seen.add(e.id ?? "");
      this.add(`ECS: ${e.message ?? ""}`, e.createdAt?.getTime());
    }
  }
}

// STOP_REQUESTED is not here: it is a request ECS is still carrying out (e.g. a newer UpdateService superseding this one).
const TERMINAL_FAILURE = new Set<string>(["ROLLBACK_FAILED", "STOPPED"]);

/**
 * ROLLBACK_SUCCESSFUL is believed once the revision that serves is not the one rolled back from
 * (DescribeServices may lag a poll behind). It may not be the one this deploy replaced: ECS goes
 * back to its last COMPLETED deployment, so the reason names what really serves.
 */
function servingAfterRollback(o: WatchOptions, running: string | undefined): string | undefined {
  if (!running || running === o.taskDefinitionArn) return undefined;
  const prev = o.previousTaskDefinitionArn;
  return prev && running !== prev
    ? `; ECS went back to ${revisionName(running)} (its last completed deployment), not ${revisionName(prev)}, which had not finished`
    : `; rolled back to ${revisionName(running)}`;
}

export async function watchDeployment(client: ECSClient, o: WatchOptions, opts?: EcsOptions): Promise<DeploymentOutcome> {
  const ecs = ecsOf(client, opts);
  const started = ecs.clock.now();
  const timeline = new Timeline(() => ecs.clock.now());
  const periodMs = o.progressDeadlineMinutes * 60_000;
  const rev = revisionName(o.taskDefinitionArn);
  let arn = o.serviceDeploymentArn;
  let phase: WatchPhase = "deploying";
  let viaUpdate = false; // rolling back by a fresh deployment of the previous revision
  let deadline = started + periodMs;
  let reason = "";
  let lastState = "";
  let running: string | undefined;
  const hooks = new HookWatcher(o.gates, timeline, () => ecs.clock.now());
  const finish = (result: DeployResult, why: string, pause?: PauseInfo): DeploymentOutcome => {
    timeline.add(`${result}: ${why}`);
    timeline.events.sort((a, b) => a.at.localeCompare(b.at)); // stable: same-instant entries keep their order
    return {
      result,
      reason: why,
      serviceDeploymentArn: arn,
      taskDefinitionArn: o.taskDefinitionArn,
      runningTaskDefinitionArn: running,
      timeline: timeline.events,
      decisions: hooks.decisions,
      ...(pause ? { pause } : {}),
    };
  };
  timeline.add(`watching the deployment of ${rev} (progress deadline ${o.progressDeadlineMinutes} min)`);
  for (;;) {
    const sd = await describeServiceDeployment(ecs, arn);
    const service = await describeService(client, o, opts);
    const now = ecs.clock.now();
    const primary = service.deployments?.find((d) => d.status === "PRIMARY");
    running = primary?.taskDefinition;
    const status = sd?.status ?? "UNKNOWN";
    const state = `${status}${sd?.lifecycleStage ? ` (${sd.lifecycleStage})` : ""}`;
    // ECS's events from the moment this deployment was created (it can predate the watch by a little).
    timeline.addServiceEvents(service, Math.min(started, sd?.createdAt?.getTime() ?? started));
    if (state !== lastState) timeline.add(`service deployment ${state}`, now);
    lastState = state;
    try {
      o.onProgress?.({
        at: new Date(now).toISOString(),
        elapsedSeconds: Math.round((now - started) / 1000),
        phase,
        status,
        ...(sd?.lifecycleStage ? { lifecycleStage: sd.lifecycleStage } : {}),
        desired: primary?.desiredCount ?? 0,
        running: primary?.runningCount ?? 0,
        pending: primary?.pendingCount ?? 0,
        failedTasks: primary?.failedTasks ?? 0,
      });
    } catch (e) {
      timeline.add(`progress report failed: ${errorName(e)}`); // reporting must not abandon a rollout halfway
    }

    if (sd) hooks.noteTimeouts(sd);
    if (phase === "deploying" && sd && status === "IN_PROGRESS") {
      const waiting = hooks.next(sd);
      if (waiting && !o.gates?.onPause) {
        const expires = waiting.expiresAt ? `; ECS rolls it back at ${waiting.expiresAt} unless promoted` : "";
        return finish("paused", `waiting at ${hooks.describe(waiting)} for promote or abort${expires}`, waiting);
      }
      if (waiting && o.gates?.onPause) {
        const decided = await decide(o.gates.onPause, waiting, timeline, hooks);
        deadline += ecs.clock.now() - now; // time spent judging is not time the rollout took
        if (decided.action === "PAUSE") return finish("paused", decided.reason, waiting);
        if (decided.action === "CONTINUE") await o.guard?.(); // no lock, no CONTINUE: the hook's timeout rolls back instead
        const answered = await answerHook(client, waiting, decided, timeline, hooks, opts);
        if (answered === "rollback requested") [phase, reason, deadline] = ["rolling back", decided.reason, ecs.clock.now() + periodMs];
        if (answered === "refused") {
          // ECS would not take the answer: the hook expired meanwhile (its timeout action applies), or the deployment moved on.
          if (decided.action === "ROLLBACK" || !hooks.expired(waiting)) {
            const why = decided.action === "ROLLBACK" ? decided.reason : `the gate's CONTINUE was refused (${hooks.refusal})`;
            try {
              ({ arn, viaUpdate } = await requestRollback(client, o, arn, timeline, opts));
              [phase, reason, deadline] = ["rolling back", why, ecs.clock.now() + periodMs];
            } catch (e) {
              timeline.add(`the rollback could not be requested: ${saidBy(e)}`);
            }
          }
        }
        await ecs.clock.sleep(o.pollSeconds * 1000);
        continue;
      }
    }

    if (phase === "deploying") {
      if (status === "SUCCESSFUL") {
        return running === o.taskDefinitionArn
          ? finish("succeeded", `${rev} is serving`)
          : finish("failed", `ECS reports the deployment SUCCESSFUL but the service runs ${revisionName(running ?? "?")}, not ${rev}`);
      }
      if (sd && status === "ROLLBACK_SUCCESSFUL") {
        const serving = servingAfterRollback(o, running);
        if (serving !== undefined) return finish("rolled back", `${hooks.timeoutCause() ?? rollbackCause(sd)}${serving}`);
        if (now >= deadline) return finish("failed", `ECS reports ROLLBACK_SUCCESSFUL but ${rev} still serves`);
      } else if (sd && TERMINAL_FAILURE.has(status)) {
        const serving = running ? `; ${revisionName(running)} serves` : "";
        return finish("failed", `the deployment ended ${status}: ${sd.statusReason ?? "no reason given"}${serving}`);
      } else if (status === "STOP_REQUESTED") {
        // ECS is stopping it; it ends STOPPED. Rolling back now would fight whatever asked for the stop.
        if (now >= deadline + periodMs) return finish("failed", `the deployment is still STOP_REQUESTED after the progress deadline`);
      } else if (sd && (status === "ROLLBACK_REQUESTED" || status === "ROLLBACK_IN_PROGRESS")) {
        [phase, reason, deadline] = ["rolling back", hooks.timeoutCause() ?? rollbackCause(sd), now + periodMs];
      } else if (now >= deadline) {
        reason = `${rev} did not finish within the ${o.progressDeadlineMinutes}-minute progress deadline`;
        timeline.add(`${reason}; rolling back`, now);
        try {
          ({ arn, viaUpdate } = await requestRollback(client, o, arn, timeline, opts));
        } catch (e) {
          return finish("failed", `${reason}, and the rollback could not be started: ${saidBy(e)}`);
        }
        [phase, deadline] = ["rolling back", now + periodMs];
      }
    } else {
      if (viaUpdate && status === "SUCCESSFUL" && running === o.previousTaskDefinitionArn) return finish("rolled back", reason);
      const serving = status === "ROLLBACK_SUCCESSFUL" ? servingAfterRollback(o, running) : undefined;
      if (!viaUpdate && serving !== undefined) return finish("rolled back", `${reason}${serving}`);
      if (!viaUpdate && status === "SUCCESSFUL")
        return finish("failed", `${reason}; the rollback came too late and ${revisionName(running ?? "?")} is serving`);
      if (TERMINAL_FAILURE.has(status))
        return finish("failed", `${reason}; the rollback ended ${status}: ${sd?.statusReason ?? "no reason given"}`);
      if (now >= deadline)
        return finish("failed", `${reason}; the rollback did not finish within ${o.progressDeadlineMinutes} minutes either`);
    }
    await ecs.clock.sleep(o.pollSeconds * 1000);
  }
}

/** Runs the gate; a gate that throws is a ROLLBACK, never a silent CONTINUE. */
async function decide(onPause: OnPause, waiting: PauseInfo, timeline: Timeline, hooks: HookWatcher) {
  timeline.add(`paused at ${hooks.describe(waiting)} (hook ${waiting.hookId}); running Shipshape's gate`);
  try {
    const decided = await onPause(waiting);
    hooks.decisions.push(...decided.decisions);
    return decided;
  } catch (e) {
    const reason = `the gate at ${waiting.stage} failed: ${describeError(e).cause}`;
    return { action: "ROLLBACK" as const, reason, decisions: [] };
  }
}

/** StopServiceDeployment(ROLLBACK) first; if ECS refuses, redeploy the previous revision. */
async function requestRollback(
  client: ECSClient,
  o: WatchOptions,
  arn: string,
  timeline: Timeline,
  opts?: EcsOptions,
): Promise<{ arn: string; viaUpdate: boolean }> {
  try {
    await stopWithRollback(ecsOf(client, opts), arn);
    timeline.add("requested StopServiceDeployment(ROLLBACK)");
    return { arn, viaUpdate: false };
  } catch (e) {
    if (!o.previousTaskDefinitionArn) throw e;
    timeline.add(`StopServiceDeployment refused (${saidBy(e)}); redeploying ${revisionName(o.previousTaskDefinitionArn)}`);
    const service = await describeService(client, o, opts);
    const next = await updateService(
      client,
      service,
      { taskDefinitionArn: o.previousTaskDefinitionArn, ...(o.hookMark ? { ours: o.hookMark } : {}) },
      opts,
    );
    return { arn: next.serviceDeploymentArn, viaUpdate: true };
  }
}

// --- rollback on demand ----------------------------------------------------------------------

export interface RollbackStarted {
  method: "stop-service-deployment" | "update-service";
  /** Watch this one with watchDeployment to see the rollback through. */
  serviceDeploymentArn: string;
  /** The revision being restored, when known (update-service). */
  taskDefinitionArn?: string;
}

/** Redeploys a given revision: a number (same family), "family:12" or an ARN. */
export async function rollbackTo(
  client: ECSClient,
  ref: ServiceRef,
  revision: string | number,
  opts?: EcsOptions,
): Promise<RollbackStarted> {
  const service = await describeService(client, ref, opts);
  const family = revisionName(service.taskDefinition ?? "").split(":")[0] ?? "";
  const wanted = typeof revision === "number" || /^\d+$/.test(revision) ? `${family}:${revision}` : revision;
  // The full ARN, so a watcher can compare it with the PRIMARY deployment's.
  const { taskDefinition } = await describeTaskDefinition(client, wanted, opts);
  const taskDefinitionArn = taskDefinition.taskDefinitionArn ?? wanted;
  const { serviceDeploymentArn } = await updateService(client, service, { taskDefinitionArn }, opts);
  return { method: "update-service", serviceDeploymentArn, taskDefinitionArn };
}

/**
 * Undoes the latest deployment: an unfinished one is stopped with rollback (ECS restores the
 * revision it replaced); a finished one is replaced by the newest earlier successful revision.
 */
export async function rollbackToPrevious(client: ECSClient, ref: ServiceRef, opts?: EcsOptions): Promise<RollbackStarted> {
  const ecs = ecsOf(client, opts);
  const service = await describeService(client, ref, opts);
  const current = service.currentServiceDeployment;
  const sd = current ? await describeServiceDeployment(ecs, current) : undefined;
  if (current && (sd?.status === "IN_PROGRESS" || sd?.status === "PENDING")) {
    await stopWithRollback(ecs, current);
    return { method: "stop-service-deployment", serviceDeploymentArn: current };
  }
  const serving = service.deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition ?? service.taskDefinition;
  // One page (newest 20) is plenty: the revision wanted is almost always the one just before.
  const listed = await send(ecs, "ecs:ListServiceDeployments", () =>
    client.send(new ListServiceDeploymentsCommand({ cluster: ref.cluster, service: ref.service, status: ["SUCCESSFUL"], maxResults: 20 })),
  );
  const briefs = [...(listed.serviceDeployments ?? [])].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
  const revisionArns = briefs.flatMap((b) => (b.targetServiceRevisionArn ? [b.targetServiceRevisionArn] : []));
  const revisions =
    revisionArns.length === 0
      ? []
      : ((
          await send(ecs, "ecs:DescribeServiceRevisions", () =>
            client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArns })),
          )
        ).serviceRevisions ?? []);
  const byArn = new Map(revisions.map((r) => [r.serviceRevisionArn, r.taskDefinition]));
  const previous = revisionArns.map((a) => byArn.get(a)).find((td) => td !== undefined && td !== serving);
  if (!previous) {
    throw new Problem(
      `service ${ref.service} has no earlier successful deployment to roll back to`,
      "roll back to a named revision instead (rollbackTo with a task definition revision)",
    );
  }
  const { serviceDeploymentArn } = await updateService(client, service, { taskDefinitionArn: previous }, opts);
  return { method: "update-service", serviceDeploymentArn, taskDefinitionArn: previous };
}
