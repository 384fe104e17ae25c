/**
 * The audit trail in PostgreSQL: one connection, the schema migrated once per trail, one INSERT
 * per record. Every step is bounded (connect, statement and read timeouts), so a database that
 * is down, refuses us or hangs costs the deploy seconds, never the run; failures are Problems
 * that name the target but never its password.
 */
import pg from "pg";
import { progress } from "../gates/progress.js";
import { migrate } from "./migrations.js";
import { describeTarget, lockTimeoutMs, parseTarget, pgProblem, type PgTarget, type PgTimeouts } from "./pg-errors.js";
import { fromPipelineRow, INSERT_PIPELINE_RUN, toPipelineRow } from "./pipeline-pg.js";
import { parsePipelineRun, type PipelineRun, type PipelineRunInput } from "./pipeline-record.js";
import { parseRecord, type AuditRecord, type AuditRecordInput } from "./record.js";
import { checkFilter, type AuditTrail, type PipelineStore, type ReadFilter } from "./store.js";

export type { PgTimeouts };

export const DEFAULT_PG_TIMEOUTS: PgTimeouts = { connectTimeoutMs: 10_000, statementTimeoutMs: 10_000, queryTimeoutMs: 15_000 };

/** How long close() waits for the server to acknowledge before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;

const COLUMNS: readonly (readonly [column: string, field: keyof AuditRecord])[] = [
  ["record_id", "recordId"],
  ["run_id", "runId"],
  ["kind", "kind"],
  ["phase", "phase"],
  ["environment", "environment"],
  ["strategy", "strategy"],
  ["version", "version"],
  ["image", "image"],
  ["digest", "digest"],
  ["actor", "actor"],
  ["approver", "approver"],
  ["commit_sha", "commitSha"],
  ["commit_message", "commitMessage"],
  ["commit_timestamp", "commitTimestamp"],
  ["started_at", "startedAt"],
  ["ended_at", "endedAt"],
  ["outcome", "outcome"],
  ["reason", "reason"],
  ["rollback_reason", "rollbackReason"],
  ["from_revision", "fromRevision"],
  ["to_revision", "toRevision"],
  ["service_deployment_arn", "serviceDeploymentArn"],
  ["decisions", "decisions"],
  ["run_url", "runUrl"],
  ["correction_of", "correctionOf"],
];

const INSERT = `INSERT INTO deployment_audit (${COLUMNS.map(([c]) => c).join(", ")})
VALUES (${COLUMNS.map(([c], i) => (c === "decisions" ? `$${i + 1}::jsonb` : `$${i + 1}`)).join(", ")})
ON CONFLICT (record_id) DO NOTHING`;

/** Pure: a record as INSERT parameters, in COLUMNS order. */
export function toRow(record: AuditRecord): (string | null)[] {
  return COLUMNS.map(([, field]) => {
    const value = record[field];
    if (value === undefined) return null;
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

/** Pure: a row read back as a record (Dates to ISO, NULLs dropped), validated like any input. */
export function fromRow(row: Record<string, unknown>): AuditRecord {
  const out: Record<string, unknown> = {};
  for (const [column, field] of COLUMNS) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    out[field] = value instanceof Date ? value.toISOString() : value;
  }
  return parseRecord(out, `deployment_audit row ${String(row.id)}`);
}

export interface PostgresTrailOptions {
  timeouts?: Partial<PgTimeouts>;
}

export class PostgresTrail implements AuditTrail, PipelineStore {
  readonly target: PgTarget;
  readonly timeouts: PgTimeouts;
  private client: pg.Client | undefined;
  private migrated = false;

  private constructor(
    private readonly url: string,
    opts: PostgresTrailOptions,
  ) {
    this.target = parseTarget(url);
    this.timeouts = { ...DEFAULT_PG_TIMEOUTS, ...opts.timeouts };
  }

  /** Connects and migrates, so a bad URL, role or database is found before the deploy starts. */
  static async open(url: string, opts: PostgresTrailOptions = {}): Promise<PostgresTrail> {
    const trail = new PostgresTrail(url, opts);
    await trail.connection();
    return trail;
  }

  /** Where records go, without the password. */
  describe(): string {
    return describeTarget(this.target);
  }

  async append(record: AuditRecordInput): Promise<AuditRecord> {
    const parsed = parseRecord(record);
    await this.run("writing an audit record", (c) => c.query(INSERT, toRow(parsed)));
    return parsed;
  }

  async appendPipelineRun(run: PipelineRunInput): Promise<PipelineRun> {
    const parsed = parsePipelineRun(run);
    await this.run("writing a ci run record", (c) => c.query(INSERT_PIPELINE_RUN, toPipelineRow(parsed)));
    return parsed;
  }

  async readPipelineRuns(filter?: Omit<ReadFilter, "environment">): Promise<PipelineRun[]> {
    const { rows } = await this.select("pipeline_audit", { ...filter, environment: undefined }, "reading the ci runs");
    return rows.map(fromPipelineRow);
  }

  async read(filter?: ReadFilter): Promise<AuditRecord[]> {
    const { rows } = await this.select("deployment_audit", filter, "reading the audit trail");
    return rows.map(fromRow);
  }

  private async select(table: "deployment_audit" | "pipeline_audit", filter: ReadFilter | undefined, doing: string) {
    const { environment, since, until } = checkFilter(filter);
    const where: string[] = [];
    const params: string[] = [];
    const add = (sql: string, value: string) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (environment !== undefined) add("environment = ?", environment);
    if (since !== undefined) add("started_at >= ?::timestamptz", since);
    if (until !== undefined) add("started_at < ?::timestamptz", until);
    const sql = `SELECT * FROM ${table}${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY id`;
    return this.run(doing, (c) => c.query<Record<string, unknown>>(sql, params));
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await endBounded(client);
  }

  /** Runs one step on a live connection; any failure drops the connection so the next call starts clean. */
  private async run<T>(doing: string, step: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await this.connection();
    try {
      return await step(client);
    } catch (e) {
      await this.discard(client);
      throw pgProblem(e, this.target, this.timeouts, doing);
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const { connectTimeoutMs, statementTimeoutMs, queryTimeoutMs } = this.timeouts;
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: statementTimeoutMs,
      lock_timeout: lockTimeoutMs(this.timeouts),
      query_timeout: queryTimeoutMs,
      // A runner killed mid-migration must not hold the advisory lock for long.
      idle_in_transaction_session_timeout: Math.max(statementTimeoutMs, queryTimeoutMs) * 2,
      application_name: "shipshape",
    });
    // pg emits 'error' on an idle connection the server dropped; unhandled, it would crash the deploy.
    client.on("error", () => {
      if (this.client === client) this.client = undefined;
    });
    try {
      await client.connect();
    } catch (e) {
      await endBounded(client);
      throw pgProblem(e, this.target, this.timeouts, "connecting");
    }
    if (!this.migrated) {
      try {
        const applied = await migrate(client);
        if (applied.length > 0) progress("audit", `applied audit schema migrations ${applied.join(", ")} to ${this.describe()}`);
        this.migrated = true;
      } catch (e) {
        await endBounded(client);
        throw pgProblem(e, this.target, this.timeouts, "migrating the audit schema");
      }
    }
    this.client = client;
    return client;
  }

  private async discard(client: pg.Client): Promise<void> {
    if (this.client === client) this.client = undefined;
    await endBounded(client);
  }
}

/** client.end() waits for the server's goodbye, which a hung server never sends. */
async function endBounded(client: pg.Client): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = client.end().then(
    () => true,
    () => true,
  );
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
  });
  const clean = await Promise.race([ended, late]);
  clearTimeout(timer);
  if (!clean) client.connection.stream.destroy();
}
