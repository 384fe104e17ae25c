/**
 * ci run records as pipeline_audit rows (migration 4) and back. Pure: postgres.ts runs the SQL.
 * The record's `type` is the table itself; its schemaVersion is a column, so a row a newer
 * Shipshape wrote is refused by parsePipelineRun rather than misread.
 */
import { parsePipelineRun, PIPELINE_RUN_TYPE, type PipelineRun } from "./pipeline-record.js";

const COLUMNS: readonly (readonly [column: string, field: Exclude<keyof PipelineRun, "type">])[] = [
  ["record_id", "recordId"],
  ["schema_version", "schemaVersion"],
  ["run_id", "runId"],
  ["started_at", "startedAt"],
  ["ended_at", "endedAt"],
  ["outcome", "outcome"],
  ["actor", "actor"],
  ["commit_sha", "commitSha"],
  ["branch", "branch"],
  ["run_url", "runUrl"],
  ["coverage_lines", "coverageLines"],
  ["coverage_branches", "coverageBranches"],
  ["gates", "gates"],
];

export const INSERT_PIPELINE_RUN = `INSERT INTO pipeline_audit (${COLUMNS.map(([c]) => c).join(", ")})
VALUES (${COLUMNS.map(([c], i) => (c === "gates" ? `$${i + 1}::jsonb` : `$${i + 1}`)).join(", ")})
ON CONFLICT (record_id) DO NOTHING`;

/** A run as INSERT parameters, in COLUMNS order. */
export function toPipelineRow(run: PipelineRun): (string | number | null)[] {
  return COLUMNS.map(([, field]) => {
    const value = run[field];
    if (value === undefined) return null;
    return typeof value === "string" || typeof value === "number" ? value : JSON.stringify(value);
  });
}

/** A row read back (Dates to ISO, NULLs dropped), validated like any input. */
export function fromPipelineRow(row: Record<string, unknown>): PipelineRun {
  const out: Record<string, unknown> = { type: PIPELINE_RUN_TYPE };
  for (const [column, field] of COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    out[field] = value instanceof Date ? value.toISOString() : value;
  }
  return parsePipelineRun(out, `pipeline_audit row ${String(row.id)}`);
}
