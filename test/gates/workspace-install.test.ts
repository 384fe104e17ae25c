/**
 * The cached install of a workspace project, run for real. Each fixture under
 * test/fixtures/workspaces/ was installed with the real package manager (npm 11.19, pnpm 9.15,
 * yarn 1.22) and its lockfile kept. The source reaches the installer as the engine would hand it
 * to the module: through the constructor's own `ignore` list (the harness's patternmatcher
 * model), so stale node_modules and .turbo never arrive. Every command then runs on the host in a
 * directory holding exactly the container's files at that point (materialized), so the install
 * sees only what Shipshape copied before it, as a layer in the engine would.
 */
import { Directory } from "@dagger.io/dagger";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installer } from "../../deploy/lib/gates/workspace.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { runOnHost } from "../harness/host-exec.js";
import { fromId, ModuleHarness } from "../harness/invoke.js";
import { StubEngine } from "../harness/stub-engine.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/workspaces");

/**
 * pnpm and yarn through corepack, as the image's `corepack enable` provides them. This machine's
 * registry mirror fails corepack's signature check, so COREPACK_INTEGRITY_KEYS=0 here, host-side only.
 */
function shims(): string {
  const dir = mkdtempSync(join(tmpdir(), "ws-shims-"));
  for (const pm of ["pnpm", "yarn"]) {
    writeFileSync(join(dir, pm), `#!/bin/sh\nexec corepack ${pm} "$@"\n`);
    chmodSync(join(dir, pm), 0o755);
  }
  return dir;
}

let engine: StubEngine;
let srcDir: string;
/** The files under /src each install saw. */
let installSaw: string[][];
beforeEach(async () => {
  engine = await new StubEngine().install();
  const scratch = mkdtempSync(join(tmpdir(), "ws-ctr-"));
  srcDir = join(scratch, "src");
  installSaw = [];
  const host = {
    paths: { "/src": srcDir, "/shipshape": join(scratch, "shipshape") },
    materialize: true,
    env: {
      PATH: `${shims()}:${process.env.PATH ?? ""}`,
      COREPACK_INTEGRITY_KEYS: "0",
      COREPACK_HOME: process.env.COREPACK_HOME ?? join(homedir(), ".cache/node/corepack"),
    },
  };
  engine.onExec(
    () => true,
    (ctx) => runOnHost(ctx, host),
  );
  // The image's corepack setup; on the host the shims above stand in for it.
  engine.onExec((a) => a[0] === "corepack" || (a[0] === "npm" && a[1] === "install" && a[2] === "--global"), { exitCode: 0 });
  const installs = (a: string[]) =>
    ["npm", "pnpm", "yarn"].some((pm) => a[0] === pm && (a[1] === "ci" || a[1] === "install") && a[2] !== "--global");
  engine.onExec(installs, async (ctx) => {
    installSaw.push(Object.keys(ctx.filesUnder("/src")).sort());
    return runOnHost(ctx, host);
  });
});
afterEach(() => engine.uninstall());

/** A copy of a fixture with what a developer's checkout also holds, and optional edits. */
function checkout(pm: string, edits: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `ws-${pm}-`));
  cpSync(join(FIXTURES, pm), dir, { recursive: true });
  const stale = { "packages/greet/node_modules/stale/index.js": "throw 1", ".turbo/cache.json": "{}", ...edits };
  for (const [p, c] of Object.entries(stale)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

/** The source argument as the engine passes it to the module's constructor. */
async function sourceOf(dir: string): Promise<Directory> {
  const harness = new ModuleHarness({ workspace: dir }, engine);
  return fromId(Directory, "Directory", await harness.contextFor("Shipshape", "", "source"));
}

async function install(dir: string) {
  const source = await sourceOf(dir);
  const project = await loadProject(source, "shipshape.yaml");
  const ctr = await installer(project, source)();
  const app = await ctr.withExec(["node", "-e", "console.log(require('./packages/app').message)"]).stdout();
  return { project, app };
}

const cases = [
  {
    pm: "npm",
    manifests: ["package-lock.json", "package.json", "packages/app/package.json", "packages/greet/package.json"],
    link: ["node_modules/@ws/greet", "../../packages/greet"],
  },
  {
    pm: "pnpm",
    manifests: ["package.json", "packages/app/package.json", "packages/greet/package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"],
    link: ["packages/app/node_modules/@ws/greet", "../../../greet"],
  },
  {
    pm: "yarn",
    manifests: ["package.json", "packages/app/package.json", "packages/greet/package.json", "yarn.lock"],
    link: ["node_modules/@ws/greet", "../../packages/greet"],
  },
];

describe.each(cases)("$pm workspaces", ({ pm, manifests, link }) => {
  it("the install sees every workspace's manifest and nothing else, and links the workspaces", async () => {
    const { project, app } = await install(checkout(pm));
    expect(project.pm.name).toBe(pm);
    // Only manifests: no source file, no excluded workspace (npm/pnpm: "!packages/scratch").
    expect(installSaw).toEqual([manifests.map((m) => `/src/${m}`)]);
    expect(readlinkSync(join(srcDir, link[0]!))).toBe(link[1]);
    // After the source is copied in, one workspace imports another.
    expect(app).toBe("hello, workspace\n");
  });

  it("an edit to a workspace's source replays the install; an edit to its manifest runs it again", async () => {
    await install(checkout(pm));
    const edited = await install(checkout(pm, { "packages/greet/index.js": "exports.greet = (n) => `hi, ${n}`;\n" }));
    expect(installSaw).toHaveLength(1); // the engine replayed the install: the script never ran again
    expect(edited.app).toBe("hi, workspace\n"); // the new source is there, on the cached install
    const pkg = { name: "@ws/greet", version: "1.0.0", main: "index.js", description: "edited" };
    await install(checkout(pm, { "packages/greet/package.json": JSON.stringify(pkg) }));
    expect(installSaw).toHaveLength(2);
  });
});
