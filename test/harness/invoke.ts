/**
 * Calls the module the way `dagger call` does in a v0.21.8 engine, so chained state is proven the
 * way the engine carries it (sdk/typescript module/entrypoint/entrypoint.js, invoke.js, load.js;
 * core/object.go, core/modfunc.go):
 *
 * - every call is a fresh module: the module graph under src/ is loaded anew (vi.resetModules),
 *   with the lib/calls implementations its functions import, so a memo in module memory lives for
 *   one call only, as in the runtime's process-per-call;
 * - the parent object arrives as JSON and is rebuilt with Object.create + Object.assign (the SDK's
 *   Executor.buildClass): its constructor does not run, and only what survived JSON is there;
 * - the SDK's own `invoke` decodes the arguments and encodes the result (loadResult: core objects
 *   become IDs, module objects the JSON of their properties), and the result travels as JSON text;
 * - the engine fills in arguments the caller left out from their registered defaults, and
 *   contextual ones (`defaultPath` + `ignore`) from the context directory: the caller's project for
 *   a module installed in its workspace, the module's own repository for one called with `-m <git ref>`;
 * - function calls are cached by the engine, keyed on the parent, the function and its arguments:
 *   7 days by default, the function's TTL, per session, or never (docs "Function caching").
 *
 * What differs from a real process: packages under node_modules (the SDK, AWS SDK) stay loaded
 * between calls, as they are not part of the module's own src/.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { vi } from "vitest";
import { Directory, File, dag, type Container, type Secret } from "@dagger.io/dagger";
import { ignored, mayReinclude } from "./ignore.js";
import {
  CI_MODULE,
  mainObject,
  moduleFiles,
  scanModule,
  type ModuleRef,
  type ScannedArg,
  type ScannedFunction,
  type ScannedModule,
} from "./scan.js";

const SDK = import.meta.resolve("@dagger.io/dagger");

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * What survives of a module object between calls: its data, with core objects as their IDs and
 * enum fields as their member names (string).
 */
export type State<T> = T extends string
  ? string
  : T extends Directory | File | Secret | Container
    ? string
    : T extends (infer U)[]
      ? State<U>[]
      : T extends object
        ? { [K in keyof T as T[K] extends (...a: never[]) => unknown ? never : K]: State<T[K]> }
        : T;

/** Where the module's contextual arguments come from (core/modulesource.go). */
export type Install =
  /** `dagger mod install` in the caller's workspace: the context is the caller's project on disk. */
  | { workspace: string }
  /** `dagger -m github.com/...`: the context is the module's own repository at that ref (committed files only). */
  | { remote: string };

export interface Invocation {
  object: string;
  fn: string;
  cached: boolean;
}

interface Live extends ScannedModule {
  objects: Record<string, ScannedModule["objects"][string] & { _constructor?: ScannedFunction }>;
}
type InvokeFn = (executor: unknown, module: unknown, ctx: object) => Promise<unknown>;
type ExecutorCtor = new (modules: unknown[], module: unknown) => unknown;

/** One scan per module, as the engine registers each module once. */
const scans = new Map<string, Promise<Live>>();
const scanned = (m: ModuleRef): Promise<Live> => {
  let s = scans.get(m.name);
  if (!s) scans.set(m.name, (s = scanModule(m) as Promise<Live>));
  return s;
};
const sdk = async () => ({
  invoke: ((await import(new URL("./module/entrypoint/invoke.js", SDK).href)) as { invoke: InvokeFn }).invoke,
  Executor: ((await import(new URL("./module/executor.js", SDK).href)) as { Executor: ExecutorCtor }).Executor,
});

const DURATION = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
const UNIT: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
/** A cache policy's TTL in ms: the default is the engine's maximum, 7 days. */
function ttl(policy: string | undefined): number {
  if (!policy) return 7 * 24 * UNIT.h!;
  let ms = 0;
  for (const [, n, u] of policy.matchAll(DURATION)) ms += Number(n) * UNIT[u!]!;
  return ms;
}

interface ContextModule {
  Context: new (tree: never[], connection: unknown) => { selectNode(id: string, type: string): unknown };
}
interface ConnectionModule {
  Connection: new (client: unknown) => unknown;
}
/**
 * A core object from its ID, as the SDK's own loader does (load.js: `node(id:)` with an inline
 * type); the generated `dag.loadXFromID` selects fields the v0.21.8 schema no longer has.
 */
export async function fromId<T>(cls: new (ctx: never) => T, type: string, id: string): Promise<T> {
  const { Context } = (await import(new URL("./common/context.js", SDK).href)) as ContextModule;
  const { Connection } = (await import(new URL("./common/graphql/connection.js", SDK).href)) as ConnectionModule;
  return new cls(new Context([], new Connection(dag.getGQLClient())).selectNode(id, type) as never);
}

/** A value a call returned, and the way to chain the next call on it. */
export class Handle<T = unknown> {
  constructor(
    private readonly h: ModuleHarness,
    /** The module object's name, or "" for a primitive or core type. */
    readonly type: string,
    readonly raw: Json,
  ) {}

  /** The value, typed as what the function returned after its JSON round trip. */
  get json(): State<T> {
    return this.raw as State<T>;
  }

  call<R = unknown>(fn: string, args: Record<string, unknown> = {}): Promise<Handle<R>> {
    if (!this.type) throw new Error(`cannot call ${fn} on a ${typeof this.raw}`);
    return this.h.invokeOn<R>(this.type, this.raw, fn, args);
  }

  /**
   * Where a `dagger call` chain ends on this value: the CLI selects `sync` on an object that has
   * one (cmd/dagger/functions.go handleObjectLeaf), as `dagger check` does on a check's result
   * (core/modtree.go runCheckLocally), so a report whose gate failed fails the call there.
   */
  async leaf(): Promise<Handle<T>> {
    if (!this.type || !(await this.h.hasMethod(this.type, "sync"))) return this;
    return this.call<T>("sync");
  }

  /** The module object in a field (e.g. one GateReport of a CiReport's gates). */
  at<R = unknown>(type: string, ...path: (string | number)[]): Handle<R> {
    const value = path.reduce<Json>((v, k) => (v as Record<string, Json>)[k]!, this.raw);
    return new Handle<R>(this.h, type, value);
  }

  get(field: string): Json {
    return (this.raw as Record<string, Json>)[field]!;
  }
  directory(field?: string): Promise<Directory> {
    return fromId(Directory, "Directory", this.id(field));
  }
  file(field?: string): Promise<File> {
    return fromId(File, "File", this.id(field));
  }
  private id(field?: string): string {
    const v = field === undefined ? this.raw : this.get(field);
    if (typeof v !== "string") throw new Error(`${field ?? "value"} is not an ID`);
    return v;
  }
}

export class ModuleHarness {
  readonly invocations: Invocation[] = [];
  private readonly cache = new Map<string, { json: string; at: number }>();
  private now = Date.now();
  /** Each `root()` starts a chain as one `dagger call` does: a new session. */
  private session = 0;

  constructor(
    readonly install: Install,
    /** The engine, told when a new client (a function call's runtime) connects: host uploads are per client. */
    private readonly engine?: { newClient(): void },
    /** Which of the repository's modules is called: the CI module (src/) or the deploy module (deploy/src/). */
    readonly module: ModuleRef = CI_MODULE,
  ) {
    this.moduleName = mainObject(module);
  }
  private readonly moduleName: string;

  /** Moves the engine's clock on (function-cache TTLs), e.g. "25h". */
  advance(duration: string): void {
    this.now += ttl(duration);
  }

  /** Forgets every cached function result, as a new engine (or `dagger core engine local-cache prune`) would. */
  prune(): void {
    this.cache.clear();
  }

  /** Calls of `fn` that really ran (not answered from the function cache). */
  ran(fn: string): number {
    return this.invocations.filter((i) => i.fn === fn && !i.cached).length;
  }

  /** The module's constructor, as the first step of every `dagger call` chain. */
  root<R = unknown>(args: Record<string, unknown> = {}): Promise<Handle<R>> {
    this.session++;
    return this.invokeOn<R>(this.moduleName, null, "", args);
  }

  /** `dagger call <fn> [args]` on the root object built with `ctor` arguments. */
  async call<R = unknown>(fn: string, args: Record<string, unknown> = {}, ctor: Record<string, unknown> = {}): Promise<Handle<R>> {
    return (await this.root(ctor)).call<R>(fn, args);
  }

  /** `dagger call <fn> [args]` as the CLI ends it: the result's `sync` selected when it has one (Handle.leaf). */
  async cli<R = unknown>(fn: string, args: Record<string, unknown> = {}, ctor: Record<string, unknown> = {}): Promise<Handle<R>> {
    return (await this.call<R>(fn, args, ctor)).leaf();
  }

  /**
   * `dagger check [names...]` on the root object: every @check function (or the named ones) at once,
   * each as its own call ended with the result's `sync` (core/modtree.go runCheckLocally); a check
   * passes when nothing threw. Returns each check's outcome by name, in name order.
   */
  async check(names?: string[]): Promise<{ name: string; passed: boolean; error?: string }[]> {
    const mod = await scanned(this.module);
    const checks = Object.values(mod.objects[this.moduleName]?.methods ?? {})
      .filter((f) => f.isCheck && (!names || names.includes(f.name)))
      .map((f) => f.name)
      .sort();
    const root = await this.root();
    return Promise.all(
      checks.map(async (name) => {
        try {
          await (await root.call(name)).leaf();
          return { name, passed: true };
        } catch (e) {
          return { name, passed: false, error: e instanceof Error ? e.message : String(e) };
        }
      }),
    );
  }

  async hasMethod(object: string, fn: string): Promise<boolean> {
    const mod = await scanned(this.module);
    return Boolean(mod.objects[object]?.methods[fn]);
  }

  async invokeOn<R = unknown>(object: string, parent: Json, fn: string, given: Record<string, unknown>): Promise<Handle<R>> {
    const mod = await scanned(this.module);
    const obj = mod.objects[object];
    const method = fn === "" ? obj?._constructor : obj?.methods[fn];
    if (!obj) throw new Error(`module has no object ${object}`);
    const args = await this.inputArgs(method, given, mod);
    const policy = method?.cache;
    // A "session" result is reused only within the `dagger call` that made it.
    const scope = policy === "session" ? this.session : 0;
    const key = createHash("sha256")
      .update(JSON.stringify([object, fn, parent, sorted(args), scope]))
      .digest("hex");
    const hit = this.cache.get(key);
    const fresh = hit && policy !== "never" && this.now - hit.at < ttl(policy === "session" ? undefined : policy);
    this.invocations.push({ object, fn, cached: Boolean(fresh) });
    let json: string;
    if (fresh) json = hit.json;
    else {
      // A call that failed is not cached: the next one runs again.
      json = await this.run(mod, object, fn, parent, args);
      if (policy !== "never") this.cache.set(key, { json, at: this.now });
    }
    return new Handle<R>(this, fn === "" ? object : returnedObject(method, mod), JSON.parse(json) as Json);
  }

  /** One fresh module: load src/ anew, rebuild the parent from JSON, invoke, encode the result. */
  private async run(mod: Live, parentName: string, fnName: string, parent: Json, fnArgs: Record<string, Json>): Promise<string> {
    const { invoke, Executor } = await sdk();
    this.engine?.newClient();
    const modules = await freshModules(this.module);
    const executor = new Executor(modules, mod);
    let result: unknown;
    try {
      result = await invoke(executor, mod, { parentName, fnName, parentArgs: parent ?? {}, fnArgs });
    } catch (e) {
      // The entrypoint returns the message as the call's error (formatError); `dagger call` prints it.
      throw new Error(e instanceof Error ? e.message : JSON.stringify(e), { cause: e });
    }
    return result === undefined || result === null ? "null" : JSON.stringify(result);
  }

  /** What the engine passes: the caller's arguments, registered defaults, and contextual directories. */
  private async inputArgs(method: ScannedFunction | undefined, given: Record<string, unknown>, mod: Live) {
    const args: Record<string, Json> = {};
    for (const a of Object.values<ScannedArg>(method?.arguments ?? {})) {
      if (a.name in given && given[a.name] !== undefined) args[a.name] = await encode(given[a.name]);
      else if (a.defaultPath) args[a.name] = await this.contextual(a);
      else if (a.defaultValue !== undefined) args[a.name] = enumName(a, mod) ?? (a.defaultValue as Json);
    }
    const unknown = Object.keys(given).filter((k) => !method?.arguments[k]);
    if (unknown.length) throw new Error(`unknown flag: --${unknown[0]}`);
    return args;
  }

  /** The ID of the directory the engine would pass for a contextual argument of `fn`. */
  async contextFor(object: string, fn: string, arg: string): Promise<string> {
    const mod = await scanned(this.module);
    const method = fn === "" ? mod.objects[object]?._constructor : mod.objects[object]?.methods[fn];
    const a = method?.arguments[arg];
    if (!a?.defaultPath) throw new Error(`${object}.${fn} has no contextual argument ${arg}`);
    return this.contextual(a);
  }

  /** The context directory after the argument's defaultPath and ignore patterns, uploaded as the engine does. */
  private async contextual(a: ScannedArg): Promise<string> {
    const root = "workspace" in this.install ? this.install.workspace : this.install.remote;
    const base = join(root, (a.defaultPath ?? "/").replace(/^\/+/, ""));
    const patterns = a.ignore ?? [];
    // An ignored directory is walked only when a negation could bring something under it back.
    const keep = (rel: string, dir: boolean) => !ignored(rel, patterns) || (dir && mayReinclude(rel, patterns));
    const files = "workspace" in this.install ? walk(base, keep) : committed(root, base);
    const copy = mkdtempSync(join(tmpdir(), "shipshape-context-"));
    for (const rel of files.filter((r) => !ignored(r, patterns))) {
      mkdirSync(dirname(join(copy, rel)), { recursive: true });
      cpSync(join(base, rel), join(copy, rel));
    }
    return (await dag.host().directory(copy).id()) as string;
  }
}

// Concurrent calls (dagger check runs checks in parallel) each get their own module graph: loading
// is one at a time, so a reset cannot land in the middle of another call's imports. That includes
// the implementations a module's functions import when called (src/calls.ts loads lib/calls/):
// they are imported here, in the same fresh graph, as a process of its own would hold them; a later
// reset would otherwise hand a call's import another graph's classes. Loading them up front also
// keeps fake time still while they load (an engine's import takes real milliseconds, not the fake
// hours a settle loop would spin past it). The calls still go through the module's own loader.
let loading: Promise<unknown> = Promise.resolve();
function freshModules(module: ModuleRef): Promise<unknown[]> {
  const load = loading.then(async () => {
    vi.resetModules();
    const modules = await Promise.all(moduleFiles(module.src).map((f) => import(/* @vite-ignore */ f) as Promise<unknown>));
    for (const m of modules as Partial<CallLoader>[])
      if (m.CALL_FILES && m.calls) await Promise.all(Object.keys(m.CALL_FILES).map((name) => m.calls!(name)));
    return modules;
  });
  loading = load.catch(() => undefined);
  return load;
}

/** What a module's src/calls.ts exports: its implementations' files by group, and the loader. */
interface CallLoader {
  CALL_FILES: Record<string, string>;
  calls: (name: string) => Promise<unknown>;
}

function returnedObject(method: ScannedFunction | undefined, mod: Live): string {
  let t: ScannedFunction["returnType"] | undefined = method?.returnType;
  while (t?.kind === "LIST_KIND") t = t.typeDef as ScannedFunction["returnType"];
  return t?.kind === "OBJECT_KIND" && t.name && mod.objects[t.name] ? t.name : "";
}

function enumName(a: ScannedArg, mod: Live): string | undefined {
  if (a.type.kind !== "ENUM_KIND" || !a.type.name) return undefined;
  const values = mod.enums[a.type.name]?.values ?? {};
  return Object.entries(values).find(([, v]) => v.value === a.defaultValue)?.[0];
}

/** As the CLI sends a flag: core objects by ID, lists element by element. */
async function encode(v: unknown): Promise<Json> {
  if (Array.isArray(v)) return Promise.all(v.map(encode));
  if (v && typeof v === "object" && "id" in v && typeof v.id === "function") return (await (v.id as () => Promise<string>)()) as string;
  return JSON.parse(JSON.stringify(v)) as Json;
}

const sorted = (o: Record<string, Json>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** Files under root, relative (a workspace context is the project on disk, untracked files too). */
function walk(root: string, keep: (rel: string, dir: boolean) => boolean, rel = ""): string[] {
  return readdirSync(join(root, rel)).flatMap((name) => {
    const r = rel ? `${rel}/${name}` : name;
    const st = statSync(join(root, r));
    if (!keep(r, st.isDirectory())) return [];
    return st.isDirectory() ? walk(root, keep, r) : st.isFile() ? [r] : [];
  });
}

/** A git module's context: the files committed at the ref under base, nothing else (no node_modules, no .git). */
function committed(root: string, base: string): string[] {
  const out = execFileSync("git", ["-C", root, "ls-files", "-z", "--", relative(root, base) || "."], { encoding: "utf8" });
  return out
    .split("\0")
    .filter((r) => r && statSync(join(root, r), { throwIfNoEntry: false })?.isFile())
    .map((r) => relative(base, join(root, r)));
}
