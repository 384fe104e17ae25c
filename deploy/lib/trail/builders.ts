/**
 * Builds audit records from what the deploy wiring has at hand: who and what before the run,
 * the deploy's result after it. Pure apart from the injected clock and id source.
 */
import { randomUUID } from "node:crypto";
import { progress } from "../gates/progress.js";
import { describeError } from "../../src/project/problem.js";
import { AUDIT_OUTCOMES, parseRecord, type AuditDecision, type AuditKind, type AuditOutcome, type AuditRecord } from "./record.js";
import type { AuditTrail } from "./store.js";

export interface RecordDeps {
  /** Milliseconds since the epoch; the deploy core's Clock.now fits. */
  now?: () => number;
  newId?: () => string;
}

const nowIso = (deps: RecordDeps) => new Date((deps.now ?? Date.now)()).toISOString();
const newId = (deps: RecordDeps) => (deps.newId ?? randomUUID)();

/** Who and what, known before the run changes anything. */
export interface RunStart {
  runId: string;
  kind?: AuditKind;
  environment: string;
  strategy?: string;
  version?: string;
  /** repository@sha256:<digest>; the digest field is taken from it when not given. */
  image?: string;
  digest?: string;
  actor: string;
  approver?: string;
  commitSha?: string;
  commitMessage?: string;
  commitTimestamp?: string;
  runUrl?: string;
  /** The revision about to be replaced, when known before the run. */
  fromRevision?: string;
}

/** A gate decision as the deploy core reports it; values are made JSON-safe on the way in. */
export interface DecisionLike {
  at: string;
  gate: string;
  stage: string;
  /** Traffic step (1-based) for stepped rollouts; 0 elsewhere. */
  step?: number;
  verdict: string;
  reason: string;
  /** The numbers behind the verdict: a name→value map or the deploy core's [{name, value}] list. */
  values?: Readonly<Record<string, unknown>> | readonly { name: string; value: unknown }[];
}

/** How the run ended. */
export interface RunEnd {
  outcome: AuditOutcome;
  reason?: string;
  rollbackReason?: string;
  fromRevision?: string;
  toRevision?: string;
  serviceDeploymentArn?: string;
  approver?: string;
  decisions?: readonly DecisionLike[];
}

/** The fields of the deploy core's report the trail needs; DeployReport satisfies it structurally. */
export interface DeployLike {
  result: string;
  reason: string;
  taskDefinitionArn?: string;
  previousTaskDefinitionArn?: string;
  serviceDeploymentArn?: string;
  decisions?: readonly DecisionLike[];
}

const drop = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Reasons come from errors and AWS; the record takes one line of bounded length. */
const oneLine = (text: string | undefined, max = 1000): string | undefined => {
  const line = (text ?? "").split("\n")[0]?.trim() ?? "";
  if (line === "") return undefined;
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

function digestOf(image: string | undefined): string | undefined {
  return image?.match(/@(sha256:[a-f0-9]{64})$/)?.[1];
}

/** NaN (an analysis with no data) and objects have no JSON number form; they are kept as words. */
function jsonSafe(value: unknown): number | string | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "bigint") return value.toString();
  return (JSON.stringify(value) ?? String(value)).slice(0, 500);
}

/** A map keyed by measurement, so SQL reads decisions->0->'values'->>'errorRate'; a repeated name gets " #2". */
function valuesOf(values: DecisionLike["values"]): Record<string, number | string | boolean | null> {
  const pairs: (readonly [string, unknown])[] = Array.isArray(values)
    ? values.map((v: { name: string; value: unknown }) => [v.name, v.value] as const)
    : Object.entries(values ?? {});
  const out: Record<string, number | string | boolean | null> = {};
  for (const [name, value] of pairs) {
    let key = name;
    for (let n = 2; key in out; n++) key = `${name} #${n}`;
    out[key] = jsonSafe(value);
  }
  return out;
}

function decisionsOf(decisions: readonly DecisionLike[] | undefined): AuditDecision[] {
  return (decisions ?? []).map((d) => ({
    at: d.at,
    gate: d.gate,
    stage: d.stage,
    ...(d.step === undefined ? {} : { step: d.step }),
    verdict: d.verdict,
    reason: oneLine(d.reason) ?? "(no reason given)",
    values: valuesOf(d.values),
  }));
}

/** The 'started' record, written before anything changes. */
export function startRecord(run: RunStart, deps: RecordDeps = {}): AuditRecord {
  return parseRecord(
    drop({
      ...run,
      recordId: newId(deps),
      kind: run.kind ?? "deploy",
      phase: "started",
      digest: run.digest ?? digestOf(run.image),
      startedAt: nowIso(deps),
      outcome: "unknown",
      decisions: [],
    }),
  );
}

/** The 'completed' record: the started one's who and what, plus how it ended. */
export function completeRecord(started: AuditRecord, end: RunEnd, deps: RecordDeps = {}): AuditRecord {
  const { decisions, ...rest } = end;
  return parseRecord(
    drop({
      ...started,
      ...drop(rest),
      recordId: newId(deps),
      phase: "completed",
      endedAt: nowIso(deps),
      decisions: decisionsOf(decisions),
      correctionOf: undefined,
    }),
  );
}

/** Reads the deploy core's report; an unknown result stays 'unknown' rather than guessed. */
export function endFromDeploy(report: DeployLike): RunEnd {
  const outcome = (AUDIT_OUTCOMES as readonly string[]).includes(report.result) ? (report.result as AuditOutcome) : "unknown";
  return drop({
    outcome,
    reason: oneLine(report.reason),
    rollbackReason: outcome === "rolled back" ? oneLine(report.reason) : undefined,
    fromRevision: report.previousTaskDefinitionArn,
    toRevision: report.taskDefinitionArn,
    serviceDeploymentArn: report.serviceDeploymentArn || undefined,
    decisions: report.decisions,
  });
}

export type Correctable = Partial<Omit<RunEnd, "decisions">> & Partial<Pick<AuditRecord, "version" | "approver" | "commitSha" | "endedAt">>;

/**
 * A correction: a new row superseding `original`, never an edit of it. It keeps the run id, so
 * the runs view shows the corrected values; who corrected it and why go into its reason.
 */
export function correctionRecord(
  original: AuditRecord,
  changes: Correctable,
  why: { by: string; reason: string },
  deps: RecordDeps = {},
): AuditRecord {
  return parseRecord(
    drop({
      ...original,
      ...drop(changes),
      recordId: newId(deps),
      phase: "correction",
      correctionOf: original.recordId,
      reason: `${why.reason} (corrected by ${why.by} at ${nowIso(deps)})`,
    }),
  );
}

/**
 * Records one run around `work`: 'started' before it, 'completed' after it, 'failed' with the
 * error's first line when it throws (the error is rethrown). The 'completed' write never hides
 * the work's result: the trail falls back and warns instead.
 */
export async function auditRun<T>(
  trail: AuditTrail,
  run: RunStart,
  work: (started: AuditRecord) => Promise<T>,
  ending: (result: T) => RunEnd,
  deps: RecordDeps = {},
): Promise<T> {
  const started = await trail.append(startRecord(run, deps));
  // Nothing here may throw past the work's own result or error: openTrail's trail already turns
  // storage failures into warnings, and this also covers a record that fails to build.
  const complete = async (end: () => RunEnd) => {
    let record: AuditRecord;
    try {
      record = completeRecord(started, end(), deps);
    } catch (e) {
      const reason = oneLine(`the result could not be recorded: ${describeError(e).cause}`) ?? "the result could not be recorded";
      record = completeRecord(started, { outcome: "unknown", reason }, deps);
    }
    try {
      await trail.append(record);
    } catch (e) {
      progress("audit", `warning: completed record of run ${run.runId} was not stored: ${describeError(e).cause}`);
    }
  };
  let result: T;
  try {
    result = await work(started);
  } catch (e) {
    await complete(() => ({ outcome: "failed", reason: oneLine(describeError(e).cause) ?? "failed without a message" }));
    throw e;
  }
  await complete(() => ending(result));
  return result;
}

/** Actor, commit and run link from a CI runner's environment (GitHub Actions, GitLab CI), for callers without arguments. */
export function ciContext(env: Readonly<Record<string, string | undefined>>): Partial<Pick<RunStart, "actor" | "commitSha" | "runUrl">> {
  const github =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  return drop({
    actor: env.GITHUB_ACTOR || env.GITLAB_USER_LOGIN || undefined,
    commitSha: (env.GITHUB_SHA || env.CI_COMMIT_SHA || undefined)?.toLowerCase(),
    runUrl: github ?? (env.CI_PIPELINE_URL || undefined),
  });
}
