/**
 * The audit trail with no database: records collected in memory and handed back as JSON Lines,
 * which the Dagger function returns as a File for the caller to keep (an artifact, a bucket).
 * Also the safety net behind Postgres: every record lands here first, so nothing is lost.
 */
import { describeError, printableLine } from "../../src/project/problem.js";
import { isPipelineLine, parsePipelineRun, type PipelineRun, type PipelineRunInput } from "./pipeline-record.js";
import { parseJsonl, parseRecord, serialiseJsonl, type AuditRecord, type AuditRecordInput } from "./record.js";
import { checkFilter, matchesFilter, type AuditTrail, type PipelineStore, type ReadFilter } from "./store.js";

/** A line of an earlier trail that is not a record: reported, and kept byte for byte. */
export interface DamagedLine {
  /** 1-based, as an editor numbers it. */
  line: number;
  cause: string;
  /** The line as it was, without its newline. */
  raw: string;
}

/** A deploy record, a ci run (pipeline-record.ts), or a line that is neither. */
export type Entry = { record: AuditRecord } | { pipeline: PipelineRun } | { damaged: DamagedLine };

/**
 * Reads an earlier trail line by line. Unlike parseJsonl (which refuses the whole file), one bad
 * line costs nothing else: a run killed mid-write leaves a half line at the end, and refusing the
 * file for it would drop every intact record before it from the trail handed back.
 */
export function readJsonlEntries(content: string, source = "audit trail"): Entry[] {
  const lines = content.split("\n");
  return lines.flatMap((raw, index): Entry[] => {
    if (raw.trim() === "") return [];
    const line = index + 1;
    const cutOff = index === lines.length - 1 ? " (cut off: the last line has no newline, an interrupted write?)" : "";
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      // JSON.parse quotes part of the line in its message; escaped, since the bytes are anyone's.
      return [{ damaged: { line, raw, cause: `${source} line ${line} is not JSON: ${printableLine(describeError(e).cause)}${cutOff}` } }];
    }
    try {
      // A line says it is a ci run with its `type`; every other line is read as a deploy record, as before.
      if (isPipelineLine(value)) return [{ pipeline: parsePipelineRun(value, `${source} line ${line}`) }];
      return [{ record: parseRecord(value, `${source} line ${line}`) }];
    } catch (e) {
      return [{ damaged: { line, raw, cause: describeError(e).cause } }];
    }
  });
}

export class JsonlTrail implements AuditTrail, PipelineStore {
  private readonly entries: Entry[];
  /** Lines of the earlier trail that are not records; they stay in content() where they were. */
  readonly damaged: readonly DamagedLine[];

  /** `existing`: an earlier trail file to continue, so one file can hold many runs. */
  constructor(existing = "", source = "audit trail") {
    this.entries = readJsonlEntries(existing, source);
    this.damaged = this.entries.flatMap((e) => ("damaged" in e ? [e.damaged] : []));
  }

  private get records(): AuditRecord[] {
    return this.entries.flatMap((e) => ("record" in e ? [e.record] : []));
  }

  async append(record: AuditRecordInput): Promise<AuditRecord> {
    const parsed = parseRecord(record);
    // Same rule as Postgres's unique record_id: a retried append is a no-op, not a duplicate.
    if (!this.records.some((r) => r.recordId === parsed.recordId)) this.entries.push({ record: parsed });
    return parsed;
  }

  async read(filter?: ReadFilter): Promise<AuditRecord[]> {
    const checked = checkFilter(filter);
    return this.records.filter((r) => matchesFilter(r, checked));
  }

  private get pipelineRuns(): PipelineRun[] {
    return this.entries.flatMap((e) => ("pipeline" in e ? [e.pipeline] : []));
  }

  async appendPipelineRun(run: PipelineRunInput): Promise<PipelineRun> {
    const parsed = parsePipelineRun(run);
    if (!this.pipelineRuns.some((r) => r.recordId === parsed.recordId)) this.entries.push({ pipeline: parsed });
    return parsed;
  }

  async readPipelineRuns(filter?: Omit<ReadFilter, "environment">): Promise<PipelineRun[]> {
    const { since, until } = checkFilter(filter);
    return this.pipelineRuns.filter((r) => matchesFilter({ startedAt: r.startedAt }, { since, until }));
  }

  async close(): Promise<void> {}

  /**
   * The file's content: one record per line, in the order written; a damaged earlier line stays
   * as it was, where it was, ended by a newline so the records after it start on their own line.
   */
  content(): string {
    return this.entries
      .map((e) => ("record" in e ? serialiseJsonl([e.record]) : "pipeline" in e ? `${JSON.stringify(e.pipeline)}\n` : `${e.damaged.raw}\n`))
      .join("");
  }
}

/**
 * Loads a JSON Lines trail into another trail (Postgres, after an outage). Safe to repeat:
 * stores deduplicate on recordId. Returns how many records were offered. Refuses a damaged file
 * as a whole (nothing is lost: the file stays as it is), so a replay never half-happens.
 */
export async function replayJsonl(content: string, into: AuditTrail & Partial<PipelineStore>, source = "audit trail"): Promise<number> {
  const records = parseJsonl(content, source);
  for (const record of records) await into.append(record);
  // ci runs too, when the target keeps them (PostgresTrail does); parseJsonl has already validated every line.
  const runs = into.appendPipelineRun ? readJsonlEntries(content, source).flatMap((e) => ("pipeline" in e ? [e.pipeline] : [])) : [];
  for (const run of runs) await into.appendPipelineRun?.(run);
  return records.length + runs.length;
}
