/**
 * Cache volumes as the v0.21.8 engine keeps them (read from dagger/dagger@v0.21.8, modelled, not copied):
 * - A volume is one snapshot per `cacheVolume(key, namespace, sharing, owner, source)` result
 *   (core/schema/cache.go cacheVolume -> InitializeSnapshot). `withMountedCache(sharing:)` rewrites
 *   the cache argument into a new cacheVolume call carrying that sharing (core/schema/container.go
 *   withMountedCacheDynamicInputs), so the same key mounted SHARED and LOCKED are two volumes.
 * - Its contents outlive every exec, and are not part of any exec's cached result: an exec replayed
 *   from the cache writes nothing into a volume that was pruned since.
 * - SHARED takes no lock: concurrent execs write the same directory at the same time.
 *   LOCKED holds the engine's lock on the volume for the whole exec, services included
 *   (container_exec.go lockMountedCaches, called before StartBindings); PRIVATE is, in v0.21.8,
 *   "implemented with the same serialized writes as LOCKED" (cacheSharingModeLocksWrites), so it
 *   serializes too and gives no private copy.
 * Contents live in a real directory, so a command run on the host writes into the volume itself.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export type Sharing = "SHARED" | "LOCKED" | "PRIVATE";

/** What identifies a volume: the arguments of the cacheVolume call the mount resolves to. */
export interface VolumeSpec {
  key: string;
  sharing: Sharing;
  owner: string;
  /** The source directory's digest and files, seeding a new volume. */
  source?: { digest: string; files: Map<string, string> };
}

export const volumeIdentity = (v: VolumeSpec) =>
  JSON.stringify({ key: v.key, sharing: v.sharing, owner: v.owner, source: v.source?.digest ?? "" });

/** A mutex with a FIFO queue: the engine's locker (one holder per lock key). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => held);
    return acquired;
  }
}

export interface Volume {
  spec: VolumeSpec;
  /** The volume's contents on the host. */
  dir: string;
}

export class VolumeStore {
  private readonly volumes = new Map<string, Volume>();
  private readonly locks = new Map<string, Mutex>();
  private readonly root = mkdtempSync(join(tmpdir(), "stub-volumes-"));
  private seq = 0;

  /** The volume a mount resolves to, created (empty, or seeded from its source) on first use. */
  volume(spec: VolumeSpec): Volume {
    const id = volumeIdentity(spec);
    let v = this.volumes.get(id);
    if (!v) {
      v = { spec, dir: join(this.root, `v${this.seq++}`) };
      mkdirSync(v.dir, { recursive: true });
      for (const [p, c] of spec.source?.files ?? []) write(v.dir, p, c);
      this.volumes.set(id, v);
    }
    return v;
  }

  /** Takes the engine's lock for every LOCKED/PRIVATE mount, in sorted order, as lockMountedCaches does. */
  async lockAll(specs: VolumeSpec[]): Promise<() => void> {
    const ids = [...new Set(specs.filter((s) => s.sharing !== "SHARED").map(volumeIdentity))].sort();
    const releases: (() => void)[] = [];
    for (const id of ids) {
      let m = this.locks.get(id);
      if (!m) this.locks.set(id, (m = new Mutex()));
      releases.push(await m.lock());
    }
    return () => releases.reverse().forEach((r) => r());
  }

  /**
   * What a test uses to prune: the volumes of `key` (every sharing mode) are dropped, so the next
   * mount starts from empty, as after `dagger core engine local-cache prune` or the engine's GC.
   */
  prune(key?: string): void {
    for (const [id, v] of this.volumes) {
      if (key !== undefined && v.spec.key !== key) continue;
      rmSync(v.dir, { recursive: true, force: true });
      this.volumes.delete(id);
    }
  }

  /** The files of a volume, relative to its root (for assertions). */
  files(key: string, sharing: Sharing = "SHARED"): Record<string, string> {
    const v = [...this.volumes.values()].find((x) => x.spec.key === key && x.spec.sharing === sharing);
    return v ? readTree(v.dir) : {};
  }

  /** Every volume's key and sharing, for assertions. */
  list(): { key: string; sharing: Sharing }[] {
    return [...this.volumes.values()].map((v) => ({ key: v.spec.key, sharing: v.spec.sharing }));
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function write(root: string, rel: string, content: string): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

export function readIn(root: string, rel: string): string | undefined {
  const p = join(root, rel);
  return existsSync(p) && statSync(p).isFile() ? readFileSync(p, "utf8") : undefined;
}

export function readTree(root: string, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(p).isDirectory()) Object.assign(out, readTree(p, rel));
    else out[rel] = readFileSync(p, "utf8");
  }
  return out;
}

/**
 * Advisory file locks as flock(2) gives them to a tool (bbolt's flock: exclusive for writers, shared
 * for ReadOnly opens, polled until a timeout; bbolt/bolt_unix.go). Keyed by the storage the path
 * resolves to, so two execs on one SHARED volume contend and two container filesystems never do.
 */
export class FileLocks {
  private readonly held = new Map<string, { exclusive: boolean; count: number }>();

  /** Resolves to a release function, or undefined once `timeoutMs` passed (0: wait forever). */
  async lock(key: string, exclusive: boolean, timeoutMs: number, pollMs = 10): Promise<(() => void) | undefined> {
    const started = Date.now();
    for (;;) {
      const h = this.held.get(key);
      if (!h || (!exclusive && !h.exclusive)) {
        this.held.set(key, { exclusive, count: (h?.count ?? 0) + 1 });
        let released = false;
        return () => {
          if (released) return;
          released = true;
          const cur = this.held.get(key)!;
          if (--cur.count === 0) this.held.delete(key);
        };
      }
      if (timeoutMs > 0 && Date.now() - started >= timeoutMs) return undefined;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
