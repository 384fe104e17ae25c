/**
 * Turns whatever `pg` or the network throws into a Problem a user can act on. The database URL
 * is a Secret: the password never appears in a cause or hint, and the target is always shown
 * as postgres://user@host:port/database.
 */
import { Problem } from "../../src/project/problem.js";

export interface PgTarget {
  user: string;
  host: string;
  port: number;
  database: string;
  /** Every spelling of the password that could show up in a message (raw and URL-encoded). */
  secrets: string[];
}

export interface PgTimeouts {
  /** TCP connect plus startup and authentication. */
  connectTimeoutMs: number;
  /** Server-side bound per statement (statement_timeout, lock_timeout). */
  statementTimeoutMs: number;
  /** Client-side bound per query, for a server that stopped answering altogether. */
  queryTimeoutMs: number;
}

/** Below the statement bound, so a wait for a lock is reported as such rather than as a slow statement. */
export const lockTimeoutMs = (t: PgTimeouts): number => Math.max(1, Math.floor(t.statementTimeoutMs * 0.8));

/** Reads the URL without ever echoing it: a typo in a Secret must not print the Secret. */
export function parseTarget(url: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Problem("the audit database URL is not a URL", "give a URL like postgres://user:password@host:5432/database");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    // Not even the scheme is echoed: a pasted "user:password" parses as scheme "user:".
    throw new Problem(
      "the audit database URL does not start with postgres://",
      "give a URL like postgres://user:password@host:5432/database",
    );
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const password = parsed.password;
  const user = decode(parsed.username) || process.env.PGUSER || "postgres";
  return {
    user,
    host: parsed.hostname || "localhost",
    port: Number(parsed.port || 5432),
    database: decode(parsed.pathname.slice(1)) || user,
    secrets: password === "" ? [] : [...new Set([password, decode(password)])].filter((s) => s.length > 0),
  };
}

export const describeTarget = (t: PgTarget): string => `postgres://${t.user}@${t.host}:${t.port}/${t.database}`;

/** Removes the password and any URL credentials from a message, and keeps it to one bounded line. */
export function scrubSecrets(message: string, target: Pick<PgTarget, "secrets">): string {
  let out = message.split("\n")[0] ?? "";
  for (const secret of [...target.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join("***");
  return out.replace(/(\w+:\/\/[^:/@\s]*):[^@\s]*@/g, "$1:***@").slice(0, 300);
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;

/** Maps one failure to a Problem; `doing` says what Shipshape was doing ("connecting", "writing a record"). */
export function pgProblem(e: unknown, target: PgTarget, timeouts: PgTimeouts, doing: string): Problem {
  if (e instanceof Problem) return e;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === "string" ? err.code : "";
  const said = scrubSecrets(typeof err.message === "string" ? err.message : String(e), target);
  const at = describeTarget(target);
  const where = `audit database ${at}`;
  switch (code) {
    case "ECONNREFUSED":
      return new Problem(
        `${where} refused the connection while ${doing} (${said})`,
        "check the host and port in the database URL, and that Postgres is running and reachable from the pipeline",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new Problem(`${where}: host ${target.host} was not found while ${doing} (${said})`, "check the host in the database URL");
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new Problem(
        `${where} is unreachable while ${doing} (${said})`,
        "check the host and port, and the network path from the pipeline",
      );
    case "28P01":
      return new Problem(
        `${where} refused the password for user ${target.user} while ${doing} (${said})`,
        "check the user and password in the database URL secret",
      );
    case "28000":
      return new Problem(
        `${where} refused user ${target.user} while ${doing} (${said})`,
        `create the role ${target.user} (CREATE ROLE ... LOGIN), fix the user in the URL, or allow it in pg_hba.conf`,
      );
    case "3D000":
      return new Problem(
        `${where}: database ${target.database} does not exist (${said})`,
        `create it once (CREATE DATABASE "${target.database}"); Shipshape creates its own tables but not the database`,
      );
    case "42501":
      return new Problem(
        `${where}: permission denied for user ${target.user} while ${doing} (${said})`,
        "grant the user CREATE on the schema for migrations and INSERT, SELECT on deployment_audit (see docs/AUDIT.md)",
      );
    case "57014":
      return new Problem(
        `${where} cancelled a statement after ${seconds(timeouts.statementTimeoutMs)} while ${doing} (${said})`,
        "the server is overloaded or a lock is held; rerun, or raise statementTimeoutMs",
      );
    case "55P03":
      return new Problem(
        `${where} waited more than ${seconds(lockTimeoutMs(timeouts))} for a lock while ${doing} (${said})`,
        "another session holds a lock on the audit tables (a migration in progress?); rerun",
      );
  }
  if (said === "timeout expired") {
    return new Problem(
      `${where} did not answer within ${seconds(timeouts.connectTimeoutMs)} while ${doing}`,
      "check the host and port (a firewall dropping packets, or something other than Postgres listening, looks like this)",
    );
  }
  if (said === "Query read timeout") {
    return new Problem(
      `${where} stopped answering: no reply within ${seconds(timeouts.queryTimeoutMs)} while ${doing}`,
      "check the server's health and load; the connection was dropped",
    );
  }
  if (/^Connection terminated/.test(said)) {
    return new Problem(
      `${where} closed the connection while ${doing} (${said})`,
      "check the server's log: it may have restarted, or refused this client (TLS required?)",
    );
  }
  return new Problem(
    `${where} failed while ${doing}: ${code ? `${code} ` : ""}${said}`,
    "check the database URL secret and the server's log",
  );
}
