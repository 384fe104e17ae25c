/**
 * The audit schema's own migrations, in code so the module cannot ship without them. They run
 * in one transaction under a transaction-level advisory lock, so eight pipelines starting at
 * once apply each migration exactly once and a crash leaves nothing half-applied.
 *
 * Migrations are append-only like the table: never edit an applied one (its checksum is checked
 * on every run), add a new one. Each is additive, so an older Shipshape keeps writing to a
 * database a newer one has migrated.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { Problem } from "../../src/project/problem.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** 'SHIPSHAP' in ASCII: one fixed key shared by every Shipshape writer of this database. */
export const MIGRATION_LOCK_KEY = "6001127112814641488";
export const MIGRATIONS_TABLE = "shipshape_audit_migrations";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "deployment_audit table",
    // correction_of has no foreign key: a correction of a record that only reached the JSONL
    // fallback must still be writable. record_id is unique so a retried append is a no-op.
    sql: `
CREATE TABLE deployment_audit (
  id bigserial PRIMARY KEY,
  record_id uuid NOT NULL UNIQUE,
  run_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('deploy', 'rollback', 'promote', 'abort')),
  phase text NOT NULL CHECK (phase IN ('started', 'completed', 'correction')),
  environment text NOT NULL,
  strategy text,
  version text,
  image text,
  digest text,
  actor text NOT NULL,
  approver text,
  commit_sha text,
  commit_message text,
  commit_timestamp timestamptz,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  outcome text NOT NULL CHECK (outcome IN ('succeeded', 'rolled back', 'failed', 'paused', 'unknown')),
  reason text,
  rollback_reason text,
  from_revision text,
  to_revision text,
  service_deployment_arn text,
  decisions jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(decisions) = 'array'),
  run_url text,
  correction_of uuid,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((phase = 'correction') = (correction_of IS NOT NULL))
);
CREATE INDEX deployment_audit_environment_started_at ON deployment_audit (environment, started_at);
CREATE INDEX deployment_audit_run_id ON deployment_audit (run_id);
`,
  },
  {
    version: 2,
    name: "append-only trigger",
    sql: `
CREATE FUNCTION shipshape_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'deployment_audit is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'record a correction (a new row with phase correction) instead';
END;
$$;
CREATE TRIGGER deployment_audit_append_only
  BEFORE UPDATE OR DELETE ON deployment_audit
  FOR EACH ROW EXECUTE FUNCTION shipshape_audit_refuse_change();
CREATE TRIGGER deployment_audit_no_truncate
  BEFORE TRUNCATE ON deployment_audit
  FOR EACH STATEMENT EXECUTE FUNCTION shipshape_audit_refuse_change();
`,
  },
  {
    version: 3,
    name: "deployment_audit_runs view",
    // One row per run: the latest correction, else the latest completed, else the started record.
    // A run that only ever wrote 'started' (crashed, runner killed) keeps outcome 'unknown' and
    // shows completed = false, so "never finished" is a query, not a guess.
    sql: `
CREATE VIEW deployment_audit_runs AS
SELECT DISTINCT ON (a.run_id)
  a.run_id,
  a.kind,
  a.environment,
  a.strategy,
  a.version,
  a.image,
  a.digest,
  a.actor,
  a.approver,
  a.commit_sha,
  a.commit_message,
  a.commit_timestamp,
  a.started_at,
  a.ended_at,
  a.outcome,
  a.reason,
  a.rollback_reason,
  a.from_revision,
  a.to_revision,
  a.service_deployment_arn,
  a.decisions,
  a.run_url,
  EXISTS (SELECT 1 FROM deployment_audit c WHERE c.run_id = a.run_id AND c.phase = 'completed') AS completed,
  (a.phase = 'correction') AS corrected,
  a.record_id AS latest_record_id,
  a.recorded_at AS latest_recorded_at
FROM deployment_audit a
ORDER BY a.run_id,
  CASE a.phase WHEN 'correction' THEN 3 WHEN 'completed' THEN 2 ELSE 1 END DESC,
  a.recorded_at DESC,
  a.id DESC;
`,
  },
  {
    version: 4,
    name: "pipeline_audit table",
    // ci runs (pipeline-record.ts) in a table of their own: deployment_audit's columns and checks
    // are a deploy's, and an older Shipshape reading SELECT * FROM deployment_audit must never meet
    // a row it cannot parse. Append-only like deployment_audit; its own refusal names this table.
    sql: `
CREATE TABLE pipeline_audit (
  id bigserial PRIMARY KEY,
  record_id uuid NOT NULL UNIQUE,
  schema_version integer NOT NULL CHECK (schema_version >= 1),
  run_id text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('passed', 'failed')),
  actor text,
  commit_sha text,
  branch text,
  run_url text,
  coverage_lines double precision CHECK (coverage_lines BETWEEN 0 AND 100),
  coverage_branches double precision CHECK (coverage_branches BETWEEN 0 AND 100),
  gates jsonb NOT NULL CHECK (jsonb_typeof(gates) = 'array'),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ended_at >= started_at)
);
CREATE INDEX pipeline_audit_started_at ON pipeline_audit (started_at);
CREATE FUNCTION shipshape_pipeline_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'pipeline_audit is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'ci runs are never edited; a wrong one stays, with the next run beside it';
END;
$$;
CREATE TRIGGER pipeline_audit_append_only
  BEFORE UPDATE OR DELETE ON pipeline_audit
  FOR EACH ROW EXECUTE FUNCTION shipshape_pipeline_refuse_change();
CREATE TRIGGER pipeline_audit_no_truncate
  BEFORE TRUNCATE ON pipeline_audit
  FOR EACH STATEMENT EXECUTE FUNCTION shipshape_pipeline_refuse_change();
`,
  },
];

export const checksum = (m: Migration): string => createHash("sha256").update(m.sql).digest("hex");

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

/** Pure: which migrations still need applying, refusing any applied one whose text changed. */
export function pendingMigrations(applied: readonly AppliedRow[], migrations: readonly Migration[]): Migration[] {
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  for (const m of migrations) {
    const done = byVersion.get(m.version);
    if (done && done.checksum !== checksum(m)) {
      throw new Problem(
        `audit migration ${m.version} (${m.name}) was changed after it was applied: checksum ${done.checksum.slice(0, 12)} in the database, ${checksum(m).slice(0, 12)} in code`,
        `restore migration ${m.version} as it was and add the change as a new migration; never edit an applied one`,
      );
    }
  }
  return migrations.filter((m) => !byVersion.has(m.version)).sort((a, b) => a.version - b.version);
}

/** Applies what is missing, in order, atomically; returns the versions this call applied. */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
    // Not CREATE TABLE IF NOT EXISTS: Postgres checks the CREATE privilege even when the table
    // exists, and a least-privilege writer (INSERT, SELECT only) must get through here.
    const { rows: found } = await client.query<{ t: string | null }>("SELECT to_regclass($1)::text AS t", [MIGRATIONS_TABLE]);
    if (!found[0]?.t) {
      await client.query(`CREATE TABLE ${MIGRATIONS_TABLE} (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    }
    const { rows } = await client.query<AppliedRow>(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`);
    const pending = pendingMigrations(rows, migrations);
    for (const m of pending) {
      await client.query(m.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, checksum(m)]);
    }
    await client.query("COMMIT");
    return pending.map((m) => m.version);
  } catch (e) {
    // A dead connection cannot roll back; the server does it when the session ends.
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
