/**
 * ci runs in the real Postgres: migration 4 on a database an older Shipshape migrated (its deploy
 * rows still read), the round trip, append-only, and recordCiRun, which never throws: an
 * unreachable database, a role without the new grant or a bad record each become its one line.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRecord } from "../../deploy/lib/trail/builders.js";
import { recordCiRun } from "../../deploy/lib/trail/ci-trail.js";
import { readJsonlEntries } from "../../deploy/lib/trail/jsonl.js";
import { MIGRATIONS, migrate } from "../../deploy/lib/trail/migrations.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { serialiseJsonl } from "../../deploy/lib/trail/record.js";
import { ciRun, gate } from "./ci-runs.js";
import { admin, closedPort, freshDatabase, type FreshDb } from "./db.js";
import { pair } from "./records.js";

let db: FreshDb;
const roles: string[] = [];
beforeAll(async () => {
  db = await freshDatabase("shipshape_ci");
});
afterAll(async () => {
  await db?.drop();
  for (const role of roles) await admin("postgres", (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
});

const pipelineRunsIn = (jsonl: string) => readJsonlEntries(jsonl).flatMap((e) => ("pipeline" in e ? [e.pipeline] : []));

describe("pipeline_audit in Postgres", () => {
  it("migrates a database an older Shipshape left at version 3, keeps its deploys, and round-trips ci runs", async () => {
    // What an older Shipshape left: the version-3 schema and a deploy row it wrote.
    const older = startRecord(
      { runId: "gh-1-1", environment: "production", actor: "octocat" },
      { now: () => Date.parse("2026-11-19T10:00:00Z") },
    );
    await admin(db.name, async (c) => {
      await migrate(c, MIGRATIONS.slice(0, 3));
      await c.query(
        "INSERT INTO deployment_audit (record_id, run_id, kind, phase, environment, actor, started_at, outcome) VALUES ($1, $2, 'deploy', 'started', $3, $4, $5, 'unknown')",
        [older.recordId, older.runId, older.environment, older.actor, older.startedAt],
      );
      expect((await c.query("SELECT to_regclass('pipeline_audit')::text AS t")).rows).toEqual([{ t: null }]);
    });
    const [started, completed] = pair("gh-5-1", "2026-11-19T11:00:00Z", "succeeded");
    const trail = await PostgresTrail.open(db.url());
    try {
      await trail.append(started);
      await trail.append(completed);
      const run = ciRun("2026-11-20T10:00:00Z", 4, [gate("audit", "failed", 9_000, { high: 2, blocking: 2 })]);
      await trail.appendPipelineRun(run);
      await trail.appendPipelineRun(run); // retried: ON CONFLICT (record_id) DO NOTHING
      expect(await trail.readPipelineRuns()).toEqual([run]);
      expect(await trail.readPipelineRuns({ until: "2026-11-20T10:00:00Z" })).toEqual([]);
      expect(await trail.read()).toEqual([older, started, completed]);
      const stored = await admin(db.name, (c) =>
        c.query("SELECT schema_version, outcome, coverage_lines, gates -> 3 ->> 'blocking' AS audit_blocking FROM pipeline_audit"),
      );
      expect(stored.rows).toEqual([{ schema_version: 1, outcome: "failed", coverage_lines: 86.5, audit_blocking: "2" }]);
    } finally {
      await trail.close();
    }
  });

  it("is append-only, with its own refusal", async () => {
    const trail = await PostgresTrail.open(db.url());
    await trail.appendPipelineRun(ciRun("2026-11-20T11:00:00Z", 2)).finally(() => trail.close());
    await expect(admin(db.name, (c) => c.query("UPDATE pipeline_audit SET outcome = 'passed'"))).rejects.toThrow(
      "pipeline_audit is append-only: UPDATE refused",
    );
    await expect(admin(db.name, (c) => c.query("TRUNCATE pipeline_audit"))).rejects.toThrow(
      "pipeline_audit is append-only: TRUNCATE refused",
    );
  });
});

describe("recordCiRun", () => {
  const earlier = serialiseJsonl(pair("gh-2-1", "2026-11-18T10:00:00Z", "succeeded"));

  it("records to Postgres and hands back the earlier trail with the run appended", async () => {
    const run = ciRun("2026-11-21T10:00:00Z", 3);
    const result = await recordCiRun({ databaseUrl: db.url(), existingJsonl: earlier }, () => run);
    expect(result.storage).toBe("postgres");
    expect(result.note).toBe(`ci run ${run.runId} (passed) recorded in Postgres (pipeline_audit) and the JSON Lines trail`);
    expect(result.jsonl.startsWith(earlier)).toBe(true);
    expect(pipelineRunsIn(result.jsonl)).toEqual([run]);
    const rows = await admin(db.name, (c) => c.query("SELECT run_id FROM pipeline_audit WHERE run_id = $1", [run.runId]));
    expect(rows.rows).toHaveLength(1);
  });

  it("with the database unreachable, keeps the run in the JSON Lines and says so", async () => {
    const run = ciRun("2026-11-21T11:00:00Z", 3);
    const port = await closedPort();
    const result = await recordCiRun(
      { databaseUrl: `postgres://ci@127.0.0.1:${port}/audit`, timeouts: { connectTimeoutMs: 2_000 } },
      () => run,
    );
    expect(result.storage).toBe("jsonl");
    expect(result.note).toMatch(
      new RegExp(
        `^ci run ${run.runId} \\(passed\\) recorded in the JSON Lines trail only \\(keep auditTrail\\); audit records go to the JSON Lines trail only: .*127\\.0\\.0\\.1:${port}`,
      ),
    );
    expect(pipelineRunsIn(result.jsonl)).toEqual([run]);
  });

  it("a writer role without the pipeline_audit grant: the deploy grants still work, the run stays in the JSON Lines", async () => {
    const role = `shipshape_w_${db.name.slice(-6)}`;
    roles.push(role);
    await admin("postgres", (c) => c.query(`CREATE ROLE ${role} LOGIN`));
    await admin(db.name, (c) =>
      c.query(`GRANT SELECT ON shipshape_audit_migrations TO ${role}; GRANT SELECT, INSERT ON deployment_audit TO ${role};
               GRANT USAGE ON SEQUENCE deployment_audit_id_seq TO ${role};`),
    );
    const run = ciRun("2026-11-21T12:00:00Z", 3);
    const result = await recordCiRun({ databaseUrl: db.url({ user: role }) }, () => run);
    expect(result.storage).toBe("jsonl");
    expect(result.note).toMatch(
      /did not reach Postgres and is kept only in the JSON Lines trail: .*permission denied for table pipeline_audit/,
    );
    expect(pipelineRunsIn(result.jsonl)).toEqual([run]);
  });

  it("a record that cannot be built is a line, and the earlier trail comes back untouched", async () => {
    const result = await recordCiRun({ existingJsonl: earlier }, () => {
      throw new Error("no gates ran");
    });
    expect(result).toEqual({
      jsonl: earlier,
      storage: "",
      note: "the ci run could not be recorded: no gates ran",
      warnings: ["the ci run could not be recorded: no gates ran"],
    });
  });

  it("a damaged earlier trail is kept as it was, the run appended after it", async () => {
    const damaged = `${earlier}{"runId": "half`;
    const run = ciRun("2026-11-21T13:00:00Z", 3);
    const result = await recordCiRun({ existingJsonl: damaged }, () => run);
    expect(result.storage).toBe("jsonl");
    expect(result.jsonl.startsWith(`${damaged}\n`)).toBe(true);
    expect(result.note).toMatch(/line 3 is not JSON/);
    expect(pipelineRunsIn(result.jsonl)).toEqual([run]);
  });
});
