/**
 * What a dependency install reads, and nothing else: the root manifests, and for a workspace
 * project every workspace's package.json. Copied before the install so the install layer is keyed
 * on these files alone; the full source goes in after it.
 *
 * Without the workspaces' manifests `npm ci` still exits 0 but links nothing (measured with npm
 * 11.19: "up to date", no node_modules/@scope/pkg), pnpm and yarn find no workspace to link.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import picomatch from "picomatch";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Project } from "../project/load.js";
import { Problem, quoted } from "../../src/project/problem.js";

/** Root files that decide the dependency tree or how the package manager runs. */
export const ROOT_MANIFESTS = [
  "package.json",
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "pnpm-workspace.yaml",
  // pnpm runs its hooks file during the install (pnpm.io/pnpmfile).
  ".pnpmfile.cjs",
  "yarn.lock",
  ".yarnrc.yml",
  ".yarnrc",
  ".npmrc",
];

/**
 * Install inputs in directories (files only: a glob may also match directories): Yarn 2+'s `yarnPath` release, plugins and `patch:` files
 * (yarnpkg.com/configuration/yarnrc), and pnpm's `patchedDependencies` files (pnpm.io/cli/patch).
 */
const INSTALL_FILES = [".yarn/releases/*.cjs", ".yarn/plugins/**/*.cjs", ".yarn/patches/*.patch", "patches/*.patch"];

/**
 * `workspaces` as npm reads it (@npmcli/map-workspaces getPatterns: an array, or Yarn 1's
 * `{ packages: [...] }` form); anything else npm refuses with EWORKSPACESCONFIG.
 */
const Workspaces = z.union([z.array(z.string()), z.object({ packages: z.array(z.string()).optional() })]);
const RootPackage = z.object({ workspaces: z.unknown().optional() });
/** pnpm-workspace.yaml: `packages` is a list of globs (pnpm.io/pnpm-workspace_yaml); the root is always a project. */
const PnpmWorkspace = z.object({ packages: z.array(z.string()).optional() }).nullable();

function badWorkspaces(file: string, field: string): Problem {
  return new Problem(
    `${file} ${quoted(field)} is not a list of paths, so Shipshape cannot tell which workspaces to install`,
    `write it as a list of globs, e.g. ${field}: ["packages/*"]`,
  );
}

/** The workspace globs the project's package manager reads, in order; `!` excludes. */
export async function workspacePatterns(project: Project, source: Directory): Promise<string[]> {
  if (project.pm.name === "pnpm") {
    if (!project.entries.includes("pnpm-workspace.yaml")) return [];
    let doc: unknown;
    try {
      doc = parseYaml(await source.file("pnpm-workspace.yaml").contents());
    } catch (e) {
      const line = (e as Error).message.split("\n")[0] ?? "";
      throw new Problem(`pnpm-workspace.yaml is not valid YAML: ${line}`, "fix pnpm-workspace.yaml so `pnpm install` reads it");
    }
    const parsed = PnpmWorkspace.safeParse(doc ?? null);
    if (!parsed.success) throw badWorkspaces("pnpm-workspace.yaml", "packages");
    return parsed.data?.packages ?? [];
  }
  // package.json was parsed already (project.pkg), but its schema keeps only what gates use.
  const raw = RootPackage.safeParse(JSON.parse(await source.file("package.json").contents()));
  if (!raw.success || raw.data.workspaces === undefined) return [];
  const ws = Workspaces.safeParse(raw.data.workspaces);
  if (!ws.success) throw badWorkspaces("package.json", "workspaces");
  return Array.isArray(ws.data) ? ws.data : (ws.data.packages ?? []);
}

/** `./packages/*` and `/packages/*` mean `packages/*` (map-workspaces strips them too); a trailing `/` is the directory. */
const clean = (p: string) => p.replace(/^\.?\/+/, "").replace(/\/+$/, "");

/**
 * The workspace directories the patterns select. The last pattern that matches a directory decides,
 * as npm's map-workspaces does (a later positive pattern overrides an earlier negation); pnpm lets
 * negations win outright, so for pnpm this can only select more, and an extra package.json in the
 * install layer changes nothing but its cache key.
 */
export async function workspaceDirs(patterns: string[], source: Directory): Promise<string[]> {
  const rules = patterns.map((p) => ({ negate: /^!/.test(p), glob: clean(p.replace(/^!+/, "")) })).filter((r) => r.glob);
  const candidates = new Set<string>();
  for (const r of rules.filter((x) => !x.negate)) {
    for (const file of await source.glob(`${r.glob}/package.json`)) candidates.add(file.slice(0, -"/package.json".length));
  }
  const matchers = rules.map((r) => ({ negate: r.negate, match: picomatch(r.glob, { dot: false }) }));
  return [...candidates]
    .filter((dir) => !dir.split("/").includes("node_modules"))
    .filter((dir) => {
      const last = matchers.filter((m) => m.match(dir)).at(-1);
      return last !== undefined && !last.negate;
    })
    .sort();
}

/** Every file the install reads, as paths relative to the source root. */
export async function installManifestPaths(project: Project, source: Directory): Promise<string[]> {
  const root = ROOT_MANIFESTS.filter((m) => project.entries.includes(m));
  const dirs = await workspaceDirs(await workspacePatterns(project, source), source);
  const extra = (await Promise.all(INSTALL_FILES.map((g) => source.glob(g)))).flat();
  return [...new Set([...root, ...dirs.map((d) => `${d}/package.json`), ...extra])].sort();
}

/**
 * A directory holding only those files, built from their contents: its identity is their bytes, so
 * the install is replayed from cache after any edit that leaves them unchanged, whichever engine
 * keys what (a Directory derived from the whole source would carry the whole source's digest).
 */
export async function installManifests(project: Project, source: Directory): Promise<Directory> {
  const paths = await installManifestPaths(project, source);
  const contents = await Promise.all(paths.map((p) => source.file(p).contents()));
  return paths.reduce((dir, p, i) => dir.withNewFile(p, contents[i]!), dag.directory());
}
