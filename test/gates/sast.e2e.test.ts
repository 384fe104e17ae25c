/**
 * The sast gate through the stub engine. Semgrep installs from neither npm nor Debian, so its runs
 * are answered by the fake semgrep (test/harness/fake-semgrep.ts) with Semgrep's own published
 * test output; the function code, the argv, the queries and the policy around them are the real ones.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TOOL_IMAGES } from "../../deploy/lib/images.js";
import type { CiReport, GateReport } from "../../src/report/gate-report.js";
import { semgrepCommand } from "../../lib/supply/sast/commands.js";
import { fakeSemgrep, type FakeSemgrepOptions } from "../harness/fake-semgrep.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const FIX = join(import.meta.dirname, "../fixtures/semgrep");
const fixture = (p: string) => readFileSync(join(FIX, p), "utf8");
const EQEQ = { json: fixture("eqeq.json"), sarif: fixture("eqeq.sarif") };
/** The repository of Semgrep's test_additional_outputs run: its rules file and the file it scanned. */
const EQEQ_FILES = { "rules/eqeq.yaml": fixture("rules/eqeq.yaml"), "targets/basic/stupid.py": fixture("targets/basic/stupid.py") };
const sastYaml = (extra = "", rules = "[rules/eqeq.yaml]") => `sast:\n  enabled: true\n  rules: ${rules}\n${extra}`;

async function withSemgrep(files: Record<string, string>, opts: FakeSemgrepOptions = { run: EQEQ }) {
  current = await drive();
  // prepareFixture writes files at the top level only; these live in directories.
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(current.root, name)), { recursive: true });
    writeFileSync(join(current.root, name), content);
  }
  const events = fakeSemgrep(current.engine, opts);
  return { ...current, events };
}

const semgrepExecs = () => current!.engine.execs.filter((e) => e.args[0] === "semgrep");

describe("sast", () => {
  it("fails on the HIGH finding of Semgrep's own run, with semgrep.json and Semgrep's SARIF", async () => {
    const { call, cli } = await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": sastYaml() });
    const report = (await call<GateReport>("sast")).json;
    expect(report.status).toBe("Failed");
    expect(report.summary).toBe(
      "0 critical, 1 high, 0 medium, 0 low, 0 info in 1 file — blocking: 1 HIGH (rules.eqeq-is-bad in targets/basic/stupid.py:3)",
    );
    expect(report.findings).toEqual([
      "targets/basic/stupid.py:3 HIGH rules.eqeq-is-bad: useless comparison operation `a + b == a + b` or `a + b != a + b`",
    ]);
    expect(report.hint).toMatch(/sast\.ignore entry \(rule id, reason, expiry date\)/);
    const files = await dirOf(report.files);
    expect(await files.entries()).toEqual(["sast.sarif", "semgrep.json"]);
    const sarif = JSON.parse(await files.file("sast.sarif").contents());
    expect(sarif.runs[0].tool.driver.name).toBe("Semgrep OSS");
    expect(sarif.runs[0].results.map((r: { ruleId: string }) => r.ruleId)).toEqual(["rules.eqeq-is-bad"]);
    const [scan] = semgrepExecs();
    expect(scan!.image).toBe(`${TOOL_IMAGES.semgrep.repository}:${TOOL_IMAGES.semgrep.tag}`);
    expect(scan!.workdir).toBe("/src");
    expect(scan!.args).toEqual(
      semgrepCommand({
        configs: ["rules/eqeq.yaml"],
        json: "/shipshape/reports/semgrep.json",
        sarif: "/shipshape/reports/semgrep.sarif",
        exclude: [],
      }),
    );
    // Local rules only change with the source: no daily refresh of the exec.
    expect(scan!.env.SHIPSHAPE_SEMGREP_RULES_DAY).toBeUndefined();
    // As `dagger call sast` / `dagger check` end it: the failed gate fails the call.
    expect((await gateError(cli<GateReport>("sast"))).status).toBe("FAILED");
  });

  it("passes when the finding is ignored with a reason and expiry, and drops it from the SARIF", async () => {
    const ignore =
      "  ignore:\n    - id: rules.eqeq-is-bad\n      reason: generated test code\n      expires: 2099-12-31\n      paths: [targets/**]\n";
    const { call } = await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": sastYaml(ignore) });
    const report = (await call<GateReport>("sast")).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toBe("0 critical, 1 high, 0 medium, 0 low, 0 info in 1 file; 1 ignored");
    expect(report.findings).toEqual([expect.stringMatching(/rules\.eqeq-is-bad: .* \[ignored: generated test code\]$/)]);
    const sarif = JSON.parse(await (await dirOf(report.files)).file("sast.sarif").contents());
    expect(sarif.runs[0].results).toEqual([]);
  });

  it("passes sast.exclude to Semgrep, which then does not report the excluded file", async () => {
    const { call, events } = await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": sastYaml("  exclude: [targets]\n") });
    const report = (await call<GateReport>("sast")).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toMatch(/^0 critical, 0 high, 0 medium, 0 low, 0 info in /);
    expect(events[0]!.args.slice(-3)).toEqual(["--exclude", "targets", "."]);
  });

  it("a file Semgrep could only partly parse is listed, not a pass in silence nor a crash", async () => {
    const files = { "rules/eqeq.yaml": fixture("rules/eqeq.yaml"), "targets/bad/invalid_go.go": fixture("targets/bad/invalid_go.go") };
    const { call } = await withSemgrep(
      { ...files, "shipshape.yaml": sastYaml() },
      { run: { json: fixture("parse-error.json"), sarif: EQEQ.sarif } },
    );
    const report = (await call<GateReport>("sast")).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toBe("0 critical, 0 high, 0 medium, 0 low, 0 info in 1 file; 1 file not fully analysed");
    expect(report.findings).toEqual([
      expect.stringMatching(/^targets\/bad\/invalid_go\.go not fully analysed: PartialParsing \(Syntax error at line/),
    ]);
  });

  it("registry rules refresh daily, and an unreachable semgrep.dev is an ERROR with a fix, never a pass", async () => {
    const { call } = await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": sastYaml("", "[p/default]") }, { run: EQEQ, registry: false });
    const err = await gateError(call<GateReport>("sast"));
    expect(err.status).toBe("ERROR");
    expect(err.cause).toBe(
      "semgrep could not scan the repository: Failed to download configuration from https://semgrep.dev/p/default Failed after multiple attempts (missing or invalid rules config)",
    );
    expect(err.hint).toMatch(/^fix sast\.rules: a registry ruleset \(p\/default\) needs the engine to reach semgrep\.dev/);
    expect(semgrepExecs()[0]!.env.SHIPSHAPE_SEMGREP_RULES_DAY).toBe(new Date().toISOString().slice(0, 10));
  });

  it("rules that do not parse are an ERROR naming the file, from Semgrep's own errors", async () => {
    const files = {
      "rules/syntax/invalid.yaml": fixture("rules/syntax/invalid.yaml"),
      "targets/basic/stupid.py": fixture("targets/basic/stupid.py"),
    };
    const { call, events } = await withSemgrep({ ...files, "shipshape.yaml": sastYaml("", "[rules/syntax/invalid.yaml]") });
    const err = await gateError(call<GateReport>("sast"));
    expect(err.cause).toMatch(
      /^semgrep could not scan the repository: Invalid YAML file rules\/syntax\/invalid\.yaml: .* \(missing or invalid rules config\)$/,
    );
    expect(events.map((e) => e.exitCode)).toEqual([7]);
  });

  it("rules missing from the repository, or an ignore entry without expiry, fail before Semgrep runs", async () => {
    await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": sastYaml("", "[.semgrep/rules.yaml]") });
    const missing = await gateError(current!.call<GateReport>("sast"));
    expect(missing.cause).toBe("the Semgrep rules .semgrep/rules.yaml listed in sast.rules do not exist in the repository");
    expect(missing.hint).toMatch(/^add \.semgrep\/rules\.yaml, or remove it from sast\.rules/);
    current!.engine.uninstall();
    const noExpiry = "  ignore:\n    - id: rules.eqeq-is-bad\n      reason: later\n";
    await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": sastYaml(noExpiry) });
    const invalid = await gateError(current!.call<GateReport>("sast"));
    expect(invalid.cause).toMatch(/sast\.ignore\[0\]\.expires: required: give the date \(YYYY-MM-DD\) the ignore lapses/);
    expect(semgrepExecs()).toEqual([]);
  });

  it("is off unless enabled: a skipped report, and no Semgrep run", async () => {
    const { call } = await withSemgrep(EQEQ_FILES);
    const report = (await call<GateReport>("sast")).json;
    expect(report.status).toBe("Skipped");
    expect(semgrepExecs()).toEqual([]);
  });
});

describe("sast in ci", () => {
  const others =
    "gates:\n  lint: { enabled: false }\n  typecheck: { enabled: false }\n  test: { enabled: false }\n  audit: { enabled: false }\n";

  it("is one of ci's gates when enabled, and absent when not", async () => {
    const { call } = await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": others + sastYaml() });
    const report = (await call<CiReport>("ci")).json;
    expect(report.gates.map((g) => `${g.gate} ${g.status}`)).toEqual([
      "lint Skipped",
      "typecheck Skipped",
      "test Skipped",
      "audit Skipped",
      "sast Failed",
    ]);
    current!.engine.uninstall();
    const off = await withSemgrep({ ...EQEQ_FILES, "shipshape.yaml": others });
    expect((await off.call<CiReport>("ci")).json.gates.map((g) => g.gate)).toEqual(["lint", "typecheck", "test", "audit"]);
    expect(semgrepExecs()).toEqual([]);
  });
});
