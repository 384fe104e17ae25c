/**
 * The invocation harness itself: calls go through the SDK's real invoke path with state as JSON,
 * contextual directories resolve as the engine resolves them, and function caching bites.
 */
import { Directory } from "@dagger.io/dagger";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { GateReport } from "../../src/report/gate-report.js";
import type { Shipshape } from "../../src/index.js";
import { drive, type Driven } from "../helpers/drive.js";
import { run } from "../helpers/git-repo.js";
import { fromId, ModuleHarness } from "./invoke.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
let d: Driven | undefined;
afterEach(() => d?.engine.uninstall());

describe("the SDK invocation path", () => {
  it("builds the root from its constructor, then rebuilds it from JSON for the next call", async () => {
    d = await drive({ files: { "custom.yaml": "gates:\n  lint:\n    maxWarnings: 7\n" } });
    const root = await d.harness.root<Shipshape>({ configPath: "custom.yaml" });
    // The engine keeps the object as the JSON of its properties: core objects as IDs.
    expect(Object.keys(root.json as object).sort()).toEqual(["configPath", "source"]);
    expect(root.json.configPath).toBe("custom.yaml");
    expect(typeof root.json.source).toBe("string");
    const config = await root.call<string>("config");
    expect(config.json).toMatch(/maxWarnings: 7/);
  });

  it("chains a report's method on the report's JSON state (lint files)", async () => {
    d = await drive();
    const report = await d.call<GateReport>("lint");
    expect(report.type).toBe("GateReport");
    // An enum field travels as its member name (loadResult), and the next call maps it back.
    expect(report.json.status).toBe("Passed");
    const files = await (await report.directory("files")).entries();
    expect(files).toContain("lint.sarif");
    expect((await report.call<boolean>("passed")).json).toBe(true);
  });

  it("refuses a flag the function does not take, as the CLI does", async () => {
    d = await drive();
    await expect(d.call("config", { verbose: true })).rejects.toThrow(/unknown flag: --verbose/);
  });
});

describe("contextual directories", () => {
  it("in the caller's workspace: source is the caller's project without .git, a history function's gitDir is .git alone", async () => {
    d = await drive();
    run(["git", "init", "-q"], d.root);
    run(["git", "add", "-A"], d.root);
    run(["git", "commit", "-qm", "feat: initial"], d.root);
    const root = await d.harness.root<Shipshape>();
    const source = await (await fromId(Directory, "Directory", root.json.source)).entries();
    expect(source).toContain("package.json");
    expect(source).not.toContain(".git");
    expect(source).not.toContain("node_modules");
    // History is a contextual argument of the functions that read it, not root state.
    expect(Object.keys(root.json as object)).not.toContain("gitDir");
    const gitDir = await fromId(Directory, "Directory", await d.harness.contextFor("Shipshape", "commits", "gitDir"));
    expect(await gitDir.entries()).toEqual([".git"]);
    expect(await gitDir.directory(".git").entries()).toContain("HEAD");
  });

  it("called remotely with -m, the context is the module's own repository, not the caller's project", async () => {
    d = await drive();
    const remote = new ModuleHarness({ remote: REPO });
    const root = await remote.root<Shipshape>();
    const pkg = await (await fromId(Directory, "Directory", root.json.source)).file("package.json").contents();
    // Shipshape's own package.json: a remote module would check Shipshape, not the service.
    expect(JSON.parse(pkg).name).toBe("shipshape");
    const local = await d.harness.root<Shipshape>();
    const mine = await (await fromId(Directory, "Directory", local.json.source)).file("package.json").contents();
    expect(JSON.parse(mine).name).not.toBe("shipshape");
  });
});
