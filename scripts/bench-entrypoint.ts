/**
 * Benchmark, not a test: the entrypoint time of one function call, per case, as a ratio to a trivial
 * module's (issues 10 and 12; target: a gate call at most 1.3x the trivial module).
 *
 * The v0.21.8 TypeScript runtime starts a fresh process per call (`tsx --no-deprecation --tsconfig
 * <tsconfig> src/__dagger.entrypoint.ts`). That file lists every .ts/.mts file under src/ plus
 * sdk/client.gen.ts and calls `entrypoint(files)` (dist/src/module/entrypoint/entrypoint.js), which for an
 * invocation runs `scan(files, moduleName)` (loadModule=true: imports every file, then type-checks them
 * all with the compiler API), then `load(files)` again (cached), then `invoke`. Each sample here is one
 * fresh `tsx` process per call doing the same steps with the SDK's own scan and load.
 * Included: node + tsx start, the SDK import, importing every module file (and so their dependencies:
 *   AWS SDK, pg, ...) and the scan's type-check, which parses every imported package's .d.ts.
 * Not included: the engine round-trips (session, currentFunctionCall, args, returnValue), invoke and the
 *   method itself, the container start. The SDK comes from node_modules rather than the runtime's
 *   bundled sdk/, and sdk/client.gen.ts is stood in for by the SDK's client.gen.d.ts copied to a
 *   *client.gen.ts (see /work/shared/notes; imported and scanned like the real one), and the engine runs
 *   Node 24 in a container. Absolute times differ from an engine's; compare the ratios.
 * Parts: `import` is the load of every file (scan's first step, timed on its own by loading first),
 * `scan` is the rest of scan() (the type-check and typedefs), `boot` is node + tsx, `sdk` the SDK import
 * (which loads the TypeScript compiler too: the SDK's index pulls in the introspector), and `invoke`
 * the import of the implementation the called function loads first (the root module's functions load
 * theirs from lib/calls/ by src/calls.ts; counted here so moving code out of src/ cannot hide its cost).
 *
 *   npx tsx scripts/bench-entrypoint.ts [--samples 3]
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";

/** One row per call measured, the trivial baseline first; `module` is the name the engine passes (its dagger.json's). */
const CASES = [
  { name: "trivial", src: "scripts/bench-entrypoint/trivial/src", module: "trivial", fn: "hello" },
  // lint's method imports its implementation (lib/calls/gates.ts, then lib/gates/lint.ts) when called:
  // timed as `invoke`, by the module's own loaders.
  { name: "gate", src: "src", module: "shipshape", fn: "lint", calls: "gates", gate: "lint", target: 1.3 },
  // Environment.deploy imports deploy/lib/calls/environment.ts (the deploy code and the AWS SDK) when called.
  { name: "deploy", src: "deploy/src", module: "shipshape-deploy", fn: "deploy", object: "Environment", calls: "environment" },
];
type Case = (typeof CASES)[number];
const PARTS = ["entrypoint", "boot", "sdk", "import", "scan", "invoke"] as const;
type Sample = Record<(typeof PARTS)[number], number>;

const ROOT = path.resolve(import.meta.dirname, "..");
const SDK = import.meta.resolve("@dagger.io/dagger");
const TSX = path.join(ROOT, "node_modules/.bin/tsx"); // run with TSX_DISABLE_CACHE: a fresh container has no tsx cache in /tmp
const TSCONFIG = path.join(ROOT, "tsconfig.json"); // tsx's, for every case (transpile settings only; no typecheck)
const { values: args } = parseArgs({ options: { samples: { type: "string", default: "3" }, child: { type: "string" } } });

/** What the generated __dagger.entrypoint.ts lists: every .ts/.mts file under src/, recursively. */
function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : [".ts", ".mts"].includes(path.extname(p)) ? [p] : [];
  });
}

/** Child: one call's entrypoint work, timed by part; prints a Sample (without `entrypoint`) as JSON. */
async function child(c: Case, gen: string): Promise<void> {
  const boot = performance.now(); // since this process started: node, tsx and this script
  await import(SDK); // the entrypoint's `import { entrypoint } from "@dagger.io/dagger"`
  const sdk = performance.now() - boot;
  type Scan = (files: string[], moduleName: string) => Promise<{ name: string; objects: Record<string, { methods: object }> }>;
  const { scan } = (await import(new URL("./module/introspector/index.js", SDK).href)) as { scan: Scan };
  const { load } = (await import(new URL("./module/entrypoint/load.js", SDK).href)) as { load: (f: string[]) => Promise<unknown> };
  const files = [gen, ...tsFiles(path.resolve(ROOT, c.src))];
  const t1 = performance.now();
  await load(files); // scan's own first step; doing it here splits import from type-check
  const t2 = performance.now();
  const mod = await scan(files, c.module); // re-imports (cached), then the type-check and typedefs
  const t3 = performance.now();
  await load(files); // the entrypoint's load before invoke (cached)
  // invoke's lookup; fail loudly if the case names a function the module doesn't have
  const object = ("object" in c && c.object) || mod.name;
  if (!(c.fn in (mod.objects[object]?.methods ?? {}))) throw new Error(`${object} has no function ${c.fn}`);
  // What the method loads before it does anything (src/calls.ts), through the module's own loader.
  const t4 = performance.now();
  if ("calls" in c && c.calls) {
    const { calls } = (await import(path.join(ROOT, c.src, "calls.ts"))) as { calls: (name: string) => Promise<unknown> };
    await calls(c.calls);
    if ("gate" in c && c.gate) {
      const gates = (await import(path.join(ROOT, "lib/calls/gates.ts"))) as { loadGate: (name: string) => Promise<unknown> };
      await gates.loadGate(c.gate);
    }
  }
  const invoke = performance.now() - t4;
  process.stdout.write(JSON.stringify({ boot, sdk, import: t2 - t1, scan: t3 - t2, invoke }));
  process.exit(0); // as the runtime does once the value is returned; no open handle may keep us alive
}

/**
 * The runtime reads client.gen.ts from sdk/; the notes' stand-in is the SDK's .d.ts under a *client.gen.ts
 * name. It sits beside a link to the SDK's common/ so its `../common/context.js` import resolves as the
 * real file's imports do (an unresolved import would make the type-check cheaper than the engine's).
 */
function prepareClientGen(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-entrypoint-"));
  fs.mkdirSync(path.join(dir, "api"));
  fs.symlinkSync(new URL("./common", SDK).pathname, path.join(dir, "common"));
  const gen = path.join(dir, "api", "bench.client.gen.ts");
  fs.copyFileSync(new URL("./api/client.gen.d.ts", SDK), gen);
  return gen;
}

function sample(c: Case, gen: string): Sample {
  const argv = ["--no-deprecation", "--tsconfig", TSCONFIG, import.meta.filename, "--child", JSON.stringify({ c, gen })];
  const start = performance.now();
  const r = spawnSync(TSX, argv, { cwd: ROOT, encoding: "utf8", env: { ...process.env, TSX_DISABLE_CACHE: "1" } });
  const entrypoint = performance.now() - start;
  if (r.status !== 0) throw new Error(`${c.name}: child exited ${r.status}\n${r.stderr}`);
  return { entrypoint, ...(JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as Omit<Sample, "entrypoint">) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return ((s[Math.floor((s.length - 1) / 2)] ?? NaN) + (s[Math.ceil((s.length - 1) / 2)] ?? NaN)) / 2;
};

if (args.child) {
  const { c, gen } = JSON.parse(args.child) as { c: Case; gen: string };
  await child(c, gen);
} else {
  const n = Number(args.samples);
  const gen = prepareClientGen();
  const samples: Sample[][] = CASES.map(() => []);
  try {
    // Rounds interleave the cases, so drift on a busy machine (thermal, other jobs) hits them alike.
    for (let i = 0; i < n; i++) CASES.forEach((c, j) => samples[j]?.push(sample(c, gen)));
  } finally {
    fs.rmSync(path.dirname(path.dirname(gen)), { recursive: true, force: true });
  }
  const of = (j: number, part: (typeof PARTS)[number]) => samples[j]?.map((s) => s[part]) ?? [];
  console.log(
    `${n} samples per case, ${os.cpus().length} cores, node ${process.version}; median (min); ratio to trivial of medians (of mins: steadier on a busy machine)`,
  );
  for (const part of PARTS) {
    CASES.forEach((c, j) => {
      const [med, min] = [median(of(j, part)), Math.min(...of(j, part))];
      const ratio =
        j === 0 || median(of(0, part)) < 1
          ? ""
          : ` ratio ${(med / median(of(0, part))).toFixed(2)} (of mins ${(min / Math.min(...of(0, part))).toFixed(2)})`;
      console.log(`${part} ${c.name} ${med.toFixed(0)} ms (min ${min.toFixed(0)} ms)${ratio}`);
    });
  }
  // What each call's scan parses besides the SDK: the module's own files and the packages they import.
  // Imported here, not at the top: the child runs this file too, and must not load TypeScript for it.
  const { importClosure } = await import("../test/harness/closure.js");
  for (const c of CASES) {
    const entry = tsFiles(path.resolve(ROOT, c.src));
    const said = (what: string, files: Set<string>, pkgs: Set<string>) => {
      const kb = [...files].reduce((n, f) => n + fs.statSync(f).size, 0) / 1024;
      const packages = [...pkgs].filter((p) => p !== "@dagger.io/dagger").sort();
      console.log(`${what} ${c.name} ${files.size} files (${kb.toFixed(0)} KB), packages: ${packages.join(" ") || "none"}`);
    };
    const loaded = importClosure(entry);
    said("loads", loaded.files, loaded.packages);
    if ("calls" in c && c.calls) {
      // What the call's implementation adds when the method runs: imported, not type-checked. An upper
      // bound: the closure follows every literal import(), and lib/calls/gates.ts imports each gate when it runs.
      const impl = importClosure([path.join(ROOT, c.src, `../lib/calls/${c.calls}.ts`)]);
      const extra = new Set([...impl.files].filter((f) => !loaded.files.has(f)));
      said(`invoke-loads (at most${c.name === "gate" ? ": every core gate counted" : ""})`, extra, impl.packages);
    }
  }
  CASES.forEach((c, j) => {
    const ratio = median(of(j, "entrypoint")) / median(of(0, "entrypoint"));
    if (c.target) console.log(`target ${c.name} <= ${c.target}x trivial: ${ratio <= c.target ? "met" : "NOT met"} (${ratio.toFixed(2)}x)`);
  });
}
