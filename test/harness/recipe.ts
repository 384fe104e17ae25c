/**
 * IDs as the engine mints them: a lazy recipe (the call chain), named by a content-addressed
 * digest. Asking for an `id` evaluates nothing (core/container_exec.go WithExec only records a
 * ContainerExecLazy; core/lazy_state.go runs it when a result needs it). Identical recipes get
 * identical digests, and every cache keys on them, so two function calls building the same exec
 * share one run. A few calls are keyed on content instead of their arguments (dagql
 * WithContentDigest): Host.directory on the uploaded tree (core/schema/host.go), Query.secret on
 * its plaintext or cacheKey (core/schema/secret.go, since v0.18.6, dagger#10311) and setSecret on
 * its name (SetSecretHandle(name, accessor): a new plaintext under the same name keeps the key).
 */
import { createHash } from "node:crypto";
import type { Call, Value } from "./schema.js";

export interface Recipe {
  /** What the SDK holds and sends back: the type and the digest. */
  id: string;
  digest: string;
  type: string;
  parent?: Recipe;
  call?: Call;
  /** Host.directory: the tree uploaded when the engine resolved the call. */
  upload?: Map<string, string>;
  /** Query.secret / setSecret: the session resource the value is bound to. */
  secretHandle?: string;
}

export const ROOT: Recipe = { id: "Query", digest: "sha256:query", type: "Query" };

/** Canonical JSON (sorted keys), so argument order never changes a digest. */
function canonical(v: Value | undefined): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v ?? null);
}

export function digestOf(...parts: (string | Value)[]): string {
  return "sha256:" + createHash("sha256").update(canonical(parts)).digest("hex");
}

/** The digest of a call on a parent: the parent's digest (content-preferred) and the arguments. IDs are digests. */
export function callDigest(parent: Recipe, call: Call): string {
  return digestOf(parent.digest, call.parentType, call.field, call.args);
}

/** The digest of a directory's contents, whatever path it came from. */
export function contentDigest(files: Map<string, string>): string {
  return digestOf(...[...files].sort(([a], [b]) => (a < b ? -1 : 1)).flat());
}

export function recipe(type: string, digest: string, parent?: Recipe, call?: Call, extra: Partial<Recipe> = {}): Recipe {
  return { id: `${type}@${digest}`, digest, type, parent, call, ...extra };
}
