/**
 * What kind of Node project this is, from its files alone: package manager, Node version,
 * test runner. Pure, so every rule is unit-tested without a container.
 */
import semver from "semver";
import { z } from "zod";
import { Problem } from "../../src/project/problem.js";

export const PackageJson = z
  .object({
    name: z.string().optional(),
    scripts: z.record(z.string(), z.string()).optional(),
    dependencies: z.record(z.string(), z.string()).optional(),
    devDependencies: z.record(z.string(), z.string()).optional(),
    packageManager: z.string().optional(),
    engines: z.object({ node: z.string().optional() }).loose().optional(),
  })
  .loose();
export type PackageJson = z.infer<typeof PackageJson>;

export type PackageManager = "npm" | "pnpm" | "yarn";
export interface PackageManagerInfo {
  name: PackageManager;
  /** Yarn 2+ ("berry") has other commands than Yarn 1. */
  yarnBerry: boolean;
  lockfile: string;
  /** `name@version` from the packageManager field, for corepack. */
  pinned?: string;
}

const LOCKFILES: Record<string, PackageManager> = {
  "package-lock.json": "npm",
  "npm-shrinkwrap.json": "npm",
  "pnpm-lock.yaml": "pnpm",
  "yarn.lock": "yarn",
};

export function parsePackageJson(text: string | undefined): PackageJson {
  if (text === undefined) {
    throw new Problem(
      "no package.json at the root of the source directory",
      "pass the service's directory with --source, or run from the repository that holds package.json",
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Problem(
      `package.json is not valid JSON: ${(e as Error).message.split("\n")[0]}`,
      "fix the syntax (npm pkg get name shows the parse error)",
    );
  }
  const parsed = PackageJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Problem(
      `package.json: ${issue.path.join(".") || "(root)"}: ${issue.message}`,
      "package.json must be an object with string scripts and dependency maps",
    );
  }
  return parsed.data;
}

export function detectPackageManager(entries: string[], pkg: PackageJson, override: "auto" | PackageManager = "auto"): PackageManagerInfo {
  const field = pkg.packageManager?.match(/^(npm|pnpm|yarn)@(\d[^+]*)/);
  if (pkg.packageManager && !field) {
    throw new Problem(
      `unknown package manager "${pkg.packageManager}" in package.json`,
      'use "npm@x.y.z", "pnpm@x.y.z" or "yarn@x.y.z" in the packageManager field',
    );
  }
  const fromField = field?.[1] as PackageManager | undefined;
  const found = entries.filter((e) => e in LOCKFILES);
  if (found.length === 0) {
    if (entries.includes("bun.lockb") || entries.includes("bun.lock")) {
      throw new Problem("bun lockfiles are not supported", "commit a package-lock.json (npm install), pnpm-lock.yaml or yarn.lock");
    }
    throw new Problem(
      "no lockfile: installs would not be reproducible",
      "commit the lockfile (run npm install, pnpm install or yarn install and add package-lock.json, pnpm-lock.yaml or yarn.lock)",
    );
  }
  const wanted = override !== "auto" ? override : fromField;
  const candidates = wanted ? found.filter((f) => LOCKFILES[f] === wanted) : found;
  if (candidates.length === 0) {
    throw new Problem(
      `${wanted} is the package manager, but the only lockfile is ${found.join(", ")}`,
      `run ${wanted} install and commit its lockfile, or fix packageManager`,
    );
  }
  const managers = new Set(candidates.map((f) => LOCKFILES[f]));
  if (managers.size > 1) {
    throw new Problem(
      `several lockfiles (${candidates.join(", ")}): the package manager is ambiguous`,
      'delete the stale lockfiles, or set "packageManager" in package.json',
    );
  }
  const lockfile = candidates[0]!;
  const name = LOCKFILES[lockfile]!;
  const version = fromField === name ? field?.[2] : undefined;
  const yarnBerry =
    name === "yarn" && (entries.includes(".yarnrc.yml") || (version !== undefined && semver.major(semver.coerce(version) ?? "1.0.0") >= 2));
  return { name, yarnBerry, lockfile, pinned: version ? `${name}@${version}` : undefined };
}

/** Node majors with official images, newest first; engines ranges resolve to the newest that fits. */
export const NODE_MAJORS = [24, 22, 20] as const;
export const DEFAULT_NODE_VERSION = "24.13.1";

export function detectNodeVersion(
  configured: string | undefined,
  nvmrc: string | undefined,
  engines: string | undefined,
): { version: string; from: string } {
  if (configured) return { version: configured, from: "shipshape.yaml" };
  const pinned = nvmrc?.trim().replace(/^v/, "");
  if (pinned && /^\d+(\.\d+){0,2}$/.test(pinned)) return { version: pinned, from: ".nvmrc" };
  if (engines) {
    if (!semver.validRange(engines)) {
      throw new Problem(
        `engines.node "${engines}" is not a valid semver range`,
        'use a range like ">=20" or "^22.12.0", or set node.version in shipshape.yaml',
      );
    }
    if (semver.satisfies(DEFAULT_NODE_VERSION, engines)) return { version: DEFAULT_NODE_VERSION, from: "engines.node" };
    const major = NODE_MAJORS.find((m) => semver.intersects(`${m}.x`, engines));
    if (major === undefined) {
      throw new Problem(
        `engines.node "${engines}" allows none of Node ${NODE_MAJORS.join(", ")}`,
        "set node.version in shipshape.yaml to the exact version to use",
      );
    }
    return { version: String(major), from: "engines.node" };
  }
  return { version: DEFAULT_NODE_VERSION, from: "default" };
}

export type TestRunner = "vitest" | "jest" | "node" | "other";

/** The runner behind the test script, so the gate knows which report flags it accepts. */
export function detectTestRunner(script: string): TestRunner {
  if (/\bvitest\b/.test(script)) return "vitest";
  if (/\bjest\b/.test(script)) return "jest";
  if (/\bnode\b[^|&;]*--test\b/.test(script)) return "node";
  return "other";
}

export function hasDependency(pkg: PackageJson, name: string): boolean {
  return Boolean(pkg.dependencies?.[name] ?? pkg.devDependencies?.[name]);
}
