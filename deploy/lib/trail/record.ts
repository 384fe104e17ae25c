/**
 * One row of the deployment audit trail: who deployed what, where, when, with which gate results,
 * and how it ended. Every deploy, rollback, promote and abort writes a `started` record before
 * anything changes and a `completed` one at the end; a wrong record is never edited, a
 * `correction` record supersedes it. The same shape is a Postgres row and a JSON Lines line.
 *
 * Deliberately its own type, not DeployReport's: old records must stay readable after the deploy
 * core changes, so fields here are plain strings (a strategy added later still parses).
 */
import { z } from "zod";
import { configErrorMap, expecting, formatZodIssues } from "../config/errors.js";
import { Problem } from "../../src/project/problem.js";
import { isPipelineLine, parsePipelineRun } from "./pipeline-record.js";

export const AUDIT_KINDS = ["deploy", "rollback", "promote", "abort"] as const;
export const AUDIT_PHASES = ["started", "completed", "correction"] as const;
export const AUDIT_OUTCOMES = ["succeeded", "rolled back", "failed", "paused", "unknown"] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];
export type AuditPhase = (typeof AUDIT_PHASES)[number];
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

// Same alphabet as the deploy lock's run ids, a little longer for CI ids with attempt suffixes.
const RUN_ID = /^[A-Za-z0-9_.:/+@-]{1,128}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const COMMIT_SHA = /^[a-f0-9]{7,64}$/;

const text = (description: string, max = 1000) =>
  expecting(z.string().trim().min(1).max(max).describe(description), `a non-empty string of at most ${max} characters`);

/** Stored in UTC with milliseconds, so a record read back from Postgres equals the one written. */
const instant = (description: string) =>
  expecting(z.iso.datetime({ offset: true }).describe(description), "an ISO 8601 time like 2026-11-20T10:00:00Z").transform((s) =>
    new Date(s).toISOString(),
  );

const decisionValue = z.union([z.number(), z.string(), z.boolean(), z.null()]).describe("A number or word the gate decided on.");

export const AuditDecisionSchema = z
  .strictObject({
    at: instant("When the gate decided."),
    gate: text("Which gate decided, e.g. analysis or smoke.", 200),
    stage: text("The rollout stage the decision was made in, e.g. PRE_PRODUCTION_TRAFFIC_SHIFT.", 200),
    step: expecting(
      z.int().min(0).describe("Traffic step (1-based) for stepped rollouts; 0 elsewhere."),
      "a whole number from 0",
    ).optional(),
    verdict: text("What the gate decided, e.g. pass, fail or inconclusive.", 100),
    reason: text("One line: why.", 2000),
    values: z
      .record(z.string(), decisionValue)
      .default({})
      .describe("The numbers behind the verdict, e.g. {errorRate: 0.02, threshold: 0.05}."),
  })
  .describe("One gate decision taken during the run.");
export type AuditDecision = z.output<typeof AuditDecisionSchema>;

export const AuditRecordSchema = z
  .strictObject({
    recordId: expecting(
      z.uuid().describe("This record's own id; corrections point at it and retried writes are deduplicated on it."),
      "a UUID",
    ),
    runId: expecting(
      z.string().regex(RUN_ID).describe("The pipeline run; the started and completed records of one run share it."),
      "a run id of letters, digits and _ . : / + @ - (at most 128)",
    ),
    kind: z.enum(AUDIT_KINDS).describe("What the run did to the environment."),
    phase: z.enum(AUDIT_PHASES).describe("started before anything changes, completed at the end, correction to supersede a record."),
    environment: text("The environment name from shipshape.yaml.", 200),
    strategy: text("Deployment strategy, e.g. rolling or canary.", 100).optional(),
    version: text("Release version deployed, e.g. 1.4.2.", 200).optional(),
    image: text("Image reference, repository@sha256:<digest>.", 1000).optional(),
    digest: expecting(
      z.string().regex(DIGEST).describe("Image digest, sha256:<64 hex>."),
      "an image digest like sha256:<64 hex>",
    ).optional(),
    actor: text("Who started the run: the CI actor or the caller's argument.", 200),
    approver: text("Who approved the run, when approval was required.", 200).optional(),
    commitSha: expecting(z.string().regex(COMMIT_SHA).describe("Commit deployed."), "a lowercase hex commit SHA").optional(),
    commitMessage: text("Commit message's subject and body.", 10_000).optional(),
    commitTimestamp: instant("Commit time, for lead-time metrics.").optional(),
    startedAt: instant("When the run started."),
    endedAt: instant("When the run ended; absent on started records.").optional(),
    outcome: z.enum(AUDIT_OUTCOMES).describe("How the run ended; unknown until it did."),
    reason: text("One line: why it ended this way, or why a correction was needed.", 2000).optional(),
    rollbackReason: text("What made the run roll back.", 2000).optional(),
    fromRevision: text("The task definition revision the run replaced.", 2048).optional(),
    toRevision: text("The task definition revision the run deployed.", 2048).optional(),
    serviceDeploymentArn: text("ECS service deployment watched.", 2048).optional(),
    decisions: z.array(AuditDecisionSchema).default([]).describe("Gate decisions with their numbers, in order."),
    runUrl: expecting(z.url({ protocol: /^https?$/ }).describe("Link to the CI run."), "an http(s) URL").optional(),
    correctionOf: expecting(z.uuid().describe("recordId of the record this correction supersedes."), "a UUID").optional(),
  })
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message, input: r });
    if (r.phase === "started" && r.outcome !== "unknown") issue("outcome", "a started record's outcome is unknown");
    if (r.phase === "started" && r.endedAt !== undefined) issue("endedAt", "a started record has no end time");
    if (r.phase === "completed" && r.endedAt === undefined) issue("endedAt", "required: a completed record has an end time");
    if (r.phase === "correction" && r.correctionOf === undefined) issue("correctionOf", "required: the recordId being corrected");
    if (r.phase === "correction" && r.reason === undefined) issue("reason", "required: why the correction was needed");
    if (r.phase !== "correction" && r.correctionOf !== undefined) issue("correctionOf", "only correction records point at another record");
    if (r.endedAt !== undefined && r.endedAt < r.startedAt) issue("endedAt", "must not be before startedAt");
  });
export type AuditRecord = z.output<typeof AuditRecordSchema>;
/** What callers may hand in: defaults (decisions) may be left out. */
export type AuditRecordInput = z.input<typeof AuditRecordSchema>;

/** Validates a record, with the config loader's plain-words messages. */
export function parseRecord(value: unknown, where = "audit record"): AuditRecord {
  const parsed = AuditRecordSchema.safeParse(value, { error: configErrorMap });
  if (parsed.success) return parsed.data;
  const issues = formatZodIssues(parsed.error, AuditRecordSchema);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  throw new Problem(
    `${where} is invalid: ${issues[0] ?? "unknown problem"}${more}`,
    "fix the record; audit records are written by Shipshape",
  );
}

/** One record per line, in the order given; the file ends with a newline so appends stay line-aligned. */
export function serialiseJsonl(records: readonly AuditRecord[]): string {
  return records.map((r) => `${JSON.stringify(parseRecord(r))}\n`).join("");
}

/**
 * Reads a trail's deploy records back, refusing the whole file on the first bad line and naming it
 * (1-based). ci run lines (pipeline-record.ts) are validated too but not returned: callers of this
 * want deploys; readJsonlEntries (jsonl.ts) gives both.
 */
export function parseJsonl(content: string, source = "audit trail"): AuditRecord[] {
  const records: AuditRecord[] = [];
  content.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new Problem(`${source} line ${index + 1} is not JSON: ${(e as Error).message}`, "each line must be one JSON audit record");
    }
    if (isPipelineLine(value)) parsePipelineRun(value, `${source} line ${index + 1}`);
    else records.push(parseRecord(value, `${source} line ${index + 1}`));
  });
  return records;
}
