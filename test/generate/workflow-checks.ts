/**
 * Checks shared by the committed workflows' test (test/api/workflows.test.ts), the generated ones'
 * (test/generate/), the README's and the docs' (test/api/readme.test.ts, test/docs/): the real
 * workflow validator from npm, every `dagger call` parsed out of a workflow or a shell line together
 * with the module it calls (Shipshape's CI module `shipshape` at the root, its deploy module
 * `shipshape-deploy` in deploy/, or dagger/tests), each call walked against that module's scanned
 * API, and a caller's `uses:` of a reusable workflow matched against what that workflow declares.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { parse } from "yaml";
import { CI_MODULE, DEPLOY_MODULE, mainObject, scanModule, type ModuleRef, type ScannedModule } from "../harness/scan.js";

export const ROOT = join(import.meta.dirname, "../..");
export const WORKFLOWS_DIR = join(ROOT, ".github/workflows");
export const DAGGER_ACTION = "dagger/dagger-for-github@";
/** How a reusable workflow spells "the call prefix" before each function (see shipshape-ci.yml). */
export const PREFIX_EXPR = /^\s*\$\{\{\s*inputs\.call-prefix\s*\}\}\s*/;

/** The repository's Dagger modules by directory ("." is the root): each has a dagger.json. */
export const MODULE_DIRS = [".", "deploy", "dagger/tests", "dagger/examples/typescript"];
/** The modules an adopter installs (`dagger mod install github.com/<owner>/shipshape[/deploy]@…`). */
export const SHIPSHAPE_MODULES = [".", "deploy"];

interface DaggerJson {
  name: string;
  source?: string;
  engineVersion?: string;
  dependencies?: { name: string; source: string }[];
}
export const daggerJson = (dir: string): DaggerJson => JSON.parse(readFileSync(join(ROOT, dir, "dagger.json"), "utf8")) as DaggerJson;
/** The directory of the module of this repository named so in its dagger.json, if any. */
export const moduleNamed = (name: string): string | undefined => MODULE_DIRS.find((d) => daggerJson(d).name === name);

/** What the harness scans for a module directory: the CI module and the deploy module as scan.ts names them. */
export function moduleRef(dir: string): ModuleRef {
  const d = normalize(dir);
  if (d === ".") return CI_MODULE;
  if (d === "deploy") return DEPLOY_MODULE;
  const config = daggerJson(d);
  return { name: config.name, src: join(ROOT, d, config.source ?? ".", "src") };
}
const scans = new Map<string, Promise<ScannedModule>>();
/** The module in that directory as the SDK's own scanner registers it (one scan per module per test file). */
export function scanned(dir: string): Promise<ScannedModule> {
  const d = normalize(dir);
  if (!scans.has(d)) scans.set(d, scanModule(moduleRef(d)));
  return scans.get(d)!;
}

/**
 * The module of this repository a `-m`/`--mod` reference names: a local path (`./deploy`,
 * `dagger/tests`), or Shipshape's own remote one, `github.com/<owner>/shipshape[/<subpath>][@<version>]`,
 * whose subpath is that directory here. Undefined for anything else.
 */
export function moduleOfRef(ref: string): string | undefined {
  const remote = /^(?:https?:\/\/)?github\.com\/[^/\s]+\/shipshape(?:\.git)?((?:\/[\w.-]+)*)(?:@\S*)?$/.exec(ref);
  const dir = normalize(remote ? remote[1]!.replace(/^\//, "") || "." : ref);
  return MODULE_DIRS.includes(dir) ? dir : undefined;
}

/**
 * The module a call's leading words select, and the words left: `-m <ref>` (as the action's `module:`
 * or in the line), else an installed module's name (`shipshape`, `shipshape-deploy`) as the first
 * word, else none (the caller's own workspace module: `.` here). `named` says whether the words
 * named it (the README and the docs never rely on the default).
 */
export function selectModule(words: string[], fallback = "."): { module: string; named: boolean; rest: string[] } {
  if ((words[0] === "-m" || words[0] === "--mod") && words[1])
    return { module: moduleOfRef(words[1]) ?? words[1], named: true, rest: words.slice(2) };
  const flag = /^--?m(?:od)?=(\S+)$/.exec(words[0] ?? "");
  if (flag) return { module: moduleOfRef(flag[1]!) ?? flag[1]!, named: true, rest: words.slice(1) };
  const installed = SHIPSHAPE_MODULES.find((d) => daggerJson(d).name === words[0]);
  if (installed) return { module: installed, named: true, rest: words.slice(1) };
  return { module: fallback, named: false, rest: words };
}

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

/**
 * A `dagger call`: the workflow (or page), the module it calls (a directory of this repository: "."
 * the CI module, "deploy" the deploy module), the first function and its flags, and the whole chain.
 */
export interface Call {
  file: string;
  module: string;
  fn: string;
  flags: string[];
  /** Whether the function came after `${{ inputs.call-prefix }}`. */
  prefixed: boolean;
  /** Whether the call itself names its module (`shipshape-deploy …`, `-m ./deploy`), rather than leaving it to the workspace. */
  named: boolean;
  /** Flags given to the module's constructor (`dagger call shipshape --source=./api ci`). */
  ctorFlags: string[];
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

/**
 * The arguments a chain leaves out that its functions require (no default, no default path): the
 * CLI refuses such a call before it runs. Walked like chainProblems; a step it cannot place ends it.
 */
export function requiredProblems(mod: ScannedModule, main: string, steps: ChainStep[]): string[] {
  let object: string | undefined = main;
  for (const step of steps) {
    const o: ScannedModule["objects"][string] | undefined = object ? mod.objects[object] : undefined;
    if (!o) return [];
    const fn = Object.values(o.methods).find((m) => kebabCase(m.name) === step.fn);
    if (!fn) {
      const field: { type: { name?: string } } | undefined = Object.entries(o.properties).find(
        ([k, p]) => p.isExposed && kebabCase(k) === step.fn,
      )?.[1];
      object = field?.type.name;
      continue;
    }
    const required = Object.values(fn.arguments).filter((a) => !a.isOptional && a.defaultValue === undefined && !a.defaultPath);
    const missing = required.map((a) => kebabCase(a.name)).filter((a) => !step.flags.includes(a));
    if (missing.length) return [`${step.fn} needs --${missing.join(", --")}`];
    let ret = fn.returnType;
    while (ret.kind === "LIST_KIND" && ret.typeDef) ret = ret.typeDef;
    object = ret.name;
  }
  return [];
}

/**
 * What is wrong with a call against the module it calls, as the SDK's scanner registers that module:
 * a module that is not one of this repository's, constructor flags it does not take, a chain step
 * that is not a function or field of the object before it, a flag it does not take, a required one
 * left out. `dagger call shipshape environment …` is an error now: environment is the deploy module's.
 */
export async function callProblems(call: Pick<Call, "module" | "ctorFlags" | "steps">): Promise<string[]> {
  if (!MODULE_DIRS.includes(normalize(call.module))) return [`no module of this repository at ${call.module}`];
  const mod = await scanned(call.module);
  const main = mainObject(moduleRef(call.module));
  const ctor = Object.keys(mod.objects[main]?._constructor?.arguments ?? {}).map(kebabCase);
  const badCtor = call.ctorFlags.find((f) => !ctor.includes(f));
  if (badCtor) return [`${main} takes no --${badCtor}`];
  if (call.steps.length === 0) return [`the call to ${main} names no function`];
  const chain = chainProblems(mod, main, call.steps);
  return chain.length ? chain : requiredProblems(mod, main, call.steps);
}

/**
 * One `dagger call`'s words after `call` (or an action's args): the module they select (`-m`, or
 * an installed module's name, else `module`: the action's `module:` or the workspace's), the
 * constructor flags, the chain.
 */
export function parseCall(file: string, module: string, line: string, prefixModule?: string): Call {
  const prefixed = PREFIX_EXPR.test(line);
  // ${{ expressions }} hold spaces; they are values, never flags.
  const words = line
    .replace(PREFIX_EXPR, "")
    .replace(/\$\{\{[^}]*\}\}/g, "EXPR")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const selected = selectModule(words, module);
  // After ${{ inputs.call-prefix }}, the module is the one the prefix selects (its default, for a reusable workflow).
  const target = prefixed && prefixModule !== undefined && !selected.named ? prefixModule : selected.module;
  const first = selected.rest.findIndex((w) => !w.startsWith("--"));
  const ctorFlags = selected.rest.slice(0, first === -1 ? undefined : first).map((w) => w.replace(/^--/, "").split("=")[0]!);
  const steps = chainSteps(first === -1 ? [] : selected.rest.slice(first));
  return {
    file,
    module: normalize(target),
    fn: steps[0]?.fn ?? "",
    flags: steps[0]?.flags ?? [],
    prefixed,
    named: selected.named || (prefixed && prefixModule !== undefined),
    ctorFlags,
    steps,
  };
}

/** A reusable workflow's `call-prefix` input default: the module its prefixed calls reach where Shipshape is installed. */
export function prefixDefault(wf: Workflow): string | undefined {
  const on =
    typeof wf.on === "object" && wf.on !== null ? (wf.on.workflow_call as { inputs?: Record<string, Input> } | undefined) : undefined;
  const d = on?.inputs?.["call-prefix"]?.default;
  return typeof d === "string" ? d : undefined;
}

/** The module a call-prefix value selects ("" the caller's root module; `-m <ref>`; an installed name). */
export const prefixModule = (prefix: string): string => selectModule(prefix.trim().split(/\s+/).filter(Boolean)).module;

/** Every `dagger call` of one workflow, through the action (module: -> -m) or in a run: script. */
export function callsOf(file: string, wf: Workflow): Call[] {
  const out: Call[] = [];
  const prefix = prefixDefault(wf);
  const viaPrefix = prefix === undefined ? undefined : prefixModule(prefix);
  for (const step of stepsOf(wf)) {
    const w = step.with;
    if (step.uses?.startsWith(DAGGER_ACTION) && w && (w.call || ((w.verb ?? "call") === "call" && w.args))) {
      const module = w.module ? (moduleOfRef(w.module) ?? w.module) : ".";
      out.push(parseCall(file, module, w.call || w.args || "", w.module ? undefined : viaPrefix));
      if (w.module) out.at(-1)!.named = true;
    }
    const script = (step.run ?? "").replace(/\\\n/g, " ");
    // dagger call [-m M] fn ..., and dagger -m M call fn ...; `shipshape`, `shipshape-deploy` are the installed modules' names.
    for (const m of script.matchAll(/dagger\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?call\s+([^\n]+)/g)) {
      out.push(parseCall(file, ".", m[1] ? `-m ${m[1]} ${m[2]!}` : m[2]!, viaPrefix));
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
  const nameOf = (dir: string) => (MODULE_DIRS.includes(dir) ? daggerJson(dir).name : dir);
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
    // The call-prefix a caller passes must reach the module the reusable workflow's calls are written for.
    const given = job.with?.["call-prefix"];
    const written = prefixDefault(readWorkflow(target));
    if (typeof given === "string" && written !== undefined && prefixModule(given) !== prefixModule(written))
      problems.push(
        `${file}: jobs.${id}: call-prefix "${given}" calls ${nameOf(prefixModule(given))}, but ${target} is written for ${nameOf(prefixModule(written))}`,
      );
    if (job.secrets && job.secrets !== "inherit")
      for (const key of Object.keys(job.secrets))
        if (!(key in (call.secrets ?? {}))) problems.push(`${file}: jobs.${id}: ${target} has no secret ${key}`);
  }
  return problems;
}

/** Whether a workflow is a reusable one (only `on: workflow_call`). */
export const isReusable = (wf: Workflow): boolean =>
  typeof wf.on === "object" && wf.on !== null && Object.keys(wf.on).join() === "workflow_call";
