/**
 * `status`: what serves now, and, when no live run holds the lock, the clean-up a dead run left
 * undone (recover.ts): its unjudged deployment rolled back, its hook removed, what ECS did at a
 * hook's timeout reported. A live run's lock means hands off: status then only reads.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { randomUUID } from "node:crypto";
import type { EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import { lockMinutes } from "./deploy.js";
import { describeService } from "./ecs.js";
import { LockHeld, withDeployLock } from "./lock.js";
import { recover, type Recovered } from "./recover.js";

export interface StatusRequest {
  environment: string;
  config: EnvironmentConfig;
  runId?: string;
}

export interface EnvironmentStatus {
  lines: string[];
  recovered?: Recovered;
}

export async function environmentStatus(client: ECSClient, req: StatusRequest, opts?: EcsOptions): Promise<EnvironmentStatus> {
  const env = req.config;
  const ref = { cluster: env.cluster, service: env.service };
  const found = await describeService(client, ref, opts);
  let recovered: Recovered | undefined;
  const notes: string[] = [];
  try {
    recovered = await withDeployLock(
      client,
      { serviceArn: found.serviceArn ?? "", runId: req.runId ?? `shipshape-${randomUUID()}`, ttlMinutes: lockMinutes(env) },
      (lock) =>
        recover({
          client,
          environment: req.environment,
          env,
          serviceArn: found.serviceArn ?? "",
          ...(lock.tookOver ? { tookOver: lock.tookOver } : {}),
          ...(opts ? { opts } : {}),
        }),
      opts,
    );
  } catch (e) {
    if (!(e instanceof LockHeld)) throw e;
    notes.push(`run ${e.holder.runId} is deploying (lock until ${e.holder.expiresAt}): nothing cleaned up`);
  }
  const s = await describeService(client, ref, opts);
  const primary = s.deployments?.find((d) => d.status === "PRIMARY");
  const lines = [
    `${req.environment}: ${env.service} in ${env.cluster} (${env.region})`,
    `revision: ${s.taskDefinition ?? "?"}`,
    `tasks: ${s.runningCount ?? 0} running / ${s.desiredCount ?? 0} desired${s.pendingCount ? `, ${s.pendingCount} pending` : ""}`,
    `rollout: ${primary?.rolloutState ?? "?"}${primary?.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ""}`,
    ...notes,
    ...(recovered?.paused ? [`paused at ${recovered.paused.stage}, waiting for promote or abort`] : []),
    ...(recovered?.timeline ?? []).map((e) => `${e.at} ${e.message}`),
    ...(recovered?.decisions ?? []).map((d) => `${d.at} ${d.gate} ${d.verdict}: ${d.reason}`),
  ];
  return { lines, ...(recovered ? { recovered } : {}) };
}
