/**
 * The container every Node gate starts from: the project's Node image, package-manager caches,
 * the source at /src and dependencies installed once (gates share the same chain, so the engine
 * installs a single time per run).
 */
import { dag, ReturnType, type Container, type Directory } from "@dagger.io/dagger";
import { imageRef } from "../images.js";
import type { Project } from "../project/load.js";
import { Problem } from "../project/problem.js";
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

/** Manifest files that decide the dependency tree; copied first so installs cache across edits. */
const MANIFESTS = [
  "package.json",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "pnpm-workspace.yaml",
  "yarn.lock",
  ".yarnrc.yml",
  ".npmrc",
];

export function base(project: Project, source: Directory): Container {
  const manifests = source.filter({ include: MANIFESTS.filter((m) => project.entries.includes(m)) });
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
    .withMountedCache("/cache/yarn", dag.cacheVolume("shipshape-yarn"))
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
      const step = await run(base(project, source), cmd);
      if (step.exitCode !== 0) {
        const last = step.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${step.exitCode}`;
        throw new Problem(
          `dependencies failed to install (${cmd.join(" ")}): ${last}`,
          `run ${cmd.join(" ")} locally; a lockfile out of sync with package.json is the usual cause`,
        );
      }
      // The full source goes in after the install so that source edits keep the install cached.
      return step.ctr.withDirectory(SOURCE_DIR, source).withExec(["mkdir", "-p", REPORTS_DIR]);
    })());
}
