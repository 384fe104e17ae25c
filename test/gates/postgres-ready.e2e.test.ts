/**
 * Breakage 5 of issue #10: the test gate's Postgres must be ready when the tests start, under the
 * engine's service rules (harness/services.ts): a bound service starts with the exec that binds
 * it, is handed over when its health check passes, and stops 10s after its last exec.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GateReport } from "../../src/report/gate-report.js";
import { drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { ensureDatabase } from "../helpers/pg.js";

let current: Driven | undefined;
beforeAll(() => ensureDatabase("app_test"));
afterEach(() => current?.engine.uninstall());

const testRun = (d: Driven) => d.engine.execs.filter((e) => e.args[0] === "timeout").at(-1)!;

describe("Postgres readiness", () => {
  it("the tests start only once Postgres accepts TCP, however long its init takes", async () => {
    current = await drive();
    current.engine.services.startupMs = 2_500; // initdb on a busy runner
    const report = (await current.call<GateReport>("test")).json;
    expect(report.status).toBe("Passed");
    expect(testRun(current).servicesUp).toEqual({ db: true });
  });

  it("a re-run after a cancelled test run, once the service has stopped, still waits for Postgres", async () => {
    current = await drive();
    const { engine } = current;
    engine.services.graceMs = 100;
    engine.services.startupMs = 2_500;
    // The first test run is cancelled (runner killed, job cancelled): an engine error, so that
    // exec is not cached, while every exec that finished before it is.
    let cancelled = false;
    engine.onExec(
      (a) => a[0] === "timeout" && !cancelled,
      () => {
        cancelled = true;
        throw new Error("context canceled");
      },
    );
    expect((await gateError(current.call<GateReport>("test"))).status).toBe("ERROR");
    await new Promise((r) => setTimeout(r, 300)); // past the grace period: Postgres is stopped
    engine.newClient();
    // A cancelled `dagger call` never returns, so the engine caches no result for it; here the
    // cancellation is one failed exec inside a call that then failed as an ERROR, and a failed call
    // is not cached either: the next call runs the gate again, with no prune.
    const report = (await current.call<GateReport>("test")).json;
    expect(current.harness.ran("test")).toBe(2);
    expect(testRun(current).servicesUp).toEqual({ db: true });
    expect(report.status).toBe("Passed");
  });
});
