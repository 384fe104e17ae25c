/**
 * The audit trail with no database: records collected in memory and handed back as JSON Lines,
 * which the Dagger function returns as a File for the caller to keep (an artifact, a bucket).
 * Also the safety net behind Postgres: every record lands here first, so nothing is lost.
 */
import { parseJsonl, parseRecord, serialiseJsonl, type AuditRecord, type AuditRecordInput } from "./record.js";
import { checkFilter, matchesFilter, type AuditTrail, type ReadFilter } from "./store.js";

export class JsonlTrail implements AuditTrail {
  private readonly records: AuditRecord[];

  /** `existing`: an earlier trail file to continue, so one file can hold many runs. */
  constructor(existing = "") {
    this.records = parseJsonl(existing);
  }

  async append(record: AuditRecordInput): Promise<AuditRecord> {
    const parsed = parseRecord(record);
    // Same rule as Postgres's unique record_id: a retried append is a no-op, not a duplicate.
    if (!this.records.some((r) => r.recordId === parsed.recordId)) this.records.push(parsed);
    return parsed;
  }

  async read(filter?: ReadFilter): Promise<AuditRecord[]> {
    const checked = checkFilter(filter);
    return this.records.filter((r) => matchesFilter(r, checked));
  }

  async close(): Promise<void> {}

  /** The file's content: one record per line, in the order written. */
  content(): string {
    return serialiseJsonl(this.records);
  }
}

/**
 * Loads a JSON Lines trail into another trail (Postgres, after an outage). Safe to repeat:
 * stores deduplicate on recordId. Returns how many records were offered.
 */
export async function replayJsonl(content: string, into: AuditTrail, source = "audit trail"): Promise<number> {
  const records = parseJsonl(content, source);
  for (const record of records) await into.append(record);
  return records.length;
}
