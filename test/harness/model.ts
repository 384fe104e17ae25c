/**
 * A small model of what the engine computes for a chain of calls: directory trees, container
 * filesystems, env, mounts and exec results. It lets the stub answer `contents`, `entries`,
 * `exitCode`… the way the engine would, instead of one canned answer per query.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import type { Call, Value } from "./schema.js";

export interface ExecResult {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Files the command writes: absolute, or relative to the workdir. */
  files?: Record<string, string>;
}

export interface ExecContext {
  args: string[];
  image: string | undefined;
  workdir: string;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  services: Record<string, string>;
  expect: string;
  /** Reads a file from the container as it is before the command runs. */
  read(path: string): string | undefined;
  exists(path: string): boolean;
  /** Every file under `dir` (absolute container paths), as the command would see them. */
  filesUnder(dir: string): Record<string, string>;
}

export interface ExecRecord extends Omit<ExecContext, "read" | "exists" | "filesUnder"> {
  result: Required<Omit<ExecResult, "files">>;
  mounts: Record<string, string>;
  caches: Record<string, string>;
}

export type ExecScript = (ctx: ExecContext) => ExecResult | Promise<ExecResult> | undefined;

export class EngineError extends Error {
  constructor(
    message: string,
    readonly exec?: { cmd: string[]; exitCode: number; stdout: string; stderr: string },
  ) {
    super(message);
  }
}

/** The evaluated state of an object in a chain. */
export interface State {
  type: string;
  files: Map<string, string>;
  /** For File: its contents; for Secret: its name; for CacheVolume: its key. */
  value?: string;
  image?: string;
  workdir: string;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  services: Record<string, string>;
  mounts: Record<string, string>;
  caches: Record<string, string>;
  registryAuth: Record<string, { username: string; secret: string }>;
  /** For File: its base name (File.name). */
  name?: string;
  /** Container labels (withLabel), as the image config would carry them. */
  labels: Record<string, string>;
  failure?: EngineError;
  lastExec?: ExecRecord["result"];
}

export function emptyState(type: string): State {
  return {
    type,
    files: new Map(),
    workdir: "/",
    env: {},
    secretEnv: {},
    services: {},
    mounts: {},
    caches: {},
    registryAuth: {},
    labels: {},
  };
}

export function clone(s: State, type = s.type): State {
  return {
    ...s,
    type,
    files: new Map(s.files),
    env: { ...s.env },
    secretEnv: { ...s.secretEnv },
    services: { ...s.services },
    mounts: { ...s.mounts },
    caches: { ...s.caches },
    registryAuth: { ...s.registryAuth },
    labels: { ...s.labels },
  };
}

const norm = (p: string) => posix.normalize(p).replace(/\/$/, "") || "/";
export const resolvePath = (workdir: string, p: string) => norm(p.startsWith("/") ? p : posix.join(workdir, p));

function excluded(rel: string, patterns: string[]): boolean {
  const parts = rel.split("/");
  return patterns.some((pat) => {
    const name = pat.replace(/^\*\*\//, "").replace(/\/\*\*$/, "");
    return pat.startsWith("**/") ? parts.includes(name) : parts[0] === name;
  });
}

/** A host directory as the engine would upload it (after `exclude`). */
export function readHostDir(root: string, exclude: string[], include: string[] = []): Map<string, string> {
  const files = new Map<string, string>();
  // include keeps only the named top-level entries (what the tests use: [".git"]).
  const kept = (r: string) => include.length === 0 || include.includes(r.split("/")[0]!);
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (excluded(r, exclude) || !kept(r)) continue;
      const st = statSync(join(root, r));
      if (st.isDirectory()) walk(r);
      else files.set("/" + r, readFileSync(join(root, r), "utf8"));
    }
  };
  walk("");
  return files;
}

/** Copies `from` (paths rooted at `/`) under `at`. */
export function graft(into: Map<string, string>, at: string, from: Map<string, string>): void {
  const base = norm(at);
  for (const [p, c] of from) into.set(norm(posix.join(base, p)), c);
}

/** The subtree under `at`, re-rooted at `/`. */
export function subtree(files: Map<string, string>, at: string): Map<string, string> {
  const base = norm(at);
  const out = new Map<string, string>();
  for (const [p, c] of files) {
    if (base === "/") out.set(p, c);
    else if (p.startsWith(base + "/")) out.set(p.slice(base.length), c);
  }
  return out;
}

export function entries(files: Map<string, string>, at: string): string[] {
  const base = norm(at);
  const names = new Set<string>();
  for (const p of files.keys()) {
    const prefix = base === "/" ? "/" : base + "/";
    if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split("/")[0]!);
  }
  return [...names].sort();
}

export function pathExists(files: Map<string, string>, p: string): boolean {
  const n = norm(p);
  if (files.has(n)) return true;
  return [...files.keys()].some((k) => k.startsWith(n === "/" ? "/" : n + "/"));
}

export const str = (v: Value | undefined): string => (typeof v === "string" ? v : "");
export const strs = (v: Value | undefined): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);

export type Lookup = (id: string, expected: string) => State;

/** Applies one call to the state of its parent; `withExec` is the engine's (it may be async). */
export function apply(s: State, call: Call, lookup: Lookup): State {
  const a = call.args;
  const out = (type: string) => clone(s, type);
  const idArg = (name: string) => lookup(str(a[name]), call.expectedIdTypes[name] ?? "");
  switch (`${call.parentType}.${call.field}`) {
    case "Host.directory": {
      const st = emptyState("Directory");
      st.files = readHostDir(str(a.path), strs(a.exclude), strs(a.include));
      return st;
    }
    case "Query.container":
      return emptyState("Container");
    case "Query.directory":
      return emptyState("Directory");
    case "Query.cacheVolume":
      return { ...emptyState("CacheVolume"), value: str(a.key) };
    case "Query.secret": {
      // env:// resolves as the CLI would, so a command run for real gets the real value.
      const uri = str(a.uri);
      return { ...emptyState("Secret"), value: uri.startsWith("env://") ? (process.env[uri.slice(6)] ?? "") : uri };
    }
    case "Query.setSecret":
      // The plaintext travels in the query text: that is how the SDK's setSecret works.
      return { ...emptyState("Secret"), value: str(a.plaintext) };
    case "Container.from": {
      const st = out("Container");
      st.image = str(a.address);
      return st;
    }
    case "Container.withWorkdir": {
      const st = out("Container");
      st.workdir = resolvePath(s.workdir, str(a.path));
      return st;
    }
    case "Container.withEnvVariable": {
      const st = out("Container");
      st.env[str(a.name)] = str(a.value);
      return st;
    }
    case "Container.withoutEnvVariable": {
      const st = out("Container");
      delete st.env[str(a.name)];
      return st;
    }
    case "Container.withSecretVariable": {
      const st = out("Container");
      st.secretEnv[str(a.name)] = idArg("secret").value ?? "";
      return st;
    }
    case "Container.withMountedDirectory":
    case "Container.withDirectory": {
      const st = out("Container");
      const path = resolvePath(s.workdir, str(a.path));
      const src = idArg(call.field === "withDirectory" ? "source" : "source");
      graft(st.files, path, src.files);
      if (call.field === "withMountedDirectory") st.mounts[path] = "directory";
      return st;
    }
    case "Container.withMountedCache": {
      const st = out("Container");
      st.caches[resolvePath(s.workdir, str(a.path))] = idArg("cache").value ?? "";
      return st;
    }
    case "Container.withNewFile":
    case "Directory.withNewFile": {
      const st = out(call.parentType);
      st.files.set(resolvePath(s.workdir, str(a.path)), str(a.contents));
      return st;
    }
    case "Container.withFile":
    case "Directory.withFile": {
      const st = out(call.parentType);
      st.files.set(resolvePath(s.workdir, str(a.path)), idArg("source").value ?? "");
      return st;
    }
    case "Directory.withDirectory": {
      const st = out("Directory");
      graft(st.files, resolvePath("/", str(a.path)), idArg("source").files);
      return st;
    }
    case "Directory.dockerBuild": {
      // The image the engine would build; the model keeps the Dockerfile it was built from.
      const dockerfile = s.files.get(resolvePath("/", str(a.dockerfile) || "Dockerfile"));
      if (dockerfile === undefined)
        return fail(s, `failed to read dockerfile: open ${str(a.dockerfile) || "Dockerfile"}: no such file or directory`);
      return { ...emptyState("Container"), image: `dockerBuild(${str(a.platform) || "default"})`, value: dockerfile };
    }
    case "Container.withMountedSecret": {
      const st = out("Container");
      st.files.set(resolvePath(s.workdir, str(a.path)), idArg("source").value ?? "");
      st.mounts[resolvePath(s.workdir, str(a.path))] = "secret";
      return st;
    }
    case "Container.withLabel": {
      const st = out("Container");
      st.labels[str(a.name)] = str(a.value);
      return st;
    }
    case "Container.withoutLabel": {
      const st = out("Container");
      delete st.labels[str(a.name)];
      return st;
    }
    case "Container.withRegistryAuth": {
      const st = out("Container");
      st.registryAuth[str(a.address)] = { username: str(a.username), secret: idArg("secret").value ?? "" };
      return st;
    }
    case "Container.withServiceBinding": {
      const st = out("Container");
      st.services[str(a.alias)] = idArg("service").image ?? "";
      return st;
    }
    case "Container.directory":
    case "Directory.directory": {
      const path = resolvePath(s.workdir, str(a.path));
      if (!pathExists(s.files, path)) return fail(s, `lstat ${path}: no such file or directory`);
      const st = out("Directory");
      st.files = subtree(s.files, path);
      st.workdir = "/";
      return st;
    }
    case "Container.file":
    case "Directory.file": {
      const path = resolvePath(s.workdir, str(a.path));
      const content = s.files.get(path);
      if (content === undefined) return fail(s, `lstat ${path}: no such file or directory`);
      return { ...out("File"), value: content, name: posix.basename(path) };
    }
    default: {
      // Calls that change nothing the model tracks (labels, users, ports, health checks...)
      // keep the state; the return type moves on (asService, asTarball...).
      const st = out(call.returnType);
      if (call.field === "asService") st.type = "Service";
      return st;
    }
  }
}

function fail(s: State, message: string): State {
  const st = clone(s);
  st.failure ??= new EngineError(message);
  return st;
}
