/**
 * The stub evaluates no more than the engine does, and names recipes as the engine does
 * (recipe.ts): these are the behaviours a gate can get wrong without a real engine noticing.
 */
import { dag, ExecError, type Directory } from "@dagger.io/dagger";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StubEngine } from "./stub-engine.js";

let engine: StubEngine;
beforeEach(async () => {
  engine = await new StubEngine().install();
});
afterEach(() => engine.uninstall());

const build = () => dag.container().from("alpine:3.22").withExec(["touch", "/out"]);

describe("laziness", () => {
  it("asking for an id runs no exec, and the exec runs when a leaf needs it", async () => {
    const ctr = build();
    await ctr.id();
    expect(engine.execs).toEqual([]);
    // The ID is a recipe: a result asked for later, through that ID, evaluates it then.
    expect(await dag.container().withDirectory("/x", ctr.directory("/")).exitCode()).toBe(0);
    expect(engine.commands).toEqual([["touch", "/out"]]);
  });

  it("a with* chain without sync() or a leaf never runs its exec", async () => {
    // As in a gate that builds `ctr.withExec(...)` and returns the container it started from.
    const base = dag.container().from("alpine:3.22");
    void base.withExec(["migrate"]);
    await base.withEnvVariable("A", "1").id();
    expect(engine.commands).toEqual([]);
    await base.withExec(["migrate"]).sync();
    expect(engine.commands).toEqual([["migrate"]]);
  });

  it("identical execs are replayed, across clients too; a per-call value makes one run again", async () => {
    await build().sync();
    engine.newClient(); // another function call (cache: "never" covers the call, not its execs)
    await build().stdout();
    expect(engine.commands).toHaveLength(1);
    await dag.container().from("alpine:3.22").withEnvVariable("BUST", "2").withExec(["touch", "/out"]).sync();
    expect(engine.commands).toHaveLength(2);
  });

  it("gives identical recipes identical IDs, and different recipes different ones", async () => {
    const [a, b, c] = await Promise.all([build().id(), build().id(), build().withEnvVariable("X", "1").id()]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it("does not cache a failure: the next request runs the exec again", async () => {
    let calls = 0;
    engine.onExec(
      (a) => a[0] === "flaky",
      () => ({ exitCode: calls++ === 0 ? 1 : 0 }),
    );
    const ctr = dag.container().from("alpine").withExec(["flaky"]);
    await expect(ctr.sync()).rejects.toBeInstanceOf(ExecError);
    expect(await ctr.exitCode()).toBe(0);
    expect(engine.commands).toEqual([["flaky"], ["flaky"]]);
  });
});

describe("content-addressed inputs", () => {
  it("a host directory's ID is its content: an edit changes it, the same content at another path does not", async () => {
    const dirA = mkdtempSync(join(tmpdir(), "stub-a-"));
    const dirB = mkdtempSync(join(tmpdir(), "stub-b-"));
    writeFileSync(join(dirA, "index.ts"), "export const a = 1;\n");
    writeFileSync(join(dirB, "index.ts"), "export const a = 1;\n");
    // The SDK holds a query, not an ID: every query re-resolves host.directory in the current client.
    const first = await dag.host().directory(dirA).id();
    expect(await dag.host().directory(dirB).id()).toBe(first);

    writeFileSync(join(dirA, "index.ts"), "export const a = 2;\n");
    // Within one client the engine serves its first upload again (core/schema/host.go:
    // RequestedCacheInput("noCache") is per client unless noCache is set).
    expect(await dag.host().directory(dirA).id()).toBe(first);
    expect(await dag.host().directory(dirA, { noCache: true }).id()).not.toBe(first);
    engine.newClient();
    expect(await dag.host().directory(dirA).id()).not.toBe(first);

    // An exec on the edited tree runs; on an unchanged one (same content, any path) it is replayed.
    const run = (src: Directory) => dag.container().from("node:24").withDirectory("/src", src).withExec(["tsc"]).sync();
    await run(dag.host().directory(dirB));
    engine.newClient();
    await run(dag.host().directory(dirB));
    await run(dag.host().directory(dirA));
    expect(engine.commands).toEqual([["tsc"], ["tsc"]]);
  });

  it("keys a URI secret on its plaintext, and setSecret on its name (a new value keeps the old key)", async () => {
    process.env.STUB_TOKEN_A = "s3cret";
    process.env.STUB_TOKEN_B = "s3cret";
    const [a, b] = await Promise.all([dag.secret("env://STUB_TOKEN_A").id(), dag.secret("env://STUB_TOKEN_B").id()]);
    expect(a).toBe(b);
    const first = dag.setSecret("registry-config", "one");
    const second = dag.setSecret("registry-config", "two");
    expect(await first.id()).toBe(await second.id());
    // The session holds one value per name, the last one bound (dagql/cache.go BindSessionResource).
    expect(await first.plaintext()).toBe("two");
  });
});
