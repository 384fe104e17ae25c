/**
 * The audit gate and `ci` end to end: the real `npm audit` (same argv as in the container) against
 * a loopback advisory registry, and all gates together on the fixture service.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditCommand } from "../../deploy/lib/gates/commands.js";
import {
  PG_PROTOCOL_ADVISORY,
  PG_PROTOCOL_GHSA,
  PG_PROTOCOL_VERSIONS,
  startAdvisoryServer,
  type AdvisoryServer,
} from "../helpers/advisory-server.js";
import type { CiReport, GateReport } from "../../src/report/gate-report.js";
import { drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { ensureDatabase } from "../helpers/pg.js";

const GHSA = PG_PROTOCOL_GHSA;
let registry: AdvisoryServer;
let current: Driven | undefined;

beforeAll(async () => {
  await ensureDatabase("app_test");
  registry = await startAdvisoryServer({
    advisories: { "pg-protocol": [PG_PROTOCOL_ADVISORY] },
    versions: PG_PROTOCOL_VERSIONS,
  });
});
afterAll(() => registry.close());
afterEach(() => {
  current?.engine.uninstall();
  registry.setMode("ok");
});

async function auditWith(files: Record<string, string> = {}, env: Record<string, string> = { npm_config_registry: registry.url }) {
  current = await drive({ files, env });
  return (await current.call<GateReport>("audit")).json;
}

describe("audit gate", () => {
  it("fails on a high advisory in a production dependency, judged from the JSON", async () => {
    const report = await auditWith();
    expect(report.status).toBe("Failed");
    expect(report.summary).toMatch(/^0 critical, 1 high, 0 moderate, 0 low — /);
    expect(report.findings).toEqual([`pg-protocol high ${GHSA} Message length overflow`]);
    expect(current!.engine.commands).toContainEqual(
      auditCommand({ name: "npm", yarnBerry: false, lockfile: "package-lock.json" }, "high", true),
    );
    // the audit needs no install: it ran on the manifest and lockfile alone
    expect(current!.engine.commands.some((c) => c[0] === "npm" && c[1] === "ci")).toBe(false);
    expect(registry.requests.some((r) => r.path === "/-/npm/v1/security/advisories/bulk")).toBe(true);
  });

  it("passes when the level is above the finding, or the advisory is ignored with a reason", async () => {
    expect((await auditWith({ "shipshape.yaml": "gates:\n  audit:\n    level: critical\n" })).status).toBe("Passed");
    current!.engine.uninstall();
    const yaml = `gates:\n  audit:\n    ignore:\n      - id: ${GHSA}\n        reason: length is bounded by our proxy\n        expires: "2999-01-01"\n`;
    const report = await auditWith({ "shipshape.yaml": yaml });
    expect(report.status).toBe("Passed");
    expect(report.summary).toBe("0 critical, 1 high, 0 moderate, 0 low; 1 ignored");
  });

  it("fails on an expired ignore entry and names it", async () => {
    const yaml = `gates:\n  audit:\n    ignore:\n      - id: ${GHSA}\n        reason: accepted until the upgrade\n        expires: "2020-01-01"\n`;
    const report = await auditWith({ "shipshape.yaml": yaml });
    expect(report.status).toBe("Failed");
    expect(report.cause).toContain(GHSA);
    expect(report.cause).toMatch(/expired/);
  });

  it("reports an audit endpoint that refuses as an ERROR, never as clean or vulnerable", async () => {
    registry.setMode("405");
    current = await drive({ env: { npm_config_registry: registry.url } });
    // An ERROR fails the call (so it is never cached): the row and the hint are in its error.
    const report = await gateError(current.call<GateReport>("audit"));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toMatch(/405/);
    expect(report.hint).not.toBe("");
  });
});

describe("ci", () => {
  it("runs every gate and returns the table when all pass", async () => {
    current = await drive({
      files: { "shipshape.yaml": "gates:\n  audit:\n    level: critical\n" },
      env: { npm_config_registry: registry.url },
    });
    const report = await current.call<CiReport>("ci");
    // What `dagger call ci` ends with: the report's sync, which passes when every gate did.
    expect((await report.leaf()).type).toBe("CiReport");
    const table = (await report.call<string>("table")).json;
    expect(
      table
        .split("\n")
        .slice(1, 5)
        .map((l) => l.split(/\s+/).slice(0, 2).join(" ")),
    ).toEqual(["lint PASSED", "typecheck PASSED", "test PASSED", "audit PASSED"]);
    expect(table).toContain("all gates passed");
    // one install shared by the gates that need it
    expect(current.engine.commands.filter((c) => c[0] === "npm" && c[1] === "ci")).toHaveLength(1);
  });

  it("keeps going past a failed gate and fails with the table", async () => {
    current = await drive({ variant: "type-error", env: { npm_config_registry: registry.url } });
    const err = await current.cli("ci").then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/^typecheck\s+FAILED\s+\S+\s+1 type error in 1 file$/m);
    expect(err!.message).toMatch(/^lint\s+PASSED/m);
    expect(err!.message).toMatch(/^test\s+PASSED/m);
    expect(err!.message).toMatch(/^audit\s+FAILED/m);
    expect(err!.message).toContain("2 of 4 gates did not pass");
    const report = await current.call<CiReport>("ci");
    expect((await report.call("passed")).json).toBe(false);
    // The report itself, read without failing: the same table as the failed call printed.
    const table = (await report.call<string>("table")).json;
    expect(table).toMatch(/^typecheck\s+FAILED\s+\S+\s+1 type error in 1 file$/m);
    expect(table).toContain("2 of 4 gates did not pass");
    expect((await report.call("markdown")).json).toContain("| typecheck | ❌ failed |");
    const files = await (await report.call("files")).directory();
    expect(await files.entries()).toEqual(["audit", "lint", "report.json", "summary.md", "test", "typecheck"]);
  });

  it("reports an invalid shipshape.yaml on every gate with the exact cause", async () => {
    current = await drive({ files: { "shipshape.yaml": "coverage:\n  global:\n    lines: 80%\n" } });
    const report = (await current.call<CiReport>("ci")).json;
    const causes = new Set(report.gates.map((g) => `${g.status} ${g.cause}`));
    expect([...causes]).toEqual(['Error shipshape.yaml is invalid: coverage.global.lines: expected a number from 0 to 100, got "80%"']);
    expect(report.gates[0]!.hint).toMatch(/shipshape\.yaml/);
    expect(current.engine.execs).toHaveLength(0);
  });

  it("reports a failed install on the gates that need it; the audit still runs", async () => {
    current = await drive({
      files: { "shipshape.yaml": "gates:\n  audit:\n    level: critical\n" },
      env: { npm_config_registry: registry.url },
    });
    current.engine.onExec((a) => a[0] === "npm" && a[1] === "ci", {
      exitCode: 1,
      stderr:
        "npm error code EUSAGE\nnpm error `npm ci` can only install packages when your package.json and package-lock.json are in sync.\n",
    });
    const report = (await current.call<CiReport>("ci")).json;
    const byGate = Object.fromEntries(report.gates.map((g) => [g.gate, `${g.status} ${g.cause}`]));
    const installError =
      "Error dependencies failed to install (npm ci --no-audit --no-fund): EUSAGE: `npm ci` can only install packages when your package.json and package-lock.json are in sync.";
    expect(byGate).toEqual({ lint: installError, typecheck: installError, test: installError, audit: "Passed " });
  });

  it("skips a gate disabled in shipshape.yaml", async () => {
    current = await drive({
      files: {
        "shipshape.yaml":
          "gates:\n  audit:\n    enabled: false\n  lint:\n    enabled: false\n  typecheck:\n    enabled: false\n  test:\n    enabled: false\n",
      },
    });
    const report = await current.call<CiReport>("ci");
    expect(report.json.gates.map((g) => g.status)).toEqual(["Skipped", "Skipped", "Skipped", "Skipped"]);
    expect((await report.call("passed")).json).toBe(true);
    expect(current.engine.execs).toHaveLength(0);
  });
});
