/**
 * Shipshape's CI is `dagger call ci` on this repository. Its lint and typecheck gates run here on
 * the repository itself, through the function code, so that job cannot go red on them unnoticed.
 * (The test gate would run this very suite again; it runs in the real engine in GitHub Actions.)
 */
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { GateReport } from "../../src/report/gate-report.js";
import { drive, type Driven } from "../helpers/drive.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

describe("Shipshape on itself", () => {
  it("passes its own lint gate (ESLint with zero warnings, Prettier)", async () => {
    current = await drive({ root: REPO });
    const report = (await current.call<GateReport>("lint")).json;
    expect(report.findings).toEqual([]);
    expect(report.summary).toBe("0 errors, 0 warnings (eslint, max 0 warnings); formatted (prettier)");
  });

  it("passes its own typecheck gate", async () => {
    current = await drive({ root: REPO });
    const report = (await current.call<GateReport>("typecheck")).json;
    expect(report.findings).toEqual([]);
    expect(report.status).toBe("Passed");
  });

  it("has a valid shipshape.yaml that installs git for the history tests", async () => {
    current = await drive({ root: REPO });
    expect((await current.call<string>("config")).json).toMatch(/systemPackages:\n\s+- git/);
  });
});
