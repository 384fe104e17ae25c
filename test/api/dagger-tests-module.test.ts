/**
 * dagger/tests and the examples call Shipshape's two modules through the client the engine
 * generates for a module's dependencies (`dag.shipshape()...`, `dag.shipshapeDeploy()...`), which
 * this machine cannot generate. Its stand-in is derived here from each dependency's API as the SDK's
 * own scanner registers it (the CI module from src/, the deploy module from deploy/src/), following
 * the engine's and the TypeScript codegen's rules: a dependency's types namespaced by its name, as
 * the engine's namespaceTypeDef does (GateReport of `shipshape` is ShipshapeGateReport, Environment of
 * `shipshape-deploy` is ShipshapeDeployEnvironment, a main object keeps the module's name); required
 * arguments positional, the rest in one options object; object results lazy and chainable,
 * everything else a Promise (so a `with*` returning its root chains, and environment(name) is an
 * Environment to call deploy on); fields as zero-argument functions, and only the exposed (@func)
 * ones: the chained settings are plain private fields, carried by the engine but not in the API.
 * Each dependent module gets only the dependencies its dagger.json declares, and is typechecked
 * against them with its own compiler options, so a renamed function, field or argument, a call to
 * the wrong module (`dag.shipshape().environment(...)`), a missing dependency or a wrong arity fails
 * here rather than in the engine. Core types (Directory, Container...) are the SDK's.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { mainObject, moduleFiles, type ScannedArg, type ScannedFunction, type ScannedModule } from "../harness/scan.js";
import { daggerJson, MODULE_DIRS, moduleRef, scanned } from "../generate/workflow-checks.js";

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

const pascal = (s: string) => s.replace(/(^|[-_])([a-zA-Z])/g, (_m, _s, c: string) => c.toUpperCase());
const camel = (s: string) => pascal(s).replace(/^./, (c) => c.toLowerCase());

/**
 * A module type's name in a dependent's client: the engine's namespacing (core/module.go
 * namespaceTypeDef): the main object is the dependency's name; any other loses a leading module
 * name and gets the dependency's name in front.
 */
function namespaced(type: string, moduleName: string, dependencyName = moduleName): string {
  const [t, m] = [pascal(type), pascal(moduleName)];
  if (t === m) return pascal(dependencyName);
  return pascal(dependencyName) + (t.startsWith(m) ? t.slice(m.length) : t);
}

function tsType(t: TypeRef, name: (n: string) => string): string {
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
      return `${tsType(t.typeDef!, name)}[]`;
    case "OBJECT_KIND":
    case "ENUM_KIND":
    case "SCALAR_KIND":
      return CORE.has(t.name!) ? t.name! : name(t.name!);
    default:
      throw new Error(`no TypeScript type for ${t.kind}`);
  }
}

const optional = (a: ScannedArg & { defaultAddress?: string }) =>
  a.isOptional || a.defaultValue !== undefined || a.defaultPath !== undefined || a.defaultAddress !== undefined;

/** One dependency of a dependent module: what it is called there (dagger.json's name) and its scan. */
interface Dependency {
  name: string;
  /** The module's own name (its dagger.json), which its types are namespaced from. */
  moduleName: string;
  mod: ScannedModule;
}

/** The stand-in for the generated sdk/index.ts: the SDK itself, plus each dependency's types and its dag.<name>(). */
function standInClient(deps: Dependency[]): string {
  const out: string[] = [`export * from ${JSON.stringify(SDK)};`];
  out.push(`import type { ${[...CORE].join(", ")}, Client } from ${JSON.stringify(SDK)};`);
  const opts: string[] = [];
  const entries: string[] = [];
  for (const { name: dep, moduleName, mod } of deps) {
    const name = (n: string) => namespaced(n, moduleName, dep);
    /** Object results are lazy (a query builder); anything else is fetched, so a Promise. */
    const resultType = (t: TypeRef) => (t.kind === "OBJECT_KIND" ? tsType(t, name) : `Promise<${tsType(t, name)}>`);
    const signature = (owner: string, fn: string, f: Pick<ScannedFunction, "arguments">, result: string): string => {
      const args = Object.values(f.arguments);
      const required = args.filter((a) => !optional(a)).map((a) => `${a.name}: ${tsType(a.type, name)}`);
      const rest = args.filter(optional);
      const optsName = `${owner}${fn.charAt(0).toUpperCase()}${fn.slice(1)}Opts`;
      if (rest.length) opts.push(`export type ${optsName} = { ${rest.map((a) => `${a.name}?: ${tsType(a.type, name)}`).join("; ")} };`);
      return `(${[...required, ...(rest.length ? [`opts?: ${optsName}`] : [])].join(", ")}): ${result}`;
    };
    for (const e of Object.values(mod.enums)) {
      out.push(
        `export declare enum ${name(e.name)} { ${Object.values(e.values)
          .map((v) => `${v.name} = ${JSON.stringify(v.value)}`)
          .join(", ")} }`,
      );
    }
    for (const o of Object.values(mod.objects)) {
      const cls = name(o.name);
      const members = [
        // Undecorated fields (the with* settings) are private state in the engine, not API fields.
        ...Object.values(o.properties)
          .filter((p) => p.isExposed !== false)
          .map((p) => `${p.name}(): ${resultType(p.type)};`),
        ...Object.values(o.methods).map((m) => `${m.name}${signature(cls, m.name, m, resultType(m.returnType))};`),
      ];
      out.push(`export declare class ${cls} { private readonly __brand${cls}: true; ${members.join(" ")} }`);
    }
    const main = mod.objects[pascal(moduleName)]!;
    const root = name(main.name);
    entries.push(`${camel(dep)}${signature(root, "", main._constructor ?? { arguments: {} }, root)}`);
  }
  out.push(...opts, `export declare const dag: Client & { ${entries.join("; ")} };`);
  return out.join("\n");
}

/** The modules in this repository that call Shipshape's modules as dependencies. */
const DEPENDENTS = ["dagger/tests", "dagger/examples/typescript"];

/** A dependent's dependencies, from its dagger.json: each source is one of this repository's modules. */
async function dependenciesOf(dependent: string): Promise<Dependency[]> {
  return Promise.all(
    (daggerJson(dependent).dependencies ?? []).map(async (d) => {
      const dir = relative(ROOT, resolve(ROOT, dependent, d.source)) || ".";
      if (!MODULE_DIRS.includes(dir))
        throw new Error(`${dependent}: dependency ${d.name} at ${d.source} is not a module of this repository`);
      return { name: d.name, moduleName: moduleRef(dir).name, mod: await scanned(dir) };
    }),
  );
}

/** Writes a stand-in client and returns its path. */
function writeClient(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "shipshape-tests-client-")), "index.ts");
  writeFileSync(file, source);
  return file;
}

const clients = new Map<string, string>();
let both: Dependency[];
beforeAll(async () => {
  for (const d of DEPENDENTS) clients.set(d, writeClient(standInClient(await dependenciesOf(d))));
  both = [
    { name: "shipshape", moduleName: "shipshape", mod: await scanned(".") },
    { name: "shipshape-deploy", moduleName: "shipshape-deploy", mod: await scanned("deploy") },
  ];
}, 180_000);

/** A dependent module's program, compiled with its own tsconfig and the stand-in as @dagger.io/dagger. */
function programOf(module: string): ts.Program {
  const dir = join(ROOT, module);
  const tsconfig = ts.parseJsonConfigFileContent(JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8")) as unknown, ts.sys, dir);
  return ts.createProgram(moduleFiles(join(dir, "src")), {
    ...tsconfig.options,
    noEmit: true,
    baseUrl: dir,
    paths: { "@dagger.io/dagger": [clients.get(module)!] },
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

/**
 * The objects whose every function dagger/tests must call, as the client names them: each module's
 * root, and what the deploy module's environment(name) returns.
 */
const CALLED = ["Shipshape", "ShipshapeDeploy", "ShipshapeDeployEnvironment"];

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

/** Diagnostics of files compiled against a stand-in client (written next to it as index.ts). */
function compileAgainst(client: string, files: Record<string, string>): (file: string) => string[] {
  const dir = mkdtempSync(join(tmpdir(), "shipshape-tests-client-"));
  writeFileSync(join(dir, "index.ts"), client);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const program = ts.createProgram(
    Object.keys(files).map((f) => join(dir, f)),
    {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      experimentalDecorators: true,
      skipLibCheck: true,
    },
  );
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return (file) =>
    diagnostics.filter((d) => d.file?.fileName.endsWith(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, " "));
}

describe("dagger/tests and dagger/examples against Shipshape's two modules", () => {
  it("both dependents declare both modules, by their dagger.json names", () => {
    for (const d of DEPENDENTS)
      expect(
        (daggerJson(d).dependencies ?? []).map((dep) => [dep.name, relative(ROOT, resolve(ROOT, d, dep.source)) || "."]),
        d,
      ).toEqual([
        [daggerJson(".").name, "."],
        [daggerJson("deploy").name, "deploy"],
      ]);
  });

  it.each(DEPENDENTS)("%s typechecks against the client generated from the scanned modules", (module) => {
    expect(typeErrors(module)).toEqual([]);
  });

  it("dagger/tests calls every function of both modules' roots and of the deploy module's Environment", async () => {
    const [ci, deploy] = [await scanned("."), await scanned("deploy")];
    const all = [
      ...Object.keys(ci.objects[mainObject(moduleRef("."))]!.methods).map((m) => `Shipshape.${m}`),
      ...Object.keys(deploy.objects[mainObject(moduleRef("deploy"))]!.methods).map((m) => `ShipshapeDeploy.${m}`),
      ...Object.keys(deploy.objects.Environment!.methods).map((m) => `ShipshapeDeployEnvironment.${m}`),
    ];
    expect(all).toEqual(
      expect.arrayContaining([
        "Shipshape.withRegistry",
        "Shipshape.release",
        "ShipshapeDeploy.withVerifier",
        "ShipshapeDeploy.environment",
        "ShipshapeDeploy.metrics",
        "ShipshapeDeployEnvironment.deploy",
        "ShipshapeDeployEnvironment.abort",
      ]),
    );
    // The split took these from the CI module: they are no function of it any more.
    expect(all).not.toEqual(expect.arrayContaining(["Shipshape.environment"]));
    expect(all.filter((f) => /^Shipshape\.(environment|metrics|withNotifications)$/.test(f))).toEqual([]);
    const called = calledFunctions("dagger/tests");
    expect(all.filter((f) => !called.has(f))).toEqual([]);
  });

  it("dagger/tests' all() runs every check the module has", async () => {
    const tests = (await scanned("dagger/tests")).objects.Tests!;
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

  it("the stand-in client namespaces each module's types as the engine does", () => {
    expect(namespaced("GateReport", "shipshape")).toBe("ShipshapeGateReport");
    expect(namespaced("Shipshape", "shipshape")).toBe("Shipshape");
    expect(namespaced("ShipshapeDeploy", "shipshape-deploy")).toBe("ShipshapeDeploy");
    expect(namespaced("Environment", "shipshape-deploy")).toBe("ShipshapeDeployEnvironment");
    expect(namespaced("ShipshapeDeployDecision", "shipshape-deploy")).toBe("ShipshapeDeployDecision");
    expect(namespaced("Environment", "shipshape-deploy", "deployer")).toBe("DeployerEnvironment");
    const source = standInClient(both);
    expect(source).toContain("export declare class Shipshape ");
    expect(source).toContain("export declare class ShipshapeDeploy ");
    expect(source).toMatch(/ secretScan\([^)]*\): ShipshapeGateReport;/);
    expect(source).toMatch(/ withSigner\([^)]*\): Shipshape;/);
    expect(source).toMatch(/ environment\(name: string\): ShipshapeDeployEnvironment;/);
    expect(source).toMatch(/ monitor\(githubToken: Secret, repository: string\): ShipshapeDeployHealthReport;/);
    expect(source).toMatch(/ sync\(\): ShipshapeGateReport;/);
    expect(source).toMatch(/ shipshape\([^)]*\): Shipshape; shipshapeDeploy\([^)]*\): ShipshapeDeploy /);
    // The chained settings are private fields: not callable, not in the client.
    expect(source).not.toMatch(/ awsRoleArn\(\)/);
  });

  it("the stand-in client is strict: a call a module lacks is a type error; composing chains typecheck", () => {
    const errors = compileAgainst(standInClient(both), {
      "probe.ts": [
        'import { dag } from "./index.js";',
        "export const a = dag.shipshape().secretScan().noSuchField();",
        "export const b = dag.shipshape({ nope: 1 });",
        "export const c = dag.shipshape().withRegistry();",
        "export const d = dag.shipshape().withAws().awsRoleArn();",
        'export const e = dag.shipshape().deploy("staging");',
        'export const f = dag.shipshape().environment("staging");',
        "export const g = dag.shipshape().withNotifications();",
        "export const h = dag.shipshapeDeploy().lint();",
        "export const i = dag.shipshapeDeploy().withSigner();",
        "",
      ].join("\n"),
      "chain.ts": [
        'import { dag } from "./index.js";',
        'const pw = dag.setSecret("pw", "x");',
        "export const ref: Promise<string> = dag",
        "  .shipshape()",
        '  .withRegistry("ghcr.io/acme", { username: "bot", password: pw })',
        "  .withSigner({ key: pw, password: pw })",
        '  .withRun({ branch: "main" })',
        '  .release({ registry: "ghcr.io/acme" })',
        "  .ref();",
        "export const result: Promise<string> = dag",
        "  .shipshapeDeploy()",
        '  .withAws({ roleArn: "r" })',
        "  .withVerifier({ publicKey: pw })",
        '  .environment("staging")',
        '  .deploy("i", { approve: true })',
        "  .result();",
        'export const healthy: Promise<boolean> = dag.shipshapeDeploy().environment("production").monitor(pw, "acme/api").passed();',
        "export const failed: Promise<boolean> = dag.shipshape().lint().sync().passed();",
        "",
      ].join("\n"),
    });
    const probe = errors("probe.ts").join("\n");
    expect(probe).toMatch(/noSuchField/);
    expect(probe).toMatch(/nope/);
    expect(probe).toMatch(/Expected 1-2 arguments, but got 0/);
    expect(probe).toMatch(/awsRoleArn/);
    expect(probe).toMatch(/Property 'deploy' does not exist on type 'Shipshape'/);
    expect(probe).toMatch(/Property 'environment' does not exist on type 'Shipshape'/);
    expect(probe).toMatch(/Property 'withNotifications' does not exist on type 'Shipshape'/);
    expect(probe).toMatch(/Property 'lint' does not exist on type 'ShipshapeDeploy'/);
    expect(probe).toMatch(/Property 'withSigner' does not exist on type 'ShipshapeDeploy'/);
    expect(errors("chain.ts")).toEqual([]);
  });

  it("a dependent gets only the modules its dagger.json declares: without shipshape-deploy, dag.shipshapeDeploy is an error", () => {
    const errors = compileAgainst(standInClient(both.slice(0, 1)), {
      "only-ci.ts": ['import { dag } from "./index.js";', 'export const e = dag.shipshapeDeploy().environment("staging");', ""].join("\n"),
    });
    expect(errors("only-ci.ts").join("\n")).toMatch(/Property 'shipshapeDeploy' does not exist/);
  });

  it("the README's composing example typechecks against both modules", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /From another module[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block, "the README's ts example").toBeDefined();
    expect(block).toMatch(/dag\s*\.shipshapeDeploy\(/);
    const errors = compileAgainst(standInClient(both), {
      "readme.ts": [
        'import { dag, type Directory, type Secret } from "./index.js";',
        "declare const source: Directory;",
        "declare const token: Secret, key: Secret, password: Secret, publicKey: Secret, webIdentityToken: Secret;",
        "declare const roleArn: string;",
        "export async function example(): Promise<void> {",
        block!,
        "  void junit;",
        "}",
        "",
      ].join("\n"),
    });
    expect(errors("readme.ts")).toEqual([]);
  });
});
