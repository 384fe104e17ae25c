/**
 * The generator's rules, pure: what it detects, the shipshape.yaml it writes (parsed by the real
 * loader), the thin workflows (the real workflow validator, at most 30 lines, inputs the reusable
 * workflows declare), and the unified diff (applied by the real `git apply`).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { shipshapeYaml } from "../../lib/generate/config.js";
import { unifiedDiff } from "../../lib/generate/diff.js";
import { detectFacts, migrationGlobs, type ProjectInput } from "../../lib/generate/facts.js";
import { describePlan, generateFiles, planFiles } from "../../lib/generate/plan.js";
import {
  adopterWorkflows,
  deployModuleInstalled,
  DEPLOY_MODULE_NAME,
  promotionChain,
  resolveTarget,
  type ShipshapeTarget,
} from "../../lib/generate/workflows.js";
import { SERVICE } from "../helpers/fixture.js";
import {
  actionValidator,
  callerProblems,
  callsOf,
  daggerJson,
  prefixDefault,
  prefixModule,
  readWorkflow,
  reusableFile,
  type Workflow,
} from "./workflow-checks.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const TARGET: ShipshapeTarget = { repo: "acme/shipshape", ref: SHA };
const fixturePkg = readFileSync(join(SERVICE, "package.json"), "utf8");

function input(over: Partial<ProjectInput> = {}, files: ProjectInput["files"] = {}): ProjectInput {
  return {
    entries: ["package.json", "package-lock.json", "Dockerfile", "migrations", "src"],
    sqlFiles: ["migrations/001_init.sql", "migrations/002_order_note.sql"],
    files: { "package.json": fixturePkg, ".nvmrc": "24.13.1\n", ...files },
    environments: [],
    ...over,
  };
}

describe("detectFacts", () => {
  it("reads the fixture as the gates would: npm, .nvmrc, vitest with coverage, pg, its migrations", () => {
    const f = detectFacts(input());
    expect(f.pm.name).toBe("npm");
    expect(f.node).toEqual({ version: "24.13.1", from: ".nvmrc" });
    expect(f.test).toEqual({ script: "test", command: "vitest run", runner: "vitest", coverage: true });
    expect(f.database).toBe("pg");
    expect(f.migrations).toEqual({ globs: ["migrations/**/*.sql"], files: 2 });
    expect(f.dockerfile).toBe(true);
    expect(f.coverage).toBeUndefined();
  });

  it("takes today's coverage from a json-summary report, else from lcov totals", () => {
    const summary = JSON.stringify({ total: { lines: { total: 200, covered: 187, pct: 93.5 } } });
    expect(detectFacts(input({}, { "coverage/coverage-summary.json": summary })).coverage).toEqual({
      lines: 93.5,
      from: "coverage/coverage-summary.json",
    });
    const lcov = "SF:src/a.ts\nLF:10\nLH:7\nend_of_record\nSF:src/b.ts\nLF:30\nLH:30\nend_of_record\n";
    expect(detectFacts(input({}, { "coverage/lcov.info": lcov })).coverage).toEqual({ lines: 92.5, from: "coverage/lcov.info" });
  });

  it("knows a runner that produces no coverage, a missing test script, no database", () => {
    const pkg = JSON.parse(fixturePkg) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    const noCoverage = { ...pkg, devDependencies: { vitest: "4.1.12" }, dependencies: {} };
    const f = detectFacts(input({}, { "package.json": JSON.stringify(noCoverage) }));
    expect(f.test.coverage).toBe(false);
    expect(f.database).toBeUndefined();
    const { test: _t, ...scripts } = pkg.scripts;
    expect(detectFacts(input({}, { "package.json": JSON.stringify({ ...pkg, scripts }) })).test.command).toBeUndefined();
    const jest = { ...pkg, scripts: { test: "jest --ci" } };
    expect(detectFacts(input({}, { "package.json": JSON.stringify(jest) })).test).toMatchObject({ runner: "jest", coverage: true });
  });

  it("finds migrations in the gate's default folders and in any folder named like migrations", () => {
    expect(migrationGlobs(["prisma/migrations/20240101_init/migration.sql", "db/seed.sql"])).toEqual({
      globs: ["prisma/migrations/*/migration.sql"],
      files: 1,
    });
    expect(migrationGlobs(["sql/schema-migrations/001.sql", "sql/schema-migrations/v2/002.sql", "queries/report.sql"])).toEqual({
      globs: ["sql/schema-migrations/**/*.sql"],
      files: 2,
    });
    expect(migrationGlobs([])).toEqual({ globs: [], files: 0 });
  });
});

describe("shipshapeYaml", () => {
  const load = (text: string) => parseConfig(text).config;

  it("writes what it found, with the reason on each line, and loads with the real loader", () => {
    const text = shipshapeYaml(detectFacts(input()), TARGET);
    expect(text).toContain(
      `# yaml-language-server: $schema=https://raw.githubusercontent.com/acme/shipshape/${SHA}/schema/shipshape.schema.json`,
    );
    expect(text).toContain("packageManager: npm # package-lock.json");
    expect(text).toContain("# node.version unset: Shipshape reads .nvmrc (24.13.1)");
    expect(text).toContain('paths: [ "migrations/**/*.sql" ] # where the SQL migrations are');
    const c = load(text);
    expect(c.packageManager).toBe("npm");
    expect(c.node.version).toBeUndefined();
    expect(c.database.enabled).toBe(true);
    expect(c.migrations.paths).toEqual(["migrations/**/*.sql"]);
    expect(c.gates.test.script).toBe("test");
  });

  it("starts coverage at today's level, rounded down; says why there is none otherwise", () => {
    const measured = detectFacts(input({}, { "coverage/coverage-summary.json": JSON.stringify({ total: { lines: { pct: 93.6 } } }) }));
    const text = shipshapeYaml(measured, TARGET);
    expect(text).toContain("lines: 93 # today: 93.6% (coverage/coverage-summary.json)");
    expect(load(text).coverage.global.lines).toBe(93);
    expect(shipshapeYaml(detectFacts(input()), TARGET)).toMatch(/^# coverage: the tests produce lcov but no report was found/m);
  });

  it("pins a Node version from engines.node as a quoted string; turns off what the project lacks", () => {
    const pkg = { name: "api", scripts: {}, engines: { node: "^22.12.0" } };
    const f = detectFacts(
      input({ sqlFiles: [], entries: ["package.json", "pnpm-lock.yaml"] }, { "package.json": JSON.stringify(pkg), ".nvmrc": undefined }),
    );
    const text = shipshapeYaml(f, TARGET);
    expect(text).toContain('version: "22" # engines.node ^22.12.0');
    const c = load(text);
    expect(c.node.version).toBe("22");
    expect(c.packageManager).toBe("pnpm");
    expect([c.gates.test.enabled, c.database.enabled, c.migrations.enabled]).toEqual([false, false, false]);
  });

  it("on an existing file, changes only the detected values: other keys and comments stay", () => {
    const mine = [
      "# our settings",
      "gates:",
      "  audit:",
      "    ignore:",
      "      - { id: GHSA-aaaa-bbbb-cccc, reason: parser never sees user input, expires: '2027-01-31' }",
      "coverage:",
      "  global:",
      "    lines: 60 # deliberately low while we migrate",
      "environments:",
      "  staging: { cluster: main, service: api, region: eu-west-1, containerName: app }",
      "",
    ].join("\n");
    const measured = detectFacts(input({}, { "coverage/lcov.info": "LF:100\nLH:81\n" }));
    const text = shipshapeYaml(measured, TARGET, mine);
    expect(text).toMatch(/^# our settings\n/);
    const c = load(text);
    expect(c.gates.audit.ignore.map((i) => i.id)).toEqual(["GHSA-aaaa-bbbb-cccc"]);
    expect(Object.keys(c.environments)).toEqual(["staging"]);
    expect(c.coverage.global.lines).toBe(81);
    const diff = unifiedDiff("shipshape.yaml", mine, text);
    expect(diff).toContain("-    lines: 60 # deliberately low while we migrate\n+    lines: 81 # today: 81% (coverage/lcov.info)");
    expect(diff).not.toMatch(/^-.*(GHSA|staging)/m);
  });
});

describe("adopter workflows", () => {
  const ENVS = ["dev", "staging", "production"];
  const variants = { "no environments": [], "dev, staging, production": ENVS, "prod only": ["prod", "qa"] };

  describe.each(Object.entries(variants))("with %s", (_name, envs) => {
    const files = adopterWorkflows(TARGET, envs);
    it.each(Object.entries(files))("%s: valid, at most 30 lines, calling the reusable workflows as declared", (path, text) => {
      expect(actionValidator(text, path.split("/").pop())).toBeUndefined();
      expect(text.trimEnd().split("\n").length).toBeLessThanOrEqual(30);
      const wf = parse(text) as Workflow;
      expect(wf.permissions).toEqual({});
      expect(callerProblems(path, wf)).toEqual([]);
      // Only Shipshape: no steps, no dagger calls of their own (those are in the reusable ones, API-checked).
      expect(callsOf(path, wf)).toEqual([]);
      for (const job of Object.values(wf.jobs)) {
        expect(job.steps).toBeUndefined();
        expect(job.uses).toMatch(new RegExp(`^acme/shipshape/\\.github/workflows/shipshape-[a-z]+\\.yml@${SHA}$`));
      }
    });
  });

  it("chains dev -> staging -> production after the release, each deploy needing the one before", () => {
    const wf = parse(adopterWorkflows(TARGET, ["production", "staging", "dev"])[".github/workflows/shipshape-release.yml"]!) as Workflow;
    expect(Object.keys(wf.jobs)).toEqual(["release", "dev", "staging", "production"]);
    expect(wf.jobs.production!.needs).toEqual(["release", "staging"]);
    expect(wf.jobs.staging!.with).toEqual({
      environment: "staging",
      image: "${{ needs.release.outputs.image }}",
      "certificate-identity": "${{ needs.release.outputs.identity }}",
      "call-prefix": "shipshape-deploy",
    });
    expect(wf.on).toEqual({ workflow_run: { workflows: ["shipshape-ci"], types: ["completed"], branches: ["main"] } });
    expect(promotionChain(["prod", "qa", "stage"])).toEqual(["stage", "prod"]);
  });

  it("ci runs on pull requests, main and the merge queue; rollback offers the chain's environments", () => {
    const files = adopterWorkflows(TARGET, ENVS);
    expect(Object.keys((parse(files[".github/workflows/shipshape-ci.yml"]!) as Workflow).on!)).toEqual([
      "pull_request",
      "push",
      "merge_group",
    ]);
    const rollback = parse(files[".github/workflows/shipshape-rollback.yml"]!) as {
      on: { workflow_dispatch: { inputs: { environment: { options: string[] } } } };
    };
    expect(rollback.on.workflow_dispatch.inputs.environment.options).toEqual(ENVS);
  });

  it("deploy and rollback jobs call the deploy module the workspace installs; ci, release and security the CI module", () => {
    const files = adopterWorkflows(TARGET, ENVS);
    const jobs = Object.values(files).flatMap((text) => Object.values((parse(text) as Workflow).jobs));
    expect(DEPLOY_MODULE_NAME).toBe(daggerJson("deploy").name);
    const reached = jobs.map((job) => {
      const target = reusableFile(job.uses!)!;
      const given = job.with?.["call-prefix"];
      // The module the job's calls reach in the adopter's workspace: the prefix given, else the reusable workflow's default.
      return [target, prefixModule(typeof given === "string" ? given : prefixDefault(readWorkflow(target))!), given] as const;
    });
    expect(new Set(reached.map(([target, module]) => `${target} -> ${module}`))).toEqual(
      new Set([
        "shipshape-ci.yml -> .",
        "shipshape-release.yml -> .",
        "shipshape-security.yml -> .",
        "shipshape-deploy.yml -> deploy",
        "shipshape-rollback.yml -> deploy",
      ]),
    );
    // Said by the installed module's name (an adopter has no ./deploy), on every deploy and rollback job.
    for (const [target, , given] of reached.filter(([, module]) => module === "deploy")) expect(given, target).toBe("shipshape-deploy");
  });

  it("the checks catch a deploy job sent to the CI module", () => {
    const text = adopterWorkflows(TARGET, ["staging"])[".github/workflows/shipshape-release.yml"]!;
    const wf = parse(text.replace("call-prefix: shipshape-deploy", "call-prefix: shipshape")) as Workflow;
    expect(callerProblems("x.yml", wf)).toEqual([
      'x.yml: jobs.staging: call-prefix "shipshape" calls shipshape, but shipshape-deploy.yml is written for shipshape-deploy',
    ]);
  });

  it("the checks catch a broken generated file", () => {
    const text = adopterWorkflows(TARGET, [])[".github/workflows/shipshape-security.yml"]!;
    expect(actionValidator(text.replace("jobs:", "jobz:"))).toBeDefined();
    const wf = parse(text.replace("    permissions:", "    with: { call-prefx: '' }\n    permissions:")) as Workflow;
    expect(callerProblems("x.yml", wf)).toEqual(["x.yml: jobs.scan: shipshape-security.yml has no input call-prefx"]);
  });
});

describe("resolveTarget", () => {
  it("takes the arguments, else the workspace's install record and its pin", () => {
    expect(resolveTarget("acme/shipshape", SHA, [])).toEqual(TARGET);
    const toml = `[modules.shipshape]\nsource = "github.com/acme/shipshape@v1.4.0"\npin = "${SHA}"\n`;
    expect(resolveTarget("", "", [toml])).toEqual(TARGET);
    const json = JSON.stringify({ dependencies: [{ name: "shipshape", source: "github.com/acme/shipshape@v1.4.0", pin: SHA }] }, null, 2);
    expect(resolveTarget("", "", [undefined, json])).toEqual(TARGET);
  });

  it("with both modules installed, pins to the CI module's commit and knows the deploy module is there", () => {
    const DEPLOY_SHA = "fedcba9876543210fedcba9876543210fedcba98";
    const both = [
      "[modules.shipshape-deploy]",
      'source = "github.com/acme/shipshape/deploy@v1.4.0"',
      `pin = "${DEPLOY_SHA}"`,
      "",
      "[modules.shipshape]",
      'source = "github.com/acme/shipshape@v1.4.0"',
      `pin = "${SHA}"`,
      "",
    ].join("\n");
    expect(resolveTarget("", "", [both])).toEqual(TARGET);
    expect(deployModuleInstalled([both])).toBe(true);
    // The deploy module alone still names the repository that holds the reusable workflows.
    const deployOnly = `[modules.shipshape-deploy]\nsource = "github.com/acme/shipshape/deploy@v1.4.0"\npin = "${DEPLOY_SHA}"\n`;
    expect(resolveTarget("", "", [deployOnly])).toEqual({ repo: "acme/shipshape", ref: DEPLOY_SHA });
    const ciOnly = `[modules.shipshape]\nsource = "github.com/acme/shipshape@v1.4.0"\npin = "${SHA}"\n`;
    expect(deployModuleInstalled([ciOnly, undefined])).toBe(false);
    const json = JSON.stringify({
      dependencies: [{ name: "shipshape-deploy", source: "github.com/acme/shipshape/deploy@v1.4.0", pin: DEPLOY_SHA }],
    });
    expect(deployModuleInstalled([undefined, json])).toBe(true);
  });

  it("refuses a tag or nothing: reusable workflows are pinned by SHA", () => {
    expect(() => resolveTarget("acme/shipshape", "v1.4.0", [])).toThrow(
      /--ref "v1.4.0" is not a commit SHA.*\nhint: pass --repo=<owner>\/shipshape --ref=<commit SHA>/,
    );
    expect(() => resolveTarget("", "", [])).toThrow(/cannot tell which Shipshape repository/);
    expect(() => resolveTarget("acme", SHA, [])).toThrow(/--repo "acme" is not <owner>\/<name>/);
  });
});

describe("plan and diff", () => {
  const opts = (existing: Record<string, string>) => ({
    target: TARGET,
    configPath: "shipshape.yaml",
    existing: (p: string) => existing[p],
    dockerfile: () => "# syntax=docker/dockerfile:1\n# Generated by Shipshape for npm\nFROM node\n",
    dockerignore: ".git\nnode_modules\n",
  });

  it("a fresh repository gets every file; the project's own Dockerfile is never replaced", () => {
    const facts = detectFacts(input());
    const own = generateFiles(facts, opts({ Dockerfile: "FROM node:24\n" }));
    expect(Object.keys(own.files)).not.toContain("Dockerfile");
    const none = generateFiles(facts, opts({}));
    expect(Object.keys(none.files).sort()).toEqual([
      ".dockerignore",
      ".github/workflows/shipshape-ci.yml",
      ".github/workflows/shipshape-release.yml",
      ".github/workflows/shipshape-rollback.yml",
      ".github/workflows/shipshape-security.yml",
      "Dockerfile",
      "shipshape.yaml",
    ]);
    expect(none.notes).toContain(
      "no environments in shipshape.yaml: the release workflow releases only; add environments and re-run to chain deploys",
    );
    // The rollback workflow calls the deploy module: without it installed, the generator says how to install it.
    const missing =
      "the deploy and rollback workflows call the shipshape-deploy module, which this workspace has not installed: dagger mod install github.com/acme/shipshape/deploy@<version> (tagged deploy/<version>), and commit .dagger/config.toml";
    expect(generateFiles(facts, { ...opts({}), deployInstalled: false }).notes).toContain(missing);
    expect(generateFiles(facts, { ...opts({}), deployInstalled: true }).notes).not.toContain(missing);
  });

  it("a re-run over its own output changes nothing; an edited file is a diff git apply accepts", () => {
    const facts = detectFacts(input());
    const first = generateFiles(facts, opts({}));
    const again = planFiles(generateFiles(facts, opts(first.files)).files, (p) => first.files[p]);
    expect(again.create).toEqual([]);
    expect(again.differ).toEqual([]);
    const edited: Record<string, string> = {
      ...first.files,
      ".github/workflows/shipshape-ci.yml": first.files[".github/workflows/shipshape-ci.yml"]!.replace("main]", "trunk]"),
    };
    const plan = planFiles(first.files, (p) => edited[p]);
    expect(plan.differ.map((d) => d.path)).toEqual([".github/workflows/shipshape-ci.yml"]);
    const text = describePlan(plan, first.files, []);
    expect(text).toMatch(/^0 new, 1 different, 6 unchanged\n/);
    expect(text).toContain("-    branches: [trunk]\n+    branches: [main]");
    // The real git applies the diff to the edited file and gets the generated one back.
    const dir = mkdtempSync(join(tmpdir(), "shipshape-diff-"));
    execFileSync("git", ["init", "-q", dir]);
    execFileSync("mkdir", ["-p", join(dir, ".github/workflows")]);
    writeFileSync(join(dir, ".github/workflows/shipshape-ci.yml"), edited[".github/workflows/shipshape-ci.yml"]!);
    writeFileSync(join(dir, "change.patch"), plan.differ[0]!.diff);
    execFileSync("git", ["-C", dir, "apply", "change.patch"]);
    expect(readFileSync(join(dir, ".github/workflows/shipshape-ci.yml"), "utf8")).toBe(first.files[".github/workflows/shipshape-ci.yml"]);
  });

  it("diffs any edit exactly (git apply round trip on varied edits)", () => {
    const before = Array.from({ length: 60 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const edits = [
      before.replace("line 0\n", ""),
      before.replace("line 10\n", "line 10\nnew\n").replace("line 50\n", "changed\n"),
      "only\n",
      before + "tail\n",
    ];
    const dir = mkdtempSync(join(tmpdir(), "shipshape-diff-"));
    execFileSync("git", ["init", "-q", dir]);
    for (const after of edits) {
      writeFileSync(join(dir, "f.txt"), before);
      writeFileSync(join(dir, "p.patch"), unifiedDiff("f.txt", before, after));
      execFileSync("git", ["-C", dir, "apply", "p.patch"]);
      expect(readFileSync(join(dir, "f.txt"), "utf8")).toBe(after);
    }
    expect(unifiedDiff("f.txt", before, before)).toBe("");
  });
});
