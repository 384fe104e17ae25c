/**
 * Which revision a rollback returns to: the newest one that passed Shipshape's own checks in this
 * environment, from the audit trail. ECS's history is only the fallback, because ECS calls a
 * deployment SUCCESSFUL when its tasks are healthy, including one whose smoke checks or analysis
 * then failed, and because it keeps 90 days only (ListServiceDeployments, which also pages).
 */
import { DescribeServiceRevisionsCommand, ListServiceDeploymentsCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { correctionRecord } from "../trail/builders.js";
import type { AuditRecord } from "../trail/record.js";
import { ecsOf, send, type EcsOptions } from "./aws.js";
import type { ServiceRef } from "./ecs.js";
import type { AbandonedRun } from "./recover.js";

/** Kinds whose success means the gates judged the revision (a rollback only returns to one). */
const JUDGED = new Set(["deploy", "promote"]);

export interface Judged {
  /** Task definitions whose latest verdict here is a pass, newest first. */
  passed: string[];
  /** Task definitions whose latest verdict here is a failure or a rollback: never a rollback target, even from ECS's history. */
  rejected: string[];
}

/**
 * Shipshape's verdicts on revisions in one environment, from the audit trail. A correction
 * supersedes the record it points at (e.g. a deploy later found bad), so its outcome counts.
 */
export function judgedRevisions(records: readonly AuditRecord[], environment: string): Judged {
  const latest = new Map<string, AuditRecord>();
  for (const r of records) {
    if (r.environment !== environment) continue;
    if (r.phase === "completed") latest.set(r.recordId, latest.get(r.recordId) ?? r);
    if (r.phase === "correction" && r.correctionOf) latest.set(r.correctionOf, r);
  }
  const verdicts = [...latest.values()]
    .filter((r) => JUDGED.has(r.kind) && r.toRevision && r.outcome !== "paused" && r.outcome !== "unknown")
    .sort((a, b) => (b.endedAt ?? b.startedAt).localeCompare(a.endedAt ?? a.startedAt));
  const seen = new Map<string, boolean>();
  for (const r of verdicts) if (!seen.has(r.toRevision ?? "")) seen.set(r.toRevision ?? "", r.outcome === "succeeded");
  return {
    passed: [...seen].filter(([, ok]) => ok).map(([td]) => td),
    rejected: [...seen].filter(([, ok]) => !ok).map(([td]) => td),
  };
}

/** The revisions that passed, newest first. */
export const passedRevisions = (records: readonly AuditRecord[], environment: string): string[] =>
  judgedRevisions(records, environment).passed;

/** ECS's SUCCESSFUL deployments' revisions, newest first, every page of them (ECS keeps 90 days). */
export async function historyRevisions(client: ECSClient, ref: ServiceRef, opts?: EcsOptions, maxPages = 10): Promise<string[]> {
  const ecs = ecsOf(client, opts);
  const found: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const out = await send(ecs, "ecs:ListServiceDeployments", () =>
      client.send(
        new ListServiceDeploymentsCommand({
          cluster: ref.cluster,
          service: ref.service,
          status: ["SUCCESSFUL"],
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      ),
    );
    const briefs = [...(out.serviceDeployments ?? [])].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    const arns = briefs.flatMap((b) => (b.targetServiceRevisionArn ? [b.targetServiceRevisionArn] : []));
    const byArn = new Map<string, string>();
    for (let i = 0; i < arns.length; i += 20) {
      const chunk = arns.slice(i, i + 20); // DescribeServiceRevisions takes at most 20 ARNs
      const described = await send(ecs, "ecs:DescribeServiceRevisions", () =>
        client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: chunk })),
      );
      for (const r of described.serviceRevisions ?? [])
        if (r.serviceRevisionArn && r.taskDefinition) byArn.set(r.serviceRevisionArn, r.taskDefinition);
    }
    for (const td of arns.map((a) => byArn.get(a))) if (td && !found.includes(td)) found.push(td);
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return found;
}

/**
 * The audit trail's word on a run that ended without finishing (killed, or paused with nobody
 * deciding): a correction of its last record, saying what ECS did with its deployment. None when
 * the trail at hand does not hold that run (a JSON Lines trail of another run, say).
 */
export function abandonedCorrection(
  records: readonly AuditRecord[],
  abandoned: AbandonedRun,
  by: string,
  now: () => number = Date.now,
): AuditRecord | undefined {
  const last = records.filter((r) => r.runId === abandoned.runId).at(-1);
  if (!last || (last.phase === "correction" && last.outcome === abandoned.outcome)) return undefined;
  const endedAt = new Date(Math.max(now(), Date.parse(last.startedAt))).toISOString();
  return correctionRecord(
    last,
    { outcome: abandoned.outcome, reason: abandoned.reason, serviceDeploymentArn: abandoned.serviceDeploymentArn, endedAt },
    { by: `run ${by}`, reason: `run ${abandoned.runId} ended without finishing; found by run ${by}: ${abandoned.reason}` },
    { now },
  );
}
