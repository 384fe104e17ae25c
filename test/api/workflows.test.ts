/**
 * The GitHub workflows only wrap `dagger call`: every call they make must name a function the
 * module really has, with flags that are its arguments (kebab-case, as the CLI spells them).
 * A renamed argument would otherwise only show up as a red production deploy.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { scanModule, type ScannedModule } from "../harness/scan.js";

const DIR = join(import.meta.dirname, "../../.github/workflows");
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

interface Step {
  uses?: string;
  run?: string;
  with?: { verb?: string; args?: string; module?: string };
}
type Workflow = { jobs: Record<string, { steps: Step[] }> };

/** Every `dagger call` in the workflows: file, the function, and the flags given to it. */
function calls(): { file: string; fn: string; flags: string[] }[] {
  const out: { file: string; fn: string; flags: string[] }[] = [];
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".yml"))) {
    const wf = parse(readFileSync(join(DIR, file), "utf8")) as Workflow;
    for (const step of Object.values(wf.jobs).flatMap((j) => j.steps)) {
      const lines: string[] = [];
      if (step.uses?.startsWith("dagger/dagger-for-github@") && step.with?.verb === "call" && !step.with.module)
        lines.push(step.with.args ?? "");
      for (const m of (step.run ?? "").replace(/\\\n/g, " ").matchAll(/dagger call (?!-m)([^\n]+)/g)) lines.push(m[1]!);
      for (const line of lines) {
        // ${{ expressions }} hold spaces; they are values, never flags.
        const words = line
          .replace(/\$\{\{[^}]*\}\}/g, "EXPR")
          .trim()
          .split(/\s+/);
        const fn = words[0]!;
        // Flags up to the next plain word belong to the function; later ones to what it returned.
        const end = words.findIndex((w, i) => i > 0 && !w.startsWith("--"));
        const flags = words.slice(1, end === -1 ? undefined : end).map((w) => w.replace(/^--/, "").split("=")[0]!);
        out.push({ file, fn, flags });
      }
    }
  }
  return out;
}

let mod: ScannedModule;
beforeAll(async () => {
  mod = await scanModule();
}, 120_000);

describe(".github/workflows call the module as it is", () => {
  const found = calls();

  it("finds the calls of every workflow (ci, release, deploy)", () => {
    expect(new Set(found.map((c) => c.file))).toEqual(new Set(["ci.yml", "release.yml", "deploy.yml"]));
    expect(found.map((c) => c.fn)).toEqual(expect.arrayContaining(["ci", "ci-report", "migrations", "pr-comment", "release", "deploy"]));
  });

  it.each(found.map((c) => [`${c.file}: ${c.fn}`, c] as const))("%s", (_name, c) => {
    const methods = Object.values(mod.objects.Shipshape!.methods);
    const fn = methods.find((m) => kebab(m.name) === c.fn);
    expect(fn, `no function ${c.fn}`).toBeDefined();
    const args = Object.keys(fn!.arguments).map(kebab);
    for (const flag of c.flags) expect(args, `${c.fn} has no --${flag}`).toContain(flag);
  });
});
