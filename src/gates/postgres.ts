/** The throwaway Postgres the test gate binds as host `db`. */
import { dag, type Service } from "@dagger.io/dagger";
import { imageRef } from "../images.js";
import type { Project } from "../project/load.js";

export const DB_HOST = "db";
export const DB_PORT = 5432;

/**
 * Trust auth: the database lives only for this run and is reachable only from the test
 * container, so there is no credential to leak and none to pass as a Secret.
 * The engine's own health check is skipped because a Postgres that never comes up would hang it
 * for ~15 minutes (dagger#11443); the gate waits with its own bounded TCP check instead.
 */
export function postgresService(project: Project): Service {
  const db = project.config.database;
  return dag
    .container()
    .from(imageRef("postgres", project.config.images.postgres, `${db.version}-alpine`))
    .withEnvVariable("POSTGRES_HOST_AUTH_METHOD", "trust")
    .withEnvVariable("POSTGRES_DB", db.name)
    .withExposedPort(DB_PORT, { experimentalSkipHealthcheck: true })
    .asService({ useEntrypoint: true });
}

export function databaseEnv(name: string, host = DB_HOST, port = DB_PORT): Record<string, string> {
  return {
    DATABASE_URL: `postgres://postgres@${host}:${port}/${name}`,
    PGHOST: host,
    PGPORT: String(port),
    PGUSER: "postgres",
    PGDATABASE: name,
  };
}
