/**
 * Issue 12's cold start: a gate call must not load or type-check the AWS SDK, pg or the deploy code.
 * The v0.21.8 TypeScript runtime imports every .ts file under a module's src/ and its scan builds a
 * TypeScript program over them (sdk/typescript runtime __dagger.entrypoint.ts, introspector scan),
 * so what the CI module's src/ reaches is what every gate call pays for. Each module's runtime also
 * installs only its own package.json's `dependencies` (npm install --omit=dev) and gets only its own
 * directory, so every package either module can import must be listed there. The CI module's src/
 * is its API alone: each function imports its implementation from lib/calls/ when called (src/calls.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { importClosure } from "../harness/closure.js";
import { ignored } from "../harness/ignore.js";
import { DEPLOY_SRC_DIR, moduleFiles, SRC_DIR } from "../harness/scan.js";

const ROOT = join(SRC_DIR, "..");
const DEPLOY_DIR = join(DEPLOY_SRC_DIR, "..");
const deps = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies;
// The SDK is not a dependency: the runtime generates and mounts it (sdk/ and node_modules/@dagger.io/dagger).
const RUNTIME_PROVIDED = new Set(["@dagger.io/dagger"]);
const rel = (f: string) => relative(ROOT, f);

describe("two modules, each loading only what its calls need", () => {
  const ci = importClosure(moduleFiles(SRC_DIR));

  it("a CI module call loads and type-checks neither the AWS SDK, pg, nodemailer nor the deploy code", () => {
    const heavy = [...ci.packages].filter((p) => p.startsWith("@aws-sdk/") || p === "pg" || p === "nodemailer");
    expect(heavy).toEqual([]);
    const deployCode = [
      "deploy/src/environment.ts",
      "deploy/lib/deploy/deploy.ts",
      "deploy/lib/deploy/ecs.ts",
      "deploy/lib/trail/trail.ts",
    ];
    expect([...ci.files].map(rel).filter((f) => deployCode.includes(f))).toEqual([]);
    // Negative control: the deploy module's own files do reach all of them (when its functions run).
    const dep = importClosure(moduleFiles(DEPLOY_SRC_DIR), { lazy: true });
    expect(deployCode.filter((f) => !dep.files.has(join(ROOT, f)))).toEqual([]);
    expect([...dep.packages].filter((p) => p.startsWith("@aws-sdk/")).length).toBeGreaterThan(3);
  });

  it("a CI module call's scan sees the API alone: no package but the SDK, no file of lib/", () => {
    // src/ holds the objects and their docs; what each function does is lib/calls/, loaded when called.
    expect([...ci.packages]).toEqual(["@dagger.io/dagger"]);
    expect([...ci.files].map(rel).filter((f) => f.startsWith("lib/") || f.startsWith("deploy/lib/"))).toEqual([]);
    // Negative control: the same files followed lazily reach the gates, zod and the rest.
    const lazy = importClosure(moduleFiles(SRC_DIR), { lazy: true });
    expect([...lazy.files].map(rel)).toContain("lib/gates/lint.ts");
    expect([...lazy.packages]).toContain("zod");
  });

  it("so does a deploy module call's: its implementations are deploy/lib/calls/, loaded when called", () => {
    const dep = importClosure(moduleFiles(DEPLOY_SRC_DIR));
    expect([...dep.packages]).toEqual(["@dagger.io/dagger"]);
    expect([...dep.files].map(rel).filter((f) => !f.startsWith("deploy/src/"))).toEqual([]);
    expect(dep.computed.map((c) => `${rel(c.file)} -> ${c.specifier}`).sort()).toEqual([
      "deploy/src/calls.ts -> ../lib/calls/environment.js",
      "deploy/src/calls.ts -> ../lib/calls/metrics.js",
    ]);
  });

  it("the CI module reaches its implementations, the SDK and pg only through computed specifiers that resolve", () => {
    const targets = ci.computed.map((c) => ({ from: rel(c.file), to: c.specifier }));
    expect([...new Set(targets.map((t) => t.from))]).toEqual(["src/calls.ts"]);
    expect(targets.map((t) => t.to).sort()).toEqual(
      ["checks", "config", "gates", "generate", "history", "image", "release"].map((n) => `../lib/calls/${n}.js`),
    );
    const lazy = importClosure(moduleFiles(SRC_DIR), { lazy: true });
    expect(
      lazy.computed
        .map((c) => rel(c.file))
        .filter((f) => f !== "src/calls.ts")
        .sort(),
    ).toEqual(["deploy/lib/gates/registry.ts", "lib/trail/ci-wiring.ts"]);
    for (const c of lazy.computed) expect(existsSync(join(c.file, "..", c.specifier.replace(/\.js$/, ".ts"))), c.specifier).toBe(true);
    expect([...lazy.packages].filter((p) => p.startsWith("@aws-sdk/") || p === "pg").sort()).toEqual([
      "@aws-sdk/client-ecr",
      "@aws-sdk/client-sts",
      "pg",
    ]);
  });

  it("every lib/calls file implements its group, and the loader finds each by name", async () => {
    for (const loader of [await import("../../src/calls.js"), await import("../../deploy/src/calls.js")]) {
      for (const name of Object.keys(loader.CALL_FILES)) {
        const impl = await (loader.calls as (n: string) => Promise<Record<string, unknown>>)(name);
        expect(Object.keys(impl).length, name).toBeGreaterThan(0);
        for (const fn of Object.values(impl)) expect(typeof fn, name).toBe("function");
      }
    }
  });

  for (const [name, src, dir] of [
    ["the CI module (package.json)", SRC_DIR, ROOT],
    ["the deploy module (deploy/package.json)", DEPLOY_SRC_DIR, DEPLOY_DIR],
  ] as const) {
    it(`${name} lists every package its code can import, lazily or not, as a runtime dependency`, () => {
      const all = importClosure(moduleFiles(src), { lazy: true });
      const listed = deps(dir);
      expect([...all.packages].filter((p) => !listed[p] && !RUNTIME_PROVIDED.has(p)).sort()).toEqual([]);
      // A module's runtime has only its own directory: nothing it loads may live outside it.
      expect([...all.files].map((f) => relative(dir, f)).filter((f) => f.startsWith(".."))).toEqual([]);
      // ...and only what dagger.json's include keeps of it (lib/ too, which no static import reaches).
      const { include } = JSON.parse(readFileSync(join(dir, "dagger.json"), "utf8")) as { include: string[] };
      expect(include.filter((p) => !p.startsWith("!"))).toEqual([]); // exclusions only: everything else is uploaded
      const excluded = include.map((p) => p.slice(1));
      expect([...all.files].map((f) => relative(dir, f)).filter((f) => ignored(f, excluded))).toEqual([]);
    });
  }

  it("pins each deploy dependency as the root does (the tests run the deploy code on the root's node_modules)", () => {
    const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, string>>;
    const pinned = { ...root.devDependencies, ...root.dependencies };
    const differ = Object.entries(deps(DEPLOY_DIR)).filter(([p, v]) => pinned[p] !== v);
    expect(differ).toEqual([]);
    // The engine installs from the module's lockfile (v0.19.9+): it must match the manifest.
    const lock = JSON.parse(readFileSync(join(DEPLOY_DIR, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dependencies?: Record<string, string>; version?: string }>;
    };
    expect(lock.packages[""]?.dependencies).toEqual(deps(DEPLOY_DIR));
    for (const [p, v] of Object.entries(deps(DEPLOY_DIR))) expect([p, lock.packages[`node_modules/${p}`]?.version]).toEqual([p, v]);
  });
});
