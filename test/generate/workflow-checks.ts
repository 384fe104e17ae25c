/**
 * Checks shared by the committed workflows' test (test/api/workflows.test.ts) and the generated
 * ones' (test/generate/): the real workflow validator from npm, every `dagger call` parsed out of a
 * workflow, and a caller's `uses:` of a reusable workflow matched against what that workflow declares.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

export const ROOT = join(import.meta.dirname, "../..");
export const WORKFLOWS_DIR = join(ROOT, ".github/workflows");
export const DAGGER_ACTION = "dagger/dagger-for-github@";
/** How a reusable workflow spells "the call prefix" before each function (see shipshape-ci.yml). */
export const PREFIX_EXPR = /^\s*\$\{\{\s*inputs\.call-prefix\s*\}\}\s*/;

export interface Step {
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: { verb?: string; args?: string; call?: string; module?: string; version?: string } & Record<string, unknown>;
}
export interface Job {
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, unknown> | "inherit";
  permissions?: Record<string, string>;
  needs?: string | string[];
  environment?: string;
  steps?: Step[];
}
interface Input {
  type?: string;
  required?: boolean;
  default?: unknown;
}
export interface Workflow {
  name?: string;
  on: Record<string, unknown> | string | null;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

export const workflowFiles = (): string[] => readdirSync(WORKFLOWS_DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
export const readWorkflow = (file: string): Workflow => parse(readFileSync(join(WORKFLOWS_DIR, file), "utf8")) as Workflow;
export const stepsOf = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);

/** The real validator (@action-validator/cli, its JSON schemas for workflows): undefined when valid, else its errors. */
export function actionValidator(text: string, name = "workflow.yml"): string | undefined {
  const file = join(mkdtempSync(join(tmpdir(), "shipshape-wf-")), name);
  writeFileSync(file, text);
  const r = spawnSync(join(ROOT, "node_modules/.bin/action-validator"), [file], { encoding: "utf8" });
  if (r.error) throw r.error;
  return r.status === 0 ? undefined : `${r.stdout}${r.stderr}`.trim() || `exit ${r.status}`;
}

/** One function of a `dagger call` chain and the flags given to it. */
export interface ChainStep {
  fn: string;
  flags: string[];
}

/** A `dagger call`: the workflow, the module ("." for Shipshape), the first function and its flags, and the whole chain. */
export interface Call {
  file: string;
  module: string;
  fn: string;
  flags: string[];
  /** Whether the function came after `${{ inputs.call-prefix }}`. */
  prefixed: boolean;
  /** Every function of the chain in order (with-aws ... environment ... deploy ...), each with its flags. */
  steps: ChainStep[];
}

/** A chain's words as steps: a plain word starts a function, the --flags after it are its own. */
export function chainSteps(words: string[]): ChainStep[] {
  const steps: ChainStep[] = [];
  for (const w of words) {
    if (w.startsWith("#")) break;
    if (w.startsWith("--")) steps.at(-1)?.flags.push(w.replace(/^--/, "").split("=")[0]!);
    else steps.push({ fn: w, flags: [] });
  }
  return steps;
}

/** A module's objects as the scanner gives them, enough to walk a chain. */
interface ChainType {
  kind: string;
  name?: string;
  typeDef?: unknown;
}
interface ChainObject {
  properties: Record<string, { isExposed?: boolean; type: ChainType }>;
  methods: Record<string, { name: string; arguments: Record<string, unknown>; returnType: ChainType }>;
}
export interface ChainModule {
  objects: Record<string, ChainObject>;
}

const kebabCase = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * What is wrong with a chain, walked as the CLI walks it from the module's main object: each step a
 * function (with flags it takes) or an exposed field of the object the previous step returned. The
 * walk stops at a core type (Directory, File, Container), whose API the schema test covers.
 */
export function chainProblems(mod: ChainModule, main: string, steps: ChainStep[]): string[] {
  let object: string | undefined = main;
  for (const step of steps) {
    const o: ChainObject | undefined = object ? mod.objects[object] : undefined;
    if (!o) return [];
    const fn = Object.values(o.methods).find((m) => kebabCase(m.name) === step.fn);
    const field: { type: ChainType } | undefined = Object.entries(o.properties).find(
      ([k, p]) => p.isExposed && kebabCase(k) === step.fn,
    )?.[1];
    if (!fn && !field) return [`${object} has no function ${step.fn}`];
    if (field) {
      if (step.flags.length) return [`${object}.${step.fn} is a field and takes no --${step.flags[0]}`];
      object = field.type.name;
      continue;
    }
    const args = Object.keys(fn!.arguments).map(kebabCase);
    const unknown = step.flags.find((f) => !args.includes(f));
    if (unknown) return [`${step.fn} has no --${unknown}`];
    let ret: ChainType = fn!.returnType;
    while (ret.kind === "LIST_KIND" && ret.typeDef) ret = ret.typeDef as ChainType;
    object = ret.name;
  }
  return [];
}

export function parseCall(file: string, module: string, line: string): Call {
  const prefixed = PREFIX_EXPR.test(line);
  // ${{ expressions }} hold spaces; they are values, never flags.
  const words = line
    .replace(PREFIX_EXPR, "")
    .replace(/\$\{\{[^}]*\}\}/g, "EXPR")
    .trim()
    .split(/\s+/);
  const steps = chainSteps(words);
  return { file, module, fn: steps[0]?.fn ?? "", flags: steps[0]?.flags ?? [], prefixed, steps };
}

/** Every `dagger call` of one workflow, through the action (module: -> -m) or in a run: script. */
export function callsOf(file: string, wf: Workflow): Call[] {
  const out: Call[] = [];
  for (const step of stepsOf(wf)) {
    const w = step.with;
    if (step.uses?.startsWith(DAGGER_ACTION) && w && (w.call || ((w.verb ?? "call") === "call" && w.args))) {
      out.push(parseCall(file, w.module || ".", w.call || w.args || ""));
    }
    const script = (step.run ?? "").replace(/\\\n/g, " ");
    // dagger call [-m M] fn ..., and dagger -m M call fn ...; `shipshape` is the installed module's name.
    for (const m of script.matchAll(/dagger\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?call\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?([^\n]+)/g)) {
      const call = parseCall(file, m[1] ?? m[2] ?? ".", m[3]!.replace(/^shipshape\s+/, ""));
      out.push(call);
    }
  }
  return out;
}

/** The reusable workflow a job's `uses:` names, in this repository: ./path, or <owner>/shipshape/path@<sha>. */
export function reusableFile(uses: string): string | undefined {
  const local = /^\.\/\.github\/workflows\/([\w.-]+\.ya?ml)$/.exec(uses);
  const remote = /^[\w.-]+\/shipshape\/\.github\/workflows\/([\w.-]+\.ya?ml)@[0-9a-f]{40}$/.exec(uses);
  const name = local?.[1] ?? remote?.[1];
  return name && existsSync(join(WORKFLOWS_DIR, name)) ? name : undefined;
}

/**
 * What is wrong with a caller's jobs that `uses:` a reusable workflow: a file that is not one of
 * this repository's reusable workflows (or not pinned by SHA), an input or secret it does not
 * declare, a required input left out. Empty when every call fits.
 */
export function callerProblems(file: string, wf: Workflow): string[] {
  const problems: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    if (!job.uses) continue;
    const target = reusableFile(job.uses);
    if (!target) {
      problems.push(`${file}: jobs.${id} uses ${job.uses}, not a reusable workflow of this repository pinned by SHA`);
      continue;
    }
    const on = readWorkflow(target).on;
    const call = (typeof on === "object" && on !== null ? on.workflow_call : undefined) as
      { inputs?: Record<string, Input>; secrets?: Record<string, { required?: boolean }> } | undefined;
    if (!call) {
      problems.push(`${file}: jobs.${id}: ${target} is not on: workflow_call`);
      continue;
    }
    const inputs = call.inputs ?? {};
    for (const key of Object.keys(job.with ?? {}))
      if (!(key in inputs)) problems.push(`${file}: jobs.${id}: ${target} has no input ${key}`);
    for (const [key, input] of Object.entries(inputs))
      if (input.required && !(key in (job.with ?? {}))) problems.push(`${file}: jobs.${id}: required input ${key} of ${target} not given`);
    if (job.secrets && job.secrets !== "inherit")
      for (const key of Object.keys(job.secrets))
        if (!(key in (call.secrets ?? {}))) problems.push(`${file}: jobs.${id}: ${target} has no secret ${key}`);
  }
  return problems;
}

/** Whether a workflow is a reusable one (only `on: workflow_call`). */
export const isReusable = (wf: Workflow): boolean =>
  typeof wf.on === "object" && wf.on !== null && Object.keys(wf.on).join() === "workflow_call";
