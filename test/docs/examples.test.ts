/**
 * The examples in docs/CI_CD.md, SECURITY.md, TROUBLESHOOTING.md, RUNBOOKS.md and DEPLOYMENT.md are
 * real: every `dagger call` (in an sh block, or in a workflow's step) is walked as the CLI walks it,
 * from Shipshape through each `with-*` step, `environment`, the verb and the fields it reads off the
 * returned object, against the module as the SDK's own scanner sees it: each step a function or
 * field of the object before it, with flags that function has and the ones it requires. Every
 * workflow passes the real validator and calls the reusable workflows with inputs they declare;
 * every other YAML block is a shipshape.yaml the real loader accepts (DEPLOYMENT.md's are
 * test/deploy/docs.test.ts's). No page names a flag or function the API no longer has.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../deploy/src/config/load.js";
import { scanModule, type ScannedModule } from "../harness/scan.js";
import {
  actionValidator,
  callerProblems,
  callsOf,
  chainProblems,
  chainSteps,
  DAGGER_ACTION,
  parseCall,
  ROOT,
  stepsOf,
  type ChainStep,
  type Workflow,
} from "../generate/workflow-checks.js";
import { BEGIN, END } from "./render-troubleshooting.js";

/** Pages whose YAML blocks this test checks too; DEPLOYMENT.md's calls only. */
const DOCS = ["CI_CD.md", "SECURITY.md", "TROUBLESHOOTING.md", "RUNBOOKS.md"];
const CALL_DOCS = [...DOCS, "DEPLOYMENT.md"];
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const read = (doc: string) => readFileSync(join(ROOT, "docs", doc), "utf8");
const blocks = (doc: string, lang: string) =>
  [...read(doc).matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
const workflowBlocks = (doc: string) =>
  blocks(doc, "yaml").filter((b) => {
    const data: unknown = parse(b);
    return typeof data === "object" && data !== null && "jobs" in data;
  });

/** Drops the installed module's name: `dagger call shipshape lint` calls Shipshape's lint. */
const unprefixed = (steps: ChainStep[]) => (steps[0]?.fn === "shipshape" && steps[0].flags.length === 0 ? steps.slice(1) : steps);

/** Every `dagger call` chain of a doc: its sh blocks' lines (continuations joined) and its workflows' steps. */
function daggerCalls(doc: string): { line: string; steps: ChainStep[] }[] {
  const sh = blocks(doc, "sh")
    .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
    .flatMap((l) => /\bdagger call (.+)$/.exec(l)?.[1] ?? [])
    .map((line) => ({ line, steps: unprefixed(parseCall(doc, ".", line).steps) }));
  const workflows = workflowBlocks(doc).flatMap((b) =>
    callsOf(doc, parse(b) as Workflow).map((c) => ({ line: c.steps.map((s) => s.fn).join(" "), steps: unprefixed(c.steps) })),
  );
  return [...sh, ...workflows];
}

/**
 * The arguments a chain leaves out that its functions require (no default, no default path): the
 * CLI refuses such a call before it runs. Walked like chainProblems; a step it cannot place ends it.
 */
function missingRequired(mod: ScannedModule, steps: ChainStep[]): string[] {
  let object: string | undefined = "Shipshape";
  for (const step of steps) {
    const o: ScannedModule["objects"][string] | undefined = object ? mod.objects[object] : undefined;
    if (!o) return [];
    const fn = Object.values(o.methods).find((m) => kebab(m.name) === step.fn);
    if (!fn) {
      const field: { type: { name?: string } } | undefined = Object.entries(o.properties).find(
        ([k, p]) => p.isExposed && kebab(k) === step.fn,
      )?.[1];
      object = field?.type.name;
      continue;
    }
    const required = Object.values(fn.arguments).filter((a) => !a.isOptional && a.defaultValue === undefined && !a.defaultPath);
    const missing = required.map((a) => kebab(a.name)).filter((a) => !step.flags.includes(a));
    if (missing.length) return [`${step.fn} needs --${missing.join(", --")}`];
    object = fn.returnType.name;
  }
  return [];
}

const problemsOf = (mod: ScannedModule, steps: ChainStep[]) => [...chainProblems(mod, "Shipshape", steps), ...missingRequired(mod, steps)];

let mod: ScannedModule;
beforeAll(async () => {
  mod = await scanModule();
}, 120_000);

describe.each(CALL_DOCS)("docs/%s", (doc) => {
  it.each(daggerCalls(doc).map((c) => [c.steps.map((s) => s.fn).join(" "), c.steps] as const))(
    "dagger call %s is a real chain",
    (_chain, steps) => {
      expect(steps.length).toBeGreaterThan(0);
      expect(problemsOf(mod, steps)).toEqual([]);
    },
  );

  const yaml = DOCS.includes(doc) ? blocks(doc, "yaml") : [];
  it.runIf(yaml.length > 0).each(yaml.map((b, i) => [i + 1, b] as const))("yaml example %i is valid", (_i, block) => {
    const data = parse(block) as Record<string, unknown>;
    if ("jobs" in data) {
      expect(actionValidator(block)).toBeUndefined();
      expect(callerProblems(doc, data as unknown as Workflow)).toEqual([]);
    } else expect(() => parseConfig(block)).not.toThrow();
  });
});

/** The flags and functions the API no longer has (credentials and the environment moved to with-* and environment). */
const GONE = [
  /--aws-[a-z]/,
  /--cosign-[a-z]/,
  /--sigstore-[a-z]/,
  /--audit-(database-url|trail)\b/,
  /--registry-(password|username|plain-http)\b/,
  /--env\b/,
  /\b(lint|typecheck|test|audit|ci|migrations|commits|secret-scan|scan-image|scan-dependencies|license-check)-report\b/,
];

describe("the docs name only what the API has", () => {
  it.each(CALL_DOCS)("docs/%s mentions no removed flag or *-report function", (doc) => {
    let text = read(doc);
    // The generated catalogue quotes src/'s own hints; troubleshooting.test.ts keeps it in step with them.
    if (text.includes(BEGIN)) text = text.slice(0, text.indexOf(BEGIN)) + text.slice(text.indexOf(END));
    const stale = text.split("\n").flatMap((l, i) => (GONE.some((re) => re.test(l)) ? [`${doc}:${i + 1}: ${l.trim()}`] : []));
    expect(stale).toEqual([]);
  });
});

describe("the docs have examples to check", () => {
  it("each page shows calls, and CI_CD.md the adopter's workflows", () => {
    for (const doc of ["CI_CD.md", "SECURITY.md", "RUNBOOKS.md", "DEPLOYMENT.md"]) expect(daggerCalls(doc).length, doc).toBeGreaterThan(2);
    expect(blocks("CI_CD.md", "yaml").filter((b) => b.includes("jobs:"))).toHaveLength(2);
    const runbook = daggerCalls("RUNBOOKS.md").map((c) => c.steps);
    const fns = runbook.flatMap((steps) => steps.map((s) => s.fn));
    for (const fn of ["rollback", "promote", "abort", "status", "migrations", "secret-scan", "audit", "deploy"])
      expect(fns, fn).toContain(fn);
    // The deploy verbs are the environment's: each follows environment --name=<env>.
    for (const fn of ["rollback", "promote", "abort", "status", "deploy"]) {
      const at = runbook.filter((steps) => steps.some((s) => s.fn === fn));
      for (const steps of at) expect(steps[steps.findIndex((s) => s.fn === fn) - 1], fn).toEqual({ fn: "environment", flags: ["name"] });
    }
  });

  it("DEPLOYMENT.md deploys to production from GitHub Actions in a step of at most 4 lines of args", () => {
    const block = workflowBlocks("DEPLOYMENT.md").find((b) => b.includes("--name=production deploy"));
    expect(block, "a workflow that deploys production").toBeDefined();
    const step = stepsOf(parse(block!) as Workflow).find((s) => s.uses?.startsWith(DAGGER_ACTION) && s.with?.args?.includes("deploy"));
    expect(step?.with?.verb ?? "call").toBe("call");
    // The args as written: the lines under `args: >-`, more indented than it.
    const lines = block!.split("\n");
    const at = lines.findIndex((l) => /^\s*args: >-\s*$/.test(l));
    expect(at).toBeGreaterThan(0);
    const indent = lines[at]!.search(/\S/);
    const body = lines.slice(at + 1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.trim() && x.search(/\S/) > indent));
    expect(body.length).toBeGreaterThan(0);
    expect(body.length).toBeLessThanOrEqual(4);
    const steps = unprefixed(parseCall("DEPLOYMENT.md", ".", step!.with!.args!).steps);
    expect(steps.map((s) => s.fn)).toEqual([
      "with-aws",
      "with-verifier",
      "with-audit-trail",
      "with-notifications",
      "with-run",
      "environment",
      "deploy",
    ]);
    expect(steps.at(-1)!.flags).toContain("approve");
  });
});

describe("the chain check", () => {
  // Each of these is how the old API spelled a call, or a chain that breaks; the docs' checks must refuse them.
  it.each([
    "lint-report files export --path=.shipshape/lint",
    "deploy --env=production --image=ghcr.io/acme/api@sha256:00",
    "with-aws --aws-role-arn=arn environment --name=production status",
    "environment --name=production deploy --image=x --aws-role-arn=arn",
    "environment deploy --image=x",
    "environment --name=production deploy",
    "with-registry --username=bot --password=env://T publish",
    "verify --ref=x --certificate-identity=y",
    "version --repo-url=https://github.com/acme/api",
    "ci report files",
    "secret-scan findings --path=x",
    "environment --name=production rollback timeline --to=41",
  ])("refuses %s", (line) => {
    expect(problemsOf(mod, chainSteps(line.split(" ")))).not.toEqual([]);
  });

  it("accepts the same calls in the new shape", () => {
    for (const line of [
      "lint files export --path=.shipshape/lint",
      "with-aws --role-arn=arn environment --name=production status",
      "with-verifier --certificate-identity=y verify --ref=x",
      "with-run --repo-url=https://github.com/acme/api version changelog",
      "environment --name=production rollback --to=41 timeline",
    ])
      expect(problemsOf(mod, chainSteps(line.split(" "))), line).toEqual([]);
  });
});
