/**
 * The real Postgres the fixture's tests run against when a gate is driven on the host: this
 * machine's (127.0.0.1), or, when this suite itself runs inside Shipshape's test gate (dogfood),
 * the service that gate binds as `db` (it exports PGHOST=db).
 */
import pg from "pg";

export const PG_HOST = process.env.PGHOST || "127.0.0.1";

export async function ensureDatabase(name: string): Promise<void> {
  const client = new pg.Client({
    host: PG_HOST,
    user: process.env.PGUSER || "postgres",
    database: "postgres",
    connectionTimeoutMillis: 10_000,
  });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(`Postgres is not reachable at ${PG_HOST}:5432 (${(e as Error).message}): start it, or set PGHOST`, { cause: e });
  }
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`);
  } finally {
    await client.end();
  }
}
