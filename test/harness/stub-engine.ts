/**
 * A stub Dagger engine at the GraphQL boundary. It plugs into the SDK's global connection (the
 * one behind `dag`), validates every query against the real v0.21.8 schema, records it, and
 * answers from a model of engine state (see model.ts) plus scripted exec results. Failing execs
 * surface exactly as the engine reports them: a GraphQL error with `_type: EXEC_ERROR`.
 */
import { createHash } from "node:crypto";
import { ClientError } from "graphql-request";
import { apply, clone, EngineError, emptyState, entries, pathExists, resolvePath, str, strs } from "./model.js";
import type { ExecContext, ExecRecord, ExecResult, ExecScript, State } from "./model.js";
import { parseChain, validateQuery, type Call, type Value } from "./schema.js";

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

export class StubEngine {
  readonly queries: RecordedQuery[] = [];
  readonly execs: ExecRecord[] = [];
  /** Every Container.publish: address, digest, the registry auth in force, platform count, each variant's labels. */
  readonly published: {
    address: string;
    digest: string;
    auth: State["registryAuth"];
    platforms: number;
    labels: Record<string, string>[];
  }[] = [];
  private readonly states = new Map<string, State>();
  private readonly memo = new Map<string, Promise<State>>();
  private readonly scripts: ExecScript[] = [];
  private readonly leafHandlers: LeafHandler[] = [];
  private nextId = 1;

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
  }

  /** Scripts the result of commands; later scripts win. Return undefined to pass. */
  onExec(
    match: (args: string[], ctx: ExecContext) => boolean,
    result: ExecResult | ((ctx: ExecContext) => ExecResult | Promise<ExecResult>),
  ): this {
    this.scripts.unshift((ctx) => (match(ctx.args, ctx) ? (typeof result === "function" ? result(ctx) : result) : undefined));
    return this;
  }

  /** Makes every call of `field` fail as the engine would report it (e.g. a broken docker build). */
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
    const state = await this.evaluate(calls.slice(0, -1));
    const answer = this.answer(leaf, state);
    // Rebuild the nested response: one key per level, as the SDK's queryFlatten expects.
    return calls.reduceRight<unknown>((inner, c) => ({ [c.field]: inner }), answer);
  }

  private async evaluate(calls: Call[]): Promise<State> {
    let state = emptyState("Query");
    for (const [i, call] of calls.entries()) {
      const key = JSON.stringify(calls.slice(0, i + 1).map((c) => [c.parentType, c.field, c.args]));
      let hit = this.memo.get(key);
      if (!hit) {
        // The engine runs an exec once per identical chain; so does the model (memo by prefix).
        const next =
          call.field === "node"
            ? Promise.resolve(this.lookup(str(call.args.id), ""))
            : call.field === "host"
              ? Promise.resolve(emptyState("Host"))
              : call.parentType === "Container" && call.field === "withExec"
                ? this.exec(state, call)
                : this.failures.has(call.field)
                  ? Promise.resolve({ ...clone(state, call.returnType), failure: new EngineError(this.failures.get(call.field)!) })
                  : Promise.resolve(apply(state, call, (id, t) => this.lookup(id, t)));
        hit = next;
        this.memo.set(key, hit);
      }
      state = await hit;
    }
    return state;
  }

  private lookup(id: string, expected: string): State {
    const s = this.states.get(id);
    if (!s) throw new Error(`unknown ID ${id}: the engine never issued it`);
    if (expected && s.type !== expected) throw new Error(`ID ${id} is a ${s.type}, but the argument expects a ${expected}`);
    return s;
  }

  private mint(state: State): string {
    const id = `${state.type}#${this.nextId++}`;
    this.states.set(id, state);
    return id;
  }

  private async exec(s: State, call: Call): Promise<State> {
    const args = strs(call.args.args);
    const expect = str(call.args.expect) || "SUCCESS";
    const ctx: ExecContext = {
      args,
      image: s.image,
      workdir: s.workdir,
      env: { ...s.env },
      secretEnv: { ...s.secretEnv },
      services: { ...s.services },
      expect,
      read: (p) => s.files.get(resolvePath(s.workdir, p)),
      exists: (p) => pathExists(s.files, resolvePath(s.workdir, p)),
      filesUnder: (dir) => {
        const base = resolvePath(s.workdir, dir);
        return Object.fromEntries([...s.files].filter(([p]) => p.startsWith(base === "/" ? "/" : `${base}/`)));
      },
    };
    let result: ExecResult = {};
    for (const script of this.scripts) {
      const r = await script(ctx);
      if (r) {
        result = r;
        break;
      }
    }
    const done = { exitCode: result.exitCode ?? 0, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
    const { read: _r, exists: _e, filesUnder: _f, ...plain } = ctx;
    this.execs.push({ ...plain, result: done, mounts: { ...s.mounts }, caches: { ...s.caches } });
    const st = clone(s);
    st.lastExec = done;
    for (const [p, c] of Object.entries(result.files ?? {})) st.files.set(resolvePath(s.workdir, p), c);
    const ok = expect === "ANY" || (expect === "SUCCESS" ? done.exitCode === 0 : done.exitCode !== 0);
    if (!ok && !st.failure) {
      st.failure = new EngineError(`process "${args.join(" ")}" did not complete successfully: exit code: ${done.exitCode}`, {
        cmd: args,
        ...done,
      });
    }
    return st;
  }

  private answer(leaf: Call, s: State): Value {
    if (leaf.field === "id") return this.mint(s);
    if (s.failure) throw this.toClientError(s.failure);
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
        return this.mint(s);
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
        const states = strs(a.platformVariants).map((id) => this.lookup(id, "Container"));
        const variants = states.map((v, i) => v.image ?? strs(a.platformVariants)[i]!);
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
