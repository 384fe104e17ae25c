/**
 * Each gate end to end: Shipshape's function code -> queries validated by the v0.21.8 schema ->
 * the exact command lines run for real on the host (ESLint, Prettier, tsc, vitest with the real
 * Postgres) against the fixture service and its broken variants.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { eslintCommand, prettierCommand, tscCommand } from "../../deploy/lib/gates/commands.js";
import { TOOL_IMAGES } from "../../deploy/lib/images.js";
import type { GateReport } from "../../src/report/gate-report.js";
import type { State } from "../harness/invoke.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { ensureDatabase } from "../helpers/pg.js";

const npm = { name: "npm" as const, yarnBerry: false, lockfile: "package-lock.json" };
let current: Driven | undefined;
beforeAll(() => ensureDatabase("app_test"));
afterEach(() => current?.engine.uninstall());

/** `dagger call <gate>` on a fresh fixture: the report's JSON state, and its handle for chained calls. */
async function run(gate: "lint" | "typecheck" | "test", opts: Parameters<typeof drive>[0] = {}) {
  current = await drive(opts);
  const handle = await current.call<GateReport>(gate);
  return { report: handle.json, handle, engine: current.engine };
}
const metric = (r: State<GateReport>, name: string) => r.metrics.find((m) => m.name === name)?.value;
/** A gate that could not judge fails its call (never cached); its row and hint are in the error. */
async function errored(gate: "lint" | "typecheck" | "test", opts: Parameters<typeof drive>[0] = {}) {
  current = await drive(opts);
  return { report: await gateError(current.call<GateReport>(gate)), engine: current.engine };
}

describe("lint gate", () => {
  it("passes the clean service with the project's own ESLint and Prettier", async () => {
    const { report, handle, engine } = await run("lint");
    expect(report.summary).toBe("0 errors, 0 warnings (eslint, max 0 warnings); formatted (prettier)");
    expect((await handle.call<boolean>("passed")).json).toBe(true);
    expect(engine.commands).toContainEqual(eslintCommand(npm, 0));
    expect(engine.commands).toContainEqual(prettierCommand(npm));
    const eslintRun = engine.execs.find((e) => e.args[0] === "node_modules/.bin/eslint")!;
    // .nvmrc says 24.13.1: the digest-pinned image Dagger's own runtime uses.
    expect(eslintRun.image).toBe(`node:24.13.1-alpine@${TOOL_IMAGES.node.digest}`);
    expect(eslintRun.workdir).toBe("/src");
  });

  it("fails on an ESLint error and reports it as a finding and in SARIF", async () => {
    const { report } = await run("lint", { variant: "lint-error" });
    expect(report.status).toBe("Failed");
    expect(metric(report, "errors")).toBe(1);
    expect(report.findings.some((f) => /^src\/db\.ts:\d+:\d+ @typescript-eslint\/no-unused-vars /.test(f))).toBe(true);
    const files = await dirOf(report.files);
    const sarif = JSON.parse(await files.file("lint.sarif").contents()) as { runs: { results: { ruleId: string }[] }[] };
    expect(sarif.runs[0]!.results.map((r) => r.ruleId)).toContain("@typescript-eslint/no-unused-vars");
    expect(await files.entries()).toEqual(["eslint.json", "lint.sarif"]);
  });

  it("fails on a file Prettier would reformat, and says how to fix it", async () => {
    const { report } = await run("lint", { variant: "format-error" });
    expect(report.status).toBe("Failed");
    expect(report.summary).toBe("0 errors, 0 warnings (eslint, max 0 warnings); 1 file not formatted (prettier)");
    expect(report.findings).toEqual(["src/db.ts prettier/format File is not formatted; run prettier --write src/db.ts"]);
    expect(report.hint).toContain("npx prettier --write .");
  });

  it("installs configured OS packages before the dependencies", async () => {
    current = await drive({ files: { "shipshape.yaml": "node:\n  systemPackages: [git, python3]\n" } });
    current.engine.onExec((a) => a[0] === "apk", { exitCode: 0 });
    expect((await current.call<GateReport>("lint")).json.status).toBe("Passed");
    const order = current.engine.commands.map((c) => c.slice(0, 2).join(" "));
    // `--` ends apk's options before the names (1593776, "system packages as positional args").
    expect(current.engine.commands[0]).toEqual(["apk", "add", "--no-cache", "--", "git", "python3"]);
    expect(order.indexOf("apk add")).toBeLessThan(order.indexOf("npm ci"));
  });

  it("reports a project without ESLint as an error with a fix hint", async () => {
    const { report, engine } = await errored("lint", {
      files: { "package.json": JSON.stringify({ name: "x", scripts: { test: "vitest run" } }) },
    });
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe("eslint is not a dependency of the project");
    expect(report.hint).toMatch(/gates\.lint\.enabled: false/);
    expect(engine.commands.some((c) => c[0]?.includes("eslint"))).toBe(false);
  });
});

describe("typecheck gate", () => {
  it("passes the clean service", async () => {
    const { report, engine } = await run("typecheck");
    expect(report.summary).toBe("no type errors");
    expect(engine.commands).toContainEqual(tscCommand(npm, "tsconfig.json"));
  });

  it("fails on a type error with file, line and code", async () => {
    const { report } = await run("typecheck", { variant: "type-error" });
    expect(report.status).toBe("Failed");
    expect(report.summary).toBe("1 type error in 1 file");
    expect(report.findings[0]).toMatch(/^src\/server\.ts:\d+:\d+ TS2322 Type 'string' is not assignable to type 'number'/);
  });

  it("reports a tsconfig that cannot be loaded as an error, not as type errors", async () => {
    const { report } = await errored("typecheck", {
      files: { "shipshape.yaml": "gates:\n  typecheck:\n    project: tsconfig.missing.json\n" },
    });
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe("no tsconfig.missing.json in the project");
  });
});

describe("test gate", () => {
  it("reports a truncated JUnit report as an error, not a pass", async () => {
    current = await drive();
    current.engine.onExec((a) => a[0] === "timeout", {
      exitCode: 0,
      files: { "/shipshape/reports/junit.xml": '<testsuites><testsuite name="a" tests="2"><testcase' },
    });
    const report = await gateError(current.call<GateReport>("test"));
    expect(report.status).toBe("ERROR");
    // The report names the file as the gate exports it (src/report/paths.ts), or by its container path.
    expect(report.cause).toMatch(
      /^the JUnit report at (\/shipshape\/reports\/)?junit\.xml could not be read: JUnit report is not valid XML/,
    );
  });

  it("runs the tests against Postgres bound as db and collects JUnit and lcov", async () => {
    const { report, engine } = await run("test");
    expect(report.status).toBe("Passed");
    expect(metric(report, "tests")).toBe(48);
    expect(metric(report, "failures")).toBe(0);
    expect(metric(report, "coverage.lines")).toBeGreaterThan(90);
    expect(report.summary).toMatch(/^48\/48 tests passed; lines \d+\.\d%$/);
    expect(await (await dirOf(report.files)).entries()).toEqual(["coverage.json", "junit.xml", "lcov.info"]);
    const testRun = engine.execs.find((e) => e.args.includes("npm") && e.args.includes("test"))!;
    expect(testRun.services).toEqual({ db: "postgres:16-alpine" });
    expect(testRun.env.DATABASE_URL).toBe("postgres://postgres@db:5432/app_test");
    expect(testRun.args.slice(0, 2)).toEqual(["timeout", "1800"]);
    // Readiness is the engine's health check (pg_isready over TCP, in the service), passed before
    // the test exec started; there is no wait exec of our own.
    expect(testRun.servicesUp).toEqual({ db: true });
    const checks = engine.services.log.filter((l) => l.event === "check").map((l) => l.detail!);
    expect(checks.at(-1)).toMatch(/^pg_isready -h 127\.0\.0\.1 -p 5432 -U postgres -d app_test -> 0$/);
    expect(engine.commands.some((c) => c[0] === "node" && c[1] === "-e")).toBe(false);
  });

  it("fails with the failing test named", async () => {
    const { report } = await run("test", { variant: "failing-test" });
    expect(report.status).toBe("Failed");
    expect(report.cause).toBe("1 test failed of 49");
    expect(report.findings[0]).toMatch(/tax/i);
  });

  it("fails when global coverage falls below the 75% default", async () => {
    const { report } = await run("test", { variant: "low-coverage" });
    expect(report.status).toBe("Failed");
    expect(report.cause).toMatch(/^coverage below policy: .*lines 65\.\d% < 75%/);
  });

  it("enforces per-path thresholds from shipshape.yaml", async () => {
    const yaml = 'coverage:\n  paths:\n    "src/migrate.ts": { lines: 90 }\n    "src/pricing.ts": { lines: 90 }\n';
    const { report } = await run("test", { files: { "shipshape.yaml": yaml } });
    expect(report.status).toBe("Failed");
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatch(/^src\/migrate\.ts: lines 80\.\d% < 90%/);
  });

  it("reports a missing test script as an error with a fix hint", async () => {
    const { report, engine } = await errored("test", { variant: "no-test-script" });
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe('no "test" script in package.json');
    expect(engine.commands.some((c) => c.includes("run"))).toBe(false);
  });

  it("reports a Postgres that never becomes ready, without running the tests", async () => {
    current = await drive({ files: { "shipshape.yaml": "database:\n  readyTimeoutSeconds: 5\n" } });
    current.engine.onExec((a) => a[0] === "pg_isready", { exitCode: 2, stdout: "127.0.0.1:5432 - no response" });
    const report = await gateError(current.call<GateReport>("test"));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toBe("Postgres never became ready at db:5432 within 5s");
    expect(current.engine.commands.some((c) => c[0] === "timeout")).toBe(false);
  });
});
