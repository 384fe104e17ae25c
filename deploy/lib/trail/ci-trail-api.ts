/**
 * What the CI module's ci asks of the trail (the CI module's lib/trail/ci-wiring.ts), and what ci-trail.ts answers:
 * types only, so the CI module can name them without loading the trail (pg) until a run is recorded.
 */
import type { PgTimeouts } from "./pg-errors.js";
import type { PipelineRun } from "./pipeline-record.js";

export interface CiTrailResult {
  /** The JSON Lines trail to hand back: the earlier trail given, this run appended. */
  jsonl: string;
  /** postgres (and the JSON Lines), jsonl only, or "" when the run was not recorded. */
  storage: "postgres" | "jsonl" | "";
  /** One line: where the run was recorded, or why not. */
  note: string;
  warnings: string[];
}

export interface CiTrailOptions {
  /** Plaintext of the database URL Secret; absent means JSON Lines only. */
  databaseUrl?: string;
  /** An earlier JSON Lines trail to continue. */
  existingJsonl?: string;
  timeouts?: Partial<PgTimeouts>;
}
/** ci-trail.ts's recordCiRun: opens the trail (pg), appends the run, closes it; never throws. */
export type RecordCiRun = (opts: CiTrailOptions, build: () => PipelineRun) => Promise<CiTrailResult>;
