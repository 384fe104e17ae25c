import { dag, ExecError, ReturnType, type Directory } from "@dagger.io/dagger";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StubEngine } from "./stub-engine.js";

let engine: StubEngine;
beforeAll(async () => {
  engine = await new StubEngine().install();
});
afterAll(() => engine.uninstall());

describe("stub engine", () => {
  it("records the exact query the SDK sends and validates it", async () => {
    const out = await dag.container().from("alpine:3.22").withExec(["echo", "hi"]).stdout();
    expect(out).toBe("");
    expect(engine.queries.at(-1)!.text).toContain('withExec (args: ["echo","hi"])');
    expect(engine.commands.at(-1)).toEqual(["echo", "hi"]);
  });

  it("serves host directories with excludes, like the engine's upload", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stub-"));
    writeFileSync(join(dir, "package.json"), '{"name":"x"}');
    const src = dag.host().directory(dir, { exclude: ["node_modules"] });
    expect(await src.entries()).toEqual(["package.json"]);
    expect(await src.file("package.json").contents()).toBe('{"name":"x"}');
    const ctr = dag.container().from("node:24").withMountedDirectory("/src", src).withWorkdir("/src");
    expect(await ctr.file("package.json").contents()).toBe('{"name":"x"}');
  });

  it("scripts exec results and files, and maps failures to ExecError", async () => {
    engine.onExec((a) => a[0] === "lint", { exitCode: 3, stderr: "boom", files: { "out.json": "[]" } });
    const ran = dag.container().from("alpine").withWorkdir("/w").withExec(["lint"], { expect: ReturnType.Any });
    expect(await ran.exitCode()).toBe(3);
    expect(await ran.file("/w/out.json").contents()).toBe("[]");
    const strict = dag.container().from("alpine").withExec(["lint"]);
    const err = await strict.stdout().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).exitCode).toBe(3);
    expect((err as ExecError).stderr).toBe("boom");
  });

  it("rejects an ID of the wrong type, as the engine does", async () => {
    const file = dag.directory().withNewFile("a", "1").file("a");
    const dirLike = file as unknown as Directory;
    await expect(dag.container().withMountedDirectory("/x", dirLike).sync()).rejects.toThrow(
      /is a File, but the argument expects a Directory/,
    );
  });
});
