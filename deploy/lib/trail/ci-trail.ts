/**
 * Appends one ci run to the audit trail and hands back what the caller returns: the JSON Lines
 * trail (the earlier one given, plus this run) and one line saying where the run went. Nothing
 * here throws: the trail never changes ci's verdict, so every failure becomes that line.
 *
 * Why no exec and no cache trick: the record is written from the function's own process (pg, as
 * deploys do), never from a container exec the engine could replay from its exec cache; `ci` is
 * cached per session only, so one `dagger call ci` writes one record, with a run id of its own.
 */
import { describeError } from "../../src/project/problem.js";
import type { PipelineRun } from "./pipeline-record.js";
import { openTrail } from "./trail.js";
import type { CiTrailOptions, CiTrailResult, RecordCiRun } from "./ci-trail-api.js";

/** Opens the trail (never as `required`), appends the run, closes it. */
export const recordCiRun: RecordCiRun = async (opts, build) => {
  let run: PipelineRun;
  try {
    run = build();
  } catch (e) {
    return notRecorded(opts, `the ci run could not be recorded: ${describeError(e).cause}`);
  }
  let trail;
  try {
    trail = await openTrail({ ...opts, required: false });
  } catch (e) {
    return notRecorded(opts, `the ci run could not be recorded: ${describeError(e).cause}`);
  }
  try {
    await trail.appendPipelineRun(run);
  } catch (e) {
    await trail.close().catch(() => undefined);
    return notRecorded(opts, `the ci run could not be recorded: ${describeError(e).cause}`);
  }
  await trail.close().catch(() => undefined);
  const warnings = [...trail.warnings];
  // A Postgres that refused the row leaves the run in the JSON Lines only: the note says so.
  const lost = warnings.some((w) => w.startsWith(`ci run ${run.runId} did not reach Postgres`));
  const storage = trail.storage === "postgres" && !lost ? "postgres" : "jsonl";
  const where =
    storage === "postgres" ? "in Postgres (pipeline_audit) and the JSON Lines trail" : "in the JSON Lines trail only (keep auditTrail)";
  const note = `ci run ${run.runId} (${run.outcome}) recorded ${where}${warnings.length ? `; ${warnings[0]}` : ""}`;
  return { jsonl: trail.jsonl(), storage, note, warnings };
};

/** Nothing recorded: the earlier trail goes back untouched, so a caller who keeps it loses nothing. */
function notRecorded(opts: CiTrailOptions, note: string): CiTrailResult {
  return { jsonl: opts.existingJsonl ?? "", storage: "", note, warnings: [note] };
}
