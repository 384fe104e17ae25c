/**
 * `status`: what serves now, and, when no live run holds the lock, the clean-up a dead run left
 * undone (recover.ts): its unjudged deployment rolled back, its hook removed, what ECS did at a
 * hook's timeout reported. A live run's lock means hands off: status then only reads.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { randomUUID } from "node:crypto";
import { ecsOf, type EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import { lockMinutes } from "./deploy.js";
import { describeService } from "./ecs.js";
import { LockHeld, withDeployLock } from "./lock.js";
import { recover, type Recovered } from "./recover.js";
import { recoverSteppedUnder, steppedOf } from "./stepped/commands.js";
import { describeStepped, observeStepped, type SteppedRecovery } from "./stepped/inflight.js";
import { Lease, steppedLockMinutes } from "./stepped/lease.js";

export interface StatusRequest {
  environment: string;
  config: EnvironmentConfig;
  runId?: string;
  /** The load balancer's weights, for an environment with a stepped canary (required there). */
  elb?: ElasticLoadBalancingV2Client;
}

export interface EnvironmentStatus {
  lines: string[];
  recovered?: Recovered;
  /** What a dead run's stepped canary was, and how it was ended. */
  stepped?: SteppedRecovery;
}

export async function environmentStatus(client: ECSClient, req: StatusRequest, opts?: EcsOptions): Promise<EnvironmentStatus> {
  const env = req.config;
  const ref = { cluster: env.cluster, service: env.service };
  const found = await describeService(client, ref, opts);
  const stepped = steppedOf(env, client, req.elb);
  let recovered: Recovered | undefined;
  let steppedRecovery: SteppedRecovery | undefined;
  const notes: string[] = [];
  try {
    // A stepped canary's commands hold the lock as its runs do, on a short TTL kept beating (lease.ts),
    // so a status that dies while it works keeps the next run out for one TTL, not a whole deploy's.
    const ttlMinutes = stepped ? steppedLockMinutes(env) : lockMinutes(env);
    recovered = await withDeployLock(
      client,
      { serviceArn: found.serviceArn ?? "", runId: req.runId ?? `shipshape-${randomUUID()}`, ttlMinutes },
      async (lock) => {
        const lease = stepped ? new Lease(client, lock, env, opts) : undefined;
        lease?.start();
        try {
          // Traffic first: a dead run's canary share goes back to stable before anything else is looked at.
          if (stepped) steppedRecovery = await recoverSteppedUnder(lock, stepped.clients, env, stepped.canary, opts);
          return await recover({
            client,
            environment: req.environment,
            env,
            serviceArn: found.serviceArn ?? "",
            ...(lock.tookOver ? { tookOver: lock.tookOver } : {}),
            ...(opts ? { opts } : {}),
          });
        } finally {
          await lease?.stop();
        }
      },
      opts,
    );
  } catch (e) {
    if (!(e instanceof LockHeld)) throw e;
    notes.push(`run ${e.holder.runId} is deploying (lock until ${e.holder.expiresAt}): nothing cleaned up`);
  }
  const s = await describeService(client, ref, opts);
  const now = ecsOf(client, opts).clock.now();
  const steppedLines = stepped
    ? describeStepped(await observeStepped(stepped.clients, env, stepped.canary, found.serviceArn ?? "", opts), stepped.canary, now)
    : [];
  const primary = s.deployments?.find((d) => d.status === "PRIMARY");
  const lines = [
    `${req.environment}: ${env.service} in ${env.cluster} (${env.region})`,
    `revision: ${s.taskDefinition ?? "?"}`,
    `tasks: ${s.runningCount ?? 0} running / ${s.desiredCount ?? 0} desired${s.pendingCount ? `, ${s.pendingCount} pending` : ""}`,
    `rollout: ${primary?.rolloutState ?? "?"}${primary?.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ""}`,
    ...steppedLines,
    ...notes,
    ...(steppedRecovery?.timeline ?? []).map((e) => `${e.at} ${e.message}`),
    ...(steppedRecovery?.decisions ?? []).map((d) => `${d.at} ${d.gate} ${d.verdict}: ${d.reason}`),
    ...(recovered?.paused ? [`paused at ${recovered.paused.stage}, waiting for promote or abort`] : []),
    ...(recovered?.timeline ?? []).map((e) => `${e.at} ${e.message}`),
    ...(recovered?.decisions ?? []).map((d) => `${d.at} ${d.gate} ${d.verdict}: ${d.reason}`),
  ];
  return { lines, ...(recovered ? { recovered } : {}), ...(steppedRecovery ? { stepped: steppedRecovery } : {}) };
}
