/**
 * One `ci` run in the audit trail: per gate its status, wall-clock duration and blocking findings,
 * plus the test gate's coverage. Its own record type beside the deploy records (record.ts), not a
 * new `kind` of them: deploy records need an environment and an actor and feed DORA, a CI run has
 * neither and must never count as a deployment. Postgres keeps it in its own table
 * (pipeline_audit, migration 4); a JSON Lines trail holds both, told apart by `type`.
 *
 * Versioned: `schemaVersion` says which shape a line has. A line from a newer Shipshape is not
 * guessed at: it is refused with a line saying so, which a trail keeps as it was (jsonl.ts).
 */
import { z } from "zod";
import { configErrorMap, expecting, formatZodIssues } from "../config/errors.js";
import { Problem } from "../../src/project/problem.js";

export const PIPELINE_RUN_TYPE = "pipeline-run";
export const PIPELINE_SCHEMA_VERSION = 1;
export const PIPELINE_OUTCOMES = ["passed", "failed"] as const;
export const PIPELINE_GATE_STATUSES = ["passed", "failed", "error", "skipped"] as const;
export type PipelineOutcome = (typeof PIPELINE_OUTCOMES)[number];
export type PipelineGateStatus = (typeof PIPELINE_GATE_STATUSES)[number];

// The same alphabets as the deploy records' (record.ts), so one run id can name both.
const RUN_ID = /^[A-Za-z0-9_.:/+@-]{1,128}$/;
const COMMIT_SHA = /^[a-f0-9]{7,64}$/;
const GATE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

const text = (description: string, max: number) =>
  expecting(z.string().trim().min(1).max(max).describe(description), `a non-empty string of at most ${max} characters`);

const instant = (description: string) =>
  expecting(z.iso.datetime({ offset: true }).describe(description), "an ISO 8601 time like 2026-11-20T10:00:00Z").transform((s) =>
    new Date(s).toISOString(),
  );

const count = (description: string) => expecting(z.int().min(0).describe(description), "a whole number from 0");
const percent = (description: string) => expecting(z.number().min(0).max(100).describe(description), "a percentage from 0 to 100");

export const PipelineGateSchema = z
  .strictObject({
    name: expecting(z.string().regex(GATE_NAME).describe("Gate name, e.g. lint, test or audit."), "a gate name like lint or audit"),
    status: z.enum(PIPELINE_GATE_STATUSES).describe("How the gate ended."),
    durationMs: count("Wall-clock milliseconds of the gate in this run (a step the engine replayed from its cache is fast)."),
    blocking: count("Findings that failed the gate; absent when it could not judge (error). 0 when it passed or was skipped.").optional(),
    security: z.boolean().default(false).describe("A security gate (audit, sast, secrets, scan): its findings count as security findings."),
  })
  .describe("One gate of the run.");
export type PipelineGate = z.output<typeof PipelineGateSchema>;

export const PipelineRunSchema = z
  .strictObject({
    type: z.literal(PIPELINE_RUN_TYPE).describe("Tells a CI run's line from a deploy record's in a JSON Lines trail."),
    schemaVersion: z.literal(PIPELINE_SCHEMA_VERSION).describe("Shape of this record; a reader refuses versions it does not know."),
    recordId: expecting(z.uuid().describe("This record's id; a retried write is deduplicated on it."), "a UUID"),
    runId: expecting(
      z.string().regex(RUN_ID).describe("The ci run, unique per call."),
      "a run id of letters, digits and _ . : / + @ - (at most 128)",
    ),
    startedAt: instant("When the gates started."),
    endedAt: instant("When the last gate ended."),
    outcome: z.enum(PIPELINE_OUTCOMES).describe("passed when no gate failed or errored (skipped gates pass), as ci's own verdict."),
    actor: text("Who ran it (withRun's actor).", 200).optional(),
    commitSha: expecting(
      z.string().regex(COMMIT_SHA).describe("Commit built (withRun's commitSha)."),
      "a lowercase hex commit SHA",
    ).optional(),
    branch: text("Branch built (withRun's branch).", 500).optional(),
    runUrl: expecting(z.url({ protocol: /^https?$/ }).describe("Link to the CI run."), "an http(s) URL").optional(),
    coverageLines: percent("Line coverage the test gate measured, in percent.").optional(),
    coverageBranches: percent("Branch coverage the test gate measured, in percent.").optional(),
    gates: z.array(PipelineGateSchema).min(1).max(50).describe("Every gate of the run, in ci's order."),
  })
  .superRefine((r, ctx) => {
    if (r.endedAt < r.startedAt) ctx.addIssue({ code: "custom", path: ["endedAt"], message: "must not be before startedAt", input: r });
    const names = r.gates.map((g) => g.name);
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated) ctx.addIssue({ code: "custom", path: ["gates"], message: `gate ${repeated} is listed twice`, input: r });
  });
export type PipelineRun = z.output<typeof PipelineRunSchema>;
export type PipelineRunInput = z.input<typeof PipelineRunSchema>;

/** Whether a parsed JSON line claims to be a CI run (and so is judged by this schema, not the deploy one). */
export const isPipelineLine = (value: unknown): boolean =>
  typeof value === "object" && value !== null && (value as { type?: unknown }).type === PIPELINE_RUN_TYPE;

/** Validates a CI run record, with the config loader's plain-words messages. */
export function parsePipelineRun(value: unknown, where = "ci run record"): PipelineRun {
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === "number" && version > PIPELINE_SCHEMA_VERSION) {
    throw new Problem(
      `${where} has schemaVersion ${version}, newer than this Shipshape reads (${PIPELINE_SCHEMA_VERSION})`,
      "upgrade Shipshape to read it; the line is kept as it is",
    );
  }
  const parsed = PipelineRunSchema.safeParse(value, { error: configErrorMap });
  if (parsed.success) return parsed.data;
  const issues = formatZodIssues(parsed.error, PipelineRunSchema);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  throw new Problem(
    `${where} is invalid: ${issues[0] ?? "unknown problem"}${more}`,
    "fix the record; audit records are written by Shipshape",
  );
}
