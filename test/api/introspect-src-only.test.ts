/**
 * The engine's typedefs come from the TypeScript SDK's ModuleTypes, which hands the introspector the
 * module's `src/` directory alone (sdk/typescript/runtime/main.go ModuleTypes at v0.21.8:
 * `modSource.ContextDirectory().Directory(cfg.subPath).Directory("src")`) with the generated client
 * bindings: the SDK resolves, the module's own dependencies and anything it imports from outside src/
 * do not. The CI module imports the shared files from
 * deploy/, so its exposed API must not need them: scanned from a copy of src/ alone, each module
 * must register exactly what it registers from the repository.
 */
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CI_MODULE, DEPLOY_MODULE, scanModule, type ModuleRef, type ScannedModule } from "../harness/scan.js";

const SDK_DIR = join(dirname(fileURLToPath(import.meta.resolve("@dagger.io/dagger"))), "..", "..");

/**
 * The API as the engine registers it: objects with their functions (argument and return types, docs)
 * and exposed fields, and enums. Private fields (the chained settings) are not registered, and their
 * descriptions do differ: TypeScript lends a class property the JSDoc of the interface it implements
 * (deploy/src/settings.ts), which the engine's view does not have.
 */
function api(scanned: ScannedModule): unknown {
  // The scanner's objects serialize through their own toJSON: what Register reads.
  const m = JSON.parse(JSON.stringify({ objects: scanned.objects, enums: scanned.enums })) as Pick<ScannedModule, "objects" | "enums">;
  const objects = Object.fromEntries(
    Object.entries(m.objects).map(([name, o]) => [
      name,
      { ...o, properties: Object.fromEntries(Object.entries(o.properties).filter(([, p]) => p.isExposed)) },
    ]),
  );
  return { objects, enums: m.enums };
}

describe("each module's API resolves from its src/ alone, as the engine's introspection sees it", () => {
  for (const module of [CI_MODULE, DEPLOY_MODULE]) {
    it(`${module.name}`, async () => {
      const root = mkdtempSync(join(tmpdir(), "shipshape-src-alone-"));
      const alone = join(root, "src");
      cpSync(module.src, alone, { recursive: true });
      // Only the SDK, as the runtime provides it; no zod, no AWS SDK, no ../deploy/src.
      mkdirSync(join(root, "node_modules", "@dagger.io"), { recursive: true });
      symlinkSync(SDK_DIR, join(root, "node_modules", "@dagger.io", "dagger"));
      const isolated: ModuleRef = { name: module.name, src: alone };
      const [full, only] = await Promise.all([scanModule(module), scanModule(isolated)]);
      expect(Object.keys(only.objects).sort()).toEqual(Object.keys(full.objects).sort());
      expect(api(only)).toEqual(api(full));
    }, 120_000);
  }
});
