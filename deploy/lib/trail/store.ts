/**
 * What every audit store offers, so the deploy wiring does not care whether records land in
 * Postgres or in a JSON Lines file.
 */
import { Problem } from "../../src/project/problem.js";
import type { PipelineRun, PipelineRunInput } from "./pipeline-record.js";
import type { AuditRecord, AuditRecordInput } from "./record.js";

export interface AuditTrail {
  /** Validates and stores one record; never changes an earlier one. */
  append(record: AuditRecordInput): Promise<AuditRecord>;
  /** Records in the order they were written. */
  read(filter?: ReadFilter): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

/** Where ci runs are kept (pipeline-record.ts); apart from AuditTrail so existing trails and fakes stay valid. */
export interface PipelineStore {
  /** Validates and stores one ci run; a retried append (same recordId) is a no-op. */
  appendPipelineRun(run: PipelineRunInput): Promise<PipelineRun>;
  /** ci runs in the order written, by start time (since inclusive, until exclusive). */
  readPipelineRuns(filter?: Omit<ReadFilter, "environment">): Promise<PipelineRun[]>;
}

/** Which records a read returns: by environment and by start time (since inclusive, until exclusive). */
export interface ReadFilter {
  environment?: string;
  since?: string;
  until?: string;
}

export function matchesFilter(record: { startedAt: string; environment?: string }, filter: ReadFilter = {}): boolean {
  const at = Date.parse(record.startedAt);
  if (filter.environment !== undefined && record.environment !== filter.environment) return false;
  if (filter.since !== undefined && at < Date.parse(filter.since)) return false;
  if (filter.until !== undefined && at >= Date.parse(filter.until)) return false;
  return true;
}

/** Refuses a filter whose times would silently match nothing (NaN compares false). */
export function checkFilter(filter: ReadFilter = {}): ReadFilter {
  for (const key of ["since", "until"] as const) {
    const value = filter[key];
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      throw new Problem(
        `audit read: ${key} is not a time: ${JSON.stringify(value.slice(0, 40))}`,
        "give an ISO 8601 time like 2026-11-01T00:00:00Z",
      );
    }
  }
  return filter;
}
