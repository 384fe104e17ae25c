/**
 * scaffold is registered as a generator, so `dagger generate` (and, since v0.21.0, `dagger check`)
 * runs it: the SDK's own scanner sees @generate, and its own Register sends withGenerator for it
 * alone, to the stub engine that validates the query against the v0.21.8 schema.
 */
import { describe, expect, it } from "vitest";
import { scanModule, type ScannedModule } from "../harness/scan.js";
import { StubEngine } from "../harness/stub-engine.js";

const SDK = import.meta.resolve("@dagger.io/dagger");

describe("scaffold is a generator", () => {
  it("scanned with isGenerator, registered with withGenerator, with no required argument", async () => {
    const mod = await scanModule();
    const methods = mod.objects.Shipshape!.methods as Record<
      string,
      { isGenerator?: boolean; arguments: Record<string, { defaultValue?: unknown }> }
    >;
    expect(Object.keys(methods).filter((n) => methods[n]!.isGenerator)).toEqual(["scaffold"]);
    expect(Object.values(methods.scaffold!.arguments).map((a) => a.defaultValue)).toEqual(["", ""]);
    const engine = await new StubEngine().install();
    try {
      const { Register } = (await import(new URL("./module/entrypoint/register.js", SDK).href)) as {
        Register: new (m: ScannedModule) => { run(): Promise<string> };
      };
      await new Register(mod).run();
      const generators = engine.queries.filter((q) => q.calls.some((c) => c.field === "withGenerator"));
      expect(generators).toHaveLength(1);
      expect(generators[0]!.text).toContain('function (name: "scaffold"');
    } finally {
      engine.uninstall();
    }
  }, 120_000);
});
