/**
 * Commit check and next version end to end: real git histories in the fixture, read by the exact
 * git command lines the module runs in its git container.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitLogCommand } from "../../deploy/lib/release/commits/git.js";
import type { GateReport } from "../../src/report/gate-report.js";
import type { ReleaseVersion } from "../../src/report/release-version.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";
import { commit, git } from "../helpers/git-repo.js";
import { callWith } from "../helpers/ship-calls.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

async function repo(): Promise<Driven> {
  current = await drive();
  git(current.root, "init", "-q", "-b", "main");
  git(current.root, "add", "-A");
  commit(current.root, "feat: orders service");
  git(current.root, "tag", "v1.2.0");
  return current;
}

describe("commits", () => {
  it("passes a conventional range and lists each offender with what is wrong", async () => {
    const { root, call, engine } = await repo();
    commit(root, "fix(api): reject negative quantities");
    commit(root, "Feature: Add export.");
    const report = (await call<GateReport>("commits", { base: "v1.2.0" })).json;
    expect(report.status).toBe("Failed");
    expect(report.summary).toMatch(/^2 commits checked — /);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatch(/^[0-9a-f]{7,} "Feature: Add export\.": /);
    expect(report.hint).toContain("feat(api): add order export");
    const logRun = engine.execs.find((e) => e.args.includes("log"))!;
    expect(logRun.args).toEqual(["git", "-c", "safe.directory=*", ...gitLogCommand("v1.2.0..HEAD").slice(1)]);
    expect(await (await dirOf(report.files)).entries()).toEqual(["commits.md"]);
  });

  it("passes when every commit is conventional (merges ignored)", async () => {
    const { root, call } = await repo();
    git(root, "checkout", "-qb", "feature");
    commit(root, "feat: add export");
    git(root, "checkout", "-q", "main");
    git(root, "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature");
    const report = (await call<GateReport>("commits", { base: "v1.2.0" })).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toBe("1 commit checked, 1 ignored (merges, reverts, fixups)");
  });

  it("explains a base ref that does not exist", async () => {
    const { call } = await repo();
    const report = await gateError(call<GateReport>("commits", { base: "origin/main" }));
    expect(report.status).toBe("ERROR");
    expect(report.cause).toMatch(/origin\/main/);
    expect(report.hint).not.toBe("");
  });
});

describe("version", () => {
  it("bumps minor for a feat since the last tag, with tags and a changelog", async () => {
    const d = await repo();
    commit(d.root, "fix: round totals half-up");
    commit(d.root, "feat(api): add order export");
    // The repository URL is run context: `dagger call with-run --repo-url ... version`.
    const handle = await callWith<ReleaseVersion>(d, "version", {}, { repoUrl: "https://github.com/acme/orders" });
    const v = handle.json;
    expect([v.current, v.next, v.bump, v.gitTag]).toEqual(["1.2.0", "1.3.0", "minor", "v1.3.0"]);
    expect(v.imageTags).toEqual(["1.3.0", "1.3", "1"]);
    expect((await handle.call("released")).json).toBe(true);
    expect(v.changelog).toContain("### Features");
    expect(v.changelog).toContain("**api:** add order export");
    expect(v.changelog).toContain("https://github.com/acme/orders/commit/");
  });

  it("releases nothing when only chores were committed", async () => {
    const { root, call } = await repo();
    commit(root, "chore: bump dev dependencies");
    const handle = await call<ReleaseVersion>("version");
    expect([handle.json.next, handle.json.bump, (await handle.call("released")).json]).toEqual(["", "none", false]);
  });

  it("refuses a shallow clone instead of restarting at 1.0.0", async () => {
    const { root } = await repo();
    commit(root, "feat: more");
    current!.engine.uninstall();
    const shallow = join(mkdtempSync(join(tmpdir(), "shallow-")), "repo");
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${root}`, shallow]);
    current = await drive({ root: shallow });
    const err = await current.call("version").then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/shallow/);
    expect(err?.message).toMatch(/fetch-depth: 0/);
  });
});
