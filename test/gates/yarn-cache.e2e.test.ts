/**
 * Yarn 1's cache under the engine's volume rules. Yarn 1 takes no lock: two installs at once on
 * one cache unpack into the same `v6/npm-<name>-<version>-<hash>-integrity` directories and one
 * fails (yarnpkg/yarn#683, #2629, #8854; the error below is #8854's and camunda/camunda#26409's).
 * The fake yarn reproduces that race on whatever volume it is given; Shipshape's volumes are one
 * per engine, whichever project mounts them.
 */
import { dag } from "@dagger.io/dagger";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installer } from "../../deploy/lib/gates/workspace.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import type { ExecContext } from "../harness/model.js";
import { StubEngine } from "../harness/stub-engine.js";

let engine: StubEngine;
beforeEach(async () => {
  engine = await new StubEngine().install();
  engine.onExec(() => true, { exitCode: 0 }); // corepack, apk, mkdir...
});
afterEach(() => engine.uninstall());

const LODASH = "v6/npm-lodash-4.17.21-679591c564c3bffaae8454cf0b3df370c3d6911c-integrity";

/** yarn 1 install: unpacks into the cache while others may be doing the same. */
async function yarnClassicInstall(ctx: ExecContext) {
  const cache = ctx.env.YARN_CACHE_FOLDER!;
  const me = /# (\S+)\n$/.exec(ctx.read("yarn.lock") ?? "")?.[1] ?? "?";
  const marker = `${cache}/${LODASH}/.unpacking-${me}`;
  const unpacking = (p: string, c: string) => p.includes(".unpacking-") && c === "1" && !p.endsWith(`-${me}`);
  const others = () => Object.entries(ctx.filesUnder(`${cache}/${LODASH}`)).some(([p, c]) => unpacking(p, c));
  ctx.write(marker, "1");
  await new Promise((r) => setTimeout(r, 100));
  const raced = others();
  ctx.write(marker, "");
  if (raced) {
    return {
      exitCode: 1,
      stderr: `error An unexpected error occurred: "ENOTEMPTY: directory not empty, rmdir '${cache}/${LODASH}/node_modules/lodash'".\n`,
    };
  }
  ctx.write(`${cache}/${LODASH}/node_modules/lodash/package.json`, '{"name":"lodash"}');
  return { exitCode: 0, stdout: "success Saved lockfile.\n" };
}

/** A yarn 1 project on the host (package.json pinning yarn 1, a v1 lockfile). */
function yarnProject(name: string) {
  const root = mkdtempSync(join(tmpdir(), `yarn-${name}-`));
  writeFileSync(join(root, "package.json"), JSON.stringify({ name, packageManager: "yarn@1.22.22", dependencies: { lodash: "4.17.21" } }));
  writeFileSync(join(root, "yarn.lock"), `# yarn lockfile v1\n\nlodash@4.17.21:\n  version "4.17.21"\n# ${name}\n`);
  return root;
}

async function install(name: string) {
  const source = dag.host().directory(yarnProject(name));
  const project = await loadProject(source, "shipshape.yaml");
  expect(project.pm).toMatchObject({ name: "yarn", yarnBerry: false });
  return installer(project, source)();
}

describe("yarn 1 cache", () => {
  it("two projects installing at once on one engine both succeed: the install mounts the cache LOCKED", async () => {
    engine.onExec((a) => a[0] === "yarn" && a[1] === "install", yarnClassicInstall);
    await Promise.all([install("orders"), install("billing")]);
    const installs = engine.execs.filter((e) => e.args[0] === "yarn");
    expect(installs).toHaveLength(2);
    expect(installs.every((e) => e.cacheSharing["/cache/yarn"] === "LOCKED")).toBe(true);
    expect(installs.every((e) => e.result.exitCode === 0)).toBe(true);
  });

  it("execs after the install no longer hold the yarn cache, so gates do not queue behind each other", async () => {
    engine.onExec((a) => a[0] === "yarn" && a[1] === "install", yarnClassicInstall);
    const ctr = await install("orders");
    await ctr.withExec(["node_modules/.bin/eslint", "."]).sync();
    const lint = engine.execs.find((e) => e.args[0] === "node_modules/.bin/eslint")!;
    expect(lint.caches["/cache/yarn"]).toBeUndefined();
    expect(lint.caches["/cache/npm"]).toBe("shipshape-npm");
  });
});
