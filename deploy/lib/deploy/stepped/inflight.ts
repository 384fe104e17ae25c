/**
 * A stepped canary in flight, as every command sees it: the rule's weights not stable 100 / canary
 * 0, the canary service scaled up, or Shipshape's own mark (mark.ts) on the main service. Any one
 * of the three is enough, because each can be missing alone (a crash before the first weight
 * change; IaC deleting the tag; someone scaling the canary by hand).
 *
 * Recovery is the same for a dead run, an abort and a rollback, in the order that keeps production
 * safe at every instant: weights back to stable first, then the canary service to 0, then the
 * mark removed. Only the main service's tasks (a revision that passed its checks, or ECS's own
 * rollback of it; recover.ts) then take traffic.
 */
import type { ECSClient, Service } from "@aws-sdk/client-ecs";
import { Problem, describeError } from "../../../src/project/problem.js";
import { ecsOf, type EcsOptions } from "../aws.js";
import type { EnvironmentConfig } from "../config.js";
import { describeService } from "../ecs.js";
import { serviceTags } from "../hook-mark.js";
import type { GateDecision } from "../hooks.js";
import type { LockInfo } from "../lock.js";
import type { AbandonedRun } from "../recover.js";
import { revisionName } from "../taskdef.js";
import type { TimelineEvent } from "../watch.js";
import type { SteppedCanaryConfig } from "./config.js";
import { describeRoute, elbOf, readRoute, type TrafficRoute } from "./elb.js";
import { clearSteppedMark, hasSteppedTag, steppedMarkIn, type SteppedMark } from "./mark.js";
import { scaleCanaryToZero } from "./services.js";
import { Traffic, type TrafficChange } from "./traffic.js";
import type { SteppedCanaryClients } from "./types.js";
import { currentSplit, describeSplit, setupHint, type Split, type TargetGroups } from "./weights.js";

export const routeOf = (canary: SteppedCanaryConfig): TrafficRoute =>
  canary.listenerRuleArn ? { kind: "rule", arn: canary.listenerRuleArn } : { kind: "listener", arn: canary.listenerArn ?? "" };

export const groupsOf = (canary: SteppedCanaryConfig): TargetGroups => ({
  stable: canary.stableTargetGroupArn,
  canary: canary.canaryTargetGroupArn,
});

export interface SteppedState {
  /** What the rule sends; undefined when it no longer looks like the weighted pair (splitProblem says why). */
  split?: Split;
  splitProblem?: string;
  canaryService: Service;
  mark?: SteppedMark;
  tagged: boolean;
  inFlight: boolean;
}

const isSafe = (s: Split | undefined): boolean => s !== undefined && s.canary === 0 && s.stable > 0;

export async function observeStepped(
  clients: SteppedCanaryClients,
  env: EnvironmentConfig,
  canary: SteppedCanaryConfig,
  serviceArn: string,
  opts?: EcsOptions,
): Promise<SteppedState> {
  const tags = await serviceTags(clients.ecs, serviceArn, opts);
  const mark = steppedMarkIn(tags);
  const route = routeOf(canary);
  let split: Split | undefined;
  let splitProblem: string | undefined;
  try {
    split = currentSplit(await readRoute(elbOf(clients.elb, opts), route), groupsOf(canary), describeRoute(route));
  } catch (e) {
    splitProblem = describeError(e).cause;
  }
  const canaryService = await describeService(clients.ecs, { cluster: env.cluster, service: canary.canaryService }, opts);
  // Desired, not running: tasks of a canary scaled to 0 keep draining (deregistration delay) and are no longer in flight.
  const scaled = (canaryService.desiredCount ?? 0) > 0;
  const tagged = hasSteppedTag(tags);
  const inFlight = tagged || scaled || (split !== undefined && !isSafe(split));
  return {
    ...(split ? { split } : {}),
    ...(splitProblem ? { splitProblem } : {}),
    canaryService,
    ...(mark ? { mark } : {}),
    tagged,
    inFlight,
  };
}

/** Status lines: the mode, the weights, the canary's revision and tasks, and how long it has been in flight. */
export function describeStepped(state: SteppedState, canary: SteppedCanaryConfig, now: number): string[] {
  const c = state.canaryService;
  const since = state.mark ? Date.parse(state.mark.startedAt) : NaN;
  const lasted = Number.isFinite(since)
    ? `, for ${Math.max(0, Math.round((now - since) / 60_000))} min (since ${state.mark?.startedAt})`
    : "";
  return [
    `mode: stepped canary (ALB weights on ${describeRoute(routeOf(canary))})`,
    `weights: ${state.split ? describeSplit(state.split) : `unreadable: ${state.splitProblem ?? "?"}`}`,
    `canary service ${canary.canaryService}: ${c.runningCount ?? 0} running / ${c.desiredCount ?? 0} desired on ${revisionName(c.taskDefinition ?? "?")}`,
    state.inFlight
      ? `stepped canary in flight${state.mark ? `: run ${state.mark.runId}, ${state.mark.revision}` : ""}${lasted}`
      : "no stepped canary in flight",
  ];
}

export interface SteppedRecovery {
  state: SteppedState;
  timeline: TimelineEvent[];
  decisions: GateDecision[];
  traffic: TrafficChange[];
  /** Whether this recovery wrote the stable split. */
  reset: boolean;
  /** The dead run's canary, as the audit trail's correction of its record. */
  abandoned?: AbandonedRun;
}

export interface RecoverSteppedOptions {
  env: EnvironmentConfig;
  canary: SteppedCanaryConfig;
  serviceArn: string;
  /** The lock this command took over (a dead run's, or a live one's for an abort). */
  tookOver?: LockInfo;
  /** "abandoned": a run ended without finishing; "aborted": a person asked. */
  why: "abandoned" | "aborted";
}

/** Ends whatever stepped canary is in flight: traffic first, then the canary's tasks, then the mark. Requires the lock. */
export async function recoverStepped(clients: SteppedCanaryClients, o: RecoverSteppedOptions, opts?: EcsOptions): Promise<SteppedRecovery> {
  const state = await observeStepped(clients, o.env, o.canary, o.serviceArn, opts);
  const clock = ecsOf(clients.ecs, opts).clock;
  const timeline: TimelineEvent[] = [];
  const note = (message: string) => timeline.push({ at: new Date(clock.now()).toISOString(), message });
  const traffic = new Traffic(elbOf(clients.elb, opts), routeOf(o.canary), groupsOf(o.canary), timeline);
  const out: SteppedRecovery = { state, timeline, decisions: [], traffic: traffic.history, reset: false };
  if (!state.inFlight) return out;

  const runId = state.mark?.runId ?? o.tookOver?.runId;
  const who = runId ? `run ${runId}` : "an earlier run";
  const at = state.split ? `canary ${state.split.canary}%` : "weights unreadable";
  const revision = state.mark?.revision ?? revisionName(state.canaryService.taskDefinition ?? "?");
  if (!isSafe(state.split)) {
    const why =
      o.why === "aborted"
        ? `abort: the canary was at ${state.split?.canary ?? "?"}%`
        : `reset: ${who} left the canary at ${state.split?.canary ?? "?"}%`;
    // A rule that no longer looks like the pair is still forced back: traffic safety comes first.
    const actions = await readRoute(elbOf(clients.elb, opts), routeOf(o.canary)).catch(() => []);
    const unsafe = await traffic.restore(why, actions);
    if (unsafe) {
      throw new Problem(
        `${who} left a stepped canary at ${at} (${revision}), and the weights could not be set back to stable: ${unsafe}`,
        `set ${describeRoute(routeOf(o.canary))} by hand: ${setupHint(groupsOf(o.canary))}`,
      );
    }
    out.reset = true;
  }
  const c = state.canaryService;
  if ((c.desiredCount ?? 0) > 0) {
    await scaleCanaryToZero(clients.ecs, c, opts);
    note(
      `canary service ${o.canary.canaryService} scaled to 0 (was ${c.desiredCount ?? 0} tasks on ${revisionName(c.taskDefinition ?? "?")})`,
    );
  }
  if (state.tagged) await clearSteppedMark(clients.ecs, o.serviceArn, opts);
  const done = "weights back to stable 100% / canary 0%, canary service at 0";
  const reason =
    o.why === "aborted"
      ? `aborted by hand at ${at} (${revision}): ${done}`
      : `${who} ended without finishing with ${revision} unjudged at ${at}: ${done}`;
  note(reason);
  const step = o.canary.steps.findIndex((s) => s.weight === state.split?.canary) + 1;
  out.decisions.push({
    at: new Date(clock.now()).toISOString(),
    gate: o.why === "aborted" ? "approval" : "recovery",
    stage: `stepped canary ${at}`,
    step,
    verdict: "aborted",
    reason,
    values: [{ name: "canaryPercent", value: state.split?.canary ?? null }],
  });
  const sd = c.currentServiceDeployment;
  if (o.why === "abandoned" && runId && sd) out.abandoned = { runId, serviceDeploymentArn: sd, outcome: "rolled back", reason };
  return out;
}

/** The main service's ARN, which the mark and the lock live on. */
export async function mainServiceArn(client: ECSClient, env: EnvironmentConfig, opts?: EcsOptions): Promise<string> {
  const found = await describeService(client, { cluster: env.cluster, service: env.service }, opts);
  if (!found.serviceArn) throw new Problem(`ECS returned no ARN for service ${env.service}`, "rerun; check the ECS console");
  return found.serviceArn;
}
