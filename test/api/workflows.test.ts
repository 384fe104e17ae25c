/**
 * The GitHub workflows only wrap `dagger call`: every call they make must name a function the
 * module it calls really has (Shipshape, or `-m dagger/tests`), with flags that are its arguments
 * (kebab-case, as the CLI spells them). A renamed argument would otherwise only show up as a red
 * production deploy. Every action is pinned by commit SHA, dagger-for-github by one pin and version.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { moduleFiles, scanModule, type ScannedModule, type ScannedObject } from "../harness/scan.js";

const ROOT = join(import.meta.dirname, "../..");
const DIR = join(ROOT, ".github/workflows");
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const pascal = (s: string) => s.replace(/(^|[-_])([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
const DAGGER_ACTION = "dagger/dagger-for-github@";

interface Step {
  uses?: string;
  run?: string;
  with?: { verb?: string; args?: string; call?: string; module?: string; version?: string };
}
type Workflow = {
  on: unknown;
  permissions?: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }>;
};

const workflowFiles = () => readdirSync(DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
const workflow = (file: string) => parse(readFileSync(join(DIR, file), "utf8")) as Workflow;
const stepsOf = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps);

/** A `dagger call`: the workflow, the module ("." for Shipshape itself), the function and its flags. */
interface Call {
  file: string;
  module: string;
  fn: string;
  flags: string[];
}

function parseCall(file: string, module: string, line: string): Call {
  // ${{ expressions }} hold spaces; they are values, never flags.
  const words = line
    .replace(/\$\{\{[^}]*\}\}/g, "EXPR")
    .trim()
    .split(/\s+/);
  const fn = words[0]!;
  // Flags up to the next plain word belong to the function; later ones to what it returned.
  const end = words.findIndex((w, i) => i > 0 && !w.startsWith("--"));
  const flags = words.slice(1, end === -1 ? undefined : end).map((w) => w.replace(/^--/, "").split("=")[0]!);
  return { file, module, fn, flags };
}

/** Every `dagger call` in the workflows, through the action (module: → -m) or in a run: script. */
function calls(): Call[] {
  const out: Call[] = [];
  for (const file of workflowFiles()) {
    for (const step of stepsOf(workflow(file))) {
      const w = step.with;
      if (step.uses?.startsWith(DAGGER_ACTION) && w && (w.call || ((w.verb ?? "call") === "call" && w.args))) {
        out.push(parseCall(file, w.module || ".", w.call || w.args || ""));
      }
      const script = (step.run ?? "").replace(/\\\n/g, " ");
      // dagger call [-m M] fn ..., and dagger -m M call fn ...
      for (const m of script.matchAll(/dagger\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?call\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?([^\n]+)/g)) {
        out.push(parseCall(file, m[1] ?? m[2] ?? ".", m[3]!));
      }
    }
  }
  return out;
}

/** A local module's main object, scanned by the SDK's own scanner as the engine would register it. */
async function scanLocal(module: string): Promise<ScannedObject | undefined> {
  const dir = join(ROOT, normalize(module));
  const config = JSON.parse(readFileSync(join(dir, "dagger.json"), "utf8")) as { name: string; source?: string };
  if (normalize(module) === ".") return (await scanModule()).objects[pascal(config.name)];
  const { scan } = (await import(new URL("./module/introspector/index.js", import.meta.resolve("@dagger.io/dagger")).href)) as {
    scan(files: string[], moduleName: string, loadModule: boolean): Promise<ScannedModule>;
  };
  // As test/harness/scan.ts: the scanner resolves core types only through a *client.gen.ts file.
  const gen = join(mkdtempSync(join(tmpdir(), "shipshape-scan-")), `${config.name}.client.gen.ts`);
  copyFileSync(new URL("./api/client.gen.d.ts", import.meta.resolve("@dagger.io/dagger")), gen);
  const scanned = await scan([...moduleFiles(join(dir, config.source ?? ".", "src")), gen], config.name, false);
  return scanned.objects[pascal(config.name)];
}

const found = calls();
const modules = new Map<string, ScannedObject | undefined>();
beforeAll(async () => {
  for (const m of new Set(found.map((c) => c.module))) modules.set(m, await scanLocal(m));
}, 180_000);

describe(".github/workflows call the modules as they are", () => {
  it("finds the calls of every workflow (ci, release, deploy, tests)", () => {
    expect(new Set(found.map((c) => c.file))).toEqual(new Set(["ci.yml", "release.yml", "deploy.yml", "tests.yml"]));
    expect(found.filter((c) => c.module === ".").map((c) => c.fn)).toEqual(
      expect.arrayContaining(["ci", "ci-report", "migrations", "pr-comment", "release", "deploy"]),
    );
    // The README's promise: dagger/tests runs on every push.
    expect(found.filter((c) => c.file === "tests.yml")).toEqual([{ file: "tests.yml", module: "dagger/tests", fn: "all", flags: [] }]);
  });

  it.each(found.map((c) => [`${c.file}: ${c.module === "." ? "" : `-m ${c.module} `}${c.fn}`, c] as const))("%s", (_name, c) => {
    const main = modules.get(c.module);
    expect(main, `no module at ${c.module}`).toBeDefined();
    const fn = Object.values(main!.methods).find((m) => kebab(m.name) === c.fn);
    expect(fn, `${c.module} has no function ${c.fn}`).toBeDefined();
    const args = Object.keys(fn!.arguments).map(kebab);
    for (const flag of c.flags) expect(args, `${c.fn} has no --${flag}`).toContain(flag);
  });

  it("the check scans the tests module for real: a function it lacks is caught", () => {
    const tests = modules.get("dagger/tests")!;
    expect(Object.keys(tests.methods)).toEqual(expect.arrayContaining(["all", "releaseSignsAndVerifies", "dockerfileIsHardened"]));
    expect(Object.values(tests.methods).some((m) => kebab(m.name) === "ci")).toBe(false);
  });
});

describe(".github/workflows are pinned and least-privilege", () => {
  const engineVersion = (path: string) => (JSON.parse(readFileSync(join(ROOT, path), "utf8")) as { engineVersion: string }).engineVersion;

  it.each(workflowFiles())(
    "%s pins every action by commit SHA, dagger-for-github as everywhere, at the modules' engine version",
    (file) => {
      const steps = stepsOf(workflow(file));
      for (const s of steps) if (s.uses) expect(s.uses, `${file}: ${s.uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const ci = readFileSync(join(DIR, "ci.yml"), "utf8");
      const pin = /uses: (dagger\/dagger-for-github@[0-9a-f]{40}) # v[\d.]+/.exec(ci)![1];
      for (const s of steps.filter((s) => s.uses?.startsWith(DAGGER_ACTION))) {
        expect(s.uses).toBe(pin);
        expect(s.with?.version).toBe(engineVersion("dagger.json"));
        if (s.with?.module) expect(s.with.version).toBe(engineVersion(join(s.with.module, "dagger.json")));
      }
    },
  );

  it("tests.yml runs on every push, read-only", () => {
    const wf = workflow("tests.yml");
    expect(wf.on).toEqual({ push: null });
    expect(wf.permissions).toEqual({ contents: "read" });
    for (const job of Object.values(wf.jobs)) expect(job.permissions).toBeUndefined();
    const checkout = stepsOf(wf).find((s) => s.uses?.startsWith("actions/checkout@"))!;
    // The secret-scan tests read the whole history (against the baseline), not one commit.
    expect((checkout.with as Record<string, unknown>)["fetch-depth"]).toBe(0);
    expect((checkout.with as Record<string, unknown>)["persist-credentials"]).toBe(false);
  });
});
