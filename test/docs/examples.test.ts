/**
 * The examples in docs/CI_CD.md, SECURITY.md, TROUBLESHOOTING.md and RUNBOOKS.md are real: every
 * `dagger call` names a Shipshape function with flags it has (and, when it chains on a report
 * object, a field that object has), against the module as the SDK's own scanner sees it; every
 * workflow passes the real validator and calls the reusable workflows with inputs they declare;
 * every other YAML block is a shipshape.yaml the real loader accepts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../src/config/load.js";
import { scanModule, type ScannedModule } from "../harness/scan.js";
import { actionValidator, callerProblems, parseCall, ROOT, type Workflow } from "../generate/workflow-checks.js";

const DOCS = ["CI_CD.md", "SECURITY.md", "TROUBLESHOOTING.md", "RUNBOOKS.md"];
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const read = (doc: string) => readFileSync(join(ROOT, "docs", doc), "utf8");
const blocks = (doc: string, lang: string) =>
  [...read(doc).matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);

/** Every `dagger call` line of a doc's sh blocks, continuations joined, the installed module's name dropped. */
function daggerCalls(doc: string): string[] {
  return blocks(doc, "sh")
    .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
    .flatMap((l) => /\bdagger call (.+)$/.exec(l)?.[1] ?? [])
    .map((l) => l.replace(/^shipshape\s+/, ""));
}

let mod: ScannedModule;
beforeAll(async () => {
  mod = await scanModule();
}, 120_000);

describe.each(DOCS)("docs/%s", (doc) => {
  it.each(daggerCalls(doc).map((l) => [l.split(" ")[0]!, l] as const))("dagger call %s is a real call", (_fn, line) => {
    const call = parseCall(doc, ".", line);
    const fn = Object.values(mod.objects.Shipshape!.methods).find((m) => kebab(m.name) === call.fn);
    expect(fn, `Shipshape has no function ${call.fn}`).toBeDefined();
    const args = Object.keys(fn!.arguments).map(kebab);
    for (const flag of call.flags) expect(args, `${call.fn} has no --${flag}`).toContain(flag);
    // The first chained word, on a report object, must be one of its fields or functions.
    const next = line.split(/\s+/).find((w, i) => i > 0 && !w.startsWith("--") && !w.startsWith("#"));
    const returned = mod.objects[fn!.returnType.name ?? ""];
    if (returned && next) expect([...Object.keys(returned.properties), ...Object.keys(returned.methods)].map(kebab)).toContain(next);
  });

  it.each(blocks(doc, "yaml").map((b, i) => [i + 1, b] as const))("yaml example %i is valid", (_i, block) => {
    const data = parse(block) as Record<string, unknown>;
    if ("jobs" in data) {
      expect(actionValidator(block)).toBeUndefined();
      expect(callerProblems(doc, data as unknown as Workflow)).toEqual([]);
    } else expect(() => parseConfig(block)).not.toThrow();
  });
});

describe("the docs have examples to check", () => {
  it("each page shows calls, and CI_CD.md the adopter's workflows", () => {
    for (const doc of ["CI_CD.md", "SECURITY.md", "RUNBOOKS.md"]) expect(daggerCalls(doc).length, doc).toBeGreaterThan(2);
    expect(blocks("CI_CD.md", "yaml").filter((b) => b.includes("jobs:"))).toHaveLength(2);
    for (const fn of ["rollback", "promote", "abort", "migrations", "secret-scan", "audit"])
      expect(daggerCalls("RUNBOOKS.md").map((l) => l.split(" ")[0])).toContain(fn);
  });
});
