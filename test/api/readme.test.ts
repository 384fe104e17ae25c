/**
 * The README's first command is the main job on the user's project (issue #10, breakage 1): it must
 * install Shipshape in the caller's workspace, so the contextual source is the caller's project, and
 * call a function that exists. A remote `-m <git ref>` call would resolve the context inside
 * Shipshape's own repository (core/modulesource.go), which the harness models as `{ remote }`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Directory } from "@dagger.io/dagger";
import { afterEach, describe, expect, it } from "vitest";
import type { Shipshape } from "../../src/index.js";
import { drive, type Driven } from "../helpers/drive.js";
import { fromId, ModuleHarness, type Install } from "../harness/invoke.js";
import { scanModule } from "../harness/scan.js";
import { chainProblems, chainSteps } from "../generate/workflow-checks.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The first shell block under "Quick start". */
function firstCommand(): string {
  const quick = README.slice(README.indexOf("## Quick start"));
  return /```sh\n([\s\S]*?)```/.exec(quick)![1]!.trim();
}

/** How the command makes the engine load the module: installed in the workspace, or remote. */
function installOf(command: string, caller: string): Install {
  if (/\bdagger\s+(-m|--mod)\s+\S+/.test(command) && !/--source=/.test(command)) return { remote: REPO };
  if (/\bdagger (mod|toolchain) install\b/.test(command)) return { workspace: caller };
  throw new Error(`cannot tell how "${command}" loads the module`);
}

let d: Driven | undefined;
afterEach(() => d?.engine.uninstall());

describe("README quick start", () => {
  it("installs Shipshape in the workspace and calls a real function", async () => {
    const cmd = firstCommand();
    expect(cmd).toMatch(/^dagger mod install github\.com\/\S+\/shipshape@\S+ && dagger call shipshape ci$/);
    const mod = await scanModule();
    expect(Object.keys(mod.objects.Shipshape!.methods)).toContain("ci");
  });

  it("resolves the source to the caller's project, where a remote -m call would not", async () => {
    d = await drive();
    const sourceName = async (install: Install) => {
      const root = await new ModuleHarness(install).root<Shipshape>();
      const dir = await fromId(Directory, "Directory", root.json.source);
      return (JSON.parse(await dir.file("package.json").contents()) as { name: string }).name;
    };
    const caller = (JSON.parse(readFileSync(`${d.root}/package.json`, "utf8")) as { name: string }).name;
    expect(await sourceName(installOf(firstCommand(), d.root))).toBe(caller);
    expect(await sourceName(installOf("dagger -m github.com/acme/shipshape call ci", d.root))).toBe("shipshape");
  });
});

/** Every `dagger call shipshape ...` of the README's sh blocks, continuations joined, walked as chains. */
function readmeCalls(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.replace(/\\\n\s*/g, " ").split("\n"))
    .flatMap((l) => /\bdagger call shipshape (.+)$/.exec(l)?.[1] ?? []);
}

// One scan for every example: the scanner type-checks src/, seconds each time.
let scanned: ReturnType<typeof scanModule> | undefined;

describe("README examples", () => {
  it("shows the chained API: settings set once, environments, gate reports", () => {
    const calls = readmeCalls().join("\n");
    for (const step of ["with-aws", "with-registry", "with-signer", "with-verifier", "with-audit-trail", "with-run", "environment --name="])
      expect(calls).toContain(step);
    expect(readmeCalls().length).toBeGreaterThan(25);
  });

  it.each(readmeCalls().map((l) => [l.split(" ").find((w) => !w.startsWith("--"))!, l] as const))(
    "dagger call shipshape %s … is a real chain",
    async (_fn, line) => {
      const mod = await (scanned ??= scanModule());
      const words = line
        .replace(/"[^"]*"/g, "X")
        .replace(/#.*$/, "")
        .trim()
        .split(/\s+/);
      // Constructor flags (--source, --config-path) come before the first function.
      const steps = chainSteps(words.slice(words.findIndex((w) => !w.startsWith("--"))));
      expect(chainProblems(mod, "Shipshape", steps)).toEqual([]);
    },
  );
});
