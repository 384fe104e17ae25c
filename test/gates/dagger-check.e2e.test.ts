/**
 * `dagger check` as the engine runs it (core/modtree.go): each check is called bare, and a check
 * that returns an object with `sync` passes only when that sync does. A gate returns its report,
 * and the report's sync fails exactly when the gate did: so one broken gate fails its check, and
 * the others still pass, each with its own table row.
 */
import { afterEach, describe, expect, it } from "vitest";
import { drive, type Driven } from "../helpers/drive.js";
import { scanModule } from "../harness/scan.js";

let d: Driven | undefined;
afterEach(() => d?.engine.uninstall());

describe("dagger check", () => {
  it("fails the lint check on a lint error, with its table row, while typecheck passes", async () => {
    d = await drive({ variant: "lint-error" });
    const results = await d.harness.check(["lint", "typecheck"]);
    expect(results.map((r) => [r.name, r.passed])).toEqual([
      ["lint", false],
      ["typecheck", true],
    ]);
    expect(results[0]!.error).toMatch(/^GATE\s+STATUS[\s\S]*\nlint\s+FAILED\s/);
  });

  it("finds every check the root object has: the gates, scans and the secret scan", async () => {
    const checks = Object.values((await scanModule()).objects.Shipshape!.methods)
      .filter((f) => f.isCheck)
      .map((f) => f.name)
      .sort();
    expect(checks).toEqual(["audit", "licenseCheck", "lint", "sast", "scanDependencies", "scanImage", "secretScan", "test", "typecheck"]);
  });
});
