import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import { parseJsonl } from "../../deploy/lib/trail/record.js";
import { auditRun, completeRecord, endFromDeploy, openTrail, startRecord, type Trail } from "../../deploy/lib/trail/trail.js";
import { admin, closedPort, freshDatabase, proxyToPostgres, silentServer, type FreshDb } from "./db.js";
import { REV, pair, run } from "./records.js";

const PASSWORD = "hunter2-audit-pw";
let db: FreshDb;
const opened: Trail[] = [];
const track = (t: Trail) => {
  opened.push(t);
  return t;
};
const rowsOf = (runId: string) =>
  admin(db.name, (c) =>
    c.query<{ phase: string; outcome: string }>("SELECT phase, outcome FROM deployment_audit WHERE run_id = $1 ORDER BY id", [runId]),
  ).then((r) => r.rows);
const noSecret = (trail: Trail) => {
  for (const w of trail.warnings) expect(w).not.toContain(PASSWORD);
  expect(trail.jsonl()).not.toContain(PASSWORD);
};

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  for (const t of opened) await t.close();
  await db?.drop();
});

describe("openTrail without a database", () => {
  it("collects JSON Lines, continuing an earlier file, with nothing to warn about", async () => {
    const [earlier] = pair("gh-1-1", "2026-11-19T10:00:00Z", "succeeded");
    const trail = track(await openTrail({ existingJsonl: `${JSON.stringify(earlier)}\n` }));
    const [started, completed] = pair("gh-2-1", "2026-11-20T10:00:00Z", "succeeded");
    await trail.append(started);
    await trail.append(completed);
    expect(trail.storage).toBe("jsonl");
    expect(trail.warnings).toEqual([]);
    expect(parseJsonl(trail.jsonl())).toEqual([earlier, started, completed]);
  });

  it("required without a URL is refused: a file returned at the end protects nothing if the run dies", async () => {
    await expect(openTrail({ required: true })).rejects.toThrow("the audit trail is required but no database URL was given");
  });
});

describe("openTrail with Postgres", () => {
  it("writes to Postgres and keeps the same records in the JSON Lines", async () => {
    const trail = track(await openTrail({ databaseUrl: db.url({ password: PASSWORD }) }));
    const [started, completed] = pair("gh-3-1", "2026-11-20T11:00:00Z", "rolled back");
    await trail.append(started);
    await trail.append(completed);
    expect(trail.storage).toBe("postgres");
    expect(await rowsOf("gh-3-1")).toEqual([
      { phase: "started", outcome: "unknown" },
      { phase: "completed", outcome: "rolled back" },
    ]);
    expect(parseJsonl(trail.jsonl())).toEqual([started, completed]);
    expect(await trail.read({ since: "2026-11-20T11:00:00Z", until: "2026-11-20T11:00:01Z" })).toEqual([started, completed]);
    expect(trail.warnings).toEqual([]);
  });

  it("falls back to JSON Lines when Postgres is down: records kept, a warning without the password", async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const trail = track(await openTrail({ databaseUrl: db.url({ password: PASSWORD, port }) }));
    const [started, completed] = pair("gh-4-1", "2026-11-20T12:00:00Z", "succeeded");
    await trail.append(started);
    await trail.append(completed);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(trail.storage).toBe("jsonl");
    expect(trail.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^audit records go to the JSON Lines trail only: audit database postgres://postgres@.*:${port}/${db.name} refused the connection`,
        ),
      ),
    ]);
    expect(parseJsonl(trail.jsonl())).toEqual([started, completed]);
    noSecret(trail);
  });

  it("falls back within the connect timeout when Postgres hangs", async () => {
    const server = await silentServer();
    try {
      const t0 = Date.now();
      const trail = track(
        await openTrail({
          databaseUrl: `postgres://deployer:${PASSWORD}@127.0.0.1:${server.port}/audit`,
          timeouts: { connectTimeoutMs: 500 },
        }),
      );
      expect(Date.now() - t0).toBeLessThan(2_500);
      expect(trail.warnings).toEqual([expect.stringContaining("did not answer within 0.5s while connecting")]);
      noSecret(trail);
    } finally {
      await server.close();
    }
  });

  it("required: a Postgres that is down refuses the run with the database's reason", async () => {
    const port = await closedPort();
    const err = await openTrail({ databaseUrl: db.url({ password: PASSWORD, port }), required: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Problem);
    expect((err as Problem).cause_).toMatch(
      /^the audit trail is required and Postgres is unavailable: audit database .* refused the connection/,
    );
    expect((err as Problem).message).not.toContain(PASSWORD);
  });

  it("Postgres vanishing mid-run: 'completed' falls back and warns, a later 'started' is refused when required", async () => {
    const proxy = await proxyToPostgres();
    const trail = track(await openTrail({ databaseUrl: db.url({ password: PASSWORD, port: proxy.port }), required: true }));
    const [started, completed] = pair("gh-5-1", "2026-11-20T13:00:00Z", "succeeded");
    await trail.append(started);
    await proxy.close(); // the database is gone while the deploy runs

    await trail.append(completed); // the deploy's result must not be lost to an audit outage
    expect(trail.warnings).toEqual([
      expect.stringMatching(
        /^completed record of run gh-5-1 did not reach Postgres and is kept only in the JSON Lines trail: audit database/,
      ),
    ]);
    expect(parseJsonl(trail.jsonl())).toEqual([started, completed]);
    // Postgres holds only the start, which the runs view shows as never completed.
    expect(await rowsOf("gh-5-1")).toEqual([{ phase: "started", outcome: "unknown" }]);
    const [view] = await admin(db.name, (c) =>
      c.query("SELECT outcome, completed FROM deployment_audit_runs WHERE run_id = 'gh-5-1'"),
    ).then((r) => r.rows);
    expect(view).toEqual({ outcome: "unknown", completed: false });

    const next = startRecord(run("gh-6-1"));
    await expect(trail.append(next)).rejects.toThrow(
      /^the deploy was refused: its started audit record could not be stored: audit database .* refused the connection/,
    );
    noSecret(trail);
  });
});

describe("auditRun", () => {
  const deployReport = {
    result: "succeeded",
    reason: "deployment completed",
    taskDefinitionArn: REV(42),
    previousTaskDefinitionArn: REV(41),
    serviceDeploymentArn: "arn:sd/1",
  };

  it("writes 'started' before the work and 'completed' from its result after it", async () => {
    const trail = track(await openTrail({ databaseUrl: db.url() }));
    const seen: string[][] = [];
    const result = await auditRun(
      trail,
      run("gh-7-1"),
      async () => {
        seen.push((await rowsOf("gh-7-1")).map((r) => r.phase));
        return deployReport;
      },
      endFromDeploy,
    );
    expect(result).toBe(deployReport);
    expect(seen).toEqual([["started"]]);
    expect(await rowsOf("gh-7-1")).toEqual([
      { phase: "started", outcome: "unknown" },
      { phase: "completed", outcome: "succeeded" },
    ]);
  });

  it("records a thrown error as failed with its first line, and rethrows it", async () => {
    const trail = track(await openTrail({ databaseUrl: db.url() }));
    const boom = new Problem("deploying to production needs approval", "approve the deploy");
    await expect(auditRun(trail, run("gh-8-1"), () => Promise.reject(boom), endFromDeploy)).rejects.toBe(boom);
    const [, done] = parseJsonl(trail.jsonl());
    expect(done).toMatchObject({ phase: "completed", outcome: "failed", reason: "deploying to production needs approval" });
  });

  it("never starts the work when a required 'started' record cannot be stored", async () => {
    const proxy = await proxyToPostgres();
    const trail = track(await openTrail({ databaseUrl: db.url({ port: proxy.port }), required: true }));
    await proxy.close();
    let ran = false;
    await expect(
      auditRun(
        trail,
        run("gh-9-1"),
        async () => {
          ran = true;
          return deployReport;
        },
        endFromDeploy,
      ),
    ).rejects.toThrow(/the deploy was refused/);
    expect(ran).toBe(false);
  });

  it("never loses the work's result to the trail: long reasons are cut to one line, a bad ending is recorded as unknown", async () => {
    const trail = track(await openTrail());
    const long = { ...deployReport, result: "failed", reason: `${"x".repeat(5000)}\nsecond line` };
    expect(await auditRun(trail, run("gh-11-1"), async () => long, endFromDeploy)).toBe(long);
    const broken = () => {
      throw new Error("report without a result");
    };
    expect(await auditRun(trail, run("gh-12-1"), async () => deployReport, broken)).toBe(deployReport);
    const [, first, , second] = parseJsonl(trail.jsonl());
    expect(first?.reason).toHaveLength(1000);
    expect(first?.reason?.endsWith("...")).toBe(true);
    expect(second).toMatchObject({
      runId: "gh-12-1",
      outcome: "unknown",
      reason: "the result could not be recorded: report without a result",
    });
  });

  it("a completed record for a started one keeps the start time from the first record", () => {
    const started = startRecord(run("gh-10-1"), { now: () => Date.parse("2026-11-20T10:00:00Z") });
    const done = completeRecord(started, endFromDeploy(deployReport), { now: () => Date.parse("2026-11-20T10:07:00Z") });
    expect([done.startedAt, done.endedAt]).toEqual(["2026-11-20T10:00:00.000Z", "2026-11-20T10:07:00.000Z"]);
  });
});
