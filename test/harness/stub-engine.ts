/**
 * A stub Dagger engine at the GraphQL boundary. It plugs into the SDK's global connection (the
 * one behind `dag`), validates every query against the real v0.21.8 schema, records it, and
 * answers from a model of engine state (see model.ts) plus scripted exec results. Failing execs
 * surface exactly as the engine reports them: a GraphQL error with `_type: EXEC_ERROR`.
 *
 * Like the engine it is lazy (recipe.ts): an `id` is a content-addressed recipe and evaluates
 * nothing; a leaf that needs a result (sync, stdout, contents, entries, publish...) evaluates the
 * recipe, once per digest, so an identical exec anywhere in the engine's life is replayed, not
 * re-run. Failures are not cached (core/lazy_state.go marks a lazy complete only on success).
 * Cache volumes (volumes.ts) and bound services (services.ts) follow the engine's rules.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { ClientError } from "graphql-request";
import { apply, EngineError, emptyState, entries, pathExists, readHostDir, resolvePath, str, strs } from "./model.js";
import type { ExecContext, ExecRecord, ExecResult, ExecScript, MountedVolume, State } from "./model.js";
import { callDigest, contentDigest, digestOf, recipe, ROOT, type Recipe } from "./recipe.js";
import { parseChain, validateQuery, type Call, type Value } from "./schema.js";
import { ServiceManager, ServiceStartError, type CheckResult, type Healthcheck, type ServiceSpec } from "./services.js";
import { FileLocks, readIn, readTree, VolumeStore, write, type Volume } from "./volumes.js";

const SDK = import.meta.resolve("@dagger.io/dagger");
interface GQLClient {
  request(query: string): Promise<unknown>;
}
interface ConnectionModule {
  globalConnection: { setGQLClient(c: GQLClient): void; resetClient(): void };
}

export interface RecordedQuery {
  text: string;
  calls: Call[];
}

type LeafHandler = (leaf: Call, state: State) => Value | undefined;
const isLoad = (c: Call) => c.field === "node" || /^load\w+FromID$/.test(c.field);

export class StubEngine {
  readonly queries: RecordedQuery[] = [];
  /** Execs that really ran, in the order they finished (replays are not here). */
  readonly execs: ExecRecord[] = [];
  /** Every Container.publish: address, digest, the registry auth in force, platform count, each variant's labels. */
  readonly published: {
    address: string;
    digest: string;
    auth: State["registryAuth"];
    platforms: number;
    labels: Record<string, string>[];
  }[] = [];
  /** Cache volumes: contents, sharing modes, prune (`engine.volumes.prune(key)`). */
  readonly volumes = new VolumeStore();
  /** Bound services: start per exec, health checks, grace period (`engine.services.graceMs`). */
  readonly services = new ServiceManager();
  private readonly locks = new FileLocks();
  private readonly recipes = new Map<string, Recipe>();
  private readonly memo = new Map<string, Promise<State>>();
  /** Session resources: secret handle -> plaintext; a rebinding wins (dagql/cache.go BindSessionResource). */
  private readonly secrets = new Map<string, string>();
  private readonly resolvedSecretCalls = new Set<string>();
  /** Host.directory results, per client: cached unless noCache (core/schema/host.go RequestedCacheInput). */
  private readonly uploads = new Map<string, Recipe>();
  private client = 0;
  private execSeq = 0;
  private readonly scripts: ExecScript[] = [];
  private readonly leafHandlers: LeafHandler[] = [];

  /** Makes `dag` talk to this engine until `uninstall()`. */
  async install(): Promise<this> {
    const conn = (await import(new URL("./common/graphql/connection.js", SDK).href)) as ConnectionModule;
    conn.globalConnection.setGQLClient({ request: (q) => this.request(q) });
    this.uninstallFn = () => conn.globalConnection.resetClient();
    return this;
  }
  private uninstallFn = () => {};
  uninstall(): void {
    this.uninstallFn();
    this.services.stopAll();
    this.volumes.dispose();
  }

  /**
   * A new client of the same engine (a new `dagger call`, or a new function call's runtime):
   * per-client results such as host uploads are fetched again; every cache stays.
   */
  newClient(): void {
    this.client++;
  }

  /** Scripts the result of commands; later scripts win. Return undefined to pass. */
  onExec(
    match: (args: string[], ctx: ExecContext) => boolean,
    result: ExecResult | ((ctx: ExecContext) => ExecResult | Promise<ExecResult>),
  ): this {
    this.scripts.unshift((ctx) => (match(ctx.args, ctx) ? (typeof result === "function" ? result(ctx) : result) : undefined));
    return this;
  }

  /** Makes every evaluation of `field` fail as the engine would report it (e.g. a broken docker build). */
  failOn(field: string, message: string): this {
    this.failures.set(field, message);
    return this;
  }
  private readonly failures = new Map<string, string>();

  /** Answers a leaf the model does not know (e.g. `publish`). */
  onLeaf(handler: LeafHandler): this {
    this.leafHandlers.unshift(handler);
    return this;
  }

  /** Commands run, as argv, in order. */
  get commands(): string[][] {
    return this.execs.map((e) => e.args);
  }

  private async request(text: string): Promise<unknown> {
    try {
      return await this.resolve(text);
    } catch (e) {
      // Everything the engine refuses reaches the SDK as a GraphQL error response.
      if (e instanceof ClientError) throw e;
      throw this.toClientError(e instanceof EngineError ? e : new EngineError((e as Error).message));
    }
  }

  private async resolve(text: string): Promise<unknown> {
    const errors = validateQuery(text);
    if (errors.length) throw new Error(`query rejected by the v0.21.8 schema: ${errors.join("; ")}\n${text}`);
    const calls = parseChain(text);
    this.queries.push({ text, calls });
    const leaf = calls[calls.length - 1]!;
    const r = this.recipeOf(calls.slice(0, -1));
    // `id` is the recipe itself: nothing runs until a leaf needs a result.
    const answer = leaf.field === "id" ? r.id : await this.answer(leaf, r);
    // Rebuild the nested response: one key per level, as the SDK's queryFlatten expects.
    return calls.reduceRight<unknown>((inner, c) => ({ [c.field]: inner }), answer);
  }

  /** Resolves a chain to its recipe, as the engine's resolvers do: ID types are checked, nothing is evaluated. */
  private recipeOf(calls: Call[]): Recipe {
    let r = ROOT;
    for (const call of calls) {
      r = isLoad(call) ? this.lookup(str(call.args.id), call.expectedIdTypes.id ?? "") : this.child(r, call);
    }
    return r;
  }

  private child(parent: Recipe, call: Call): Recipe {
    for (const [name, type] of Object.entries(call.expectedIdTypes)) {
      const v = call.args[name];
      for (const id of Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]) this.lookup(String(id), type);
    }
    const a = call.args;
    switch (`${call.parentType}.${call.field}`) {
      case "Host.directory": {
        // The engine uploads when it resolves the field, and names the result by its content.
        const key = `${this.client}\0${JSON.stringify(a)}`;
        const cached = a.noCache === true ? undefined : this.uploads.get(key);
        if (cached) return cached;
        const upload = readHostDir(str(a.path), strs(a.exclude), strs(a.include));
        const r = this.register(recipe("Directory", contentDigest(upload), parent, call, { upload }));
        this.uploads.set(key, r);
        return r;
      }
      case "Query.secret": {
        const plaintext = readSecretUri(str(a.uri));
        const handle = a.cacheKey ? digestOf("cacheKey", str(a.cacheKey)) : digestOf("plaintext", plaintext);
        this.secrets.set(handle, plaintext);
        return this.register(recipe("Secret", handle, parent, call, { secretHandle: handle }));
      }
      case "Query.setSecret": {
        // The plaintext travels in the query text (that is how the SDK's setSecret works); the
        // handle is the name's, and a call not seen before rebinds it to its plaintext.
        const handle = digestOf("setSecret", str(a.name));
        const exact = digestOf(str(a.name), str(a.plaintext));
        if (!this.resolvedSecretCalls.has(exact)) {
          this.resolvedSecretCalls.add(exact);
          this.secrets.set(handle, str(a.plaintext));
        }
        return this.register(recipe("Secret", handle, parent, call, { secretHandle: handle }));
      }
    }
    return this.register(recipe(call.returnType, callDigest(parent, call), parent, call));
  }

  /** One recipe per ID: the same digest is the same recipe, whoever built it. */
  private register(r: Recipe): Recipe {
    const known = this.recipes.get(r.id);
    if (known) return known;
    this.recipes.set(r.id, r);
    return r;
  }

  private lookup(id: string, expected: string): Recipe {
    const r = this.recipes.get(id);
    if (!r) throw new Error(`unknown ID ${id}: the engine never issued it`);
    if (expected && r.type !== expected) throw new Error(`ID ${id} is a ${r.type}, but the argument expects a ${expected}`);
    return r;
  }

  /** Evaluates a recipe once per digest; a failure is dropped so the next request runs it again. */
  private evaluate(r: Recipe): Promise<State> {
    // A secret's value is the session's current binding, read when used.
    if (r.secretHandle)
      return Promise.resolve({ ...emptyState("Secret"), digest: r.digest, value: this.secrets.get(r.secretHandle) ?? "" });
    let p = this.memo.get(r.digest);
    if (!p) {
      const started = this.compute(r);
      p = started;
      this.memo.set(r.digest, started);
      started.catch(() => this.memo.get(r.digest) === started && this.memo.delete(r.digest));
    }
    return p;
  }

  private async compute(r: Recipe): Promise<State> {
    if (!r.call || !r.parent) return emptyState("Query");
    const call = r.call;
    let st: State;
    if (r.upload) st = { ...emptyState("Directory"), files: new Map(r.upload) };
    else {
      const parent = await this.evaluate(r.parent);
      const ids = await this.evaluateIdArgs(call);
      if (this.failures.has(call.field)) throw new EngineError(this.failures.get(call.field)!);
      st =
        call.parentType === "Container" && call.field === "withExec"
          ? await this.exec(parent, call)
          : apply(parent, call, (id) => ids.get(id)!);
    }
    st.digest = r.digest;
    return st;
  }

  private async evaluateIdArgs(call: Call): Promise<Map<string, State>> {
    const ids = Object.entries(call.expectedIdTypes).flatMap(([name]) => {
      const v = call.args[name];
      return Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];
    });
    const states = await Promise.all(ids.map((id) => this.evaluate(this.lookup(id, ""))));
    return new Map(ids.map((id, i) => [id, states[i]!]));
  }

  /**
   * One exec, in the engine's order (core/container_exec.go Evaluate): the LOCKED/PRIVATE volume
   * locks, then the bound services (started, healthy), then the process; services are detached
   * after the grace period, locks released when the exec ends.
   */
  private async exec(s: State, call: Call): Promise<State> {
    const args = strs(call.args.args);
    const expect = str(call.args.expect) || "SUCCESS";
    const specs = Object.entries(s.cacheMounts);
    const mounted = specs.map(([p, spec]) => [p, this.volumes.volume(spec)] as const);
    const release = await this.volumes.lockAll(specs.map(([, spec]) => spec));
    try {
      const bindings = Object.entries(s.bindings).map(([alias, b]) => ({ alias, ...b }));
      const { started, detach } = await this.services
        .startBindings(bindings, (hc, address, spec) => this.healthcheck(hc, address, spec))
        .catch((e: unknown) => {
          if (!(e instanceof ServiceStartError)) throw e;
          const c = e.check;
          throw new EngineError(e.message, c && { cmd: c.cmd, exitCode: c.exitCode, stdout: c.stdout, stderr: c.stderr });
        });
      try {
        const serviceHosts = Object.fromEntries(started.map((b) => [b.alias, b.address]));
        const run = this.context(s, args, expect, mounted, serviceHosts);
        const startedAt = Date.now();
        const result = await this.runScripts(run.ctx);
        const done = { exitCode: result.exitCode ?? 0, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
        const { read: _r, exists: _e, filesUnder: _f, write: _w, flock: _l, volumes: _v, ...plain } = run.ctx;
        this.execs.push({
          ...plain,
          result: done,
          mounts: { ...s.mounts },
          caches: { ...s.caches },
          cacheSharing: Object.fromEntries(specs.map(([p, spec]) => [p, spec.sharing])),
          servicesUp: Object.fromEntries(started.map((b) => [b.alias, b.up])),
          startedAt,
          endedAt: Date.now(),
        });
        const st: State = { ...s, files: new Map(s.files), lastExec: done };
        for (const [p, c] of [...run.outputs, ...Object.entries(result.files ?? {})]) run.put(st, resolvePath(s.workdir, p), c);
        const ok = expect === "ANY" || (expect === "SUCCESS" ? done.exitCode === 0 : done.exitCode !== 0);
        if (!ok) {
          throw new EngineError(`process "${args.join(" ")}" did not complete successfully: exit code: ${done.exitCode}`, {
            cmd: args,
            ...done,
          });
        }
        return st;
      } finally {
        detach();
      }
    } finally {
      release();
    }
  }

  private async runScripts(ctx: ExecContext): Promise<ExecResult> {
    for (const script of this.scripts) {
      const r = await script(ctx);
      if (r) return r;
    }
    return {};
  }

  /** The health check runs in the service's own container, where 127.0.0.1 is the service itself. */
  private async healthcheck(hc: Healthcheck, address: string, spec: ServiceSpec): Promise<CheckResult> {
    const args = hc.shell ? ["/bin/sh", "-c", ...hc.args] : hc.args;
    const svc: State = { ...emptyState("Container"), image: spec.image };
    const { ctx } = this.context(svc, args, "ANY", [], { "127.0.0.1": address, localhost: address });
    const r = await this.runScripts(ctx);
    return { cmd: args, exitCode: r.exitCode ?? 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** What a command sees: the container's files, its mounted volumes (live), its services. */
  private context(s: State, args: string[], expect: string, mounted: (readonly [string, Volume])[], serviceHosts: Record<string, string>) {
    const token = `exec${this.execSeq++}`;
    const outputs = new Map<string, string>();
    const abs = (p: string) => resolvePath(s.workdir, p);
    // The deepest mount containing the path wins, as the kernel's mount table resolves it.
    const onVolume = (p: string) => {
      const hit = mounted.filter(([m]) => p === m || p.startsWith(m + "/")).sort((a, b) => b[0].length - a[0].length)[0];
      return hit && { volume: hit[1], rel: p.slice(hit[0].length).replace(/^\//, "") };
    };
    const volumes: Record<string, MountedVolume> = Object.fromEntries(
      mounted.map(([p, v]) => [p, { key: v.spec.key, sharing: v.spec.sharing, dir: v.dir }]),
    );
    const ctx: ExecContext = {
      args,
      image: s.image,
      workdir: s.workdir,
      env: { ...s.env },
      secretEnv: { ...s.secretEnv },
      services: { ...s.services },
      serviceHosts,
      expect,
      volumes,
      read: (p) => {
        const v = onVolume(abs(p));
        return v ? readIn(v.volume.dir, v.rel) : (outputs.get(abs(p)) ?? s.files.get(abs(p)));
      },
      exists: (p) => {
        const v = onVolume(abs(p));
        if (v) return readIn(v.volume.dir, v.rel) !== undefined || Object.keys(readTree(posix.join(v.volume.dir, v.rel))).length > 0;
        return outputs.has(abs(p)) || pathExists(s.files, abs(p));
      },
      filesUnder: (dir) => {
        const base = abs(dir);
        const under = (p: string) => p === base || p.startsWith(base === "/" ? "/" : `${base}/`);
        const own = [...s.files, ...outputs].filter(([p]) => under(p) && !onVolume(p));
        const vols = mounted.flatMap(([m, v]) => Object.entries(readTree(v.dir)).map(([rel, c]) => [posix.join(m, rel), c] as const));
        return Object.fromEntries([...own, ...vols.filter(([p]) => under(p))]);
      },
      write: (p, content) => {
        const v = onVolume(abs(p));
        if (v) write(v.volume.dir, v.rel, content);
        else outputs.set(abs(p), content);
      },
      flock: (p, opts) => {
        const v = onVolume(abs(p));
        const key = v ? `volume:${v.volume.dir}:${v.rel}` : `${token}:${abs(p)}`;
        return this.locks.lock(key, opts.exclusive, opts.timeoutMs);
      },
    };
    /** Where a file the command wrote lands: in its volume, or in the exec's output. */
    const put = (st: State, p: string, c: string) => {
      const v = onVolume(p);
      if (v) write(v.volume.dir, v.rel, c);
      else st.files.set(p, c);
    };
    return { ctx, outputs, put };
  }

  private async answer(leaf: Call, r: Recipe): Promise<Value> {
    const s = await this.evaluate(r);
    if (this.failures.has(leaf.field)) throw new EngineError(this.failures.get(leaf.field)!);
    for (const h of this.leafHandlers) {
      const v = h(leaf, s);
      if (v !== undefined) return v;
    }
    const a = leaf.args;
    switch (`${leaf.parentType}.${leaf.field}`) {
      case "Container.sync":
      case "Directory.sync":
      case "File.sync":
      case "Service.sync":
      case "CacheVolume.sync":
        return r.id;
      case "Container.label":
        return s.labels[str(a.name)] ?? null;
      case "Container.exitCode":
        return s.lastExec?.exitCode ?? 0;
      case "Container.stdout":
        return s.lastExec?.stdout ?? "";
      case "Container.stderr":
        return s.lastExec?.stderr ?? "";
      case "Container.publish": {
        // A registry answers the pushed manifest's digest: the same content gives the same digest.
        const ids = strs(a.platformVariants);
        const states = await Promise.all(ids.map((id) => this.evaluate(this.lookup(id, "Container"))));
        const variants = states.map((v, i) => v.image ?? ids[i]!);
        // Labels are part of the image config, so they change the digest as they would in a registry.
        const labels = states.map((v) => ({ ...v.labels }));
        const digest = createHash("sha256")
          .update(JSON.stringify(labels.some((l) => Object.keys(l).length) ? [variants, labels] : variants))
          .digest("hex");
        this.published.push({
          address: str(a.address),
          digest: `sha256:${digest}`,
          auth: { ...s.registryAuth },
          platforms: variants.length,
          labels,
        });
        return `${str(a.address)}@sha256:${digest}`;
      }
      case "Secret.plaintext":
        return s.value ?? "";
      case "File.name":
        return s.name ?? "";
      case "File.contents":
        return s.value ?? "";
      case "File.size":
        return Buffer.byteLength(s.value ?? "");
      case "Directory.entries":
        return entries(s.files, a.path ? resolvePath("/", str(a.path)) : "/");
      case "Directory.exists":
      case "Container.exists":
        return pathExists(s.files, resolvePath(s.workdir, str(a.path)));
      case "Directory.glob": {
        const re = globRegExp(str(a.pattern));
        return [...s.files.keys()]
          .filter((p) => re.test(p))
          .map((p) => p.slice(1))
          .sort();
      }
    }
    return defaultFor(leaf);
  }

  private toClientError(e: EngineError): ClientError {
    const extensions = e.exec ? { _type: "EXEC_ERROR", ...e.exec } : {};
    // The SDK reads only message and extensions; the rest of GraphQLError is irrelevant here.
    const errors = [{ message: e.message, extensions }] as unknown as ConstructorParameters<typeof ClientError>[0]["errors"];
    return new ClientError({ errors, status: 200, headers: new Headers(), body: "" }, { query: "" });
  }
}

/** env:// and file:// resolve as the CLI would, so a command run for real gets the real value. */
function readSecretUri(uri: string): string {
  if (uri.startsWith("env://")) return process.env[uri.slice(6)] ?? "";
  if (uri.startsWith("file://")) return readFileSync(uri.slice(7), "utf8");
  return uri;
}

/** `**` spans directories, `*` stays within one; the engine's glob semantics for what we use. */
function globRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  const body = escaped
    .split("**/")
    .map((part) =>
      part
        .split("**")
        .map((p) => p.replace(/\*/g, "[^/]*"))
        .join(".*"),
    )
    .join("(?:.*/)?");
  return new RegExp(`^/${body}$`);
}

function defaultFor(leaf: Call): Value {
  if (leaf.returnsList) return [];
  switch (leaf.returnType) {
    case "String":
      return "";
    case "Int":
    case "Float":
      return 0;
    case "Boolean":
      return false;
    default:
      return null;
  }
}

/** Starts a stub engine for the duration of a test file (vitest hooks). */
export async function withStubEngine(): Promise<StubEngine> {
  return new StubEngine().install();
}
