/** Cache volumes in the stub: contents, the exec cache's indifference to them, and v0.21.8's sharing modes. */
import { CacheSharingMode, dag, ReturnType } from "@dagger.io/dagger";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StubEngine } from "./stub-engine.js";

let engine: StubEngine;
beforeEach(async () => {
  engine = await new StubEngine().install();
});
afterEach(() => engine.uninstall());

const withCache = (sharing?: CacheSharingMode, key = "tool-cache") =>
  dag
    .container()
    .from("alpine")
    .withMountedCache("/cache", dag.cacheVolume(key), sharing ? { sharing } : {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cache volume contents", () => {
  it("keeps what a command writes under the mount for later execs, and out of the container", async () => {
    engine.onExec((a) => a[0] === "fill", { files: { "/cache/db.bin": "v1", "/out.txt": "layer" } });
    engine.onExec(
      (a) => a[0] === "read",
      (ctx) => ({ stdout: ctx.read("/cache/db.bin") ?? "missing" }),
    );
    const filled = withCache().withExec(["fill"]);
    expect(await filled.file("/out.txt").contents()).toBe("layer");
    expect(await filled.exists("/cache/db.bin")).toBe(false);
    expect(engine.volumes.files("tool-cache")).toEqual({ "db.bin": "v1" });
    expect(await withCache().withExec(["read"]).stdout()).toBe("v1");
  });

  it("a replayed exec does not refill a pruned volume", async () => {
    engine.onExec((a) => a[0] === "fill", { files: { "/cache/db.bin": "v1" } });
    engine.onExec(
      (a) => a[0] === "read",
      (ctx) => ({ stdout: ctx.read("/cache/db.bin") ?? "missing" }),
    );
    await withCache().withExec(["fill"]).sync();
    engine.volumes.prune("tool-cache");
    await withCache().withExec(["fill"]).sync(); // same recipe: replayed, nothing runs
    expect(engine.commands).toEqual([["fill"]]);
    expect(await withCache().withExec(["read"]).stdout()).toBe("missing");
  });

  it("mounting the same key LOCKED gives another volume than SHARED (the sharing is part of the cacheVolume call)", async () => {
    engine.onExec((a) => a[0] === "fill", { files: { "/cache/a": "1" } });
    await withCache().withExec(["fill"]).sync();
    expect(engine.volumes.files("tool-cache", "LOCKED")).toEqual({});
    expect(engine.volumes.files("tool-cache", "SHARED")).toEqual({ a: "1" });
  });
});

describe("sharing modes", () => {
  /** Two execs at once: the first writes, then waits; the second reports what it sees meanwhile. */
  async function race(sharing?: CacheSharingMode) {
    engine.onExec(
      (a) => a[0] === "writer",
      async (ctx) => {
        ctx.write("/cache/partial", "half-written");
        await sleep(150);
        return {};
      },
    );
    engine.onExec(
      (a) => a[0] === "reader",
      async (ctx) => {
        // Either exec may start first: look for the writer's file for up to a second (the writer holds
        // it for 150 ms), so on a busy machine SHARED still shows the overlap instead of a lost race.
        for (let waited = 0; waited < 1000 && ctx.read("/cache/partial") === undefined; waited += 10) await sleep(10);
        return { stdout: ctx.read("/cache/partial") ?? "nothing" };
      },
    );
    const [, seen] = await Promise.all([withCache(sharing).withExec(["writer"]).sync(), withCache(sharing).withExec(["reader"]).stdout()]);
    const [w, r] = ["writer", "reader"].map((n) => engine.execs.find((e) => e.args[0] === n)!);
    return { seen, overlapped: r!.startedAt < w!.endedAt && w!.startedAt < r!.endedAt, r: r!, w: w! };
  }

  it("SHARED (the default): concurrent execs run at once and see each other's writes", async () => {
    const { seen, overlapped } = await race();
    expect(overlapped).toBe(true);
    expect(seen).toBe("half-written");
  });

  it("LOCKED: the second exec waits for the first to end", async () => {
    const { overlapped, r, w } = await race(CacheSharingMode.Locked);
    expect(overlapped).toBe(false);
    expect(Math.max(r.startedAt, w.startedAt)).toBeGreaterThanOrEqual(Math.min(r.endedAt, w.endedAt));
    expect(w.cacheSharing).toEqual({ "/cache": "LOCKED" });
  });

  it("PRIVATE: serialized like LOCKED in v0.21.8, on one volume, not a private copy", async () => {
    const { overlapped, seen } = await race(CacheSharingMode.Private);
    expect(overlapped).toBe(false);
    // Whichever ran first, the volume is one: the writer's file is there for the next user.
    expect(engine.volumes.files("tool-cache", "PRIVATE")).toEqual({ partial: "half-written" });
    expect(["half-written", "nothing"]).toContain(seen);
  });

  it("a file lock a tool takes on a SHARED volume is contended; on its own filesystem it never is", async () => {
    const results: string[] = [];
    engine.onExec(
      (a) => a[0] === "locker",
      async (ctx) => {
        const release = await ctx.flock(`${ctx.args[1]}/db.lock`, { exclusive: true, timeoutMs: 30 });
        if (!release) return { exitCode: 1, stderr: "timeout" };
        await sleep(100);
        release();
        results.push("ok");
        return {};
      },
    );
    const shared = await Promise.all(
      ["1", "2"].map((n) => withCache().withEnvVariable("N", n).withExec(["locker", "/cache"], { expect: ReturnType.Any }).exitCode()),
    );
    expect(shared.sort()).toEqual([0, 1]);
    const own = await Promise.all(
      ["1", "2"].map((n) => withCache().withEnvVariable("N", n).withExec(["locker", "/tmp"], { expect: ReturnType.Any }).exitCode()),
    );
    expect(own).toEqual([0, 0]);
  });
});
