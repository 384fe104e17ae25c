/**
 * The engine's function cache against Shipshape's policies (issue #10, breakages 2 and 3): a call
 * with the same parent and arguments is answered from the cache until its TTL ends (7 days by
 * default, docs "Function caching"), so a gate that reads a network database or judges expiry
 * against the clock must re-run within a day, and the source must not carry .git (a commit would
 * otherwise be a new source and re-run every pure gate).
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { GateReport } from "../../src/report/gate-report.js";
import {
  PG_PROTOCOL_ADVISORY,
  PG_PROTOCOL_GHSA,
  PG_PROTOCOL_VERSIONS,
  startAdvisoryServer,
  type AdvisoryServer,
} from "../helpers/advisory-server.js";
import { drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { git } from "../helpers/git-repo.js";
import { ensureDatabase } from "../helpers/pg.js";

const GHSA = PG_PROTOCOL_GHSA;
const ADVISORY = PG_PROTOCOL_ADVISORY;
let registry: AdvisoryServer;
let d: Driven | undefined;

beforeAll(async () => {
  await ensureDatabase("app_test");
  registry = await startAdvisoryServer({ advisories: {}, versions: PG_PROTOCOL_VERSIONS });
});
afterAll(() => registry.close());
afterEach(() => {
  d?.engine.uninstall();
  vi.useRealTimers();
});

describe("function cache", () => {
  it("answers a pure gate from the cache on the same source and re-runs it after an edit", async () => {
    d = await drive();
    await d.call("lint");
    await d.call("lint");
    expect(d.harness.ran("lint")).toBe(1);
    appendFileSync(join(d.root, "src/app.ts"), "\nexport const edited = 1;\n");
    await d.call("lint");
    expect(d.harness.ran("lint")).toBe(2);
  });

  it("does not serve an ERROR to the next run: the gate fails its call, and the next dagger call judges again", async () => {
    d = await drive();
    // Postgres that never becomes ready: the engine fails the exec (not cached), the gate says ERROR.
    d.engine.failOn("withServiceBinding", "start db: health check errored: exit code 2");
    expect((await gateError(d.call<GateReport>("test"))).status).toBe("ERROR");
    await gateError(d.call<GateReport>("test"));
    // A failed call is never cached: the function runs again, instead of a week-old ERROR.
    expect(d.harness.ran("test")).toBe(2);
  });

  it("serves a FAILED report from the cache on the same source: the verdict of a pure gate is the source's", async () => {
    d = await drive({ variant: "lint-error" });
    const first = await d.call<GateReport>("lint");
    expect(first.json.status).toBe("Failed");
    const second = await d.call<GateReport>("lint");
    expect(second.json).toEqual(first.json);
    expect(d.harness.ran("lint")).toBe(1);
    // `dagger call lint` on the cached report still fails the job, with the table row.
    await expect(d.cli("lint")).rejects.toThrow(/^lint\s+FAILED\s+\S+\s+1 error, 1 warning \(eslint, max 0 warnings\)/m);
    expect(d.harness.ran("lint")).toBe(1);
  });

  it("runs an ERROR again on the next call: a Postgres that was never ready is not served from the cache", async () => {
    d = await drive({ files: { "shipshape.yaml": "database:\n  readyTimeoutSeconds: 5\n" } });
    let ready = false;
    d.engine.onExec((a) => a[0] === "pg_isready" && !ready, { exitCode: 2, stdout: "127.0.0.1:5432 - no response" });
    const err = await gateError(d.call<GateReport>("test"));
    expect([err.gate, err.status, err.cause]).toEqual(["test", "ERROR", "Postgres never became ready at db:5432 within 5s"]);
    // Postgres is up by the next run: the same call, on the same source, runs and passes.
    ready = true;
    const report = (await d.call<GateReport>("test")).json;
    expect(report.status).toBe("Passed");
    expect(d.harness.ran("test")).toBe(2);
    // ...and that PASSED report is what the cache serves from now on.
    await d.call<GateReport>("test");
    expect(d.harness.ran("test")).toBe(2);
  });

  it("dagger call lint fails with the table row; the report's fields read without failing", async () => {
    d = await drive({ variant: "lint-error" });
    const err = await gateError(d.cli("lint"));
    expect([err.gate, err.status]).toEqual(["lint", "FAILED"]);
    expect(err.cause).toBe("1 error, 1 warning (eslint, max 0 warnings); formatted (prettier)");
    expect(err.message).toContain("1 of 1 gates did not pass");
    // `dagger call lint summary` (a field of the returned state), `... lint passed`, `... lint files`: the report, no failure.
    const report = await d.call<GateReport>("lint");
    expect(report.type).toBe("GateReport");
    expect(report.get("summary")).toBe(err.cause);
    expect(report.json.status).toBe("Failed");
    expect((await report.call<boolean>("passed")).json).toBe(false);
    expect((await report.call<string>("markdown")).json).toMatch(/lint/);
    expect(await (await report.directory("files")).entries()).toContain("lint.sarif");
    // A passing lint's CLI call returns the report itself.
    d.engine.uninstall();
    d = await drive();
    const passed = await d.cli<GateReport>("lint");
    expect(passed.type).toBe("GateReport");
    expect(passed.json.status).toBe("Passed");
  });

  it("does not re-run pure gates for a commit: .git is not part of the source", async () => {
    d = await drive();
    git(d.root, "init", "-q", "-b", "main");
    git(d.root, "add", "-A");
    git(d.root, "commit", "-qm", "feat: service");
    await d.call("lint");
    git(d.root, "commit", "-q", "--allow-empty", "-m", "chore: nothing in the tree");
    await d.call("lint");
    expect(d.harness.ran("lint")).toBe(1);
  });

  it("re-runs the audit within a day, so a new advisory is seen", async () => {
    d = await drive({ env: { npm_config_registry: registry.url } });
    await d.cli("audit");
    registry.setAdvisories({ "pg-protocol": [ADVISORY] });
    // Within the TTL the engine answers from its cache, as it would for a real run.
    await d.cli("audit");
    d.harness.advance("25h");
    // `dagger call audit` fails once the re-run audit is FAILED.
    await expect(d.cli("audit")).rejects.toThrow(/1 high, .* — blocking: GHSA-x4jg-mjrx-434g in pg-protocol/);
    expect(d.harness.ran("audit")).toBe(2);
  });

  it("judges an ignore entry's expiry on the day it runs, not the day it was cached", async () => {
    registry.setAdvisories({ "pg-protocol": [ADVISORY] });
    vi.useFakeTimers({ now: new Date("2027-03-30T12:00:00Z"), toFake: ["Date"] });
    const yaml = `gates:\n  audit:\n    ignore:\n      - id: ${GHSA}\n        reason: bounded by our proxy\n        expires: "2027-03-31"\n`;
    d = await drive({ files: { "shipshape.yaml": yaml }, env: { npm_config_registry: registry.url } });
    await d.cli("audit");
    vi.setSystemTime(new Date("2027-04-02T12:00:00Z"));
    d.harness.advance("48h");
    await expect(d.cli("audit")).rejects.toThrow(/expired/);
  });
});
