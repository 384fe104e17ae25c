/**
 * A failed install names the package manager's own cause line and the fix for it, from real
 * outputs (fixtures/install/README.md says how each was produced), never npm's "A complete log of
 * this run can be found in" pointer. Nothing after the install runs.
 */
import { dag } from "@dagger.io/dagger";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installer } from "../../deploy/lib/gates/workspace.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { StubEngine } from "../harness/stub-engine.js";
import { expectClear, rejected } from "./clear.js";

const FIXTURES = join(import.meta.dirname, "fixtures/install");
const output = (name: string) => ({
  stdout: readFileSync(join(FIXTURES, `${name}.stdout`), "utf8"),
  stderr: readFileSync(join(FIXTURES, `${name}.stderr`), "utf8"),
});

const PROJECTS = {
  npm: { "package.json": '{"name":"x"}', "package-lock.json": "{}" },
  pnpm: { "package.json": '{"name":"x","packageManager":"pnpm@9.15.0"}', "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" },
  yarn1: { "package.json": '{"name":"x","packageManager":"yarn@1.22.22"}', "yarn.lock": "# yarn lockfile v1\n" },
  berry: { "package.json": '{"name":"x","packageManager":"yarn@4.5.3"}', "yarn.lock": "__metadata:\n  version: 8\n" },
};

let engine: StubEngine;
beforeEach(async () => {
  engine = await new StubEngine().install();
  engine.onExec(() => true, { exitCode: 0 }); // corepack setup
});
afterEach(() => engine.uninstall());

async function failedInstall(kind: keyof typeof PROJECTS, fixture: string) {
  const root = mkdtempSync(join(tmpdir(), "install-fail-"));
  for (const [p, c] of Object.entries(PROJECTS[kind])) writeFileSync(join(root, p), c);
  engine.onExec((a) => /^(npm ci|pnpm install|yarn install)/.test(a.join(" ")), { exitCode: 1, ...output(fixture) });
  const source = dag.host().directory(root);
  const answer = await rejected(installer(await loadProject(source, "shipshape.yaml"), source)());
  expect(answer.cause).not.toMatch(/complete log|_logs\//);
  // The install was the last command: nothing ran on a tree without dependencies.
  expect(engine.commands.at(-1)?.[1]).toMatch(/^(ci|install)$/);
  return answer;
}

describe("a failed install shows the package manager's own cause", () => {
  it("npm ci on a lockfile out of sync: npm's EUSAGE line, and to commit the updated lockfile", async () => {
    const answer = await failedInstall("npm", "npm-ci-out-of-sync");
    expectClear(
      answer,
      /\(npm ci --no-audit --no-fund\): EUSAGE: `npm ci` can only install packages when your package\.json and package-lock\.json/,
    );
    expectClear(answer, /./, /^run `npm install` and commit the updated package-lock\.json$/);
  });

  it("npm ci with a package the registry lacks: the E404 line with its URL, and to check the name and registry", async () => {
    const answer = await failedInstall("npm", "npm-ci-404");
    expectClear(
      answer,
      /: E404: 404 Not Found - GET https:\/\/registry\.npmjs\.org\/shipshape-no-such-package-zz9\//,
      /package name.*registry/,
    );
  });

  it("npm's ERESOLVE: the 'unable to resolve dependency tree' line and to fix the conflict", async () => {
    const answer = await failedInstall("npm", "npm-eresolve");
    expectClear(answer, /: ERESOLVE: ERESOLVE unable to resolve dependency tree$/, /dependency conflict/);
  });

  it("pnpm's ERR_PNPM_OUTDATED_LOCKFILE line from stdout, thin spaces made plain", async () => {
    const answer = await failedInstall("pnpm", "pnpm-outdated-lockfile");
    expectClear(
      answer,
      /\(pnpm install --frozen-lockfile\): ERR_PNPM_OUTDATED_LOCKFILE Cannot install with "frozen-lockfile" because pnpm-lock\.yaml is not up to date/,
      /^run `pnpm install` and commit the updated pnpm-lock\.yaml$/,
    );
  });

  it("yarn 1's error line, not its warnings, and to commit yarn.lock", async () => {
    const answer = await failedInstall("yarn1", "yarn1-frozen-lockfile");
    expectClear(
      answer,
      /\): Your lockfile needs to be updated, but yarn was run with `--frozen-lockfile`\.$/,
      /commit the updated yarn\.lock/,
    );
  });

  it("yarn 1 on a package the registry lacks: its 'Couldn't find package' line", async () => {
    const answer = await failedInstall("yarn1", "yarn1-not-found");
    expectClear(answer, /\): Couldn't find package "shipshape-no-such-package-zz9" on the "npm" registry\.$/, /package name.*registry/);
  });

  it("Yarn 2+'s YN0028 report, not its 'Failed with errors' summary", async () => {
    const answer = await failedInstall("berry", "yarn-berry-lockfile-created");
    expectClear(
      answer,
      /\(yarn install --immutable\): YN0028: The lockfile would have been created by this install/,
      /commit the updated yarn\.lock/,
    );
  });
});
