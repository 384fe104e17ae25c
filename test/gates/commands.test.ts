import { describe, expect, it } from "vitest";
import {
  auditCommand,
  eslintCommand,
  installCommand,
  runScriptCommand,
  setupCommands,
  systemPackagesCommand,
  testReportFlags,
  tscCommand,
} from "../../deploy/lib/gates/commands.js";
import type { PackageManagerInfo } from "../../deploy/lib/project/detect.js";

const npm: PackageManagerInfo = { name: "npm", yarnBerry: false, lockfile: "package-lock.json" };
const pnpm: PackageManagerInfo = { name: "pnpm", yarnBerry: false, lockfile: "pnpm-lock.yaml" };
const yarn1: PackageManagerInfo = { name: "yarn", yarnBerry: false, lockfile: "yarn.lock" };
const berry: PackageManagerInfo = { name: "yarn", yarnBerry: true, lockfile: "yarn.lock" };

describe("command lines", () => {
  it("installs reproducibly with each package manager", () => {
    expect(installCommand(npm)).toEqual(["npm", "ci", "--no-audit", "--no-fund"]);
    expect(installCommand(pnpm)).toEqual(["pnpm", "install", "--frozen-lockfile"]);
    expect(installCommand(yarn1)).toEqual(["yarn", "install", "--frozen-lockfile", "--non-interactive"]);
    expect(installCommand(berry)).toEqual(["yarn", "install", "--immutable"]);
    expect(setupCommands(npm)).toEqual([]);
    expect(setupCommands(pnpm).at(-1)).toEqual(["corepack", "enable"]);
  });

  it("installs OS packages with the image's own package manager", () => {
    expect(systemPackagesCommand("node:24.13.1-alpine@sha256:abc", ["git", "python3"])).toEqual([
      "apk",
      "add",
      "--no-cache",
      "--",
      "git",
      "python3",
    ]);
    // The shell line is constant; names arrive as "$@" (test/bad-input runs it with hostile names).
    expect(systemPackagesCommand("node:22-bookworm-slim", ["git", "python3"])).toEqual([
      "sh",
      "-c",
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends -- "$@" && rm -rf /var/lib/apt/lists/*',
      "sh",
      "git",
      "python3",
    ]);
    expect(systemPackagesCommand("node:22-alpine", [])).toBeUndefined();
  });

  it("runs the project's own binaries, through yarn under Plug'n'Play", () => {
    expect(eslintCommand(npm, 0)).toEqual([
      "node_modules/.bin/eslint",
      ".",
      "--max-warnings",
      "0",
      "--format",
      "json",
      "--output-file",
      "/shipshape/reports/eslint.json",
    ]);
    expect(eslintCommand(berry, -1, "/r")).toEqual(["yarn", "eslint", ".", "--format", "json", "--output-file", "/r/eslint.json"]);
    expect(tscCommand(pnpm, "tsconfig.app.json")).toEqual([
      "node_modules/.bin/tsc",
      "--noEmit",
      "--pretty",
      "false",
      "-p",
      "tsconfig.app.json",
    ]);
  });

  it("passes runner flags through each package manager's script runner", () => {
    expect(runScriptCommand(npm, "test", [])).toEqual(["npm", "run", "test"]);
    expect(runScriptCommand(npm, "test", ["--x"])).toEqual(["npm", "run", "test", "--", "--x"]);
    expect(runScriptCommand(pnpm, "test:ci", ["--x"])).toEqual(["pnpm", "run", "test:ci", "--x"]);
    expect(runScriptCommand(yarn1, "test", ["--x"])).toEqual(["yarn", "run", "test", "--x"]);
  });

  it("adds JUnit and lcov flags only where the runner supports them", () => {
    const v = testReportFlags("vitest", { coverage: true, jestJunit: false }, "/r");
    expect(v.junit).toBe("/r/junit.xml");
    expect(v.lcov).toBe("/r/coverage/lcov.info");
    expect(v.args).toContain("--outputFile.junit=/r/junit.xml");
    expect(testReportFlags("vitest", { coverage: false, jestJunit: false }, "/r").lcov).toBeUndefined();
    const j = testReportFlags("jest", { coverage: true, jestJunit: true }, "/r");
    expect(j.env).toEqual({
      JEST_JUNIT_OUTPUT_DIR: "/r",
      JEST_JUNIT_OUTPUT_NAME: "junit.xml",
      JEST_JUNIT_REPORT_TEST_SUITE_ERRORS: "true",
    });
    expect(v.args).toContain("--coverage.reportOnFailure");
    expect(testReportFlags("jest", { coverage: true, jestJunit: false }, "/r").junit).toBeUndefined();
    expect(testReportFlags("other", { coverage: true, jestJunit: false })).toEqual({ args: [], env: {} });
  });

  it("audits production dependencies from the lockfile alone", () => {
    expect(auditCommand(npm, "high", true)).toEqual(["npm", "audit", "--json", "--package-lock-only", "--audit-level=high", "--omit=dev"]);
    expect(auditCommand(pnpm, "critical", false)).toEqual(["pnpm", "audit", "--json", "--audit-level", "critical"]);
    expect(auditCommand(yarn1, "moderate", true)).toEqual(["yarn", "audit", "--json", "--level", "moderate", "--groups", "dependencies"]);
    expect(auditCommand(berry, "low", true)).toEqual([
      "yarn",
      "npm",
      "audit",
      "--json",
      "--all",
      "--recursive",
      "--severity",
      "low",
      "--environment",
      "production",
    ]);
  });
});
