/**
 * Bad --base / --head through the real gate code, on a real git history: a range that cannot be
 * told is an ERROR naming the argument, never "PASSED, 0 commits"; a value that looks like an
 * option never reaches git as one; what committers wrote never reaches the report raw.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { GateReport } from "../../src/report/gate-report.js";
import { drive, type Driven } from "../helpers/drive.js";
import { expectClear } from "./clear.js";
import { gateError } from "../helpers/gate-error.js";
import { commit, git } from "../helpers/git-repo.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

async function repo(root?: string): Promise<Driven> {
  current = await drive(root ? { root } : {});
  if (!root) {
    git(current.root, "init", "-q", "-b", "main");
    git(current.root, "add", "-A");
    commit(current.root, "feat: orders service");
    git(current.root, "tag", "v1.2.0");
    commit(current.root, "fix: round totals");
  }
  return current;
}

const outside = () => join(mkdtempSync(join(tmpdir(), "shipshape-inject-")), "written");
const gitRuns = (d: Driven, sub: string) => d.engine.commands.filter((c) => c[0] === "git" && c.includes(sub));

describe("commits: a range that cannot be told is an ERROR naming the argument", () => {
  const dash = outside();
  it.each<[string, { base: string; head?: string }, RegExp, RegExp]>([
    [
      "an empty base ($GITHUB_BASE_REF on a push)",
      { base: "" },
      /^--base is empty, so Shipshape cannot tell which commits/,
      /--base origin\/main/,
    ],
    ["a blank base", { base: "   " }, /^--base is empty/, /--base/],
    [
      "a base that is an option",
      { base: `--output=${dash}` },
      /^--base "--output=.*" starts with "-", so a tool would read it as an option$/,
      /--base origin\/main/,
    ],
    [
      "a base with a terminal escape",
      { base: "\u001b]8;;http://x\u0007main" },
      /^--base "\\x1b\]8;;http:\/\/x\\x07main" contains spaces or control/,
      /--base/,
    ],
    ["a range as the base", { base: "v1.2.0..HEAD" }, /^--base "v1\.2\.0\.\.HEAD" is a range, not one ref$/, /--base .* --head/],
    ["the all-zero SHA of a new branch", { base: "0".repeat(40) }, /^--base is the all-zero SHA/, /--base origin\/main/],
    ["a base of 300 characters", { base: "a".repeat(300) }, /^--base is 300 characters long, more than 256$/, /shorter --base/],
    ["an empty head", { base: "v1.2.0", head: "" }, /^--head is empty/, /--head HEAD/],
    ["a head that is an option", { base: "v1.2.0", head: "-p" }, /^--head "-p" starts with "-"/, /--head/],
  ])("%s: refused before git runs", async (_name, args, cause, hint) => {
    const d = await repo();
    // An ERROR fails the call (never cached): its table row and hint are the answer the user gets.
    const report = await gateError(d.call<GateReport>("commits", args));
    expect(report.status).toBe("ERROR");
    expectClear(report, cause, hint);
    expect(d.engine.commands).toEqual([]);
    expect(existsSync(dash)).toBe(false);
  });

  it.each<[string, { base: string; head?: string }, RegExp]>([
    ["an unknown base", { base: "origin/main" }, /^--base "origin\/main" is not a commit in this clone$/],
    ["shell syntax as the base", { base: "$(reboot)" }, /^--base "\$\(reboot\)" is not a commit in this clone$/],
    ["a tree, not a commit", { base: "HEAD^{tree}" }, /^--base "HEAD\^\{tree\}" is not a commit in this clone$/],
    ["an unknown head", { base: "v1.2.0", head: "feature/x" }, /^--head "feature\/x" is not a commit in this clone$/],
  ])("%s: git resolves it, no log is read", async (_name, args, cause) => {
    const d = await repo();
    // An ERROR fails the call (never cached): its table row and hint are the answer the user gets.
    const report = await gateError(d.call<GateReport>("commits", args));
    expect(report.status).toBe("ERROR");
    expectClear(report, cause, /fetched/);
    expect(gitRuns(d, "rev-parse").length).toBeGreaterThan(0);
    expect(gitRuns(d, "log")).toEqual([]);
  });

  it("a base cut off by a shallow clone says so", async () => {
    const { root } = await repo();
    current?.engine.uninstall();
    const shallow = join(mkdtempSync(join(tmpdir(), "shallow-")), "repo");
    execFileSync("git", ["clone", "-q", "--depth", "1", `file://${root}`, shallow]);
    const report = await gateError((await repo(shallow)).call<GateReport>("commits", { base: "v1.2.0" }));
    expect(report.status).toBe("ERROR");
    expectClear(report, /^--base "v1\.2\.0" is not in this shallow clone$/, /fetch-depth: 0/);
  });

  it("nothing changed passes, and says so (positive control)", async () => {
    const report = (await (await repo()).call<GateReport>("commits", { base: "HEAD" })).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toBe('0 commits checked — nothing changed: --base and --head are the same commit ("HEAD".."HEAD")');
  });
});

describe("migrations --base: the same rule", () => {
  const dash = outside();
  it.each<[string, string, RegExp]>([
    ["a base that is an option", `--output=${dash}`, /^--base "--output=.*" starts with "-"/],
    ["a blank base", " ", /^--base is empty/],
    ["a range", "main..feature", /^--base "main\.\.feature" is a range/],
    ["an unknown base", "origin/nope", /^cannot tell which migrations changed: --base "origin\/nope" does not exist in this clone$/],
  ])("%s: ERROR, squawk never runs", async (_name, base, cause) => {
    const d = await repo();
    const report = await gateError(d.call<GateReport>("migrations", { base }));
    expect(report.status).toBe("ERROR");
    expectClear(report, cause);
    expect(d.engine.commands.some((c) => c[0] === "squawk")).toBe(false);
    expect(existsSync(dash)).toBe(false);
  });
});

describe("what committers wrote never reaches the report raw", () => {
  it.each<[string, string, RegExp]>([
    ["a colour escape and a clear-screen", "Feat: \u001b[31mred\u001b[2J", /"Feat: \\x1b\[31mred\\x1b\[2J"/],
    [
      "an OSC 8 hyperlink and a carriage return",
      "Fix: ok\u001b]8;;https://evil\u0007link\rforged",
      /\\x1b\]8;;https:\/\/evil\\x07link\\x0dforged/,
    ],
    ["a bidi override", "Docs: \u202egnp.exe", /\\u202egnp\.exe/],
  ])("%s", async (_name, message, finding) => {
    const d = await repo();
    commit(d.root, message);
    const report = (await d.call<GateReport>("commits", { base: "v1.2.0" })).json;
    expect(report.status).toBe("Failed");
    expect(report.findings.join("\n")).toMatch(finding);
    expectClear({ cause: report.summary + report.findings.join(" "), hint: report.hint }, /do not follow/);
  });

  it("the log's own separator bytes in a message cannot forge a commit", async () => {
    const d = await repo();
    commit(d.root, "feat: one\u001e\u001fdeadbeef\u001fFix: Forged.");
    const report = (await d.call<GateReport>("commits", { base: "v1.2.0" })).json;
    // two real commits (the fix and this one); \x1e/\x1f parsing read a third, hashless "Fix: Forged."
    expect(report.metrics).toContainEqual({ name: "checked", value: 2 });
    expect(report.findings).toEqual([
      expect.stringMatching(/^[0-9a-f]{7} "feat: one\\x1e\\x1fdeadbeef\\x1fFix: Forged\.": subject may not end/),
    ]);
  });
});
