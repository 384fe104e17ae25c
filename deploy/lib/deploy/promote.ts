/**
 * A human's decision on a paused blue-green, linear or canary deployment: promote continues the
 * waiting PAUSE hook and watches to the next pause or the end; abort rolls the deployment back
 * (ContinueServiceDeployment ROLLBACK at a waiting hook, StopServiceDeployment ROLLBACK otherwise)
 * and waits until the previous revision serves. Both work from what ECS says now, so they can run
 * in a later pipeline than the deploy that paused.
 */
import { DescribeServiceRevisionsCommand, type ECSClient, type ServiceDeployment } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { randomUUID } from "node:crypto";
import { Problem } from "../../src/project/problem.js";
import { ecsOf, send, type EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import { deadlineMinutes, lockMinutes, pausedUnasked, watchGates, type DeployReport } from "./deploy.js";
import { DeploymentHooks } from "./deployment-hooks.js";
import { readMark } from "./hook-mark.js";
import { ensureDeployLock, LockHeld, withDeployLock, type DeployLock } from "./lock.js";
import { recoverUnder, type Recovered } from "./recover.js";
import {
  continueServiceDeployment,
  describeService,
  describeServiceDeployment,
  describeTaskDefinition,
  stopServiceDeploymentWithRollback,
} from "./ecs.js";
import { awaitingPauseHooks, describePause, gateStageOf, gateStages, pauseInfo, type GateDecision, type OnPause } from "./hooks.js";
import { abortStepped, promoteStepped, steppedOf } from "./stepped/commands.js";
import { revisionName } from "./taskdef.js";
import { watchDeployment, type DeploymentProgress, type TimelineEvent, type WatchOptions } from "./watch.js";

export interface ResumeRequest {
  environment: string;
  config: EnvironmentConfig;
  /** Decides the hooks that follow (auto promotion); without it the watch stops at the next one. */
  onPause?: OnPause;
  onProgress?: (progress: DeploymentProgress) => void;
  /** This run, in the lock and the hook mark; one is made up when absent. */
  runId?: string;
  /** The load balancer's weights, for an environment with a stepped canary (required there). */
  elb?: ElasticLoadBalancingV2Client;
}

interface Current {
  sd: ServiceDeployment;
  arn: string;
  taskDefinitionArn: string;
  previousTaskDefinitionArn?: string;
  image: string;
  serviceArn: string;
}

/** The service's current deployment, with the revisions and image it moves between. */
async function current(client: ECSClient, req: ResumeRequest, verb: string, held: Held, opts?: EcsOptions): Promise<Current> {
  const env = req.config;
  const service = await describeService(client, { cluster: env.cluster, service: env.service }, opts);
  // A deployment a dead or paused run left that ended meanwhile is the one the person meant, not the hook clean-up after it.
  const arn = held.recovered.abandoned?.serviceDeploymentArn ?? service.currentServiceDeployment;
  const sd = arn ? await describeServiceDeployment(client, arn, opts) : undefined;
  if (!arn || !sd) {
    throw new Problem(`nothing to ${verb}: ${req.environment} has no service deployment`, "deploy first");
  }
  if (sd.status !== "IN_PROGRESS" && sd.status !== "PENDING") {
    const timedOut = sd.lifecycleHookDetails?.some((h) => h.targetType === "PAUSE" && h.status === "TIMED_OUT");
    const why = timedOut ? " (a PAUSE hook timed out without a decision, so ECS applied its timeout action)" : "";
    throw new Problem(
      `nothing to ${verb}: the latest deployment of ${req.environment} is ${sd.status ?? "?"}${why}${sd.statusReason ? `: ${sd.statusReason}` : ""}`,
      verb === "promote" ? "deploy again" : "use rollback to return to an earlier revision",
    );
  }
  const revisions = [sd.targetServiceRevision?.arn, sd.sourceServiceRevisions?.[0]?.arn].filter((a): a is string => a !== undefined);
  const described =
    revisions.length === 0
      ? []
      : ((
          await send(ecsOf(client, opts), "ecs:DescribeServiceRevisions", () =>
            client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisions })),
          )
        ).serviceRevisions ?? []);
  const taskDefinitionOf = (revision?: string) => described.find((r) => r.serviceRevisionArn === revision)?.taskDefinition;
  const taskDefinitionArn =
    taskDefinitionOf(sd.targetServiceRevision?.arn) ?? service.deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition;
  if (!taskDefinitionArn)
    throw new Problem(`ECS names no target revision for ${req.environment}'s deployment`, "check it in the ECS console");
  const previousTaskDefinitionArn = taskDefinitionOf(sd.sourceServiceRevisions?.[0]?.arn);
  const { taskDefinition } = await describeTaskDefinition(client, taskDefinitionArn, opts);
  const image = taskDefinition.containerDefinitions?.find((c) => c.name === env.containerName)?.image ?? "?";
  return {
    sd,
    arn,
    taskDefinitionArn,
    ...(previousTaskDefinitionArn ? { previousTaskDefinitionArn } : {}),
    image,
    serviceArn: service.serviceArn ?? "",
  };
}

type Outcome = Awaited<ReturnType<typeof watchDeployment>>;

/** The watch of the deployment a person resumed or aborted. */
function watching(req: ResumeRequest, c: Current, progressDeadlineMinutes: number, held: Held): WatchOptions {
  const env = req.config;
  return {
    cluster: env.cluster,
    service: env.service,
    serviceDeploymentArn: c.arn,
    taskDefinitionArn: c.taskDefinitionArn,
    ...(c.previousTaskDefinitionArn ? { previousTaskDefinitionArn: c.previousTaskDefinitionArn } : {}),
    progressDeadlineMinutes,
    pollSeconds: env.pollSeconds,
    ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    ...(held.hooks.current ? { hookMark: held.hooks.current } : {}),
  };
}

function report(
  req: ResumeRequest,
  c: Current,
  decisions: GateDecision[],
  before: TimelineEvent[],
  outcome: Outcome,
  ended: Pick<DeployReport, "result" | "reason"> = outcome,
): DeployReport {
  return {
    environment: req.environment,
    image: c.image,
    result: ended.result,
    reason: ended.reason,
    taskDefinitionArn: c.taskDefinitionArn,
    ...(c.previousTaskDefinitionArn ? { previousTaskDefinitionArn: c.previousTaskDefinitionArn } : {}),
    serviceDeploymentArn: outcome.serviceDeploymentArn,
    timeline: [...before, ...outcome.timeline],
    strategy: req.config.strategy,
    decisions: [...decisions, ...outcome.decisions],
    ...(outcome.pause ? { pause: outcome.pause } : {}),
  };
}

interface Held {
  lock?: DeployLock;
  recovered: Recovered;
  hooks: DeploymentHooks;
  note: (message: string) => void;
  before: TimelineEvent[];
}

/**
 * Runs `fn` holding the environment's lock, after cleaning up what a dead run left (recover.ts).
 * `shareable`: when a live run holds the lock, go on without it and leave its hook to it (abort:
 * rolling back is what ECS does at the hook's timeout anyway, so it never makes things worse).
 */
async function locked(
  client: ECSClient,
  req: ResumeRequest,
  fn: (held: Held) => Promise<DeployReport>,
  opts: EcsOptions | undefined,
  shareable = false,
): Promise<DeployReport> {
  const env = req.config;
  const ref = { cluster: env.cluster, service: env.service };
  const runId = req.runId ?? `shipshape-${randomUUID()}`;
  const service = await describeService(client, ref, opts);
  const serviceArn = service.serviceArn ?? "";
  const clock = ecsOf(client, opts).clock;
  const before: TimelineEvent[] = [];
  const note = (message: string) => before.push({ at: new Date(clock.now()).toISOString(), message });
  const hooks = () => new DeploymentHooks(client, { ref, serviceArn, runId, stages: gateStages(env), env, note }, opts);
  const under = async (lock: DeployLock) => {
    note(`lock taken by run ${runId} until ${lock.expiresAt}${lock.tookOver ? ` (took over expired run ${lock.tookOver.runId})` : ""}`);
    const recovered = await recoverUnder(lock, { client, environment: req.environment, env, serviceArn }, opts);
    before.push(...recovered.timeline);
    const h = hooks();
    await h.adopt(recovered.mark);
    return fn({ lock, recovered, hooks: h, note, before });
  };
  try {
    return await withDeployLock(client, { serviceArn, runId, ttlMinutes: lockMinutes(env) }, under, opts);
  } catch (e) {
    if (!(shareable && e instanceof LockHeld)) throw e;
    note(`run ${e.holder.runId} holds the lock; aborting without it (its run removes its own hook)`);
    return fn({ recovered: { timeline: [], decisions: [] }, hooks: hooks(), note, before });
  }
}

/** Continues the waiting hook of ours (a human's approval) and watches to the next pause or the end. */
export function promoteDeployment(client: ECSClient, req: ResumeRequest, opts?: EcsOptions): Promise<DeployReport> {
  const stepped = steppedOf(req.config, client, req.elb);
  if (stepped) return promoteStepped(stepped.clients, req, stepped.canary, opts);
  return locked(client, req, (held) => promoteHeld(client, req, held, opts), opts);
}

async function promoteHeld(client: ECSClient, req: ResumeRequest, held: Held, opts?: EcsOptions): Promise<DeployReport> {
  const env = req.config;
  const c = await current(client, req, "promote", held, opts);
  const stage = gateStageOf(c.sd.lifecycleStage);
  const hook = awaitingPauseHooks(c.sd)[0];
  if (!hook || !stage || !gateStages(env).includes(stage)) {
    throw new Problem(
      `nothing to promote: the deployment of ${req.environment} is in progress (${c.sd.lifecycleStage ?? "?"}) but not paused at a Shipshape gate`,
      hook ? "a PAUSE hook Shipshape did not add waits: continue it in ECS" : "wait for it to reach the next gate, or abort it",
    );
  }
  const info = pauseInfo(c.sd, hook, stage, env);
  const now = ecsOf(client, opts).clock.now();
  const at = new Date(now).toISOString();
  const lock = held.lock;
  const guard = async () => {
    const retaken = lock ? await ensureDeployLock(client, lock, opts) : undefined;
    if (retaken) held.note(retaken);
  };
  await guard();
  await continueServiceDeployment(client, c.arn, hook.hookId, "CONTINUE", opts);
  const decision: GateDecision = {
    at,
    gate: "approval",
    stage,
    step: info.step,
    verdict: "approved",
    reason: `promoted by hand at ${describePause(info)}`,
    values: [{ name: "productionTrafficPercent", value: info.productionTrafficPercent }],
  };
  held.note(`promoted: ContinueServiceDeployment(CONTINUE) for hook ${hook.hookId} at ${describePause(info)}`);
  const outcome = await watchDeployment(
    client,
    {
      ...watching(req, c, deadlineMinutes(env), held),
      gates: { ...watchGates(env, req.onPause), answered: [hook.hookId] },
      guard,
    },
    opts,
  );
  await held.hooks.ended(outcome.pause !== undefined);
  return report(req, c, [...held.recovered.decisions, decision], held.before, outcome, pausedUnasked(env, outcome));
}

/** Rolls the unfinished deployment back and waits until the previous revision serves. */
export function abortDeployment(client: ECSClient, req: ResumeRequest, opts?: EcsOptions): Promise<DeployReport> {
  // A stepped canary has no ECS deployment to roll back while it shifts traffic: its weights do.
  const stepped = steppedOf(req.config, client, req.elb);
  if (stepped) return abortStepped(stepped.clients, req, stepped.canary, opts);
  return locked(client, req, (held) => abortHeld(client, req, held, opts), opts, true);
}

async function abortHeld(client: ECSClient, req: ResumeRequest, held: Held, opts?: EcsOptions): Promise<DeployReport> {
  const env = req.config;
  const c = await current(client, req, "abort", held, opts);
  const hook = awaitingPauseHooks(c.sd)[0];
  const now = ecsOf(client, opts).clock.now();
  const at = new Date(now).toISOString();
  // A pause before a production step may be reported as PRODUCTION_TRAFFIC_SHIFT; name the hook's stage.
  const where = (hook ? gateStageOf(c.sd.lifecycleStage) : undefined) ?? c.sd.lifecycleStage ?? "?";
  if (hook) await continueServiceDeployment(client, c.arn, hook.hookId, "ROLLBACK", opts);
  else await stopServiceDeploymentWithRollback(client, c.arn, opts);
  const how = hook ? `ContinueServiceDeployment(ROLLBACK) for hook ${hook.hookId}` : "StopServiceDeployment(ROLLBACK)";
  const stage = gateStageOf(c.sd.lifecycleStage);
  const step = stage && hook ? pauseInfo(c.sd, hook, stage, env).step : 0;
  const decision: GateDecision = {
    at,
    gate: "approval",
    stage: where,
    step,
    verdict: "aborted",
    reason: `aborted by hand at ${where}`,
    values: [],
  };
  held.note(`aborted at ${where}: ${how}`);
  const outcome = await watchDeployment(client, watching(req, c, env.progressDeadlineMinutes, held), opts);
  // Without the lock the hook is the live run's to remove; with it, this run ends the deployment, so the hook goes.
  if (held.lock) await held.hooks.adopt(held.hooks.current ?? (await readMark(client, c.serviceArn, opts)));
  if (held.lock) await held.hooks.ended(false);
  const decisions = [...held.recovered.decisions, decision];
  if (outcome.result === "rolled back") {
    const back = revisionName(outcome.runningTaskDefinitionArn ?? c.previousTaskDefinitionArn ?? "?");
    return report(req, c, decisions, held.before, outcome, {
      result: "rolled back",
      reason: `aborted by hand at ${where}; ${back} is serving again`,
    });
  }
  // Finishing is not what an abort asked for: "succeeded" here means the rollback came too late.
  const too = outcome.result === "succeeded" ? "the deployment finished before the rollback took effect: " : "";
  return report(req, c, decisions, held.before, outcome, {
    result: "failed",
    reason: `aborted by hand at ${where}, but ${too}${outcome.reason}`,
  });
}
