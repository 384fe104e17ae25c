/**
 * The examples in docs/CI_CD.md, SECURITY.md, TROUBLESHOOTING.md, RUNBOOKS.md and DEPLOYMENT.md are
 * real: every `dagger call` (in an sh block, or in a workflow's step) names the module it calls
 * (`shipshape`, the CI module, or `shipshape-deploy`, the deploy module, as installed; or `-m`), and
 * is walked as the CLI walks it, from that module's root through each `with-*` step, `environment`,
 * the verb and the fields it reads off the returned object, against the module as the SDK's own
 * scanner sees it: each step a function or field of the object before it, with flags that function
 * has and the ones it requires. A deploy verb on the CI module (as before the split) is an error.
 * Every workflow passes the real validator and calls the reusable workflows with inputs they
 * declare; every other YAML block is a shipshape.yaml the real loader accepts (DEPLOYMENT.md's are
 * test/deploy/docs.test.ts's). No page names a flag or function the API no longer has.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseConfig } from "../../deploy/lib/config/load.js";
import {
  actionValidator,
  callerProblems,
  callProblems,
  callsOf,
  DAGGER_ACTION,
  parseCall,
  ROOT,
  stepsOf,
  type Call,
  type Workflow,
} from "../generate/workflow-checks.js";
import { BEGIN, END } from "./render-troubleshooting.js";

/** Pages whose YAML blocks this test checks too; DEPLOYMENT.md's calls only. */
const DOCS = ["CI_CD.md", "SECURITY.md", "TROUBLESHOOTING.md", "RUNBOOKS.md"];
const CALL_DOCS = [...DOCS, "DEPLOYMENT.md"];
const read = (doc: string) => readFileSync(join(ROOT, "docs", doc), "utf8");
const blocks = (doc: string, lang: string) =>
  [...read(doc).matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
const workflowBlocks = (doc: string) =>
  blocks(doc, "yaml").filter((b) => {
    const data: unknown = parse(b);
    return typeof data === "object" && data !== null && "jobs" in data;
  });

/** One shell line's `dagger [-m M] call …` as a Call (a trailing comment dropped). */
function shellCall(doc: string, line: string): Call | undefined {
  const m = /\bdagger\s+(?:(?:-m|--mod)[\s=](\S+)\s+)?call\s+(.+)$/.exec(line);
  if (!m) return undefined;
  const words = m[2]!
    .replace(/"[^"]*"/g, "X")
    .replace(/\s#.*$/, "")
    .trim();
  return parseCall(doc, ".", m[1] ? `-m ${m[1]} ${words}` : words);
}

/** A page's prose: outside code blocks and outside the generated catalogue (troubleshooting.test.ts's, quoting src/). */
function prose(doc: string): string {
  let text = read(doc);
  if (text.includes(BEGIN)) text = text.slice(0, text.indexOf(BEGIN)) + text.slice(text.indexOf(END));
  return text.replace(/```[\s\S]*?```/g, "");
}

/** Every `dagger call` of a doc: its sh blocks' lines (continuations joined), its workflows' steps, and the `dagger call …` its prose quotes. */
function daggerCalls(doc: string): Call[] {
  const sh = blocks(doc, "sh")
    .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
    .flatMap((l) => shellCall(doc, l) ?? []);
  const workflows = workflowBlocks(doc).flatMap((b) => callsOf(doc, parse(b) as Workflow));
  const inline = [...prose(doc).matchAll(/`(dagger (?:(?:-m|--mod) \S+ )?call [^`]+)`/g)].flatMap((m) => shellCall(doc, m[1]!) ?? []);
  return [...sh, ...workflows, ...inline];
}

const moduleName = (c: Call) => (c.module === "." ? "shipshape" : c.module === "deploy" ? "shipshape-deploy" : `-m ${c.module}`);
const chain = (c: Call) => `${moduleName(c)} ${c.steps.map((s) => s.fn).join(" ")}`;

const problems = new Map<Call, string[]>();
const all = CALL_DOCS.flatMap(daggerCalls);
beforeAll(async () => {
  for (const c of all) problems.set(c, await callProblems(c));
}, 120_000);

describe.each(CALL_DOCS)("docs/%s", (doc) => {
  it.each(all.filter((c) => c.file === doc).map((c) => [chain(c), c] as const))("dagger call %s is a real chain", (_chain, call) => {
    // The page says which module: an adopter's workspace has both installed.
    expect(call.named, "the call names its module (shipshape, shipshape-deploy or -m)").toBe(true);
    expect(call.steps.length).toBeGreaterThan(0);
    expect(problems.get(call)).toEqual([]);
  });

  const yaml = DOCS.includes(doc) ? blocks(doc, "yaml") : [];
  it.runIf(yaml.length > 0).each(yaml.map((b, i) => [i + 1, b] as const))("yaml example %i is valid", (_i, block) => {
    const data = parse(block) as Record<string, unknown>;
    if ("jobs" in data) {
      expect(actionValidator(block)).toBeUndefined();
      expect(callerProblems(doc, data as unknown as Workflow)).toEqual([]);
    } else expect(() => parseConfig(block)).not.toThrow();
  });
});

/** The flags and functions the API no longer has (credentials and the environment moved to with-* and environment). */
const GONE = [
  /--aws-[a-z]/,
  /--cosign-[a-z]/,
  /--sigstore-[a-z]/,
  /--audit-(database-url|trail)\b/,
  /--registry-(password|username|plain-http)\b/,
  /--env\b/,
  /\b(lint|typecheck|test|audit|ci|migrations|commits|secret-scan|scan-image|scan-dependencies|license-check)-report\b/,
];

describe("the docs name only what the API has", () => {
  it.each(CALL_DOCS)("docs/%s mentions no removed flag or *-report function", (doc) => {
    let text = read(doc);
    // The generated catalogue quotes src/'s own hints; troubleshooting.test.ts keeps it in step with them.
    if (text.includes(BEGIN)) text = text.slice(0, text.indexOf(BEGIN)) + text.slice(text.indexOf(END));
    const stale = text.split("\n").flatMap((l, i) => (GONE.some((re) => re.test(l)) ? [`${doc}:${i + 1}: ${l.trim()}`] : []));
    expect(stale).toEqual([]);
  });
});

describe("the docs have examples to check", () => {
  it("each page shows calls, and CI_CD.md the adopter's workflows", () => {
    for (const doc of ["CI_CD.md", "SECURITY.md", "RUNBOOKS.md", "DEPLOYMENT.md"]) expect(daggerCalls(doc).length, doc).toBeGreaterThan(2);
    expect(blocks("CI_CD.md", "yaml").filter((b) => b.includes("jobs:"))).toHaveLength(2);
    const runbook = daggerCalls("RUNBOOKS.md");
    const fns = runbook.flatMap((c) => c.steps.map((s) => s.fn));
    for (const fn of [
      "rollback",
      "promote",
      "abort",
      "status",
      "migrations",
      "secret-scan",
      "audit",
      "deploy",
      "monitor",
      "rescan",
      "metrics",
    ])
      expect(fns, fn).toContain(fn);
    // The deploy verbs are the deploy module's Environment's: each follows environment --name=<env>.
    for (const fn of ["rollback", "promote", "abort", "status", "deploy", "monitor", "rescan"]) {
      const at = runbook.filter((c) => c.steps.some((s) => s.fn === fn));
      expect(at.length, fn).toBeGreaterThan(0);
      for (const c of at) {
        expect(c.module, `${fn}: ${chain(c)}`).toBe("deploy");
        expect(c.steps[c.steps.findIndex((s) => s.fn === fn) - 1], fn).toEqual({ fn: "environment", flags: ["name"] });
      }
    }
    // And the gates are the CI module's.
    for (const c of runbook.filter((c) => c.steps.some((s) => ["migrations", "secret-scan", "audit"].includes(s.fn))))
      expect(c.module).toBe(".");
  });

  it("DEPLOYMENT.md deploys to production from GitHub Actions in a step of at most 4 lines of args", () => {
    const block = workflowBlocks("DEPLOYMENT.md").find((b) => b.includes("--name=production deploy"));
    expect(block, "a workflow that deploys production").toBeDefined();
    const step = stepsOf(parse(block!) as Workflow).find((s) => s.uses?.startsWith(DAGGER_ACTION) && s.with?.args?.includes("deploy"));
    expect(step?.with?.verb ?? "call").toBe("call");
    // The args as written: the lines under `args: >-`, more indented than it.
    const lines = block!.split("\n");
    const at = lines.findIndex((l) => /^\s*args: >-\s*$/.test(l));
    expect(at).toBeGreaterThan(0);
    const indent = lines[at]!.search(/\S/);
    const body = lines.slice(at + 1).filter((l, i, all) => all.slice(0, i + 1).every((x) => x.trim() && x.search(/\S/) > indent));
    expect(body.length).toBeGreaterThan(0);
    expect(body.length).toBeLessThanOrEqual(4);
    const call = parseCall("DEPLOYMENT.md", ".", step!.with!.args!);
    expect(call.module).toBe("deploy");
    expect(call.steps.map((s) => s.fn)).toEqual([
      "with-aws",
      "with-verifier",
      "with-audit-trail",
      "with-notifications",
      "with-run",
      "environment",
      "deploy",
    ]);
    expect(call.steps.at(-1)!.flags).toContain("approve");
  });
});

describe("the chain check", () => {
  const check = (line: string) => callProblems(parseCall("x.md", ".", line));

  // Each of these is how the old API spelled a call, or a chain that breaks; the docs' checks must refuse them.
  it.each([
    "shipshape lint-report files export --path=.shipshape/lint",
    "shipshape-deploy deploy --env=production --image=ghcr.io/acme/api@sha256:00",
    "shipshape-deploy with-aws --aws-role-arn=arn environment --name=production status",
    "shipshape-deploy environment --name=production deploy --image=x --aws-role-arn=arn",
    "shipshape-deploy environment deploy --image=x",
    "shipshape-deploy environment --name=production deploy",
    "shipshape with-registry --username=bot --password=env://T publish",
    "shipshape verify --ref=x --certificate-identity=y",
    "shipshape version --repo-url=https://github.com/acme/api",
    "shipshape ci report files",
    "shipshape secret-scan findings --path=x",
    "shipshape-deploy environment --name=production rollback timeline --to=41",
    // Before the split these were the CI module's; now they are the deploy module's alone.
    "shipshape with-aws --role-arn=arn environment --name=production status",
    "shipshape with-audit-trail --database-url=env://U metrics --environment=production markdown",
    "shipshape with-notifications --slack-webhook=env://S environment --name=production monitor --github-token=env://T --repository=a/b",
    // And the CI module's are not the deploy module's.
    "shipshape-deploy with-run --repo-url=https://github.com/acme/api version changelog",
    "shipshape-deploy with-signer --key=file://k sign --ref=x",
    "shipshape --nope=1 lint",
  ])("refuses %s", async (line) => {
    expect(await check(line)).not.toEqual([]);
  });

  it("accepts the same calls in the new shape", async () => {
    for (const line of [
      "shipshape lint files export --path=.shipshape/lint",
      "shipshape-deploy with-aws --role-arn=arn environment --name=production status",
      "shipshape with-verifier --certificate-identity=y verify --ref=x",
      "shipshape with-run --repo-url=https://github.com/acme/api version changelog",
      "shipshape-deploy environment --name=production rollback --to=41 timeline",
      "shipshape-deploy with-audit-trail --database-url=env://U metrics --environment=production markdown",
      "-m ./deploy environment --name=production status",
      "shipshape --source=./services/api lint",
    ])
      expect(await check(line), line).toEqual([]);
  });
});
