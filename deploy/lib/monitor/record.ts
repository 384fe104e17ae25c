/**
 * The record of a recovery the monitor made. A dead run's stepped canary that the monitor ended is
 * a correction of that run's audit record (outcome "rolled back"), the same correction the next
 * deploy, status, abort or rollback would have written (gates/deploy-run.ts correctAbandoned): the
 * trail must say what became of the run even when no person runs a command after it. The trail is
 * opened only then, so a monitor that found nothing to end touches no database.
 */
import { describeError } from "../../src/project/problem.js";
import type { DeployReport } from "../deploy/deploy.js";
import { abandonedCorrection } from "../deploy/last-good.js";
import type { Trail } from "../trail/trail.js";

/** What the monitor says of the correction, and the JSON Lines trail it hands back (with the correction). */
export interface RecoveryRecord {
  lines: string[];
  jsonl?: string;
}

/** Writes the correction of the dead run's record that `ended` (the sweep's report) names; never throws. */
export async function recordRecovery(open: (() => Promise<Trail>) | undefined, ended: DeployReport, by: string): Promise<RecoveryRecord> {
  const abandoned = ended.abandoned;
  if (!abandoned) return { lines: [] };
  const run = `run ${abandoned.runId}`;
  if (!open) return { lines: [`audit: ${run}'s record was not corrected: the monitor was given no audit trail`] };
  let trail: Trail | undefined;
  try {
    trail = await open();
    const fix = abandonedCorrection(await trail.read({ environment: ended.environment }), abandoned, by);
    if (fix) await trail.append(fix);
    const line = fix
      ? `audit: ${run}'s record corrected: ${abandoned.outcome} (${trail.storage})`
      : `audit: the trail has no uncorrected record of ${run} (chain with-audit-trail with the trail deploys write to)`;
    return { lines: [line, ...trail.warnings.map((w) => `audit: warning: ${w}`)], jsonl: trail.jsonl() };
  } catch (e) {
    return {
      lines: [`audit: ${run}'s record could not be corrected: ${describeError(e).cause}`],
      ...(trail ? { jsonl: trail.jsonl() } : {}),
    };
  } finally {
    await trail?.close().catch(() => undefined);
  }
}
