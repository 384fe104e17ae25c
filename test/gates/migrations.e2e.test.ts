/**
 * The migrations gate end to end: real squawk 2.66.0 (the image's binary, from npm here) and real
 * git on the fixture service, driven by the function code through the stub engine.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TOOL_IMAGES } from "../../deploy/lib/images.js";
import { MigrationsConfigSchema } from "../../deploy/lib/release/migrations/config.js";
import { squawkCommand } from "../../lib/release/migrations/squawk.js";
import { FIXTURES } from "../helpers/fixture.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { git } from "../helpers/git-repo.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const unsafe = (name: string) => join(FIXTURES, "migrations/unsafe", name);

describe("migrations gate", () => {
  it("checks the service's migrations with squawk and passes safe ones", async () => {
    current = await drive();
    const report = (await current.call<GateReport>("migrations")).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toMatch(/^2 migrations checked: 0 critical, 0 high, \d+ medium, \d+ low$/);
    const squawk = current.engine.execs.find((e) => e.args[0] === "squawk")!;
    expect(squawk.args).toEqual(
      squawkCommand(["migrations/001_init.sql", "migrations/002_order_note.sql"], MigrationsConfigSchema.parse({})),
    );
    expect(squawk.image).toBe(`${TOOL_IMAGES.squawk.repository}:${TOOL_IMAGES.squawk.tag}`);
    expect(squawk.workdir).toBe("/data");
    expect(await (await dirOf(report.files)).entries()).toEqual(["migrations.md", "migrations.sarif"]);
  });

  it("blocks a destructive migration with file:line, statement and fix, unless approved", async () => {
    current = await drive();
    copyFileSync(unsafe("01_drop_table.sql"), join(current.root, "migrations/003_drop_sessions.sql"));
    const report = (await current.call<GateReport>("migrations")).json;
    expect(report.status).toBe("Failed");
    expect(report.findings).toEqual(["migrations/003_drop_sessions.sql:5 critical ban-drop-table DROP TABLE IF EXISTS legacy_sessions;"]);
    expect(report.hint).toMatch(/migration-destructive-approved/);
    const md = await (await dirOf(report.files)).file("migrations.md").contents();
    expect(md).toContain("migrations/003_drop_sessions.sql:5");
    current.engine.uninstall();

    current = await drive();
    copyFileSync(unsafe("01_drop_table.sql"), join(current.root, "migrations/003_drop_sessions.sql"));
    const approved = (await current.call<GateReport>("migrations", { approveDestructive: true })).json;
    expect(approved.status).toBe("Passed");
    expect(approved.summary).toMatch(/; 1 destructive approved$/);
  });

  it("checks only the migrations changed against the base ref", async () => {
    current = await drive();
    const root = current.root;
    git(root, "init", "-q", "-b", "main");
    git(root, "add", "-A");
    git(root, "commit", "-qm", "feat: initial");
    git(root, "checkout", "-qb", "feature");
    copyFileSync(unsafe("06_rename_column.sql"), join(root, "migrations/003_rename.sql"));
    git(root, "add", "-A");
    git(root, "commit", "-qm", "feat: rename");
    const report = (await current.call<GateReport>("migrations", { base: "main" })).json;
    expect(report.status).toBe("Failed");
    expect(report.summary).toMatch(/^1 migration checked: 0 critical, 1 high/);
    const gitRun = current.engine.execs.find((e) => e.args[0] === "git")!;
    expect(gitRun.args.slice(0, 4)).toEqual(["git", "-c", "safe.directory=*", "diff"]);
    expect(gitRun.image).toBe(`alpine:3.22.2@${TOOL_IMAGES.alpine.digest}`);
  });

  it("says how to fix a base ref that does not exist", async () => {
    current = await drive();
    git(current.root, "init", "-q", "-b", "main");
    git(current.root, "add", "-A");
    git(current.root, "commit", "-qm", "feat: initial");
    const report = await gateError(current.call<GateReport>("migrations", { base: "origin/nope" }));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toMatch(/origin\/nope/);
    expect(report.hint).toMatch(/fetch/);
    expect(current.engine.commands.some((c) => c[0] === "squawk")).toBe(false);
  });

  it("reports 'nothing to check' as a pass when there are no migrations", async () => {
    current = await drive({ files: { "shipshape.yaml": 'migrations:\n  paths: ["db/schema/**/*.sql"]\n' } });
    const report = (await current.call<GateReport>("migrations")).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toBe("no migrations to check");
    expect(current.engine.commands.some((c) => c[0] === "squawk")).toBe(false);
  });

  it("fails a migration that does not parse, with file, line and the parser's message", async () => {
    current = await drive();
    copyFileSync(join(FIXTURES, "migrations/broken/syntax_error.sql"), join(current.root, "migrations/003_broken.sql"));
    const report = (await current.call<GateReport>("migrations", { approveDestructive: true })).json;
    expect(report.status).toBe("Failed");
    expect(report.cause).toMatch(/migrations\/003_broken\.sql:6:21: does not parse: unexpected trailing comma/);
  });
});
