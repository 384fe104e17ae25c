/** The throwaway Postgres the test gate binds as host `db`. */
import { dag, type Service } from "@dagger.io/dagger";
import { imageRef } from "../../deploy/lib/images.js";
import type { Project } from "../../deploy/lib/project/load.js";

export const DB_HOST = "db";
export const DB_PORT = 5432;

/** The health check: over TCP, since the image's init server listens on the unix socket only. */
export function readinessCommand(name: string): string[] {
  return ["pg_isready", "-h", "127.0.0.1", "-p", String(DB_PORT), "-U", "postgres", "-d", name];
}

/**
 * Trust auth: the database lives only for this run and is reachable only from the test
 * container, so there is no credential to leak and none to pass as a Secret.
 *
 * Readiness is the engine's own: it starts the service for each exec that binds it and runs that
 * exec once the HEALTHCHECK passes (core/service.go start, core/healthcheck.go). A separate wait
 * exec proved nothing for the next one: the service only outlives an exec by the detach grace
 * period (10s, core/services.go), and a wait replayed from the exec cache starts no service at all.
 * `pg_isready -h 127.0.0.1`: without -h it asks the unix socket, where the entrypoint's temporary
 * init server already answers. The check runs every second (StartInterval) and gives up at the
 * readyTimeoutSeconds-th failure (Retries), so a Postgres that never comes up fails in about that
 * time instead of hanging; the failure reaches the exec as "health check errored".
 */
export function postgresService(project: Project): Service {
  const db = project.config.database;
  return dag
    .container()
    .from(imageRef("postgres", project.config.images.postgres, `${db.version}-alpine`))
    .withEnvVariable("POSTGRES_HOST_AUTH_METHOD", "trust")
    .withEnvVariable("POSTGRES_DB", db.name)
    .withExposedPort(DB_PORT)
    .withDockerHealthcheck(readinessCommand(db.name), {
      interval: "1s",
      startInterval: "1s",
      // No `timeout`: engine v0.21.8 does not apply it (core/healthcheck.go); pg_isready's own
      // connection timeout (3s by default) bounds each check.
      retries: db.readyTimeoutSeconds,
    })
    .asService({ useEntrypoint: true });
}

/**
 * True when an exec failed because its bound database never became healthy, not because of its
 * command: the engine reports `start <hostname> ([db]): health check errored: ...`
 * (core/services.go StartBindings), possibly inside further context.
 */
export function isDatabaseStartFailure(e: unknown): boolean {
  const message = e instanceof Error ? e.message : String(e);
  return new RegExp(`start \\S+ \\(\\[${DB_HOST}\\]\\): `).test(message) && /health ?check|exited before/.test(message);
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

/** What the test exec waits for before its first test, for waitingFor in the test gate. */
export function databaseWaitLabel(project: Project): string {
  const db = project.config.database;
  return `Postgres ${db.version} at ${DB_HOST}:${DB_PORT} to pass pg_isready (up to ${db.readyTimeoutSeconds}s), then the tests`;
}
