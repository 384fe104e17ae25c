/**
 * `rollback` on demand, holding the environment's lock like a deploy: first what a dead run left
 * (recover.ts), then back to the revision asked for, or else to the newest one that passed
 * Shipshape's checks (audit trail; ECS's history only as the fallback, see last-good.ts), and
 * watched until it serves.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { randomUUID } from "node:crypto";
import { ecsOf, type EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import { lockMinutes, type DeployReport } from "./deploy.js";
import {
  describeService,
  describeServiceDeployment,
  describeTaskDefinition,
  stopServiceDeploymentWithRollback,
  updateService,
} from "./ecs.js";
import { historyRevisions } from "./last-good.js";
import { withDeployLock } from "./lock.js";
import { recoverUnder, revisionsOf, UNFINISHED } from "./recover.js";
import { recoverSteppedUnder, steppedOf } from "./stepped/commands.js";
import { revisionName } from "./taskdef.js";
import { watchDeployment, type DeploymentProgress, type TimelineEvent } from "./watch.js";

export interface RollbackRequest {
  environment: string;
  config: EnvironmentConfig;
  /** A revision number (same family), family:n or an ARN; empty for the last one that passed. */
  to?: string;
  /** Task definitions that passed Shipshape's checks here, newest first (judgedRevisions over the audit trail). */
  passed?: readonly string[];
  /** Task definitions that failed them: never chosen from ECS's history either. */
  rejected?: readonly string[];
  runId?: string;
  onProgress?: (progress: DeploymentProgress) => void;
  /** The load balancer's weights, for an environment with a stepped canary (required there). */
  elb?: ElasticLoadBalancingV2Client;
}

export async function rollbackEnvironment(client: ECSClient, req: RollbackRequest, opts?: EcsOptions): Promise<DeployReport> {
  const env = req.config;
  const ref = { cluster: env.cluster, service: env.service };
  const runId = req.runId ?? `shipshape-${randomUUID()}`;
  const found = await describeService(client, ref, opts);
  const serviceArn = found.serviceArn ?? "";
  const stepped = steppedOf(env, client, req.elb);
  const clock = ecsOf(client, opts).clock;
  const timeline: TimelineEvent[] = [];
  const note = (message: string) => timeline.push({ at: new Date(clock.now()).toISOString(), message });
  return withDeployLock(
    client,
    { serviceArn, runId, ttlMinutes: lockMinutes(env) },
    async (lock) => {
      // A stepped canary in flight is ended first: weights to stable, then the canary to 0 (inflight.ts).
      const canary = stepped ? await recoverSteppedUnder(lock, stepped.clients, env, stepped.canary, opts) : undefined;
      const recovered = await recoverUnder(lock, { client, environment: req.environment, env, serviceArn }, opts);
      timeline.push(...recovered.timeline, ...(canary?.timeline ?? []));
      const service = await describeService(client, ref, opts);
      const serving = service.deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition ?? service.taskDefinition ?? "";
      const base = {
        environment: req.environment,
        image: "",
        previousTaskDefinitionArn: serving,
        strategy: stepped ? ("stepped-canary" as const) : env.strategy,
        decisions: [...recovered.decisions, ...(canary?.decisions ?? [])],
        ...(recovered.abandoned || canary?.abandoned ? { abandoned: recovered.abandoned ?? canary?.abandoned } : {}),
      };
      // The canary was the change to undo: with it ended, the main service still runs what it ran before it.
      const undone = canary?.state.inFlight && canary.state.mark?.revision !== revisionName(serving);
      if (!req.to && undone && recovered.abandoned?.outcome !== "failed") {
        const reason = `${req.environment} is back on ${revisionName(serving)}: ${canary.decisions[0]?.reason ?? "the stepped canary in flight was ended"}`;
        const serviceDeploymentArn = recovered.abandoned?.serviceDeploymentArn ?? canary.abandoned?.serviceDeploymentArn ?? "";
        return { ...base, result: "succeeded", reason, taskDefinitionArn: serving, serviceDeploymentArn, timeline };
      }
      if (!req.to && recovered.abandoned?.outcome === "rolled back") {
        const reason = `${req.environment} is back on ${revisionName(serving)}: the deployment run ${recovered.abandoned.runId} left was rolled back`;
        return {
          ...base,
          result: "succeeded",
          reason,
          taskDefinitionArn: serving,
          serviceDeploymentArn: recovered.abandoned.serviceDeploymentArn,
          timeline,
        };
      }
      const current = service.currentServiceDeployment;
      const sd = current ? await describeServiceDeployment(client, current, opts) : undefined;
      const revs = sd ? await revisionsOf(client, sd, opts) : {};
      // An unfinished change (not a settings-only redeploy of the same revision) is undone by ECS itself.
      if (!req.to && current && sd && UNFINISHED.has(sd.status ?? "") && revs.target !== revs.source) {
        if (sd.status === "IN_PROGRESS" || sd.status === "PENDING") await stopServiceDeploymentWithRollback(client, current, opts);
        note(`stopped the unfinished deployment ${current} with rollback`);
        return watched(current, revs.target ?? "?", revs.source);
      }
      const target = await targetOf(client, req, serving, note, opts);
      if (!target) {
        // A result, not a throw: what the recovery above found and did stays in the record.
        const reason = `service ${env.service} has no earlier revision to roll back to: none passed Shipshape's checks in the audit trail, and ECS's history (90 days) has no other successful one; roll back to a named revision (--to)`;
        return { ...base, result: "failed", reason, taskDefinitionArn: serving, serviceDeploymentArn: current ?? "", timeline };
      }
      const started = await updateService(
        client,
        service,
        { taskDefinitionArn: target, ...(recovered.mark ? { ours: recovered.mark } : {}) },
        opts,
      );
      note(`redeploying ${revisionName(target)} (was ${revisionName(serving)})`);
      return watched(started.serviceDeploymentArn, target, serving, target);

      async function watched(arn: string, watchedTd: string, previous?: string, expect?: string): Promise<DeployReport> {
        const outcome = await watchDeployment(
          client,
          {
            ...ref,
            serviceDeploymentArn: arn,
            taskDefinitionArn: watchedTd,
            ...(previous ? { previousTaskDefinitionArn: previous } : {}),
            progressDeadlineMinutes: env.progressDeadlineMinutes,
            pollSeconds: env.pollSeconds,
            ...(req.onProgress ? { onProgress: req.onProgress } : {}),
          },
          opts,
        );
        const now = outcome.runningTaskDefinitionArn ?? "?";
        // A redeploy succeeds when it serves; an ECS rollback when it ended and the old revision serves.
        const ok = expect ? outcome.result === "succeeded" : outcome.result === "rolled back" && now !== watchedTd;
        return {
          ...base,
          result: ok ? "succeeded" : "failed",
          reason: ok
            ? `${req.environment} is back on ${revisionName(now)}`
            : `the rollback of ${req.environment} did not complete: ${outcome.reason}`,
          taskDefinitionArn: ok ? now : (expect ?? watchedTd),
          serviceDeploymentArn: outcome.serviceDeploymentArn,
          timeline: [...timeline, ...outcome.timeline],
        };
      }
    },
    opts,
  );
}

/** The revision asked for, else the newest that passed here, else ECS's newest successful one; never the one serving. */
async function targetOf(
  client: ECSClient,
  req: RollbackRequest,
  serving: string,
  note: (m: string) => void,
  opts?: EcsOptions,
): Promise<string | undefined> {
  const env = req.config;
  if (req.to) {
    const family = revisionName(serving).split(":")[0] ?? "";
    const wanted = /^\d+$/.test(req.to) ? `${family}:${req.to}` : req.to;
    const { taskDefinition } = await describeTaskDefinition(client, wanted, opts);
    return taskDefinition.taskDefinitionArn ?? wanted;
  }
  const passed = (req.passed ?? []).find((td) => td !== serving);
  if (passed) {
    note(`${revisionName(passed)} is the newest revision that passed Shipshape's checks in ${req.environment} (audit trail)`);
    return passed;
  }
  const history = await historyRevisions(client, { cluster: env.cluster, service: env.service }, opts);
  const fromEcs = history.find((td) => td !== serving && !(req.rejected ?? []).includes(td));
  if (fromEcs) {
    note(
      `no revision in the audit trail passed Shipshape's checks here, so ${revisionName(fromEcs)} is ECS's newest successful deployment (ECS judges task health only, and keeps 90 days)`,
    );
    return fromEcs;
  }
  return undefined;
}
