/**
 * Runs the Dagger TypeScript SDK's own module scanner (the code the engine runs to register our
 * functions) on one module's src/, offline: the CI module (src/) or the deploy module (deploy/src/). The scanner resolves core types only through a non-declaration
 * file named *client.gen.ts, so the SDK's client.gen.d.ts is copied under that name.
 */
import { copyFileSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SDK = import.meta.resolve("@dagger.io/dagger");
export const SRC_DIR = fileURLToPath(new URL("../../src", import.meta.url));
export const DEPLOY_SRC_DIR = fileURLToPath(new URL("../../deploy/src", import.meta.url));
/** What the CI module's functions do, loaded when called (src/calls.ts); not scanned, not listed by the entrypoint. */
export const LIB_DIR = fileURLToPath(new URL("../../lib", import.meta.url));
/** The same for the deploy module (deploy/src/calls.ts). */
export const DEPLOY_LIB_DIR = fileURLToPath(new URL("../../deploy/lib", import.meta.url));

/** One of the repository's Dagger modules: its dagger.json name and the src/ the runtime lists. */
export interface ModuleRef {
  name: string;
  src: string;
}
export const CI_MODULE: ModuleRef = { name: "shipshape", src: SRC_DIR };
export const DEPLOY_MODULE: ModuleRef = { name: "shipshape-deploy", src: DEPLOY_SRC_DIR };
/** The main object's name: the module name in PascalCase (introspector dagger_module/module.ts). */
export const mainObject = (m: ModuleRef) => m.name.replace(/(^|-)([a-z])/g, (_, _d: string, c: string) => c.toUpperCase());

export interface ScannedArg {
  name: string;
  description: string;
  type: { kind: string; name?: string; typeDef?: { kind: string; name?: string } };
  isOptional: boolean;
  isNullable: boolean;
  defaultValue?: unknown;
  defaultPath?: string;
  ignore?: string[];
}
export interface ScannedFunction {
  name: string;
  description: string;
  arguments: Record<string, ScannedArg>;
  returnType: { kind: string; name?: string; typeDef?: { kind: string; name?: string } };
  cache?: string;
  isCheck?: boolean;
}
export interface ScannedObject {
  name: string;
  description: string;
  methods: Record<string, ScannedFunction>;
  properties: Record<string, { name: string; description: string; isExposed?: boolean; type: { kind: string; name?: string } }>;
  _constructor?: ScannedFunction;
}
export interface ScannedModule {
  name: string;
  description: string;
  objects: Record<string, ScannedObject>;
  enums: Record<string, { name: string; values: Record<string, { name: string; value: string; description: string }> }>;
}

export function moduleFiles(dir = SRC_DIR): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return moduleFiles(p);
    return /\.(m?ts)$/.test(name) && !name.endsWith(".d.ts") ? [p] : [];
  });
}

export async function scanModule(module: ModuleRef = CI_MODULE): Promise<ScannedModule> {
  const { scan } = (await import(new URL("./module/introspector/index.js", SDK).href)) as {
    scan(files: string[], moduleName: string, loadModule: boolean): Promise<ScannedModule>;
  };
  const gen = join(mkdtempSync(join(tmpdir(), "shipshape-scan-")), "shipshape.client.gen.ts");
  copyFileSync(new URL("./api/client.gen.d.ts", SDK), gen);
  // loadModule=false, as the engine's introspection entrypoint does: no code is executed.
  return scan([...moduleFiles(module.src), gen], module.name, false);
}
