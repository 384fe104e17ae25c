/**
 * dagger/tests and the examples call Shipshape through the client the engine generates for a
 * dependency (`dag.shipshape()...`), which this machine cannot generate. Its stand-in is derived here from
 * Shipshape's API as the SDK's own scanner registers it, following the TypeScript codegen's rules:
 * required arguments positional, the rest in one options object; object results lazy and chainable,
 * everything else a Promise (so a `with*` returning Shipshape chains, and environment(name) is an
 * Environment to call deploy on); fields as zero-argument functions, and only the exposed (@func)
 * ones: the chained settings are plain private fields, carried by the engine but not in the API.
 * Each dependent module is typechecked
 * against it with its own compiler options, so a renamed function, field or argument, or a wrong
 * arity, fails here rather than in the engine. Core types (Directory, Container...) are the SDK's.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { moduleFiles, scanModule, type ScannedArg, type ScannedFunction, type ScannedModule } from "../harness/scan.js";

const ROOT = join(import.meta.dirname, "../..");
const SDK = fileURLToPath(import.meta.resolve("@dagger.io/dagger"));
const CORE = new Set([
  "Directory",
  "Container",
  "File",
  "Secret",
  "Service",
  "CacheVolume",
  "Socket",
  "GitRepository",
  "Platform",
  "Changeset",
]);

type TypeRef = { kind: string; name?: string; typeDef?: TypeRef };

function tsType(t: TypeRef): string {
  switch (t.kind) {
    case "STRING_KIND":
      return "string";
    case "INTEGER_KIND":
    case "FLOAT_KIND":
      return "number";
    case "BOOLEAN_KIND":
      return "boolean";
    case "VOID_KIND":
      return "void";
    case "LIST_KIND":
      return `${tsType(t.typeDef!)}[]`;
    case "OBJECT_KIND":
    case "ENUM_KIND":
    case "SCALAR_KIND":
      return t.name!;
    default:
      throw new Error(`no TypeScript type for ${t.kind}`);
  }
}

/** Object results are lazy (a query builder); anything else is fetched, so a Promise. */
const resultType = (t: TypeRef) => (t.kind === "OBJECT_KIND" ? tsType(t) : `Promise<${tsType(t)}>`);
const optional = (a: ScannedArg & { defaultAddress?: string }) =>
  a.isOptional || a.defaultValue !== undefined || a.defaultPath !== undefined || a.defaultAddress !== undefined;

function signature(owner: string, name: string, fn: Pick<ScannedFunction, "arguments">, result: string, opts: string[]): string {
  const args = Object.values(fn.arguments);
  const required = args.filter((a) => !optional(a)).map((a) => `${a.name}: ${tsType(a.type)}`);
  const rest = args.filter(optional);
  const optsName = `${owner}${name.charAt(0).toUpperCase()}${name.slice(1)}Opts`;
  if (rest.length) opts.push(`export type ${optsName} = { ${rest.map((a) => `${a.name}?: ${tsType(a.type)}`).join("; ")} };`);
  return `(${[...required, ...(rest.length ? [`opts?: ${optsName}`] : [])].join(", ")}): ${result}`;
}

/** The stand-in for the generated sdk/index.ts: the SDK itself, plus Shipshape's types and dag.shipshape(). */
function standInClient(mod: ScannedModule): string {
  const out: string[] = [`export * from ${JSON.stringify(SDK)};`];
  out.push(`import type { ${[...CORE].join(", ")}, Client } from ${JSON.stringify(SDK)};`);
  for (const e of Object.values(mod.enums)) {
    out.push(
      `export declare enum ${e.name} { ${Object.values(e.values)
        .map((v) => `${v.name} = ${JSON.stringify(v.value)}`)
        .join(", ")} }`,
    );
  }
  const opts: string[] = [];
  for (const o of Object.values(mod.objects)) {
    const members = [
      // Undecorated fields (the with* settings) are private state in the engine, not API fields.
      ...Object.values(o.properties)
        .filter((p) => p.isExposed !== false)
        .map((p) => `${p.name}(): ${resultType(p.type)};`),
      ...Object.values(o.methods).map((m) => `${m.name}${signature(o.name, m.name, m, resultType(m.returnType), opts)};`),
    ];
    out.push(`export declare class ${o.name} { private readonly __brand${o.name}: true; ${members.join(" ")} }`);
  }
  const main = mod.objects.Shipshape!;
  const ctor = signature("Shipshape", "", main._constructor ?? { arguments: {} }, "Shipshape", opts);
  out.push(...opts, `export declare const dag: Client & { shipshape${ctor} };`);
  return out.join("\n");
}

/** The modules in this repository that call Shipshape as a dependency. */
const DEPENDENTS = ["dagger/tests", "dagger/examples/typescript"];

let mod: ScannedModule;
let client: string;
beforeAll(async () => {
  mod = await scanModule();
  client = join(mkdtempSync(join(tmpdir(), "shipshape-tests-client-")), "index.ts");
  writeFileSync(client, standInClient(mod));
}, 180_000);

/** A dependent module's program, compiled with its own tsconfig and the stand-in as @dagger.io/dagger. */
function programOf(module: string): ts.Program {
  const dir = join(ROOT, module);
  const tsconfig = ts.parseJsonConfigFileContent(JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as unknown, ts.sys, dir);
  return ts.createProgram(moduleFiles(join(dir, "src")), {
    ...tsconfig.options,
    noEmit: true,
    baseUrl: dir,
    paths: { "@dagger.io/dagger": [client] },
  });
}

/** Type errors of a dependent module. */
function typeErrors(module: string): string[] {
  return ts
    .getPreEmitDiagnostics(programOf(module))
    .map(
      (d) =>
        `${d.file ? `${d.file.fileName.replace(`${ROOT}/`, "")}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ""}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
    );
}

/** The module objects whose every function dagger/tests must call: the root and what environment(name) returns. */
const CALLED = ["Shipshape", "Environment"];

/**
 * Every `Owner.function` of CALLED that a dependent module calls, resolved by the type checker (so
 * `ship.metrics()` and `env.metrics()` count apart, and a chain's steps count as calls).
 */
function calledFunctions(module: string): Set<string> {
  const program = programOf(module);
  const checker = program.getTypeChecker();
  const src = join(ROOT, module, "src");
  const called = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const owner = checker.getSymbolAtLocation(node.expression.name)?.declarations?.[0]?.parent;
      if (owner && ts.isClassDeclaration(owner) && owner.name && CALLED.includes(owner.name.text))
        called.add(`${owner.name.text}.${node.expression.name.text}`);
    }
    ts.forEachChild(node, visit);
  };
  for (const file of program.getSourceFiles()) if (file.fileName.startsWith(src)) visit(file);
  return called;
}

describe("dagger/tests and dagger/examples against Shipshape's API", () => {
  it.each(DEPENDENTS)("%s typechecks against the client generated from the scanned module", (module) => {
    expect(typeErrors(module)).toEqual([]);
  });

  it("dagger/tests calls every function of Shipshape and of its Environment", () => {
    const all = CALLED.flatMap((o) => Object.keys(mod.objects[o]!.methods).map((m) => `${o}.${m}`));
    expect(all).toEqual(
      expect.arrayContaining(["Shipshape.withRegistry", "Shipshape.environment", "Environment.deploy", "Environment.abort"]),
    );
    const called = calledFunctions("dagger/tests");
    expect(all.filter((f) => !called.has(f))).toEqual([]);
  });

  it("dagger/tests' all() runs every check the module has", async () => {
    const { scan } = (await import(new URL("./module/introspector/index.js", import.meta.resolve("@dagger.io/dagger")).href)) as {
      scan(files: string[], moduleName: string, loadModule: boolean): Promise<ScannedModule>;
    };
    const gen = join(mkdtempSync(join(tmpdir(), "shipshape-scan-")), "tests.client.gen.ts");
    copyFileSync(new URL("./api/client.gen.d.ts", import.meta.resolve("@dagger.io/dagger")), gen);
    const tests = (await scan([...moduleFiles(join(ROOT, "dagger/tests/src")), gen], "tests", false)).objects.Tests!;
    const checks = Object.values(tests.methods)
      .filter((m) => m.isCheck)
      .map((m) => m.name);
    const source = readFileSync(join(ROOT, "dagger/tests/src/index.ts"), "utf8");
    const listed = [...source.matchAll(/\["(\w+)", \(\) => this\.(\w+)\(\)\]/g)].map((m) => {
      expect(m[1]).toBe(m[2]);
      return m[1]!;
    });
    expect(checks.length).toBeGreaterThan(10);
    expect([...listed].sort()).toEqual([...checks].sort());
  });

  it("the stand-in client is strict: a call Shipshape lacks is a type error; a composing chain typechecks", () => {
    const source = standInClient(mod);
    expect(source).toContain("export declare class Shipshape");
    expect(source).toMatch(/ secretScan\([^)]*\): GateReport;/);
    expect(source).toMatch(/ withSigner\([^)]*\): Shipshape;/);
    expect(source).toMatch(/ environment\(name: string\): Environment;/);
    expect(source).toMatch(/ sync\(\): GateReport;/);
    // The chained settings are private fields: not callable, not in the client.
    expect(source).not.toMatch(/ awsRoleArn\(\)/);
    const dir = mkdtempSync(join(tmpdir(), "shipshape-tests-client-"));
    writeFileSync(join(dir, "index.ts"), source);
    writeFileSync(
      join(dir, "probe.ts"),
      [
        'import { dag } from "./index.js";',
        "export const a = dag.shipshape().secretScan().noSuchField();",
        "export const b = dag.shipshape({ nope: 1 });",
        "export const c = dag.shipshape().withRegistry();",
        "export const d = dag.shipshape().withAws().awsRoleArn();",
        'export const e = dag.shipshape().deploy("staging");',
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "chain.ts"),
      [
        'import { dag } from "./index.js";',
        'const pw = dag.setSecret("pw", "x");',
        "export const ref: Promise<string> = dag",
        "  .shipshape()",
        '  .withRegistry("ghcr.io/acme", { username: "bot", password: pw })',
        "  .withSigner({ key: pw, password: pw })",
        '  .withRun({ branch: "main" })',
        '  .release({ registry: "ghcr.io/acme" })',
        "  .ref();",
        'export const result: Promise<string> = dag.shipshape().withAws({ roleArn: "r" }).environment("staging").deploy("i", { approve: true }).result();',
        "export const failed: Promise<boolean> = dag.shipshape().lint().sync().passed();",
        "",
      ].join("\n"),
    );
    const program = ts.createProgram([join(dir, "probe.ts"), join(dir, "chain.ts")], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      experimentalDecorators: true,
      skipLibCheck: true,
    });
    const diagnostics = ts.getPreEmitDiagnostics(program);
    const errors = (file: string) =>
      diagnostics.filter((d) => d.file?.fileName.endsWith(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, " "));
    const probe = errors("probe.ts").join("\n");
    expect(probe).toMatch(/noSuchField/);
    expect(probe).toMatch(/nope/);
    expect(probe).toMatch(/Expected 1-2 arguments, but got 0/);
    expect(probe).toMatch(/awsRoleArn/);
    expect(probe).toMatch(/Property 'deploy' does not exist on type 'Shipshape'/);
    expect(errors("chain.ts")).toEqual([]);
  });
});
