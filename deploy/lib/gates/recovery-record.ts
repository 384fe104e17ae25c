/**
 * The record of a recovery made outside a recorded run. `status` and the scheduled monitor end
 * what a dead run left in flight (its unjudged deployment rolled back, its stepped canary ended);
 * that is a correction of the dead run's audit record, the same one the next deploy, abort or
 * rollback would write (deploy-run.ts correctAbandoned), so the trail says what became of the run
 * even when nobody deploys after it. The trail is opened only then: a status or monitor that found
 * nothing to end touches no database.
 */
import { describeError } from "../../src/project/problem.js";
import { abandonedCorrection } from "../deploy/last-good.js";
import type { AbandonedRun } from "../deploy/recover.js";
import type { Trail } from "../trail/trail.js";

/** What the command says of the correction, and the JSON Lines trail it can hand back (with the correction). */
export interface RecoveryRecord {
  lines: string[];
  jsonl?: string;
}

export interface Recovery {
  /** Opens the audit trail; absent when the caller has none. */
  open: (() => Promise<Trail>) | undefined;
  environment: string;
  /** The dead run's deployment and how it ended; nothing to record without one. */
  abandoned: AbandonedRun | undefined;
  /** The run id of the command that ended it, which signs the correction. */
  by: string;
  /** Whether the caller hands the JSON Lines back (a report's files); status returns text only. */
  handsBackJsonl: boolean;
}

/** Writes the correction of the abandoned run's record; never throws. */
export async function recordRecovery({ open, environment, abandoned, by, handsBackJsonl }: Recovery): Promise<RecoveryRecord> {
  if (!abandoned) return { lines: [] };
  const run = `run ${abandoned.runId}`;
  if (!open) return { lines: [`audit: ${run}'s record was not corrected: no audit trail was given`] };
  let trail: Trail | undefined;
  try {
    trail = await open();
    // A correction kept only in a JSON Lines copy nobody gets back would be a record in name only.
    if (trail.storage === "jsonl" && !handsBackJsonl)
      return {
        lines: [
          `audit: ${run}'s record was not corrected: it ended as ${abandoned.outcome}, but this call returns no file to keep a JSON Lines correction in (chain with-audit-trail --database-url)`,
        ],
      };
    const fix = abandonedCorrection(await trail.read({ environment }), abandoned, by);
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
