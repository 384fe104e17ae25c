/**
 * The GitHub workflows only wrap `dagger call`: every call they make must name a function the
 * module it calls really has, with flags that are its arguments (kebab-case, as the CLI spells
 * them). Three modules are called: Shipshape's CI module `shipshape` (the root), its deploy module
 * `shipshape-deploy` (deploy/: deploy and rollback) and `-m dagger/tests`; each call is walked
 * against the module it reaches, as the SDK's own scanner registers it, so `environment` on the CI
 * module, or `lint` on the deploy module, fails here. A renamed argument would otherwise only show
 * up as a red production deploy. The Shipshape calls live in reusable workflows (`on:
 * workflow_call`, this repository's shipshape-*.yml), whose `call-prefix` default names the module
 * they are written for; this repository's own ci/release/deploy/security files, like an adopter's,
 * are thin callers whose inputs must be ones the reusable workflow declares, and whose call-prefix
 * reaches that same module here. Every file passes the real workflow validator; every action is
 * pinned by commit SHA.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { CI_MODULE, DEPLOY_MODULE, type ScannedModule } from "../harness/scan.js";
import {
  actionValidator,
  callerProblems,
  callProblems,
  callsOf,
  chainProblems,
  daggerJson,
  DAGGER_ACTION,
  isReusable,
  prefixDefault,
  prefixModule,
  readWorkflow,
  ROOT,
  scanned,
  stepsOf,
  WORKFLOWS_DIR,
  workflowFiles,
} from "../generate/workflow-checks.js";

const REUSABLE = ["shipshape-ci.yml", "shipshape-release.yml", "shipshape-deploy.yml", "shipshape-rollback.yml", "shipshape-security.yml"];
/** Which module each reusable workflow is written for (its call-prefix default): deploys and rollbacks are the deploy module's. */
const WRITTEN_FOR: Record<string, string> = {
  "shipshape-ci.yml": ".",
  "shipshape-release.yml": ".",
  "shipshape-security.yml": ".",
  "shipshape-deploy.yml": "deploy",
  "shipshape-rollback.yml": "deploy",
};
const THIN = ["ci.yml", "release.yml", "deploy.yml", "security.yml"];

const found = workflowFiles().flatMap((f) => callsOf(f, readWorkflow(f)));
const problems = new Map<(typeof found)[number], string[]>();
let ci: ScannedModule;
let deploy: ScannedModule;
beforeAll(async () => {
  for (const c of found) problems.set(c, await callProblems(c));
  [ci, deploy] = await Promise.all([scanned("."), scanned("deploy")]);
}, 180_000);

describe(".github/workflows call the modules as they are", () => {
  it("finds the calls of every reusable workflow and of tests.yml, and none in the thin callers", () => {
    expect(new Set(found.map((c) => c.file))).toEqual(new Set([...REUSABLE, "tests.yml"]));
    const verbs = (cs: typeof found) => cs.flatMap((c) => c.steps.map((s) => s.fn));
    expect(verbs(found.filter((c) => c.module === "."))).toEqual(
      expect.arrayContaining(["ci", "files", "migrations", "pr-comment", "release", "verify"]),
    );
    // Deploys and rollbacks are the deploy module's; the CI module has no environment any more.
    expect(verbs(found.filter((c) => c.module === "deploy"))).toEqual(
      expect.arrayContaining(["with-aws", "with-verifier", "with-notifications", "environment", "deploy", "rollback"]),
    );
    expect(verbs(found.filter((c) => c.module === "."))).not.toContain("environment");
    for (const c of found.filter((c) => REUSABLE.includes(c.file))) expect(c.module, `${c.file}: ${c.fn}`).toBe(WRITTEN_FOR[c.file]);
    expect(verbs(found.filter((c) => c.file === "shipshape-security.yml"))).toEqual(
      expect.arrayContaining(["scan-image", "scan-dependencies", "secret-scan"]),
    );
    // The README's promise: dagger/tests runs on every push.
    expect(found.filter((c) => c.file === "tests.yml")).toEqual([
      {
        file: "tests.yml",
        module: "dagger/tests",
        fn: "all",
        flags: [],
        prefixed: false,
        named: true,
        ctorFlags: [],
        steps: [{ fn: "all", flags: [] }],
      },
    ]);
  });

  it.each(found.map((c) => [`${c.file}: ${c.module === "." ? "" : `-m ${c.module} `}${c.steps.map((s) => s.fn).join(" ")}`, c] as const))(
    "%s",
    (_name, c) => {
      // Shipshape's chains are walked step by step: with-*, environment, the verb, the report's fields.
      expect(problems.get(c)).toEqual([]);
    },
  );

  it("the chain check really judges: a flag on the wrong step, an unknown field, a function of the other module", async () => {
    const call = found.find((c) => c.file === "shipshape-deploy.yml" && c.steps.some((s) => s.fn === "deploy"))!;
    const moved = call.steps.map((s) => (s.fn === "deploy" ? { ...s, flags: [...s.flags, "role-arn"] } : s));
    expect(chainProblems(deploy, "ShipshapeDeploy", moved)).toEqual(["deploy has no --role-arn"]);
    expect(
      chainProblems(ci, "Shipshape", [
        { fn: "lint", flags: [] },
        { fn: "sarif", flags: [] },
      ]),
    ).toEqual(["GateReport has no function sarif"]);
    // The same deploy chain sent to the CI module, as before the split: refused at its first deploy-only step.
    expect(await callProblems({ ...call, module: "." })).toEqual(["Shipshape has no function with-notifications"]);
    expect(await callProblems({ ...call, module: ".", steps: call.steps.filter((s) => s.fn !== "with-notifications") })).toEqual([
      "Shipshape has no function environment",
    ]);
    const gate = found.find((c) => c.file === "shipshape-ci.yml" && c.fn === "ci")!;
    expect(await callProblems({ ...gate, module: "deploy" })).toEqual(["ShipshapeDeploy has no function ci"]);
    expect(await callProblems({ ...gate, module: "nowhere" })).toEqual(["no module of this repository at nowhere"]);
  });

  it("a production deploy from GitHub Actions fits in 4 lines of YAML", () => {
    const step = stepsOf(readWorkflow("shipshape-deploy.yml")).find((s) => / deploy /.test(s.with?.args ?? ""))!;
    const text = readFileSync(join(WORKFLOWS_DIR, "shipshape-deploy.yml"), "utf8");
    const block = text.slice(text.indexOf("args: >-", text.indexOf("name: Deploy")));
    const lines = block.split("\n").slice(1);
    const args = lines.slice(
      0,
      lines.findIndex((l) => !/^ {12}\S/.test(l)),
    );
    expect(args.length).toBeLessThanOrEqual(4);
    expect(args.map((l) => l.trim()).join(" ")).toBe(step.with!.args!.trim());
  });

  it("every Shipshape call in a reusable workflow goes through the call-prefix input, whose default names its module", () => {
    // Adopters call `dagger call shipshape <fn>` / `dagger call shipshape-deploy <fn>` (installed in
    // their workspace); this repository `dagger call <fn>` / `dagger call -m ./deploy <fn>`.
    for (const c of found.filter((c) => REUSABLE.includes(c.file))) expect(c.prefixed, `${c.file}: ${c.fn}`).toBe(true);
    for (const file of REUSABLE) {
      const written = prefixDefault(readWorkflow(file));
      expect(written, file).toBe(daggerJson(WRITTEN_FOR[file]!).name);
      expect(prefixModule(written!), file).toBe(WRITTEN_FOR[file]);
    }
    // The harness scans the modules under the names their dagger.json give them.
    expect([daggerJson(".").name, daggerJson("deploy").name]).toEqual([CI_MODULE.name, DEPLOY_MODULE.name]);
  });

  it("the keyless release passes the OIDC request URL and token as Secrets, and keeps SBOM and provenance", () => {
    const release = found.find((c) => c.file === "shipshape-release.yml" && c.steps.some((s) => s.fn === "release"))!;
    const step = (fn: string) => release.steps.find((s) => s.fn === fn)!;
    expect(step("with-signer").flags).toEqual(["id-token-request-url", "id-token-request-token"]);
    expect(step("with-run").flags).toEqual(expect.arrayContaining(["commit-sha", "run-url"]));
    expect(step("release").flags).toEqual(expect.arrayContaining(["builder-id"]));
    const text = readFileSync(join(WORKFLOWS_DIR, "shipshape-release.yml"), "utf8");
    expect(text).toContain(
      "with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    );
    const verify = found.find((c) => c.file === "shipshape-release.yml" && c.steps.some((s) => s.fn === "verify"))!;
    expect(verify.steps.find((s) => s.fn === "verify")!.flags).toContain("provenance");
  });

  it("the migrations gate gets --approve-destructive from the approval label", () => {
    const on = readWorkflow("shipshape-ci.yml").on as { workflow_call: { inputs: Record<string, { default?: unknown }> } };
    expect(on.workflow_call.inputs["approval-label"]?.default).toBe("migration-destructive-approved");
    const step = stepsOf(readWorkflow("shipshape-ci.yml")).find((s) => s.with?.args?.includes(" migrations "))!;
    expect(step.with!.args).toContain(
      "--approve-destructive=${{ contains(github.event.pull_request.labels.*.name, inputs.approval-label) }}",
    );
    expect(step.if).toBe("github.event_name == 'pull_request'");
  });

  it("the check scans the tests module for real: a function it lacks is caught", async () => {
    const tests = (await scanned("dagger/tests")).objects.Tests!;
    expect(Object.keys(tests.methods)).toEqual(expect.arrayContaining(["all", "releaseSignsAndVerifies", "dockerfileIsHardened"]));
    expect(await callProblems({ module: "dagger/tests", ctorFlags: [], steps: [{ fn: "ci", flags: [] }] })).toEqual([
      "Tests has no function ci",
    ]);
  });
});

describe("the thin callers use the reusable workflows", () => {
  it.each(THIN)("%s is at most 30 lines, calls only reusable workflows, with inputs and secrets they declare", (file) => {
    expect(readFileSync(join(WORKFLOWS_DIR, file), "utf8").trimEnd().split("\n").length).toBeLessThanOrEqual(30);
    const wf = readWorkflow(file);
    expect(wf.permissions, `${file}: least privilege starts from none`).toEqual({});
    for (const job of Object.values(wf.jobs)) {
      expect(job.steps).toBeUndefined();
      expect(job.uses).toMatch(/^\.\/\.github\/workflows\/shipshape-[a-z]+\.yml$/);
      // This repository holds the modules: the CI module at the root (""), the deploy module in deploy/.
      const module = WRITTEN_FOR[job.uses!.split("/").pop()!]!;
      expect(job.with?.["call-prefix"]).toBe(module === "." ? "" : `-m ./${module}`);
    }
    expect(callerProblems(file, wf)).toEqual([]);
  });

  it("ci runs on pull requests (label changes too), main and the merge queue", () => {
    expect(readWorkflow("ci.yml").on).toEqual({
      pull_request: { types: ["opened", "synchronize", "reopened", "labeled", "unlabeled"] },
      push: { branches: ["main"] },
      merge_group: null,
    });
  });

  it("the caller check catches an undeclared input, a missing required one and an unpinned remote", () => {
    const wf = readWorkflow("deploy.yml");
    const job = wf.jobs.deploy!;
    const { image: _i, ...rest } = job.with!;
    const broken = {
      ...wf,
      jobs: { a: { ...job, with: { ...rest, imag: "x" } }, b: { uses: "acme/shipshape/.github/workflows/shipshape-ci.yml@main" } },
    };
    expect(callerProblems("deploy.yml", broken)).toEqual([
      "deploy.yml: jobs.a: shipshape-deploy.yml has no input imag",
      "deploy.yml: jobs.a: required input image of shipshape-deploy.yml not given",
      "deploy.yml: jobs.b uses acme/shipshape/.github/workflows/shipshape-ci.yml@main, not a reusable workflow of this repository pinned by SHA",
    ]);
  });

  it("the caller check catches a call-prefix that reaches the wrong module", () => {
    const wf = readWorkflow("deploy.yml");
    const job = wf.jobs.deploy!;
    // As before the split: the deploy workflow called with the CI module's prefix.
    for (const prefix of ["", "shipshape"])
      expect(callerProblems("deploy.yml", { ...wf, jobs: { deploy: { ...job, with: { ...job.with, "call-prefix": prefix } } } })).toEqual([
        `deploy.yml: jobs.deploy: call-prefix "${prefix}" calls shipshape, but shipshape-deploy.yml is written for shipshape-deploy`,
      ]);
    const ci = readWorkflow("ci.yml");
    expect(callerProblems("ci.yml", { ...ci, jobs: { ci: { ...ci.jobs.ci!, with: { "call-prefix": "-m ./deploy" } } } })).toEqual([
      'ci.yml: jobs.ci: call-prefix "-m ./deploy" calls shipshape-deploy, but shipshape-ci.yml is written for shipshape',
    ]);
    expect(
      callerProblems("deploy.yml", { ...wf, jobs: { deploy: { ...job, with: { ...job.with, "call-prefix": "shipshape-deploy" } } } }),
    ).toEqual([]);
  });
});

describe(".github/workflows are valid, pinned and least-privilege", () => {
  const engineVersion = (path: string) => (JSON.parse(readFileSync(join(ROOT, path), "utf8")) as { engineVersion: string }).engineVersion;

  it.each(workflowFiles())("%s passes the real workflow validator (@action-validator/cli)", (file) => {
    expect(actionValidator(readFileSync(join(WORKFLOWS_DIR, file), "utf8"), file)).toBeUndefined();
  });

  it("the validator really judges: an invalid workflow fails it", () => {
    const text = readFileSync(join(WORKFLOWS_DIR, "shipshape-ci.yml"), "utf8").replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest");
    expect(actionValidator(text)).toMatch(/runs_on/);
  });

  it.each(workflowFiles())(
    "%s pins every action by commit SHA, dagger-for-github as everywhere, at the modules' engine version",
    (file) => {
      const wf = readWorkflow(file);
      const steps = stepsOf(wf);
      for (const s of steps) if (s.uses) expect(s.uses, `${file}: ${s.uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const ci = readFileSync(join(WORKFLOWS_DIR, "shipshape-ci.yml"), "utf8");
      const pin = /uses: (dagger\/dagger-for-github@[0-9a-f]{40}) # v[\d.]+/.exec(ci)![1];
      // The engine the called module declares: the prefix's module (deploy/ for deploys), or the action's module:.
      const prefixed = prefixDefault(wf);
      for (const s of steps.filter((s) => s.uses?.startsWith(DAGGER_ACTION))) {
        expect(s.uses).toBe(pin);
        expect(s.with?.version).toBe(engineVersion("dagger.json"));
        if (prefixed !== undefined) expect(s.with?.version).toBe(engineVersion(join(prefixModule(prefixed), "dagger.json")));
        if (s.with?.module) expect(s.with.version).toBe(engineVersion(join(s.with.module, "dagger.json")));
      }
    },
  );

  it.each(REUSABLE)("%s is only workflow_call, read-only at the top, each job asking for what it uses", (file) => {
    const wf = readWorkflow(file);
    expect(isReusable(wf)).toBe(true);
    expect(wf.permissions).toEqual({ contents: "read" });
    const text = readFileSync(join(WORKFLOWS_DIR, file), "utf8");
    for (const [id, job] of Object.entries(wf.jobs)) {
      const perms = job.permissions ?? {};
      expect(perms.contents, `${file}: ${id}`).toBe("read");
      // Each write permission is there because a step needs it.
      const needs: Record<string, boolean> = {
        "pull-requests": text.includes("pr-comment"),
        "security-events": text.includes("upload-sarif@"),
        "id-token": text.includes("ACTIONS_ID_TOKEN_REQUEST_URL"),
        packages: file === "shipshape-release.yml",
      };
      for (const [p, level] of Object.entries(perms)) if (p !== "contents") expect([p, level, needs[p]]).toEqual([p, "write", true]);
    }
  });

  it("production goes through a GitHub environment: deploy and rollback jobs run in inputs.environment", () => {
    for (const file of ["shipshape-deploy.yml", "shipshape-rollback.yml"])
      for (const job of Object.values(readWorkflow(file).jobs)) expect(job.environment, file).toBe("${{ inputs.environment }}");
  });

  it("tests.yml runs on every push, read-only", () => {
    const wf = readWorkflow("tests.yml");
    expect(wf.on).toEqual({ push: null });
    expect(wf.permissions).toEqual({ contents: "read" });
    for (const job of Object.values(wf.jobs)) expect(job.permissions).toBeUndefined();
    const checkout = stepsOf(wf).find((s) => s.uses?.startsWith("actions/checkout@"))!;
    // The secret-scan tests read the whole history (against the baseline), not one commit.
    expect(checkout.with?.["fetch-depth"]).toBe(0);
    expect(checkout.with?.["persist-credentials"]).toBe(false);
  });
});
