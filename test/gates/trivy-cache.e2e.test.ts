/**
 * Breakage 4 of issue #10: Trivy's cache under the engine's rules. The fake trivy (harness/fake-trivy.ts)
 * locks and reads its cache as Trivy v0.74.0 does; the stub keeps cache volumes as v0.21.8 does
 * (contents outside the exec cache, SHARED without a lock).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fakeTrivy } from "../harness/fake-trivy.js";
import { FIXTURES } from "../helpers/fixture.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { drive, type Driven } from "../helpers/drive.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const fixture = (p: string) => readFileSync(join(FIXTURES, p), "utf8");

async function withFakeTrivy() {
  current = await drive();
  const events = fakeTrivy(current.engine, {
    report: (ctx) => fixture(ctx.args[1] === "fs" ? "supply/trivy/npm.json" : "supply/trivy/alpine-39.json"),
  });
  return { ...current, events };
}

describe("Trivy's cache", () => {
  it("scan-image and scan-dependencies at once, as dagger check runs them, both scan", async () => {
    const { call, events } = await withFakeTrivy();
    const [image, deps] = await Promise.all([call<GateReport>("scanImage"), call<GateReport>("scanDependencies")]);
    expect(events.filter((e) => e.kind === "failed")).toEqual([]);
    expect(image.json.cause).not.toMatch(/trivy could not scan/);
    expect(image.json.status).toBe("Failed"); // the report's two CRITICAL findings: it did scan
    expect(deps.json.status).toBe("Passed");
    // One DB download serves both: the same recipe is one exec.
    expect(events.filter((e) => e.kind === "download")).toHaveLength(1);
  });

  it("two image scans at once (one per platform) both scan", async () => {
    const { call, events } = await withFakeTrivy();
    const reports = await Promise.all(["linux/amd64", "linux/arm64"].map((platform) => call<GateReport>("scanImage", { platform })));
    expect(events.filter((e) => e.kind === "failed")).toEqual([]);
    expect(reports.map((r) => r.json.status)).toEqual(["Failed", "Failed"]);
  });

  it("a pruned cache behind a replayed DB download still scans", async () => {
    const { call, engine, root, events } = await withFakeTrivy();
    expect((await call<GateReport>("scanDependencies")).json.status).toBe("Passed");
    // The engine GCs or prunes its cache volumes; the DB download exec stays in the exec cache.
    engine.volumes.prune();
    engine.newClient();
    // The change is in the source, so the function call (keyed on it) and the scan itself run again.
    writeFileSync(join(root, "CHANGELOG.md"), "a change, so the scan itself must run again\n");
    const again = (await call<GateReport>("scanDependencies")).json;
    expect(events.filter((e) => e.kind === "download")).toHaveLength(1); // replayed, not re-run
    expect(events.filter((e) => e.kind === "failed")).toEqual([]);
    expect(again.status).toBe("Passed");
  });
});
