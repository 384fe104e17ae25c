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
import { git } from "../helpers/git-repo.js";

const GHSA = PG_PROTOCOL_GHSA;
const ADVISORY = PG_PROTOCOL_ADVISORY;
let registry: AdvisoryServer;
let d: Driven | undefined;

beforeAll(async () => {
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

  it("does not serve a report to the next run: an ERROR report is judged again by the next dagger call", async () => {
    d = await drive();
    // Postgres that never becomes ready: the engine fails the exec (not cached), the report says ERROR.
    d.engine.failOn("withServiceBinding", "start db: health check errored: exit code 2");
    expect((await d.call<GateReport>("testReport")).json.status).toBe("Error");
    await d.call<GateReport>("testReport");
    // A new `dagger call` runs the function again ("session" policy), instead of a week-old ERROR.
    expect(d.harness.ran("testReport")).toBe(2);
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
    await d.call("audit");
    registry.setAdvisories({ "pg-protocol": [ADVISORY] });
    // Within the TTL the engine answers from its cache, as it would for a real run.
    await d.call("audit");
    d.harness.advance("25h");
    await expect(d.call("audit")).rejects.toThrow(/1 high vulnerability at or above "high" \(pg-protocol\)/);
    expect(d.harness.ran("audit")).toBe(2);
  });

  it("judges an ignore entry's expiry on the day it runs, not the day it was cached", async () => {
    registry.setAdvisories({ "pg-protocol": [ADVISORY] });
    vi.useFakeTimers({ now: new Date("2027-03-30T12:00:00Z"), toFake: ["Date"] });
    const yaml = `gates:\n  audit:\n    ignore:\n      - id: ${GHSA}\n        reason: bounded by our proxy\n        expires: "2027-03-31"\n`;
    d = await drive({ files: { "shipshape.yaml": yaml }, env: { npm_config_registry: registry.url } });
    await d.call("audit");
    vi.setSystemTime(new Date("2027-04-02T12:00:00Z"));
    d.harness.advance("48h");
    await expect(d.call("audit")).rejects.toThrow(/expired/);
  });
});
