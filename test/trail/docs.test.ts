/** The example queries in docs/AUDIT.md run against a real trail and answer what their headings promise. */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { correctionRecord } from "../../deploy/lib/trail/builders.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { admin, freshDatabase, type FreshDb } from "./db.js";
import { ciRun, gate } from "./ci-runs.js";
import { pair } from "./records.js";

const doc = readFileSync(new URL("../../docs/AUDIT.md", import.meta.url), "utf8");
/** `### heading` → the sql block under it. */
const queries = new Map([...doc.matchAll(/^### (.+)\n[\s\S]*?```sql\n([\s\S]*?)```/gm)].map((m) => [m[1] ?? "", m[2] ?? ""] as const));
const query = (heading: string) => {
  const text = queries.get(heading);
  if (text === undefined) throw new Error(`docs/AUDIT.md has no sql under "### ${heading}"`);
  return text;
};

let db: FreshDb;
let trail: PostgresTrail;
const run = async <T extends Record<string, unknown>>(heading: string) => (await admin(db.name, (c) => c.query<T>(query(heading)))).rows;
const NOW = Date.now();
const ago = (minutes: number) => new Date(NOW - minutes * 60_000).toISOString();

beforeAll(async () => {
  db = await freshDatabase();
  trail = await PostgresTrail.open(db.url());
  const [ok, okEnd] = pair("gh-1-1", ago(240), "succeeded", { commitTimestamp: ago(300), approver: "alice" });
  const [bad, badEnd] = pair("gh-2-1", ago(2), "rolled back", { approver: "bob" });
  const [crashed] = pair("gh-3-1", ago(180), "failed");
  const [young] = pair("gh-4-1", ago(30), "failed");
  const [stg, stgEnd] = pair("gh-5-1", ago(60), "succeeded", { environment: "staging", commitTimestamp: ago(70) });
  const [fixed, fixedWrong] = pair("gh-1234-1", ago(200), "failed", { commitTimestamp: ago(260) });
  const correction = correctionRecord(fixedWrong, { outcome: "succeeded" }, { by: "sre", reason: "healthy after all" });
  for (const r of [ok, okEnd, bad, badEnd, crashed, young, stg, stgEnd, fixed, fixedWrong, correction]) await trail.append(r);
  // Three ci runs in the last days (lint 20 s, 40 s and 60 s; one audit failure with 2 blocking) and one 40 days ago.
  const lint = (ms: number) => gate("lint", "passed", ms, { errors: 0 });
  await trail.appendPipelineRun(ciRun(ago(60 * 24 * 40), 3, [gate("lint", "passed", 999_000, { errors: 0 })]));
  await trail.appendPipelineRun(ciRun(ago(60 * 24 * 3), 3, [lint(20_000)]));
  await trail.appendPipelineRun(ciRun(ago(60 * 24 * 2), 3, [lint(40_000), gate("audit", "failed", 10_000, { blocking: 2 })]));
  await trail.appendPipelineRun(ciRun(ago(60), 3, [lint(60_000), gate("test", "skipped", 0)]));
});
afterAll(async () => {
  await trail?.close();
  await db?.drop();
  if (writer) await admin("postgres", (c) => c.query(`DROP ROLE IF EXISTS ${writer}`));
});
let writer: string | undefined;

describe("docs/AUDIT.md example queries", () => {
  it("has the documented examples", () => {
    expect([...queries.keys()]).toEqual([
      "Last deploy per environment",
      "Failed deploys this month",
      "Who approved production deploys",
      "Runs that never completed",
      "Gate decisions and their numbers, from jsonb",
      "Median lead time (commit to production) over the last 30 days",
      "One run's full history, corrections included",
      "Per-gate p95 duration of ci runs over the last 30 days",
    ]);
  });

  it("per-gate p95 duration of ci runs: the recent runs only, skipped gates left out", async () => {
    const rows = await run<{ gate: string; runs: string; p95_ms: number; blocking: string }>(
      "Per-gate p95 duration of ci runs over the last 30 days",
    );
    // lint [20, 40, 60] s: p95 = 40 + 0.9 × 20 = 58 s; test was skipped once, so it ran twice.
    expect(rows.map((r) => [r.gate, r.runs, r.p95_ms, r.blocking])).toEqual([
      ["audit", "3", 10_000, "2"],
      ["lint", "3", 58_000, "0"],
      ["test", "2", 90_000, "0"],
      ["typecheck", "3", 30_000, "0"],
    ]);
  });

  it("last deploy per environment", async () => {
    const rows = await run<{ environment: string; run_id: string }>("Last deploy per environment");
    expect(rows.map((r) => [r.environment, r.run_id])).toEqual([
      ["production", "gh-2-1"],
      ["staging", "gh-5-1"],
    ]);
  });

  it("failed deploys this month: the rollback, with why", async () => {
    const rows = await run<{ run_id: string; why: string }>("Failed deploys this month");
    // gh-2-1 started two minutes ago: this month unless the test runs in a month's first two minutes.
    const [{ monthStart }] = (
      await admin(db.name, (c) => c.query<{ monthStart: Date }>(`SELECT date_trunc('month', now()) AS "monthStart"`))
    ).rows as [{ monthStart: Date }];
    const expected = Date.parse(ago(2)) >= monthStart.getTime() ? [{ run_id: "gh-2-1", why: "alarm api-5xx went into ALARM" }] : [];
    expect(rows.map((r) => ({ run_id: r.run_id, why: r.why }))).toEqual(expected);
  });

  it("who approved production deploys", async () => {
    const rows = await run<{ run_id: string; approver: string; outcome: string }>("Who approved production deploys");
    expect(rows.map((r) => [r.run_id, r.approver, r.outcome])).toEqual([
      ["gh-2-1", "bob", "rolled back"],
      ["gh-4-1", "release-manager", "unknown"],
      ["gh-3-1", "release-manager", "unknown"],
      ["gh-1234-1", "release-manager", "succeeded"],
      ["gh-1-1", "alice", "succeeded"],
    ]);
  });

  it("runs that never completed: the crashed one, not the one still young", async () => {
    const rows = await run<{ run_id: string }>("Runs that never completed");
    expect(rows.map((r) => r.run_id)).toEqual(["gh-3-1"]);
  });

  it("gate decisions from jsonb: the failing analysis with its number", async () => {
    const rows = await run<Record<string, string>>("Gate decisions and their numbers, from jsonb");
    const failing = { gate: "analysis", stage: "canary 10%", verdict: "fail", error_rate: "0.09", reason: "error rate vs threshold" };
    // The corrected run keeps its decisions: the correction changed the outcome, not what the gate saw.
    expect(rows).toEqual([
      { run_id: "gh-2-1", ...failing },
      { run_id: "gh-1234-1", ...failing },
    ]);
  });

  it("median lead time per environment", async () => {
    const rows = await run<{ environment: string; median_lead_time: { hours?: number; minutes?: number }; deploys: string }>(
      "Median lead time (commit to production) over the last 30 days",
    );
    // Production: gh-1-1 committed 300 min ago, ended 235 min ago; gh-1234-1 committed 260, ended 195: 65 min each.
    // Staging: committed 70 min ago, ended 55 min ago.
    expect(rows.map((r) => [r.environment, r.median_lead_time.hours ?? 0, r.median_lead_time.minutes, r.deploys])).toEqual([
      ["production", 1, 5, "2"],
      ["staging", 0, 15, "1"],
    ]);
  });

  it("one run's full history keeps the wrong record and its correction", async () => {
    const rows = await run<{ phase: string; outcome: string }>("One run's full history, corrections included");
    expect(rows.map((r) => [r.phase, r.outcome])).toEqual([
      ["started", "unknown"],
      ["completed", "failed"],
      ["correction", "succeeded"],
    ]);
  });
});

describe("docs/AUDIT.md least-privilege writer", () => {
  it("the documented grants let a non-owner role append and read, and nothing else", async () => {
    writer = `shipshape_writer_${db.name.slice(-6)}`;
    const grants = /```sql-admin\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(grants).toContain("GRANT SELECT, INSERT ON deployment_audit TO shipshape_writer");
    const script = (grants ?? "")
      .replaceAll("shipshape_writer", writer)
      .replace("'<from your secret store>'", "'writer-pw'")
      .replace("DATABASE audit", `DATABASE ${db.name}`);
    await admin(db.name, (c) => c.query(script));

    const asWriter = await PostgresTrail.open(db.url({ user: writer, password: "writer-pw" }));
    try {
      const [started] = pair("gh-9-1", ago(1), "succeeded");
      await asWriter.append(started);
      expect((await asWriter.read({ since: ago(1), until: ago(0) })).map((r) => r.runId)).toEqual(["gh-9-1"]);
      const ci = ciRun(ago(1), 1);
      await asWriter.appendPipelineRun(ci);
      expect((await asWriter.readPipelineRuns({ since: ago(1) })).map((r) => r.runId)).toEqual([ci.runId]);
    } finally {
      await asWriter.close();
    }
    const asWriterRaw = (sql: string) =>
      admin(db.name, async (c) => {
        await c.query(`SET ROLE ${writer}`);
        return c.query(sql);
      });
    await expect(asWriterRaw("ALTER TABLE deployment_audit DISABLE TRIGGER deployment_audit_append_only")).rejects.toThrow(
      "must be owner of table deployment_audit",
    );
    await expect(asWriterRaw("DELETE FROM deployment_audit")).rejects.toThrow("permission denied for table deployment_audit");
    await expect(asWriterRaw("DELETE FROM pipeline_audit")).rejects.toThrow("permission denied for table pipeline_audit");
  });
});
