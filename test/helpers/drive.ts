/**
 * Drives Shipshape's real function code through the stub engine, with every container command
 * run for real on the host against a copy of the fixture (same argv, paths mapped). Only the
 * dependency install is answered without running: the fixture's node_modules is installed once
 * by .ci/run with the very same `npm ci` command line.
 */
import { dag } from "@dagger.io/dagger";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installCommand } from "../../deploy/lib/gates/commands.js";
import { Shipshape } from "../../src/index.js";
import { runOnHost } from "../harness/host-exec.js";
import { Directory, File } from "@dagger.io/dagger";
import { fromId, ModuleHarness, type Handle } from "../harness/invoke.js";
import { DEPLOY_MODULE } from "../harness/scan.js";
import { StubEngine } from "../harness/stub-engine.js";
import { prepareFixture } from "./fixture.js";
import { TOOLS_DIR } from "./tools.js";

export interface Driven {
  engine: StubEngine;
  root: string;
  /** Built directly, for unit-level use only: e2e calls go through `call` / `harness`. */
  ship: Shipshape;
  /** The .git directory alone, as history functions get it, for unit-level use. */
  gitDir: Directory;
  /** The CI module installed in the fixture's workspace, called as `dagger call` calls it. */
  harness: ModuleHarness;
  /** The deploy module (deploy/) installed in the same workspace: `dagger call shipshape-deploy ...`. */
  deploy: ModuleHarness;
  /** `dagger call <fn> [args]`: constructor and function each through the SDK's invocation path. */
  call<R = unknown>(fn: string, args?: Record<string, unknown>, ctor?: Record<string, unknown>): Promise<Handle<R>>;
  /** The same call ended as the CLI ends it: a returned report's `sync` selected, so a failed gate fails. */
  cli<R = unknown>(fn: string, args?: Record<string, unknown>, ctor?: Record<string, unknown>): Promise<Handle<R>>;
}

export async function drive(
  opts: { variant?: string; files?: Record<string, string>; env?: Record<string, string>; root?: string } = {},
): Promise<Driven> {
  const engine = await new StubEngine().install();
  // A given root (this repository, for dogfooding) is used in place; commands there only read.
  const root = opts.root ?? prepareFixture(opts.variant, opts.files);
  const scratch = mkdtempSync(join(tmpdir(), "shipshape-ctr-"));
  // /data is where the squawk image works; tool binaries not on the host PATH come from .tools/.
  const paths = { "/src": root, "/data": root, "/repo": root, "/shipshape": join(scratch, "shipshape"), "/cache": join(scratch, "cache") };
  const env = { PATH: `${join(TOOLS_DIR, "node_modules/.bin")}:${process.env.PATH ?? ""}`, ...opts.env };
  engine.onExec(
    () => true,
    (ctx) => runOnHost(ctx, { paths, env }),
  );
  // apk only exists in the alpine images; the host already has git.
  engine.onExec((args) => args[0] === "apk", { exitCode: 0 });
  const npmCi = installCommand({ name: "npm", yarnBerry: false, lockfile: "package-lock.json" });
  engine.onExec((args) => args.join(" ") === npmCi.join(" "), { exitCode: 0, stdout: "added 173 packages in 9s\n" });
  // The engine uploads the tree without .git, and .git alone for history (the functions' gitDir).
  const source = dag.host().directory(root, { exclude: ["**/node_modules", ".git"] });
  const gitDir = dag.host().directory(root, { include: [".git"] });
  const ship = new Shipshape(source, "shipshape.yaml");
  const harness = new ModuleHarness({ workspace: root }, engine);
  const deploy = new ModuleHarness({ workspace: root }, engine, DEPLOY_MODULE);
  return {
    engine,
    root,
    ship,
    gitDir,
    harness,
    deploy,
    call: (fn, args, ctor) => harness.call(fn, args, ctor),
    cli: (fn, args, ctor) => harness.cli(fn, args, ctor),
  };
}

/** A Directory or File from the ID a call returned in its state. */
export const dirOf = (id: string): Promise<Directory> => fromId(Directory, "Directory", id);
export const fileOf = (id: string): Promise<File> => fromId(File, "File", id);
