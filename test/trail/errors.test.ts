import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import { parseTarget, scrubSecrets } from "../../deploy/lib/trail/pg-errors.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { PG_HOST } from "../helpers/pg.js";
import { admin, closedPort, freshDatabase, hangsAfterLoginServer, silentServer, wrongPasswordServer, type FreshDb } from "./db.js";

// Special characters on purpose: the URL-encoded and the raw spelling must both stay out of messages.
const PASSWORD = "s3cr3t/Pa55:w@rd%";
const ENCODED = encodeURIComponent(PASSWORD);

let db: FreshDb;
const roles: string[] = [];

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  await db?.drop();
  for (const role of roles) await admin("postgres", (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
});

/** Opens, expecting a Problem; returns it with how long the failure took. */
async function failure(url: string, timeouts?: Parameters<typeof PostgresTrail.open>[1]): Promise<{ problem: Problem; ms: number }> {
  const t0 = Date.now();
  const outcome = await PostgresTrail.open(url, timeouts).then(
    async (t) => {
      await t.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  const ms = Date.now() - t0;
  expect(outcome).toBeInstanceOf(Problem);
  const problem = outcome as Problem;
  for (const text of [problem.message, problem.cause_, problem.hint, String(problem.stack)]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(ENCODED);
  }
  return { problem, ms };
}

describe("Postgres trail failures are Problems, bounded in time, without the password", () => {
  it("a port nobody listens on: refused at once", async () => {
    const port = await closedPort();
    const { problem, ms } = await failure(`postgres://deployer:${ENCODED}@127.0.0.1:${port}/audit`);
    expect(problem.cause_).toBe(
      `audit database postgres://deployer@127.0.0.1:${port}/audit refused the connection while connecting (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
    expect(problem.hint).toMatch(/check the host and port/);
    expect(ms).toBeLessThan(2_000);
  });

  it("a role that does not exist: 28000 with the server's words", async () => {
    const { problem } = await failure(db.url({ user: "no_such_deployer", password: PASSWORD }));
    expect(problem.cause_).toMatch(/refused user no_such_deployer while connecting \(role "no_such_deployer" does not exist\)$/);
    expect(problem.hint).toMatch(/CREATE ROLE/);
  });

  it("a database that does not exist: 3D000 and how to create it", async () => {
    const { problem } = await failure(db.url({ password: PASSWORD, database: "no_such_audit_db" }));
    expect(problem.cause_).toMatch(/database no_such_audit_db does not exist \(database "no_such_audit_db" does not exist\)$/);
    expect(problem.hint).toBe('create it once (CREATE DATABASE "no_such_audit_db"); Shipshape creates its own tables but not the database');
  });

  it("a role that may not create tables: 42501 while migrating, and nothing half-applied", async () => {
    const role = `shipshape_ro_${db.name.slice(-6)}`;
    roles.push(role);
    await admin("postgres", (c) => c.query(`CREATE ROLE ${role} LOGIN`));
    await admin(db.name, (c) => c.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`));
    const { problem } = await failure(db.url({ user: role, password: PASSWORD }));
    expect(problem.cause_).toMatch(
      new RegExp(`permission denied for user ${role} while migrating the audit schema \\(permission denied for schema public\\)`),
    );
    expect(problem.hint).toMatch(/grant the user CREATE/);
    const tables = await admin(db.name, (c) => c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"));
    expect(tables.rows).toEqual([]);
  });

  it("a wrong password (28P01, as Postgres words it) names the user, never the password", async () => {
    const server = await wrongPasswordServer("deployer");
    try {
      const { problem } = await failure(`postgres://deployer:${ENCODED}@127.0.0.1:${server.port}/audit`);
      expect(problem.cause_).toBe(
        `audit database postgres://deployer@127.0.0.1:${server.port}/audit refused the password for user deployer while connecting (password authentication failed for user "deployer")`,
      );
      expect(problem.hint).toBe("check the user and password in the database URL secret");
      // The client really sent the password (as a PasswordMessage), so the scrubbing had something to hide.
      expect(Buffer.concat(server.received).toString("utf8")).toContain(PASSWORD);
    } finally {
      await server.close();
    }
  });

  it("a server that accepts and never answers: bounded by the connect timeout", async () => {
    const server = await silentServer();
    try {
      const { problem, ms } = await failure(`postgres://deployer:${ENCODED}@127.0.0.1:${server.port}/audit`, {
        timeouts: { connectTimeoutMs: 800 },
      });
      expect(problem.cause_).toBe(
        `audit database postgres://deployer@127.0.0.1:${server.port}/audit did not answer within 0.8s while connecting`,
      );
      expect(ms).toBeGreaterThanOrEqual(750);
      expect(ms).toBeLessThan(3_500);
      expect(server.received.length).toBeGreaterThan(0); // the startup message went out and was ignored
    } finally {
      await server.close();
    }
  });

  it("a server that logs in and then hangs: bounded by the query timeout", async () => {
    const server = await hangsAfterLoginServer();
    try {
      const { problem, ms } = await failure(`postgres://deployer:${ENCODED}@127.0.0.1:${server.port}/audit`, {
        timeouts: { connectTimeoutMs: 5_000, queryTimeoutMs: 600 },
      });
      expect(problem.cause_).toBe(
        `audit database postgres://deployer@127.0.0.1:${server.port}/audit stopped answering: no reply within 0.6s while migrating the audit schema`,
      );
      expect(ms).toBeLessThan(5_000);
    } finally {
      await server.close();
    }
  });

  it("a URL that is not a postgres URL is refused without echoing it", async () => {
    for (const [url, cause] of [
      [`mysql://deployer:${ENCODED}@${PG_HOST}/audit`, "the audit database URL does not start with postgres://"],
      [`deployer:${PASSWORD} at ${PG_HOST}`, "the audit database URL does not start with postgres://"],
      [`${PASSWORD} ${PG_HOST}`, "the audit database URL is not a URL"],
    ] as const) {
      const { problem } = await failure(url);
      expect(problem.cause_).toBe(cause);
    }
  });
});

describe("URL handling", () => {
  it("reads user, host, port and database; keeps both spellings of the password for scrubbing", () => {
    expect(parseTarget(`postgresql://deployer:${ENCODED}@db.internal:6543/audit?sslmode=require`)).toEqual({
      user: "deployer",
      host: "db.internal",
      port: 6543,
      database: "audit",
      secrets: [ENCODED, PASSWORD],
    });
  });

  it("scrubs the password and URL credentials out of any message, on one line", () => {
    const target = parseTarget(`postgres://deployer:${ENCODED}@db:5432/audit`);
    expect(scrubSecrets(`failed for ${PASSWORD} via postgres://deployer:${ENCODED}@db:5432/audit\nsecond line`, target)).toBe(
      "failed for *** via postgres://deployer:***@db:5432/audit",
    );
    expect(scrubSecrets("postgres://someone:other-secret@host/db", { secrets: [] })).toBe("postgres://someone:***@host/db");
  });
});
