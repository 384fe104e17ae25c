/**
 * `abort`, `promote`, `status` and `rollback` for an environment that deploys with a stepped
 * canary. Each one first ends what a run left in flight (inflight.ts: weights to stable, canary to
 * 0, mark off, recorded), then does its own part:
 *
 * - abort takes the lock even from a live run (LockOptions.force): that run finds its lock gone at
 *   its next heartbeat (within a beat) or weight change, puts the weights back and stops (lease.ts);
 * - promote refuses: a stepped canary has no pause to continue, each step is judged and the main
 *   service promoted by the deploy run itself; a person who wants fewer steps changes the steps;
 * - status and rollback call recoverSteppedUnder, then go on as for the other strategies;
 * - the scheduled monitor calls sweepStepped: the same recovery once a dead run's lock lapsed.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { randomUUID } from "node:crypto";
import { Problem } from "../../../src/project/problem.js";
import { ecsOf, type EcsOptions } from "../aws.js";
import type { EnvironmentConfig } from "../config.js";
import type { DeployReport } from "../deploy.js";
import { describeService } from "../ecs.js";
import { LockHeld, withDeployLock, type DeployLock, type LockInfo } from "../lock.js";
import { recoverUnder, type Recovered } from "../recover.js";
import { revisionName } from "../taskdef.js";
import type { TimelineEvent } from "../watch.js";
import type { SteppedCanaryConfig } from "./config.js";
import { mainServiceArn, recoverStepped, type SteppedRecovery } from "./inflight.js";
import { Lease, steppedLockMinutes } from "./lease.js";
import type { SteppedCanaryClients } from "./types.js";

export interface SteppedCommand {
  environment: string;
  config: EnvironmentConfig;
  runId?: string;
}

/** The stepped canary settings and clients of an environment that has them; a Problem when the ELB client is missing. */
export function steppedOf(
  env: EnvironmentConfig,
  ecs: ECSClient,
  elb: ElasticLoadBalancingV2Client | undefined,
): { canary: SteppedCanaryConfig; clients: SteppedCanaryClients } | undefined {
  if (!env.steppedCanary) return undefined;
  if (!elb)
    throw new Problem(
      "this environment deploys with a stepped canary, whose weights live on the load balancer, but no ELB client was given",
      "pass the ELB client for the environment's region",
    );
  return { canary: env.steppedCanary, clients: { ecs, elb } };
}

/** A dead run's stepped canary ended, under a lock this command holds; the timeline and decisions it leaves. */
export function recoverSteppedUnder(
  lock: DeployLock,
  clients: SteppedCanaryClients,
  env: EnvironmentConfig,
  canary: SteppedCanaryConfig,
  opts?: EcsOptions,
): Promise<SteppedRecovery> {
  const base = { env, canary, serviceArn: lock.serviceArn, why: "abandoned" as const };
  return recoverStepped(clients, { ...base, ...(lock.tookOver ? { tookOver: lock.tookOver } : {}) }, opts);
}

const PROMOTE_HINT = (environment: string) =>
  `to stop it, abort it (dagger call shipshape-deploy environment --name=${environment} abort); to take fewer or shorter steps, change steppedCanary.steps and deploy again`;
const PROMOTE_CAUSE = (environment: string) =>
  `${environment} deploys with a stepped canary, which has no pause to promote: each step is judged, and the main service promoted, by the deploy run itself`;

interface Held {
  lock: DeployLock;
  stepped: SteppedRecovery;
  native: Recovered;
  timeline: TimelineEvent[];
  serving: string;
}

/** Under the lock: the stepped canary ended first (traffic first), then the main service's leftovers (recover.ts). */
async function locked<T>(
  clients: SteppedCanaryClients,
  req: SteppedCommand,
  canary: SteppedCanaryConfig,
  force: boolean,
  fn: (held: Held) => Promise<T>,
  opts?: EcsOptions,
): Promise<T> {
  const env = req.config;
  const serviceArn = await mainServiceArn(clients.ecs, env, opts);
  const runId = req.runId ?? `shipshape-${randomUUID()}`;
  const clock = ecsOf(clients.ecs, opts).clock;
  const lockOptions = { serviceArn, runId, ttlMinutes: steppedLockMinutes(env), force };
  return withDeployLock(
    clients.ecs,
    lockOptions,
    async (lock) => {
      // The same short TTL as a run's, kept alive while the command works (ECS recovery can wait minutes).
      const lease = new Lease(clients.ecs, lock, env, opts);
      lease.start();
      try {
        return await held(lock);
      } finally {
        await lease.stop();
      }
    },
    opts,
  );

  async function held(lock: DeployLock): Promise<T> {
    const at = new Date(clock.now()).toISOString();
    const timeline: TimelineEvent[] = [
      { at, message: `lock taken by run ${runId} until ${lock.expiresAt}${lock.tookOver ? ` (from run ${lock.tookOver.runId})` : ""}` },
    ];
    const stepped = force
      ? await recoverStepped(
          clients,
          { env, canary, serviceArn, ...(lock.tookOver ? { tookOver: lock.tookOver } : {}), why: "aborted" },
          opts,
        )
      : await recoverSteppedUnder(lock, clients, env, canary, opts);
    const native = await recoverUnder(lock, { client: clients.ecs, environment: req.environment, env, serviceArn }, opts);
    timeline.push(...native.timeline, ...stepped.timeline);
    const service = await describeService(clients.ecs, { cluster: env.cluster, service: env.service }, opts);
    return fn({ lock, stepped, native, timeline, serving: service.taskDefinition ?? "" });
  }
}

function reportOf(req: SteppedCommand, held: Held, result: DeployReport["result"], reason: string): DeployReport {
  const abandoned = held.native.abandoned ?? held.stepped.abandoned;
  return {
    environment: req.environment,
    image: "",
    result,
    reason,
    taskDefinitionArn: held.serving,
    serviceDeploymentArn: abandoned?.serviceDeploymentArn ?? "",
    timeline: [...held.timeline].sort((a, b) => a.at.localeCompare(b.at)),
    strategy: "stepped-canary",
    decisions: [...held.native.decisions, ...held.stepped.decisions],
    ...(abandoned ? { abandoned } : {}),
  };
}

/** Ends the stepped canary in flight now, a live run's included: weights to stable, canary to 0, recorded. */
export async function abortStepped(
  clients: SteppedCanaryClients,
  req: SteppedCommand,
  canary: SteppedCanaryConfig,
  opts?: EcsOptions,
): Promise<DeployReport> {
  return locked(
    clients,
    req,
    canary,
    true,
    async (held) => {
      const live = held.lock.tookOver && Date.parse(held.lock.tookOver.expiresAt) > ecsOf(clients.ecs, opts).clock.now();
      const serving = revisionName(held.serving);
      if (held.stepped.state.inFlight) {
        const why = held.stepped.decisions[0]?.reason ?? "aborted by hand";
        return reportOf(req, held, "rolled back", `${why}; ${serving} serves`);
      }
      if (held.native.abandoned)
        return reportOf(req, held, "rolled back", `aborted by hand: ${held.native.abandoned.reason}; ${serving} serves`);
      if (live) {
        const who = held.lock.tookOver?.runId ?? "?";
        return reportOf(
          req,
          held,
          "rolled back",
          `aborted run ${who} before its canary took traffic: it stops at its next lock check; ${serving} serves`,
        );
      }
      throw new Problem(
        `nothing to abort: no stepped canary is in flight in ${req.environment} (weights stable 100% / canary 0%, canary service at 0)`,
        `use rollback to return to an earlier revision (dagger call shipshape-deploy environment --name=${req.environment} rollback)`,
      );
    },
    opts,
  );
}

/** Refuses, after ending what a dead run left (which is then the report's record). */
export async function promoteStepped(
  clients: SteppedCanaryClients,
  req: SteppedCommand,
  canary: SteppedCanaryConfig,
  opts?: EcsOptions,
): Promise<DeployReport> {
  try {
    return await locked(
      clients,
      req,
      canary,
      false,
      async (held) => {
        if (!held.stepped.state.inFlight && !held.native.abandoned)
          throw new Problem(PROMOTE_CAUSE(req.environment), PROMOTE_HINT(req.environment));
        const found = held.stepped.decisions[0]?.reason ?? held.native.abandoned?.reason ?? "";
        return reportOf(req, held, "failed", `nothing to promote: ${found}; ${PROMOTE_CAUSE(req.environment)}`);
      },
      opts,
    );
  } catch (e) {
    if (!(e instanceof LockHeld)) throw e;
    throw new Problem(
      `run ${e.holder.runId} is deploying ${req.environment} with a stepped canary; it promotes the main service itself once every step passed, there is nothing to promote by hand`,
      PROMOTE_HINT(req.environment),
    );
  }
}

export interface SteppedSweep {
  /** A live run holds a fresh lock: nothing was touched. */
  live?: LockInfo;
  /** What a dead run left and how it was ended (weights stable, canary at 0, mark off), as a report for the record. */
  ended?: DeployReport;
}

/**
 * The scheduled safety net (`monitor`): a stepped canary whose run's lock has lapsed is ended
 * exactly as `status` ends it; a live run's fresh lock means hands off, and it is only reported.
 */
export async function sweepStepped(
  clients: SteppedCanaryClients,
  req: SteppedCommand,
  canary: SteppedCanaryConfig,
  opts?: EcsOptions,
): Promise<SteppedSweep> {
  try {
    return await locked(
      clients,
      req,
      canary,
      false,
      async (held): Promise<SteppedSweep> => {
        const abandoned = held.native.abandoned ?? held.stepped.abandoned;
        if (!held.stepped.state.inFlight && !abandoned) return {};
        const why = held.stepped.decisions[0]?.reason ?? abandoned?.reason ?? "a dead run's leftovers were ended";
        return { ended: reportOf(req, held, "rolled back", `${why}; ${revisionName(held.serving)} serves`) };
      },
      opts,
    );
  } catch (e) {
    if (e instanceof LockHeld) return { live: e.holder };
    throw e;
  }
}
