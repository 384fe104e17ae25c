/**
 * What the generator learns about a project from its files alone: package manager and Node version
 * (the very rules the gates use, src/project/detect.ts), the test script and whether it produces
 * coverage, how much coverage a committed or local report shows, SQL migrations, a Dockerfile, a
 * database the tests need. Pure: the caller reads the files (read.ts), every rule is unit-tested.
 */
import picomatch from "picomatch";
import { DEFAULT_MIGRATION_PATHS } from "../../deploy/lib/release/migrations/config.js";
import {
  detectNodeVersion,
  detectPackageManager,
  detectTestRunner,
  hasDependency,
  parsePackageJson,
  type PackageJson,
  type PackageManagerInfo,
  type TestRunner,
} from "../../deploy/lib/project/detect.js";

/** The files the generator reads, by path relative to the source root. */
export const READ_FILES = [
  "package.json",
  ".nvmrc",
  "coverage/coverage-summary.json",
  "coverage/lcov.info",
  ".dagger/config.toml",
  "dagger.json",
] as const;
export type ReadFile = (typeof READ_FILES)[number];

export interface ProjectInput {
  /** Names at the source root. */
  entries: string[];
  /** Every .sql file, relative to the root. */
  sqlFiles: string[];
  files: Partial<Record<ReadFile, string>>;
  /** Environment names of an existing shipshape.yaml, in its order (deploy jobs are chained for them). */
  environments: string[];
}

export interface ProjectFacts {
  name: string;
  pkg: PackageJson;
  pm: PackageManagerInfo;
  node: { version: string; from: string };
  dockerfile: boolean;
  /** Globs for the SQL migrations found; empty when there are none. */
  migrations: { globs: string[]; files: number };
  test: { script?: string; command?: string; runner?: TestRunner; coverage: boolean };
  /** The package that shows the tests talk to Postgres, if any. */
  database?: string;
  /** Line coverage a report in the source shows (the level the tests reach today). */
  coverage?: { lines: number; from: string };
  environments: string[];
}

/** Client libraries and ORMs that mean the tests want a Postgres (the test gate binds one as `db`). */
const POSTGRES_CLIENTS = [
  "pg",
  "postgres",
  "pg-promise",
  "@prisma/client",
  "prisma",
  "knex",
  "typeorm",
  "sequelize",
  "drizzle-orm",
  "kysely",
  "slonik",
];

/** Folders migration tools use (the gate's defaults cover the usual ones). */
const MIGRATION_DIR = /^(.*?(?:^|\/)[^/]*migrat[^/]*)\//i;

export function detectFacts(input: ProjectInput): ProjectFacts {
  const pkg = parsePackageJson(input.files["package.json"]);
  const pm = detectPackageManager(input.entries, pkg);
  const node = detectNodeVersion(undefined, input.files[".nvmrc"], pkg.engines?.node);
  const command = pkg.scripts?.test;
  const runner = command === undefined ? undefined : detectTestRunner(command);
  return {
    name: pkg.name ?? "app",
    pkg,
    pm,
    node,
    dockerfile: input.entries.includes("Dockerfile"),
    migrations: migrationGlobs(input.sqlFiles),
    test: { script: command === undefined ? undefined : "test", command, runner, coverage: producesCoverage(pkg, runner) },
    database: POSTGRES_CLIENTS.find((d) => pkg.dependencies?.[d] !== undefined || pkg.devDependencies?.[d] !== undefined),
    coverage: measuredCoverage(input.files),
    environments: input.environments,
  };
}

/**
 * Whether the test gate gets an lcov report from this runner without extra config: vitest with a
 * coverage provider installed, or jest (built in), exactly as the gate decides (lib/gates/test.ts).
 */
export function producesCoverage(pkg: PackageJson, runner: TestRunner | undefined): boolean {
  if (runner === "vitest") return ["@vitest/coverage-v8", "@vitest/coverage-istanbul"].some((d) => hasDependency(pkg, d));
  return runner === "jest";
}

/** Line coverage from a report left in the source: vitest/jest json-summary first, else lcov totals. */
export function measuredCoverage(files: ProjectInput["files"]): ProjectFacts["coverage"] {
  const summary = files["coverage/coverage-summary.json"];
  if (summary !== undefined) {
    try {
      const pct = (JSON.parse(summary) as { total?: { lines?: { pct?: unknown } } }).total?.lines?.pct;
      if (typeof pct === "number" && pct >= 0 && pct <= 100) return { lines: pct, from: "coverage/coverage-summary.json" };
    } catch {
      // A damaged report is no measurement; lcov below may still be one.
    }
  }
  const lcov = files["coverage/lcov.info"];
  if (lcov !== undefined) {
    let found = 0;
    let hit = 0;
    for (const m of lcov.matchAll(/^L([FH]):(\d+)$/gm)) {
      if (m[1] === "F") found += Number(m[2]);
      else hit += Number(m[2]);
    }
    if (found > 0) return { lines: Math.round((hit / found) * 1000) / 10, from: "coverage/lcov.info" };
  }
  return undefined;
}

/**
 * Globs that cover the SQL migrations found: a default glob of the migrations gate when it already
 * matches a file, else `<folder>/**\/*.sql` for the folder named like migrations that holds it.
 * SQL elsewhere (seeds, queries) is not a migration.
 */
export function migrationGlobs(sqlFiles: string[]): { globs: string[]; files: number } {
  const defaults = DEFAULT_MIGRATION_PATHS.map((g) => [g, picomatch(g)] as const);
  const globs = new Set<string>();
  let files = 0;
  for (const file of sqlFiles) {
    const glob = defaults.find(([, match]) => match(file))?.[0] ?? (MIGRATION_DIR.exec(file)?.[1] ?? "") + "/**/*.sql";
    if (glob === "/**/*.sql") continue;
    globs.add(glob);
    files++;
  }
  return { globs: [...globs].sort(), files };
}
