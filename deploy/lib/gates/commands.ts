/**
 * The exact command lines each gate runs in its container. Pure: the same functions feed the
 * Dagger calls and the tests that run these commands for real on a fixture project, so what is
 * proven on the host is what runs in the engine.
 */
import type { PackageManagerInfo, TestRunner } from "../project/detect.js";

export const SOURCE_DIR = "/src";
export const REPORTS_DIR = "/shipshape/reports";
/** corepack is no longer bundled from Node 25 on; installing it pinned works on every version. */
export const COREPACK_VERSION = "0.36.0";

/** A project's own binary: node_modules/.bin, or through yarn when Plug'n'Play has no node_modules. */
export function projectBin(pm: PackageManagerInfo, tool: string): string[] {
  return pm.yarnBerry ? ["yarn", tool] : [`node_modules/.bin/${tool}`];
}

/**
 * OS packages for the Node image: alpine images have apk, Debian ones apt-get. Safe whatever the
 * names are, without relying on the schema's pattern: `--` ends both tools' options, and apt-get's
 * shell line is a constant that receives the names as positional parameters ("$@"), so no name is
 * ever parsed as shell syntax.
 */
export function systemPackagesCommand(image: string, packages: string[]): string[] | undefined {
  if (packages.length === 0) return undefined;
  return /alpine/.test(image) ? ["apk", "add", "--no-cache", "--", ...packages] : ["sh", "-c", APT_INSTALL, "sh", ...packages];
}

export const APT_INSTALL = 'apt-get update -qq && apt-get install -y -qq --no-install-recommends -- "$@" && rm -rf /var/lib/apt/lists/*';

export function setupCommands(pm: PackageManagerInfo): string[][] {
  if (pm.name === "npm") return [];
  return [
    ["npm", "install", "--global", "--no-audit", "--no-fund", `corepack@${COREPACK_VERSION}`],
    ["corepack", "enable"],
  ];
}

export function installCommand(pm: PackageManagerInfo): string[] {
  switch (pm.name) {
    case "npm":
      return ["npm", "ci", "--no-audit", "--no-fund"];
    case "pnpm":
      return ["pnpm", "install", "--frozen-lockfile"];
    case "yarn":
      return pm.yarnBerry ? ["yarn", "install", "--immutable"] : ["yarn", "install", "--frozen-lockfile", "--non-interactive"];
  }
}

export function eslintCommand(pm: PackageManagerInfo, maxWarnings: number, reports = REPORTS_DIR): string[] {
  const limit = maxWarnings >= 0 ? ["--max-warnings", String(maxWarnings)] : [];
  return [...projectBin(pm, "eslint"), ".", ...limit, "--format", "json", "--output-file", `${reports}/eslint.json`];
}

export function prettierCommand(pm: PackageManagerInfo): string[] {
  return [...projectBin(pm, "prettier"), "--check", "."];
}

export function tscCommand(pm: PackageManagerInfo, project: string): string[] {
  return [...projectBin(pm, "tsc"), "--noEmit", "--pretty", "false", "-p", project];
}

/**
 * Waits until a TCP port accepts connections. Postgres' image first runs a socket-only server
 * while it initialises, so an open TCP port means the real server is up.
 */
export const WAIT_FOR_TCP = `
const [host, port, seconds] = process.argv.slice(1);
const net = require("node:net");
const deadline = Date.now() + Number(seconds) * 1000;
const attempt = () => {
  const s = net.connect({ host, port: Number(port) });
  s.setTimeout(2000);
  s.once("connect", () => { s.end(); console.log("ready: " + host + ":" + port); process.exit(0); });
  const retry = () => {
    s.destroy();
    if (Date.now() > deadline) { console.error("not ready after " + seconds + "s: " + host + ":" + port); process.exit(3); }
    setTimeout(attempt, 500);
  };
  s.once("error", retry);
  s.once("timeout", retry);
};
attempt();
`.trim();

/** Exit code of the wait command when the port never opened (distinct from node's own 1). */
export const WAIT_TIMEOUT_EXIT = 3;

export function waitForTcpCommand(host: string, port: number, seconds: number): string[] {
  return ["node", "-e", WAIT_FOR_TCP, host, String(port), String(seconds)];
}

export interface TestReportFlags {
  args: string[];
  env: Record<string, string>;
  junit?: string;
  lcov?: string;
}

/**
 * Flags that make a known runner write JUnit and lcov where the gate collects them; for other
 * runners the project's own output paths from shipshape.yaml are used instead.
 */
export function testReportFlags(
  runner: TestRunner,
  opts: { coverage: boolean; jestJunit: boolean },
  reports = REPORTS_DIR,
): TestReportFlags {
  switch (runner) {
    case "vitest": {
      const cov = opts.coverage
        ? // reportOnFailure: vitest writes no lcov when a test fails, and the figures still help then.
          [
            "--coverage.enabled",
            "--coverage.reporter=lcov",
            "--coverage.reporter=text-summary",
            "--coverage.reportOnFailure",
            `--coverage.reportsDirectory=${reports}/coverage`,
          ]
        : [];
      return {
        args: ["--reporter=default", "--reporter=junit", `--outputFile.junit=${reports}/junit.xml`, ...cov],
        env: {},
        junit: `${reports}/junit.xml`,
        lcov: opts.coverage ? `${reports}/coverage/lcov.info` : undefined,
      };
    }
    case "jest": {
      const junit = opts.jestJunit ? ["--reporters=default", "--reporters=jest-junit"] : [];
      return {
        args: [
          "--ci",
          "--coverage",
          "--coverageReporters=lcov",
          "--coverageReporters=text-summary",
          `--coverageDirectory=${reports}/coverage`,
          ...junit,
        ],
        // Without REPORT_TEST_SUITE_ERRORS a test file that fails to load is missing from the XML.
        env: opts.jestJunit
          ? { JEST_JUNIT_OUTPUT_DIR: reports, JEST_JUNIT_OUTPUT_NAME: "junit.xml", JEST_JUNIT_REPORT_TEST_SUITE_ERRORS: "true" }
          : {},
        junit: opts.jestJunit ? `${reports}/junit.xml` : undefined,
        lcov: `${reports}/coverage/lcov.info`,
      };
    }
    default:
      return { args: [], env: {} };
  }
}

export function runScriptCommand(pm: PackageManagerInfo, script: string, extra: string[]): string[] {
  switch (pm.name) {
    case "npm":
      return ["npm", "run", script, ...(extra.length ? ["--", ...extra] : [])];
    case "pnpm":
      // pnpm 7+ forwards everything after the script name; a literal "--" would reach the script.
      return ["pnpm", "run", script, ...extra];
    case "yarn":
      return ["yarn", "run", script, ...extra];
  }
}

export type AuditLevel = "low" | "moderate" | "high" | "critical";

/** Audits read only the manifest and lockfile, so they never wait for (or break with) an install. */
export function auditCommand(pm: PackageManagerInfo, level: AuditLevel, production: boolean): string[] {
  switch (pm.name) {
    case "npm":
      return ["npm", "audit", "--json", "--package-lock-only", `--audit-level=${level}`, ...(production ? ["--omit=dev"] : [])];
    case "pnpm":
      return ["pnpm", "audit", "--json", "--audit-level", level, ...(production ? ["--prod"] : [])];
    case "yarn":
      return pm.yarnBerry
        ? // --all covers every workspace, --recursive the transitive dependencies (missed without it)
          [
            "yarn",
            "npm",
            "audit",
            "--json",
            "--all",
            "--recursive",
            "--severity",
            level,
            ...(production ? ["--environment", "production"] : []),
          ]
        : ["yarn", "audit", "--json", "--level", level, ...(production ? ["--groups", "dependencies"] : [])];
  }
}
