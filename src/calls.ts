/**
 * What each function of the root object does lives in lib/calls/, loaded by the call that needs it.
 *
 * Why: the v0.21.8 TypeScript runtime imports and type-checks every file under a module's src/ on
 * every call (its generated entrypoint lists them all, and scan() builds one program from them), so
 * whatever src/ reaches statically is paid by a `dagger call lint` too. src/ holds the API alone
 * (the objects, their docs and argument types, the chained settings); a function imports its
 * implementation by a computed specifier, which neither the runtime's scan nor tsc follows from here.
 * tsc checks each implementation against these interfaces instead: every lib/calls file declares
 * `export const calls: <Interface>`, so a signature that drifts fails `npm run typecheck`.
 */
import type { Changeset, Container, Directory, File, Secret } from "@dagger.io/dagger";
import type { Shipshape } from "./index.js";
import type { CiReport, GateReport } from "./report/gate-report.js";
import type { Release } from "./report/release.js";
import type { ReleaseVersion } from "./report/release-version.js";

/** The gates `ci` always runs, each also its own function. */
export type CoreGate = "lint" | "typecheck" | "test" | "audit";

/** lib/calls/gates.ts: the core gates, ci and the pull-request comment. */
export interface GateCalls {
  gate(s: Shipshape, name: CoreGate): Promise<GateReport>;
  ci(s: Shipshape): Promise<CiReport>;
  prComment(s: Shipshape, repository: string, pullNumber: number, githubToken: Secret): Promise<string>;
}

/** lib/calls/image.ts: the built image and what is judged from it. */
export interface ImageCalls {
  build(s: Shipshape, platform: string): Promise<Container>;
  dockerfile(s: Shipshape): Promise<File>;
  scanImage(s: Shipshape, platform: string): Promise<GateReport>;
  scanDependencies(s: Shipshape): Promise<GateReport>;
  sbom(s: Shipshape, platform: string): Promise<File>;
  licenseCheck(s: Shipshape, platform: string): Promise<GateReport>;
}

/** lib/calls/checks.ts: scans of the source and of a live page. */
export interface CheckCalls {
  secretScan(s: Shipshape, gitDir: Directory): Promise<GateReport>;
  sast(s: Shipshape): Promise<GateReport>;
  lighthouse(s: Shipshape, url: string, environment: string): Promise<GateReport>;
}

/** lib/calls/history.ts: what is judged from git history. */
export interface HistoryCalls {
  commits(s: Shipshape, gitDir: Directory, base: string, head: string): Promise<GateReport>;
  version(s: Shipshape, gitDir: Directory): Promise<ReleaseVersion>;
  migrations(s: Shipshape, gitDir: Directory, base: string, approveDestructive: boolean): Promise<GateReport>;
}

/** lib/calls/release.ts: publish, sign, verify, and the release that does all three after its gates. */
export interface ReleaseCalls {
  publish(s: Shipshape, gitDir: Directory, registry: string, repository: string): Promise<string>;
  sign(s: Shipshape, ref: string): Promise<string>;
  verify(s: Shipshape, ref: string, provenance: boolean, builderId: string): Promise<string>;
  release(s: Shipshape, gitDir: Directory, registry: string, repository: string, builderId: string): Promise<Release>;
}

/** lib/calls/generate.ts: the adoption files. */
export interface GenerateCalls {
  scaffold(s: Shipshape, repo: string, ref: string): Promise<Changeset>;
  init(s: Shipshape, force: boolean, repo: string, ref: string, measureCoverage: boolean): Promise<Directory>;
  initDiff(s: Shipshape, repo: string, ref: string, measureCoverage: boolean): Promise<string>;
}

/** lib/calls/config.ts: the effective configuration. */
export interface ConfigCalls {
  config(s: Shipshape): Promise<string>;
}

export interface Calls {
  gates: GateCalls;
  image: ImageCalls;
  checks: CheckCalls;
  history: HistoryCalls;
  release: ReleaseCalls;
  generate: GenerateCalls;
  config: ConfigCalls;
}

/** Each implementation's file, relative to this one (tsx and vitest map .js to the .ts beside it). */
export const CALL_FILES = {
  gates: "../lib/calls/gates.js",
  image: "../lib/calls/image.js",
  checks: "../lib/calls/checks.js",
  history: "../lib/calls/history.js",
  release: "../lib/calls/release.js",
  generate: "../lib/calls/generate.js",
  config: "../lib/calls/config.js",
} as const satisfies Record<keyof Calls, string>;

/** The implementation of one group of functions, imported on first use (once per process, like any import). */
export async function calls<K extends keyof Calls>(name: K): Promise<Calls[K]> {
  const loaded = (await import(/* @vite-ignore */ CALL_FILES[name])) as { calls: Calls[K] };
  return loaded.calls;
}
