/**
 * The audit-trail records the delivery metrics read, and how one run's records fold into one
 * outcome. Kept apart from the trail's own schema on purpose: metrics need a handful of fields,
 * and the caller maps trail rows onto this shape (times as ISO 8601 strings).
 *
 * Folding rules:
 * - Records are grouped by run: `runId`, or for a correction that names `correctionOf`, the run of
 *   the record it supersedes.
 * - Fields are laid over each other in the order started → completed → corrections (input order,
 *   so the last correction appended wins). A correction overrides every field it sets.
 * - A run is resolved only when it has an end time and a terminal outcome (succeeded, rolled back,
 *   failed). Anything else (no completed record, paused, unknown, unreadable times) is returned as
 *   unresolved with the reason, so it is listed rather than silently dropped.
 */

export const DELIVERY_KINDS = ["deploy", "rollback", "promote", "abort"] as const;
export const DELIVERY_PHASES = ["started", "completed", "correction"] as const;
export const DELIVERY_OUTCOMES = ["succeeded", "rolled back", "failed", "paused", "unknown"] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];
export type DeliveryPhase = (typeof DELIVERY_PHASES)[number];
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];
export type TerminalOutcome = "succeeded" | "rolled back" | "failed";

/** One audit-trail record as the metrics read it; times are ISO 8601 strings. */
export interface DeliveryRecord {
  runId: string;
  kind: DeliveryKind;
  phase: DeliveryPhase;
  environment: string;
  /** Lets a correction point at the exact record it supersedes (the trail's recordId/correctionOf). */
  recordId?: string;
  correctionOf?: string;
  version?: string;
  commitSha?: string;
  /** Its subject marks a deploy that fixes the one before it (revert, hotfix). */
  commitMessage?: string;
  /** When the deployed commit was made; lead time starts here. */
  commitTimestamp?: string;
  startedAt?: string;
  endedAt?: string;
  outcome?: DeliveryOutcome;
  reason?: string;
}

/** A run whose end and outcome are known. Times are epoch milliseconds. */
export interface Run {
  runId: string;
  kind: DeliveryKind;
  environment: string;
  version?: string;
  commitSha?: string;
  commitMessage?: string;
  /** Undefined when the record had no commit time or it was unreadable. */
  commitMs?: number;
  startedMs: number;
  endedMs: number;
  outcome: TerminalOutcome;
  reason?: string;
  corrected: boolean;
}

export type UnresolvedStatus = "no completed record" | "paused" | "outcome unknown" | "unreadable time";

/** A run the metrics could not count, listed so the gap is visible. */
export interface UnresolvedRun {
  runId: string;
  kind: DeliveryKind;
  environment: string;
  startedAt?: string;
  status: UnresolvedStatus;
}

const TERMINAL: ReadonlySet<string> = new Set<TerminalOutcome>(["succeeded", "rolled back", "failed"]);

// A zone is required: a time without one would be read in the machine's local zone.
const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Epoch ms of an ISO 8601 date or zoned date-time; undefined for anything else, 2024-02-30 included (Date.parse rolls it over). */
export function parseInstant(text: string | undefined): number | undefined {
  const match = text === undefined ? null : ISO_INSTANT.exec(text);
  if (!match || text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const [, date, zone] = match;
  const offsetMs =
    zone === undefined || zone === "Z"
      ? 0
      : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
  return new Date(ms + offsetMs).toISOString().slice(0, 10) === date ? ms : undefined;
}

interface Group {
  started?: DeliveryRecord;
  completed?: DeliveryRecord;
  corrections: DeliveryRecord[];
}

function groupByRun(records: readonly DeliveryRecord[]): Map<string, Group> {
  const runOfRecord = new Map<string, string>();
  for (const r of records) if (r.recordId !== undefined) runOfRecord.set(r.recordId, r.runId);
  const groups = new Map<string, Group>();
  for (const r of records) {
    const runId = r.phase === "correction" && r.correctionOf !== undefined ? (runOfRecord.get(r.correctionOf) ?? r.runId) : r.runId;
    const group = groups.get(runId) ?? { corrections: [] };
    // A retried write repeats a record; the later copy is as good as the first.
    if (r.phase === "started") group.started = r;
    else if (r.phase === "completed") group.completed = r;
    else group.corrections.push(r);
    groups.set(runId, group);
  }
  return groups;
}

function overlay(base: DeliveryRecord, over: DeliveryRecord): DeliveryRecord {
  const defined = Object.fromEntries(Object.entries(over).filter(([, v]) => v !== undefined)) as Partial<DeliveryRecord>;
  return { ...base, ...defined };
}

function fold(runId: string, group: Group): Run | UnresolvedRun {
  const layers = [group.started, group.completed, ...group.corrections].filter((r): r is DeliveryRecord => r !== undefined);
  const merged = layers.slice(1).reduce(overlay, layers[0] as DeliveryRecord);
  const id = { runId, kind: merged.kind, environment: merged.environment };
  const unresolved = (status: UnresolvedStatus): UnresolvedRun =>
    merged.startedAt === undefined ? { ...id, status } : { ...id, startedAt: merged.startedAt, status };
  const concluded = group.completed !== undefined || group.corrections.some((c) => c.outcome !== undefined && c.outcome !== "unknown");
  if (!concluded) return unresolved("no completed record");
  if (merged.outcome === "paused") return unresolved("paused");
  if (merged.outcome === undefined || !TERMINAL.has(merged.outcome)) return unresolved("outcome unknown");
  const startedMs = parseInstant(merged.startedAt);
  const endedMs = parseInstant(merged.endedAt);
  if (startedMs === undefined || endedMs === undefined || endedMs < startedMs) return unresolved("unreadable time");
  const run: Run = { ...id, startedMs, endedMs, outcome: merged.outcome as TerminalOutcome, corrected: group.corrections.length > 0 };
  const commitMs = parseInstant(merged.commitTimestamp);
  if (commitMs !== undefined) run.commitMs = commitMs;
  if (merged.version !== undefined) run.version = merged.version;
  if (merged.commitSha !== undefined) run.commitSha = merged.commitSha;
  if (merged.commitMessage !== undefined) run.commitMessage = merged.commitMessage;
  if (merged.reason !== undefined) run.reason = merged.reason;
  return run;
}

/** Folds records into resolved runs (sorted by end time) and the runs that could not be resolved. */
export function resolveRuns(records: readonly DeliveryRecord[]): { runs: Run[]; unresolved: UnresolvedRun[] } {
  const runs: Run[] = [];
  const unresolved: UnresolvedRun[] = [];
  for (const [runId, group] of groupByRun(records)) {
    const result = fold(runId, group);
    if ("outcome" in result) runs.push(result);
    else unresolved.push(result);
  }
  runs.sort((a, b) => a.endedMs - b.endedMs || a.startedMs - b.startedMs || a.runId.localeCompare(b.runId));
  unresolved.sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? "") || a.runId.localeCompare(b.runId));
  return { runs, unresolved };
}
