/**
 * Every report object survives the engine's round trip: the SDK's loadResult serializes a returned
 * object as the JSON of all its own properties, and the next call rebuilds it with Object.create +
 * Object.assign, without its constructor (module/entrypoint/load.js, module/executor.js). Each
 * method is called through the SDK's own invoke on the rebuilt object and must answer what it
 * answers on the original.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeployReport } from "../../deploy/lib/deploy/deploy.js";
import { deploymentOf } from "../../deploy/lib/gates/deployment-of.js";
import { make } from "../../deploy/src/report/fields.js";
import { ciReportOf, gateReportOf } from "../../src/report/gate-report.js";
import { Release, ReleasePlatform } from "../../src/report/release.js";
import { releaseVersionOf } from "../../lib/calls/history.js";
import { DEPLOY_SETTING_KEYS } from "../../deploy/src/deploy-settings.js";
import { healthReportOf } from "../../deploy/src/report/health-report.js";
import { CI_MODULE, DEPLOY_MODULE, moduleFiles, scanModule, type ModuleRef, type ScannedModule } from "../harness/scan.js";
import { StubEngine } from "../harness/stub-engine.js";

const SDK = import.meta.resolve("@dagger.io/dagger");
type Invoke = (executor: unknown, module: unknown, ctx: object) => Promise<unknown>;
type LoadResult = (result: unknown, module: unknown, object: unknown) => Promise<unknown>;

/** Each module as its runtime holds it: the scan and an executor over its own src/ files. */
interface Loaded {
  mod: ScannedModule;
  executor: unknown;
}
const modules: Partial<Record<"ci" | "deploy", Loaded>> = {};
let engine: StubEngine;
let invoke: Invoke;
let loadResult: LoadResult;
beforeAll(async () => {
  engine = await new StubEngine().install();
  invoke = ((await import(new URL("./module/entrypoint/invoke.js", SDK).href)) as { invoke: Invoke }).invoke;
  loadResult = ((await import(new URL("./module/entrypoint/load.js", SDK).href)) as { loadResult: LoadResult }).loadResult;
  const { Executor } = (await import(new URL("./module/executor.js", SDK).href)) as { Executor: new (m: unknown[], d: unknown) => unknown };
  const load = async (ref: ModuleRef): Promise<Loaded> => {
    const mod = await scanModule(ref);
    const files = await Promise.all(moduleFiles(ref.src).map((f) => import(/* @vite-ignore */ f) as Promise<unknown>));
    return { mod, executor: new Executor(files, mod) };
  };
  [modules.ci, modules.deploy] = await Promise.all([load(CI_MODULE), load(DEPLOY_MODULE)]);
}, 120_000);
afterAll(() => engine.uninstall());

const outcome = { gate: "lint", status: "failed" as const, durationMs: 1234.6, summary: "2 errors", cause: "ESLint found 2 errors" };
const failed = gateReportOf(
  { ...outcome, hint: "run eslint --fix", metrics: { errors: 2 }, findings: ["src/a.ts:1 no-undef x"], log: "tail" },
  dag.directory().withNewFile("lint.sarif", "{}"),
);
const sbom = dag.directory().withNewFile("sbom.cdx.json", "{}").file("sbom.cdx.json");
const report: DeployReport = {
  environment: "prod",
  image: `r/app@sha256:${"a".repeat(64)}`,
  result: "paused",
  reason: "waiting at the canary gate",
  taskDefinitionArn: "arn:td:2",
  previousTaskDefinitionArn: "arn:td:1",
  serviceDeploymentArn: "arn:sd",
  timeline: [{ at: "2026-01-01T00:00:00Z", message: "started" }],
  strategy: "canary",
  decisions: [
    {
      at: "2026-01-01T00:01:00Z",
      gate: "analysis",
      stage: "POST_TEST_TRAFFIC_SHIFT",
      step: 1,
      verdict: "passed",
      reason: "ok",
      values: [{ name: "error-rate", value: null }],
    },
  ],
};

/** Each report object, built as the functions build it, with the module that returns it. */
const EXAMPLES: Record<string, ["ci" | "deploy", () => object]> = {
  GateReport: ["ci", () => failed],
  CiReport: ["ci", () => ciReportOf([failed])],
  ReleaseVersion: [
    "ci",
    () =>
      releaseVersionOf({
        next: { current: "1.0.0", next: { version: "1.1.0", gitTag: "v1.1.0", imageTags: ["1.1.0"] }, bump: "minor", reasons: ["feat: x"] },
        changelog: "## 1.1.0",
      } as Parameters<typeof releaseVersionOf>[0]),
  ],
  Release: [
    "ci",
    () =>
      make(Release, {
        ref: `r/app@sha256:${"b".repeat(64)}`,
        tags: ["1.1.0"],
        platforms: [make(ReleasePlatform, { platform: "linux/arm64", ref: `r/app@sha256:${"c".repeat(64)}`, sbom })],
        gates: [failed],
        files: dag.directory().withDirectory("lint", failed.files),
        provenance: "{}\n",
      }),
  ],
  Deployment: [
    "deploy",
    () => deploymentOf(report, { auditJsonl: "{}\n", auditStorage: "jsonl", warnings: [], notifications: ["slack: delivered"] }),
  ],
  HealthReport: [
    "deploy",
    () =>
      healthReportOf(
        { ...outcome, gate: "monitor", hint: "see the smoke check", metrics: {}, findings: ["https://api/health: 503"], log: "tail" },
        dag.directory().withNewFile("monitor.json", "{}"),
      ),
  ],
};
const ROOTS: Record<string, string> = { ci: "Shipshape", deploy: "ShipshapeDeploy" };

/** What a method answered, comparable: a Directory by its entries, anything else as is. */
async function comparable(v: unknown): Promise<unknown> {
  const resolved = await v;
  // The v0.21.8 schema has node(id:), not loadDirectoryFromID: an ID string goes in as an argument.
  if (typeof resolved === "string" && /^Directory[#@]/.test(resolved))
    return dag
      .directory()
      .withDirectory("/", resolved as unknown as Directory)
      .glob("**");
  if (resolved && typeof resolved === "object" && "glob" in resolved)
    return (resolved as { glob(p: string): Promise<string[]> }).glob("**");
  return resolved;
}

describe("report objects through the engine's JSON round trip", () => {
  it("every property of a report object is an exposed field; only the chained settings are private", () => {
    const hidden = (o: ScannedModule["objects"][string]) =>
      Object.values(o.properties)
        .filter((p) => !(p as { isExposed?: boolean }).isExposed)
        .map((p) => p.name);
    const ci = modules.ci!.mod;
    const dep = modules.deploy!.mod;
    const chained = new Set(["Shipshape", "ShipshapeDeploy", "Environment"]);
    for (const o of [...Object.values(ci.objects), ...Object.values(dep.objects)].filter((o) => !chained.has(o.name)))
      expect(hidden(o), o.name).toEqual([]);
    // The settings deploy-settings.ts lists, and the Environment's source and config path: nothing else rides along.
    const settings = [...DEPLOY_SETTING_KEYS];
    const signer = ["cosignKey", "cosignPassword", "sigstoreIdToken", "sigstoreIdTokenRequestUrl", "sigstoreIdTokenRequestToken"];
    const notifications = [
      "slackWebhook",
      "slackFailuresWebhook",
      "webhookUrl",
      "webhookSecret",
      "teamsWebhook",
      "pagerdutyRoutingKey",
      "smtpPassword",
    ];
    expect(hidden(ci.objects.Shipshape!).sort()).toEqual(
      [...settings.filter((k) => !notifications.includes(k) && k !== "approver"), ...signer].sort(),
    );
    expect(hidden(dep.objects.ShipshapeDeploy!).sort()).toEqual([...settings].sort());
    expect(hidden(dep.objects.Environment!).sort()).toEqual([...settings, "source", "configPath"].sort());
  });

  it("covers every object that has methods", () => {
    // Each module's root and the Environment are the chained objects; test/gates/chained-state.e2e.test.ts rounds them through calls.
    for (const [key, loaded] of Object.entries(modules)) {
      const withMethods = Object.values(loaded.mod.objects).filter(
        (o) => ![ROOTS[key], "Environment"].includes(o.name) && Object.keys(o.methods).length > 0,
      );
      const examples = Object.entries(EXAMPLES).filter(([, [m]]) => m === key);
      expect(withMethods.map((o) => o.name).sort(), key).toEqual(examples.map(([n]) => n).sort());
    }
  });

  for (const [name, [module, example]] of Object.entries(EXAMPLES)) {
    it(`${name}: serialized, rebuilt without its constructor, each method answers as before`, async () => {
      const { mod, executor } = modules[module]!;
      const original = example() as Record<string, (...a: unknown[]) => unknown>;
      const state = JSON.parse(JSON.stringify(await loadResult(original, mod, mod.objects[name]))) as Record<string, unknown>;
      expect(Object.keys(state).sort()).toEqual(Object.keys(original).sort());
      for (const fn of Object.keys(mod.objects[name]!.methods)) {
        // A method that throws (sync on a failed report) must throw the same on the rebuilt object.
        const answer = async (f: () => unknown) => {
          try {
            return { value: await comparable(f()) };
          } catch (e) {
            return { error: e instanceof Error ? e.message : String(e) };
          }
        };
        const rebuilt = await answer(() => invoke(executor, mod, { parentName: name, fnName: fn, parentArgs: state, fnArgs: {} }));
        const expected = await answer(() => original[fn]!());
        expect(rebuilt, `${name}.${fn}`).toEqual(expected);
      }
    });
  }
});
