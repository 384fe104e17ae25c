/** Bound services in the stub: started per exec that binds them, ready by their health check, stopped after the grace period. */
import { dag, ExecError } from "@dagger.io/dagger";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StubEngine } from "./stub-engine.js";

let engine: StubEngine;
beforeEach(async () => {
  engine = await new StubEngine().install();
  engine.services.startupMs = 200;
  engine.services.graceMs = 50;
});
afterEach(() => engine.uninstall());

const db = (opts: { skip?: boolean; healthcheck?: boolean } = {}) => {
  let ctr = dag
    .container()
    .from("postgres:16-alpine")
    .withExposedPort(5432, { experimentalSkipHealthcheck: opts.skip ?? false });
  if (opts.healthcheck)
    ctr = ctr.withDockerHealthcheck(["pg_isready", "-h", "127.0.0.1"], { startInterval: "50ms", startPeriod: "1s", retries: 2 });
  return ctr.asService();
};
const client = (svc: ReturnType<typeof db>, cmd = "psql") => dag.container().from("alpine").withServiceBinding("db", svc).withExec([cmd]);
const events = () => engine.services.log.map((l) => l.event);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("bound services", () => {
  it("starts only when an exec that binds it runs; a replayed exec starts nothing", async () => {
    await client(db()).id();
    expect(events()).toEqual([]);
    await client(db()).sync();
    expect(events()).toEqual(["start", "healthy"]);
    await sleep(120);
    expect(events()).toEqual(["start", "healthy", "stop"]);
    await client(db()).sync(); // same recipe: replayed from the exec cache
    expect(events()).toEqual(["start", "healthy", "stop"]);
  });

  it("with the port check skipped, the exec starts before the server accepts TCP", async () => {
    await client(db({ skip: true })).sync();
    expect(engine.execs[0]!.servicesUp).toEqual({ db: false });
  });

  it("the port check holds the exec until the port answers", async () => {
    await client(db()).sync();
    expect(engine.execs[0]!.servicesUp).toEqual({ db: true });
  });

  it("a HEALTHCHECK holds the exec until it passes, run in the service against its own 127.0.0.1", async () => {
    const seen: string[] = [];
    let n = 0;
    engine.onExec(
      (a) => a[0] === "pg_isready",
      (ctx) => {
        seen.push(ctx.serviceHosts["127.0.0.1"] ?? "");
        return { exitCode: n++ < 2 ? 2 : 0 };
      },
    );
    await client(db({ skip: true, healthcheck: true })).sync();
    expect(n).toBe(3);
    expect(seen[0]).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(seen[0]).not.toBe("127.0.0.1");
    expect(engine.commands).toEqual([["psql"]]);
  });

  it("stays up for the grace period: a second exec soon after joins it, one after it starts it again", async () => {
    await client(db(), "first").sync();
    await client(db(), "second").sync();
    expect(events().filter((e) => e === "start")).toHaveLength(1);
    await sleep(150);
    await client(db(), "third").sync();
    expect(events().filter((e) => e === "start")).toHaveLength(2);
  });

  it("a failing HEALTHCHECK fails the exec with the engine's error, after StartPeriod and Retries", async () => {
    engine.onExec((a) => a[0] === "pg_isready", { exitCode: 2, stdout: "127.0.0.1:5432 - no response" });
    const started = Date.now();
    const err = await client(db({ healthcheck: true }))
      .sync()
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).message).toMatch(/^start \S+ \(\[db\]\): health check errored: process "pg_isready -h 127\.0\.0\.1"/);
    expect((err as ExecError).cmd).toEqual(["pg_isready", "-h", "127.0.0.1"]);
    expect(engine.commands).toEqual([]);
  });
});
