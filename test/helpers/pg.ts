/** The machine's real Postgres, where the fixture's tests run when a gate is driven on the host. */
import { spawnSync } from "node:child_process";

export const PG_HOST = process.env.PGHOST_TEST ?? "127.0.0.1";

export function ensureDatabase(name: string): void {
  const q = spawnSync("psql", ["-h", PG_HOST, "-U", "postgres", "-tAc", `SELECT 1 FROM pg_database WHERE datname='${name}'`], { encoding: "utf8" });
  if (q.status !== 0) throw new Error(`Postgres is not reachable at ${PG_HOST}:5432: ${q.stderr.trim()}`);
  if (q.stdout.trim() !== "1") {
    const c = spawnSync("createdb", ["-h", PG_HOST, "-U", "postgres", name], { encoding: "utf8" });
    if (c.status !== 0) throw new Error(`createdb ${name} failed: ${c.stderr.trim()}`);
  }
}
