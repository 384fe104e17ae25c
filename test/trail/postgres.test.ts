import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { correctionRecord } from "../../deploy/lib/trail/builders.js";
import { MIGRATIONS, MIGRATIONS_TABLE, checksum, migrate, type Migration } from "../../deploy/lib/trail/migrations.js";
import { JsonlTrail, replayJsonl } from "../../deploy/lib/trail/jsonl.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { admin, freshDatabase, type FreshDb } from "./db.js";
import { pair } from "./records.js";

let db: FreshDb;
const trails: PostgresTrail[] = [];
const open = async (url = db.url()) => {
  const t = await PostgresTrail.open(url);
  trails.push(t);
  return t;
};
const sql = <T extends Record<string, unknown>>(query: string, params: unknown[] = []) =>
  admin(db.name, (c) => c.query<T>(query, params)).then((r) => r.rows);

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  for (const t of trails) await t.close();
  await db?.drop();
});

describe("audit schema migrations", () => {
  it("apply from empty, in order, each tracked with its checksum; a re-run applies nothing", async () => {
    expect(await sql("SELECT to_regclass('deployment_audit') AS t")).toEqual([{ t: null }]);
    const applied = await admin(db.name, (c) => migrate(c));
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version));
    const rows = await sql<{ version: number; name: string; checksum: string; applied_at: Date }>(
      `SELECT version, name, checksum, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    expect(rows.map((r) => [r.version, r.name, r.checksum])).toEqual(MIGRATIONS.map((m) => [m.version, m.name, checksum(m)]));
    expect(rows.every((r) => r.applied_at instanceof Date)).toBe(true);

    expect(await admin(db.name, (c) => migrate(c))).toEqual([]);
    expect(await sql(`SELECT count(*)::int AS n FROM ${MIGRATIONS_TABLE}`)).toEqual([{ n: MIGRATIONS.length }]);
    const indexes = await sql<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'deployment_audit'");
    expect(indexes.map((i) => i.indexdef).join("\n")).toMatch(/\(environment, started_at\)[\s\S]*|\(run_id\)/);
    expect(indexes.some((i) => i.indexdef.includes("(environment, started_at)"))).toBe(true);
    expect(indexes.some((i) => i.indexdef.includes("(run_id)"))).toBe(true);
  });

  it("refuses an applied migration whose text changed, and applies nothing else in that run", async () => {
    const first = MIGRATIONS[0] as Migration;
    const tampered: Migration[] = [
      { ...first, sql: `${first.sql}\n-- edited` },
      ...MIGRATIONS.slice(1),
      { version: 99, name: "later", sql: "SELECT 1" },
    ];
    const err = await admin(db.name, (c) => migrate(c, tampered)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Problem);
    expect((err as Problem).message).toMatch(/audit migration 1 \(deployment_audit table\) was changed after it was applied/);
    expect((err as Problem).hint).toMatch(/add the change as a new migration/);
    expect(await sql(`SELECT max(version) AS v FROM ${MIGRATIONS_TABLE}`)).toEqual([{ v: MIGRATIONS.length }]);
  });

  it("lets 8 writers start at once: each migration applied once, every row stored", async () => {
    const fresh = await freshDatabase();
    try {
      const records = Array.from({ length: 8 }, (_, i) => pair(`gh-100${i}-1`, "2026-11-20T10:00:00Z", "succeeded"));
      const writers = records.map(async ([started, completed]) => {
        const t = await PostgresTrail.open(fresh.url());
        try {
          await t.append(started);
          await t.append(completed);
        } finally {
          await t.close();
        }
      });
      await Promise.all(writers);
      const migrations = await admin(fresh.name, (c) => c.query(`SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`));
      expect(migrations.rows.map((r: { version: number }) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const stored = await admin(fresh.name, (c) => c.query("SELECT record_id FROM deployment_audit"));
      expect(stored.rows.map((r: { record_id: string }) => r.record_id).sort()).toEqual(
        records
          .flat()
          .map((r) => r.recordId)
          .sort(),
      );
    } finally {
      await fresh.drop();
    }
  });
});

describe("PostgresTrail", () => {
  it("stores every field and reads the record back unchanged (decisions as jsonb)", async () => {
    const trail = await open();
    const [started, completed] = pair("gh-2001-1", "2026-11-02T08:00:00Z", "rolled back");
    await trail.append(started);
    await trail.append(completed);
    const back = await trail.read({ environment: "production", since: "2026-11-02T00:00:00Z", until: "2026-11-03T00:00:00Z" });
    expect(back).toEqual([started, completed]);
    const [row] = await sql<{ errors: string; application: string }>(
      "SELECT decisions->0->'values'->>'errorRate' AS errors, jsonb_typeof(decisions) AS application FROM deployment_audit WHERE record_id = $1",
      [completed.recordId],
    );
    expect(row).toEqual({ errors: "0.09", application: "array" });
  });

  it("connects as application_name shipshape", async () => {
    const trail = await open();
    await trail.append(pair("gh-2002-1", "2026-11-02T09:00:00Z", "succeeded")[0]);
    const sessions = await sql<{ application_name: string }>(
      "SELECT application_name FROM pg_stat_activity WHERE datname = $1 AND application_name = 'shipshape'",
      [db.name],
    );
    expect(sessions.length).toBeGreaterThan(0);
  });

  it("waits for a lock held elsewhere only as long as the statement bound, then says so", async () => {
    const trail = await PostgresTrail.open(db.url(), { timeouts: { statementTimeoutMs: 500 } });
    trails.push(trail);
    await admin(db.name, async (c) => {
      await c.query("BEGIN");
      await c.query("LOCK TABLE deployment_audit IN ACCESS EXCLUSIVE MODE");
      const t0 = Date.now();
      const err = await trail.append(pair("gh-2010-1", "2026-11-02T09:30:00Z", "succeeded")[0]).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(3_000);
      await c.query("ROLLBACK");
      expect(err).toBeInstanceOf(Problem);
      expect((err as Problem).cause_).toMatch(
        /waited more than 0\.4s for a lock while writing an audit record \(canceling statement due to lock timeout\)/,
      );
    });
    // The failed connection was dropped; the next append reconnects and succeeds.
    const [later] = pair("gh-2011-1", "2026-11-02T09:31:00Z", "succeeded");
    await trail.append(later);
    expect(await sql("SELECT count(*)::int AS n FROM deployment_audit WHERE run_id = 'gh-2011-1'")).toEqual([{ n: 1 }]);
  });

  it("a retried append of the same record is not a second row", async () => {
    const trail = await open();
    const [started] = pair("gh-2003-1", "2026-11-02T10:00:00Z", "succeeded");
    await trail.append(started);
    await trail.append(started);
    expect(await sql("SELECT count(*)::int AS n FROM deployment_audit WHERE run_id = 'gh-2003-1'")).toEqual([{ n: 1 }]);
  });

  it("replays a JSON Lines trail kept during an outage, twice without duplicates", async () => {
    const trail = await open();
    const file = new JsonlTrail();
    const records = [...pair("gh-2020-1", "2026-11-06T10:00:00Z", "succeeded"), ...pair("gh-2021-1", "2026-11-06T11:00:00Z", "failed")];
    for (const r of records) await file.append(r);
    expect(await replayJsonl(file.content(), trail)).toBe(4);
    expect(await replayJsonl(file.content(), trail)).toBe(4);
    expect(await trail.read({ since: "2026-11-06T00:00:00Z", until: "2026-11-07T00:00:00Z" })).toEqual(records);
  });

  it("is append-only: UPDATE, DELETE and TRUNCATE are refused by the trigger", async () => {
    const trail = await open();
    await trail.append(pair("gh-2004-1", "2026-11-02T11:00:00Z", "succeeded")[0]);
    for (const statement of [
      "UPDATE deployment_audit SET outcome = 'succeeded' WHERE run_id = 'gh-2004-1'",
      "DELETE FROM deployment_audit WHERE run_id = 'gh-2004-1'",
      "TRUNCATE deployment_audit",
    ]) {
      const err = await sql(statement).catch((e: unknown) => e as { message: string; code: string; hint: string });
      expect(err).toMatchObject({ code: "42501", hint: expect.stringMatching(/record a correction/) });
      expect((err as { message: string }).message).toMatch(/^deployment_audit is append-only: (UPDATE|DELETE|TRUNCATE) refused$/);
    }
    expect(await sql("SELECT outcome FROM deployment_audit WHERE run_id = 'gh-2004-1'")).toEqual([{ outcome: "unknown" }]);
  });

  it("shows a run that crashed after 'started' as incomplete with outcome unknown in the runs view", async () => {
    const trail = await open();
    const [started] = pair("gh-2005-1", "2026-11-03T10:00:00Z", "failed");
    await trail.append(started); // the runner died here: no completed record
    const [done, doneEnd] = pair("gh-2006-1", "2026-11-03T11:00:00Z", "succeeded");
    await trail.append(done);
    await trail.append(doneEnd);
    const runs = await sql<{ run_id: string; outcome: string; completed: boolean; ended_at: Date | null }>(
      "SELECT run_id, outcome, completed, ended_at FROM deployment_audit_runs WHERE run_id IN ('gh-2005-1', 'gh-2006-1') ORDER BY run_id",
    );
    expect(runs).toEqual([
      { run_id: "gh-2005-1", outcome: "unknown", completed: false, ended_at: null },
      { run_id: "gh-2006-1", outcome: "succeeded", completed: true, ended_at: new Date(doneEnd.endedAt ?? "") },
    ]);
  });

  it("takes a correction as a new row that supersedes the run's outcome in the view, the original kept", async () => {
    const trail = await open();
    const [started, completed] = pair("gh-2007-1", "2026-11-04T10:00:00Z", "failed");
    await trail.append(started);
    await trail.append(completed);
    const fix = correctionRecord(
      completed,
      { outcome: "succeeded", reason: "x" },
      { by: "sre-on-call", reason: "ECS reported failure but the service was healthy" },
      { now: () => Date.parse("2026-11-05T09:00:00Z") },
    );
    await trail.append(fix);
    const rows = await sql<{ phase: string; outcome: string; correction_of: string | null }>(
      "SELECT phase, outcome, correction_of FROM deployment_audit WHERE run_id = 'gh-2007-1' ORDER BY id",
    );
    expect(rows).toEqual([
      { phase: "started", outcome: "unknown", correction_of: null },
      { phase: "completed", outcome: "failed", correction_of: null },
      { phase: "correction", outcome: "succeeded", correction_of: completed.recordId },
    ]);
    const [view] = await sql<{ outcome: string; corrected: boolean; completed: boolean; reason: string }>(
      "SELECT outcome, corrected, completed, reason FROM deployment_audit_runs WHERE run_id = 'gh-2007-1'",
    );
    expect(view).toEqual({
      outcome: "succeeded",
      corrected: true,
      completed: true,
      reason: "ECS reported failure but the service was healthy (corrected by sre-on-call at 2026-11-05T09:00:00.000Z)",
    });
  });

  it("filters reads by environment and a half-open start-time window", async () => {
    const fresh = await freshDatabase();
    try {
      const t = await PostgresTrail.open(fresh.url());
      trails.push(t);
      const [a] = pair("gh-3001-1", "2026-10-31T23:59:59Z", "succeeded");
      const [b] = pair("gh-3002-1", "2026-11-01T00:00:00Z", "succeeded");
      const [c] = pair("gh-3003-1", "2026-11-15T12:00:00Z", "succeeded", { environment: "staging" });
      const [d] = pair("gh-3004-1", "2026-12-01T00:00:00Z", "succeeded");
      for (const r of [a, b, c, d]) await t.append(r);
      const ids = (rs: { runId: string }[]) => rs.map((r) => r.runId);
      expect(ids(await t.read())).toEqual(["gh-3001-1", "gh-3002-1", "gh-3003-1", "gh-3004-1"]);
      expect(ids(await t.read({ since: "2026-11-01T00:00:00Z", until: "2026-12-01T00:00:00Z" }))).toEqual(["gh-3002-1", "gh-3003-1"]);
      expect(ids(await t.read({ environment: "production", since: "2026-11-01T01:00:00+01:00" }))).toEqual(["gh-3002-1", "gh-3004-1"]);
      expect(ids(await t.read({ environment: "staging" }))).toEqual(["gh-3003-1"]);
      await expect(t.read({ since: "last tuesday" })).rejects.toThrow(/since is not a time/);
    } finally {
      await fresh.drop();
    }
  });
});
