/**
 * Workspace declarations the package manager would refuse are refused before anything runs, with
 * the file and field named. npm 11.19 on `"workspaces": "packages/*"` answers
 * "npm error code EWORKSPACESCONFIG / workspaces config expects an Array" (@npmcli/map-workspaces
 * getPatterns); pnpm reads `packages` as a list of globs (pnpm.io/pnpm-workspace_yaml).
 */
import { dag } from "@dagger.io/dagger";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installer } from "../../deploy/lib/gates/workspace.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { StubEngine } from "../harness/stub-engine.js";
import { expectClear, rejected } from "./clear.js";

let engine: StubEngine;
beforeEach(async () => {
  engine = await new StubEngine().install();
  engine.onExec(() => true, { exitCode: 0 });
});
afterEach(() => engine.uninstall());

async function installOf(files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), "ws-bad-"));
  for (const [p, c] of Object.entries({ "packages/a/package.json": '{"name":"a"}', ...files })) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), c);
  }
  const source = dag.host().directory(root);
  return installer(await loadProject(source, "shipshape.yaml"), source)();
}

describe("workspace declarations", () => {
  it('package.json "workspaces" as a string is refused, naming the field, and no install runs', async () => {
    const answer = await rejected(
      installOf({ "package.json": '{"name":"x","private":true,"workspaces":"packages/*"}', "package-lock.json": "{}" }),
    );
    expectClear(answer, /^package\.json "workspaces" is not a list of paths/, /\["packages\/\*"\]/);
    expect(engine.commands).toEqual([]);
  });

  it("pnpm-workspace.yaml `packages` as a string is refused, naming the file", async () => {
    const files = {
      "package.json": '{"name":"x","packageManager":"pnpm@9.15.0"}',
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
      "pnpm-workspace.yaml": "packages: packages/*\n",
    };
    const answer = await rejected(installOf(files));
    expectClear(answer, /^pnpm-workspace\.yaml "packages" is not a list of paths/, /packages: \["packages\/\*"\]/);
    expect(engine.commands.filter((c) => c[0] === "pnpm")).toEqual([]);
  });

  it("a pnpm-workspace.yaml that is not YAML gets the parser's first line, not a stack", async () => {
    const files = {
      "package.json": '{"name":"x","packageManager":"pnpm@9.15.0"}',
      "pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
      "pnpm-workspace.yaml": "packages:\n  - 'packages/*\n",
    };
    const answer = await rejected(installOf(files));
    expectClear(answer, /^pnpm-workspace\.yaml is not valid YAML: \S/, /pnpm-workspace\.yaml/);
    expect(engine.commands.filter((c) => c[0] === "pnpm")).toEqual([]);
  });
});
