/**
 * The README's first command is the main job on the user's project (issue #10, breakage 1): it must
 * install Shipshape in the caller's workspace, so the contextual source is the caller's project, and
 * call a function that exists. A remote `-m <git ref>` call would resolve the context inside
 * Shipshape's own repository (core/modulesource.go), which the harness models as `{ remote }`.
 *
 * Shipshape is two modules: `shipshape` (CI and the supply chain, the root) and `shipshape-deploy`
 * (deploy/). Every `dagger call` of the README is walked against the module it names, as the SDK's
 * own scanner registers that module, so a call to a function only the other module has (e.g.
 * `dagger call shipshape environment`, as before the split) is an error here; the function
 * reference's two tables list exactly each module's functions.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Directory } from "@dagger.io/dagger";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ShipshapeDeploy } from "../../deploy/src/index.js";
import type { Shipshape } from "../../src/index.js";
import { drive, type Driven } from "../helpers/drive.js";
import { fromId, ModuleHarness, type Install } from "../harness/invoke.js";
import { CI_MODULE, DEPLOY_MODULE, type ModuleRef } from "../harness/scan.js";
import {
  callProblems,
  callsOf,
  daggerJson,
  moduleOfRef,
  parseCall,
  scanned,
  type Call,
  type Workflow,
} from "../generate/workflow-checks.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The shell blocks under "Quick start", in order. */
function quickStart(): string[] {
  const quick = README.slice(README.indexOf("## Quick start"), README.indexOf("\n## ", README.indexOf("## Quick start") + 1));
  return [...quick.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}
/** The first shell block under "Quick start". */
const firstCommand = (): string => quickStart()[0]!;

/** How the command makes the engine load the module: installed in the workspace, or remote. */
function installOf(command: string, caller: string): Install {
  if (/\bdagger\s+(-m|--mod)\s+\S+/.test(command) && !/--source=/.test(command)) return { remote: REPO };
  if (/\bdagger (mod|toolchain) install\b/.test(command)) return { workspace: caller };
  throw new Error(`cannot tell how "${command}" loads the module`);
}

/** One `dagger call` line of a shell block (continuations joined) as a Call, shell redirections and comments dropped. */
function shellCall(line: string): Call | undefined {
  const m = /\bdagger\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?call\s+(.+)$/.exec(line);
  if (!m) return undefined;
  const words = m[2]!
    .replace(/"[^"]*"/g, "X")
    .replace(/\s#.*$/, "")
    .replace(/\s(>>?|\||&&|;)\s.*$/, "")
    .trim();
  return parseCall("README.md", ".", m[1] ? `-m ${m[1]} ${words}` : words);
}

/** Every `dagger call` of the README: its sh blocks' lines and its workflow examples' steps. */
function readmeCalls(): Call[] {
  const sh = [...README.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.replace(/\\\n\s*/g, " ").split("\n"))
    .flatMap((l) => shellCall(l) ?? []);
  // Only the workflow examples: the configuration blocks carry comments a YAML parser need not accept.
  const workflows = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .filter((m) => /^jobs:/m.test(m[1]!))
    .map((m) => parse(m[1]!) as unknown)
    .filter((d): d is Workflow => typeof d === "object" && d !== null && "jobs" in d)
    .flatMap((wf) => callsOf("README.md", wf));
  return [...sh, ...workflows];
}

const calls = readmeCalls();
const named = (module: string) => daggerJson(module).name;
const label = (c: Call) =>
  `${c.module === "." ? "shipshape" : c.module === "deploy" ? "shipshape-deploy" : `-m ${c.module}`} ${c.steps.map((s) => s.fn).join(" ")}`;

let d: Driven | undefined;
afterEach(() => d?.engine.uninstall());

describe("README quick start", () => {
  it("installs Shipshape in the workspace and calls a real function", async () => {
    const cmd = firstCommand();
    expect(cmd).toMatch(/^dagger mod install github\.com\/\S+\/shipshape@\S+ && dagger call shipshape ci$/);
    const mod = await scanned(".");
    expect(Object.keys(mod.objects.Shipshape!.methods)).toContain("ci");
  });

  it("installs the deploy module from the same repository's deploy/ and calls it by its name", async () => {
    const deploy = quickStart()[1]!;
    const [install, ...rest] = deploy.replace(/\\\n\s*/g, " ").split("\n");
    const ref = /^dagger mod install (github\.com\/\S+\/shipshape\/deploy)@\S+$/.exec(install!)?.[1];
    expect(ref, install).toBeDefined();
    // The subpath is the deploy module's directory here, and its dagger.json names it shipshape-deploy.
    expect(moduleOfRef(ref!)).toBe("deploy");
    expect(named("deploy")).toBe(DEPLOY_MODULE.name);
    // Same owner as the CI module's install.
    expect(ref!.replace(/\/deploy$/, "")).toBe(/github\.com\/\S+\/shipshape(?=@)/.exec(firstCommand())![0]);
    const call = shellCall(rest.join(" "))!;
    expect(call.module).toBe("deploy");
    expect(call.steps.map((s) => s.fn)).toEqual(["with-aws", "environment", "deploy"]);
    expect(await callProblems(call)).toEqual([]);
  });

  it("resolves the source to the caller's project for both modules, where a remote -m call would not", async () => {
    d = await drive();
    const sourceName = async (install: Install, module: ModuleRef) => {
      const root = await new ModuleHarness(install, d!.engine, module).root<Shipshape | ShipshapeDeploy>();
      const dir = await fromId(Directory, "Directory", root.json.source);
      return (JSON.parse(await dir.file("package.json").contents()) as { name: string }).name;
    };
    const caller = (JSON.parse(readFileSync(`${d.root}/package.json`, "utf8")) as { name: string }).name;
    expect(await sourceName(installOf(firstCommand(), d.root), CI_MODULE)).toBe(caller);
    expect(await sourceName(installOf(quickStart()[1]!, d.root), DEPLOY_MODULE)).toBe(caller);
    expect(await sourceName(installOf("dagger -m github.com/acme/shipshape call ci", d.root), CI_MODULE)).toBe("shipshape");
    expect(await sourceName(installOf("dagger -m github.com/acme/shipshape/deploy call environment", d.root), DEPLOY_MODULE)).toBe(
      "shipshape",
    );
  });
});

const problems = new Map<Call, string[]>();
beforeAll(async () => {
  for (const c of calls) problems.set(c, await callProblems(c));
}, 180_000);

describe("README examples", () => {
  it("show both modules' chained API: settings set once, environments, reports", () => {
    const text = (module: string) =>
      calls
        .filter((c) => c.module === module)
        .map((c) => c.steps.map((s) => [s.fn, ...s.flags.map((f) => `--${f}`)].join(" ")).join(" "))
        .join("\n");
    for (const step of ["with-aws", "with-registry", "with-signer", "with-verifier", "with-audit-trail", "with-run", "release", "ci"])
      expect(text("."), step).toContain(step);
    for (const step of [
      "with-aws",
      "with-verifier",
      "with-audit-trail",
      "with-notifications",
      "with-run",
      "environment --name",
      "deploy",
      "monitor",
      "rescan",
      "metrics",
    ])
      expect(text("deploy"), step).toContain(step);
    expect(calls.length).toBeGreaterThan(25);
    // Every README call names its module: `shipshape …`, `shipshape-deploy …` or `-m …`, never the workspace's default.
    expect(calls.filter((c) => !c.named).map(label)).toEqual([]);
    expect(new Set(calls.map((c) => c.module))).toEqual(new Set([".", "deploy"]));
  });

  it.each(calls.map((c) => [label(c), c] as const))("dagger call %s … is a real chain", (_label, call) => {
    expect(problems.get(call)).toEqual([]);
  });

  it.each([
    ["dagger call shipshape environment --name=staging status", "Shipshape has no function environment"],
    ["dagger call shipshape with-audit-trail --database-url=env://U metrics --environment=production", "Shipshape has no function metrics"],
    ["dagger call shipshape with-notifications --slack-webhook=env://S ci", "Shipshape has no function with-notifications"],
    ["dagger call shipshape-deploy lint", "ShipshapeDeploy has no function lint"],
    [
      "dagger call shipshape-deploy with-signer --key=env://K environment --name=a deploy --image=r@sha256:0",
      "ShipshapeDeploy has no function with-signer",
    ],
    ["dagger call -m ./deploy release", "ShipshapeDeploy has no function release"],
    ["dagger -m github.com/acme/shipshape/deploy call ci", "ShipshapeDeploy has no function ci"],
    ["dagger call shipshape-deploy environment --name=production monitor --repository=acme/api", "monitor needs --github-token"],
    [
      "dagger call shipshape-deploy environment --name=production monitor --github-token=env://T --repository=a/b gate",
      "HealthReport has no function gate",
    ],
  ])("the check refuses %s", async (line, problem) => {
    expect(await callProblems(shellCall(line)!)).toEqual([problem]);
  });

  it("the check needs the module named: a bare call is the workspace's own module", () => {
    expect(shellCall("dagger call environment --name=staging status")!.named).toBe(false);
    expect(shellCall("dagger call shipshape-deploy environment --name=staging status")).toMatchObject({ module: "deploy", named: true });
  });
});

describe("README function reference", () => {
  /**
   * The functions a table under a heading lists, from each row's first cell: `with-aws`, `lint`;
   * `environment … deploy` is Environment.deploy, and so are the verbs after it in the same cell
   * (`environment … promote`, `abort`).
   */
  function tableUnder(heading: string): Set<string> {
    const at = README.indexOf(heading);
    expect(at, heading).toBeGreaterThan(-1);
    const rows = README.slice(at, README.indexOf("\n#", at + heading.length))
      .split("\n")
      .filter((l) => l.startsWith("| `"));
    expect(rows.length).toBeGreaterThan(0);
    const out = new Set<string>();
    for (const row of rows) {
      let environment = false;
      for (const name of [...row.split("|")[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)) {
        const verb = /^environment … (\S+)$/.exec(name);
        environment ||= verb !== null;
        out.add(environment ? `Environment.${verb?.[1] ?? name}` : name);
      }
    }
    return out;
  }
  const api = async (module: string, objects: string[]) => {
    const mod = await scanned(module);
    return new Set(objects.flatMap((o, i) => Object.keys(mod.objects[o]!.methods).map((m) => (i === 0 ? kebab(m) : `${o}.${kebab(m)}`))));
  };

  it("the shipshape table lists exactly the CI module's functions", async () => {
    expect(tableUnder("### `shipshape`: CI")).toEqual(await api(".", ["Shipshape"]));
  });

  it("the shipshape-deploy table lists exactly the deploy module's functions and its Environment's verbs", async () => {
    expect(tableUnder("### `shipshape-deploy`: deploys")).toEqual(await api("deploy", ["ShipshapeDeploy", "Environment"]));
  });
});
