/**
 * The container every Node gate starts from: the project's Node image, package-manager caches,
 * the source at /src and dependencies installed once (gates share the same chain, so the engine
 * installs a single time per run).
 */
import { CacheSharingMode, dag, ReturnType, type Container, type Directory } from "@dagger.io/dagger";
import { imageRef } from "../images.js";
import type { Project } from "../project/load.js";
import { Problem } from "../../src/project/problem.js";
import { installFailure } from "./install-error.js";
import { installManifests, ROOT_MANIFESTS } from "./install-manifests.js";
import { installCommand, REPORTS_DIR, setupCommands, SOURCE_DIR, systemPackagesCommand } from "./commands.js";
import { progress } from "./progress.js";

export interface Step {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The container after the command, synced: reading its files re-runs nothing. */
  ctr: Container;
}

/** Runs a command whatever its exit code: gates judge from reports, never from a bare exit code. */
export async function run(ctr: Container, args: string[]): Promise<Step> {
  const done = await ctr.withExec(args, { expect: ReturnType.Any }).sync();
  const [exitCode, stdout, stderr] = await Promise.all([done.exitCode(), done.stdout(), done.stderr()]);
  return { exitCode, stdout, stderr, ctr: done };
}

export async function readFile(ctr: Container, path: string): Promise<string | undefined> {
  return (await ctr.exists(path)) ? ctr.file(path).contents() : undefined;
}

export function nodeImage(project: Project): string {
  return imageRef("node", project.config.images.node, `${project.node.version}-alpine`);
}

const YARN_CACHE = "/cache/yarn";

/**
 * Yarn 1 takes no lock on its cache: two installs at once on one cache unpack into the same
 * directories and fail with ENOENT/ENOTEMPTY (yarnpkg/yarn#683, #2629, #8854; a cache lock is
 * still an open request, #4102), and Shipshape's volumes are shared by every project on the
 * engine. So its cache is mounted LOCKED (the engine serializes the execs that mount it) and only
 * for the install: every later exec of the chain would otherwise queue behind it too.
 * npm's cacache, pnpm's store and Yarn 2+'s cache are safe to share (atomic writes), and Yarn 2+
 * with Plug'n'Play reads packages from its cache at run time, so those stay SHARED and mounted.
 */
const yarnClassic = (project: Project) => project.pm.name === "yarn" && !project.pm.yarnBerry;

/** The Node container with the root manifests only (enough for `npm audit`, which reads the lockfile). */
export function base(project: Project, source: Directory): Container {
  return withManifests(project, source.filter({ include: ROOT_MANIFESTS.filter((m) => project.entries.includes(m)) }));
}

function withManifests(project: Project, manifests: Directory): Container {
  const image = nodeImage(project);
  let ctr = dag.container().from(image);
  const system = systemPackagesCommand(image, project.config.node.systemPackages);
  if (system) ctr = ctr.withExec(system);
  ctr = ctr
    .withEnvVariable("CI", "true")
    .withEnvVariable("npm_config_cache", "/cache/npm")
    .withEnvVariable("npm_config_store_dir", "/cache/pnpm")
    .withEnvVariable("YARN_CACHE_FOLDER", "/cache/yarn")
    .withEnvVariable("COREPACK_HOME", "/cache/corepack")
    .withMountedCache("/cache/npm", dag.cacheVolume("shipshape-npm"))
    .withMountedCache("/cache/pnpm", dag.cacheVolume("shipshape-pnpm"))
    .withMountedCache(YARN_CACHE, dag.cacheVolume("shipshape-yarn"), yarnClassic(project) ? { sharing: CacheSharingMode.Locked } : {})
    .withMountedCache("/cache/corepack", dag.cacheVolume("shipshape-corepack"))
    .withWorkdir(SOURCE_DIR)
    .withDirectory(SOURCE_DIR, manifests);
  for (const cmd of setupCommands(project.pm)) ctr = ctr.withExec(cmd);
  return ctr;
}

/** Installs dependencies once; a failed install is a Problem every Node gate reports. */
export function installer(project: Project, source: Directory): () => Promise<Container> {
  let installed: Promise<Container> | undefined;
  return () =>
    (installed ??= (async () => {
      const cmd = installCommand(project.pm);
      progress("install", `${cmd.join(" ")} (node ${project.node.version} from ${project.node.from})`);
      // Every workspace's manifest too, or the workspaces are never linked (install-manifests.ts).
      const step = await run(withManifests(project, await installManifests(project, source)), cmd);
      if (step.exitCode !== 0) {
        const failure = installFailure(project.pm, cmd, step);
        throw new Problem(failure.cause, failure.hint);
      }
      // The full source goes in after the install so that source edits keep the install cached.
      const done = yarnClassic(project) ? step.ctr.withoutMount(YARN_CACHE) : step.ctr;
      return done.withDirectory(SOURCE_DIR, source).withExec(["mkdir", "-p", REPORTS_DIR]);
    })());
}
