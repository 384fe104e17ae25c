/**
 * A small model of what the engine computes for a chain of calls: directory trees, container
 * filesystems, env, mounts and exec results. It lets the stub answer `contents`, `entries`,
 * `exitCode`… the way the engine would, instead of one canned answer per query.
 * Evaluation is the stub's (stub-engine.ts): this file only says what one call does to a state.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import type { Call, Value } from "./schema.js";
import { parseDuration, type Healthcheck, type ServiceSpec } from "./services.js";
import type { Sharing, VolumeSpec } from "./volumes.js";

export interface ExecResult {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Files the command writes: absolute, or relative to the workdir. */
  files?: Record<string, string>;
}

/** A cache volume as one exec sees it: its contents are a host directory, shared as its mode says. */
export interface MountedVolume {
  key: string;
  sharing: Sharing;
  dir: string;
}

export interface ExecContext {
  args: string[];
  image: string | undefined;
  workdir: string;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  /** Bound services: alias -> image. */
  services: Record<string, string>;
  /** Where each bound service answers for a command run on the host (its own loopback address). */
  serviceHosts: Record<string, string>;
  expect: string;
  /** Cache volumes mounted for this exec, by container path. */
  volumes: Record<string, MountedVolume>;
  /** Reads a file as the command sees it: from a mounted volume (live) or the container. */
  read(path: string): string | undefined;
  exists(path: string): boolean;
  /** Every file under `dir` (absolute container paths), as the command would see them. */
  filesUnder(dir: string): Record<string, string>;
  /** Writes while the command runs: into a volume at once (SHARED peers see it), else into its output. */
  write(path: string, content: string): void;
  /**
   * flock(2) on a path, as a tool takes it: on a volume the lock is the volume's (other execs on
   * it contend), elsewhere it is this exec's own filesystem. Undefined when `timeoutMs` passed.
   */
  flock(path: string, opts: { exclusive: boolean; timeoutMs: number }): Promise<(() => void) | undefined>;
}

export interface ExecRecord extends Omit<ExecContext, "read" | "exists" | "filesUnder" | "write" | "flock" | "volumes"> {
  result: Required<Omit<ExecResult, "files">>;
  mounts: Record<string, string>;
  /** Cache volume keys by mount path, and their sharing modes. */
  caches: Record<string, string>;
  cacheSharing: Record<string, Sharing>;
  /** For each bound service: whether it accepted TCP when the command started. */
  servicesUp: Record<string, boolean>;
  startedAt: number;
  endedAt: number;
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
  /** The content-addressed digest of the recipe this state was evaluated from (set by the stub). */
  digest?: string;
  files: Map<string, string>;
  /** For File: its contents; for Secret: its plaintext; for CacheVolume: its key. */
  value?: string;
  image?: string;
  workdir: string;
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  services: Record<string, string>;
  /** Bound services, by alias, with what starting them needs. */
  bindings: Record<string, { hostname: string; spec: ServiceSpec }>;
  mounts: Record<string, string>;
  caches: Record<string, string>;
  /** The volume each cache mount resolves to, by mount path. */
  cacheMounts: Record<string, VolumeSpec>;
  /** For CacheVolume: the cacheVolume call's own arguments. */
  volume?: VolumeSpec;
  registryAuth: Record<string, { username: string; secret: string }>;
  /** For File: its base name (File.name). */
  name?: string;
  /** Container labels (withLabel), as the image config would carry them. */
  labels: Record<string, string>;
  /** The image config's HEALTHCHECK (withDockerHealthcheck) and exposed ports. */
  healthcheck?: Healthcheck;
  ports: { port: number; skipHealthcheck: boolean }[];
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
    bindings: {},
    mounts: {},
    caches: {},
    cacheMounts: {},
    registryAuth: {},
    labels: {},
    ports: [],
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
    bindings: { ...s.bindings },
    mounts: { ...s.mounts },
    caches: { ...s.caches },
    cacheMounts: { ...s.cacheMounts },
    registryAuth: { ...s.registryAuth },
    labels: { ...s.labels },
    ports: [...s.ports],
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
  if (n === "/" || files.has(n)) return true;
  return [...files.keys()].some((k) => k.startsWith(n === "/" ? "/" : n + "/"));
}

export const str = (v: Value | undefined): string => (typeof v === "string" ? v : "");
export const strs = (v: Value | undefined): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);

export type Lookup = (id: string, expected: string) => State;

const sharingOf = (v: Value | undefined): Sharing | undefined => (v === "SHARED" || v === "LOCKED" || v === "PRIVATE" ? v : undefined);

/**
 * Applies one call to the state of its parent. Execs, host uploads and secrets are the stub's;
 * ID arguments are looked up already evaluated. Throws the engine's error when the call fails.
 */
export function apply(s: State, call: Call, lookup: Lookup): State {
  const a = call.args;
  const out = (type: string) => clone(s, type);
  const idArg = (name: string) => lookup(str(a[name]), call.expectedIdTypes[name] ?? "");
  switch (`${call.parentType}.${call.field}`) {
    case "Query.container":
      return emptyState("Container");
    case "Query.directory":
      return emptyState("Directory");
    case "Query.cacheVolume": {
      const src = a.source ? idArg("source") : undefined;
      const volume: VolumeSpec = {
        key: str(a.key),
        sharing: sharingOf(a.sharing) ?? "SHARED",
        owner: str(a.owner),
        source: src && { digest: src.digest ?? "", files: src.files },
      };
      return { ...emptyState("CacheVolume"), value: str(a.key), volume };
    }
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
      // The mount's own sharing/source/owner, when given, make it another cacheVolume call
      // (core/schema/container.go withMountedCacheDynamicInputs); otherwise the volume's own.
      const st = out("Container");
      const path = resolvePath(s.workdir, str(a.path));
      const cache = idArg("cache");
      const base = cache.volume ?? { key: cache.value ?? "", sharing: "SHARED" as const, owner: "" };
      const src = a.source ? idArg("source") : undefined;
      st.caches[path] = base.key;
      st.cacheMounts[path] = {
        key: base.key,
        sharing: sharingOf(a.sharing) ?? base.sharing,
        owner: a.owner === undefined ? base.owner : str(a.owner),
        source: src ? { digest: src.digest ?? "", files: src.files } : base.source,
      };
      return st;
    }
    case "Container.withoutMount": {
      // The mount goes; a cache volume's lock no longer applies to the execs after it.
      const st = out("Container");
      const path = resolvePath(s.workdir, str(a.path));
      delete st.caches[path];
      delete st.cacheMounts[path];
      delete st.mounts[path];
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
        throw new EngineError(`failed to read dockerfile: open ${str(a.dockerfile) || "Dockerfile"}: no such file or directory`);
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
      const svc = idArg("service");
      const digest = svc.digest ?? "";
      st.services[str(a.alias)] = svc.image ?? "";
      // core/container.go WithServiceBinding: the hostname is derived from the service's digest.
      st.bindings[str(a.alias)] = {
        hostname: `${digest.replace(/^sha256:/, "").slice(0, 13)}.stub.dagger.local`,
        spec: { digest, image: svc.image ?? "", ports: svc.ports, healthcheck: svc.healthcheck },
      };
      return st;
    }
    case "Container.withExposedPort": {
      const st = out("Container");
      st.ports = [
        ...st.ports.filter((p) => p.port !== a.port),
        { port: Number(a.port), skipHealthcheck: a.experimentalSkipHealthcheck === true },
      ];
      return st;
    }
    case "Container.withDockerHealthcheck": {
      // core/schema/container.go withHealthcheck: Go durations, shell form needs exactly one arg.
      const shell = a.shell === true;
      if (shell && strs(a.args).length !== 1) throw new EngineError("WithHealthcheck args must be a single element when shell mode is set");
      if (strs(a.args).length === 0) throw new EngineError("WithHealthcheck args is missing");
      const st = out("Container");
      st.healthcheck = {
        args: strs(a.args),
        shell,
        intervalMs: parseDuration(str(a.interval)),
        startPeriodMs: parseDuration(str(a.startPeriod)),
        startIntervalMs: parseDuration(str(a.startInterval)),
        retries: typeof a.retries === "number" ? a.retries : 0,
      };
      return st;
    }
    case "Container.withoutDockerHealthcheck": {
      const st = out("Container");
      delete st.healthcheck;
      return st;
    }
    case "Container.directory":
    case "Directory.directory": {
      const path = resolvePath(s.workdir, str(a.path));
      if (!pathExists(s.files, path)) throw new EngineError(`lstat ${path}: no such file or directory`);
      const st = out("Directory");
      st.files = subtree(s.files, path);
      st.workdir = "/";
      return st;
    }
    case "Container.file":
    case "Directory.file": {
      const path = resolvePath(s.workdir, str(a.path));
      const content = s.files.get(path);
      if (content === undefined) throw new EngineError(`lstat ${path}: no such file or directory`);
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
