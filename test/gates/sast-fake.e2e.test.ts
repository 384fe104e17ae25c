/**
 * The fake semgrep is no kinder than Semgrep: exit codes and errors as its CLI gives them
 * (test/harness/fake-semgrep.ts cites the sources), for the command lines the gate does not use too.
 */
import { dag } from "@dagger.io/dagger";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readFile, run } from "../../deploy/lib/gates/workspace.js";
import { fakeSemgrep } from "../harness/fake-semgrep.js";
import { drive, type Driven } from "../helpers/drive.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const FIX = join(import.meta.dirname, "../fixtures/semgrep");
const fixture = (p: string) => readFileSync(join(FIX, p), "utf8");
const FILES = { "rules/eqeq.yaml": fixture("rules/eqeq.yaml"), "targets/basic/stupid.py": fixture("targets/basic/stupid.py") };

async function semgrep(args: string[], image = "semgrep/semgrep:1.173.0", json = fixture("eqeq.json")) {
  // A tree of the scanned files alone: the fake scans what it is given, no service fixture needed.
  const root = mkdtempSync(join(tmpdir(), "shipshape-semgrep-"));
  for (const [name, content] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  current = await drive({ root });
  fakeSemgrep(current.engine, { run: { json, sarif: fixture("eqeq.sarif") } });
  const ctr = dag.container().from(image).withMountedDirectory("/src", dag.host().directory(current.root)).withWorkdir("/src");
  const step = await run(ctr, ["semgrep", "scan", ...args]);
  const report = await readFile(step.ctr, "/out/r.json");
  return {
    ...step,
    report: report === undefined ? undefined : (JSON.parse(report) as { results: unknown[]; errors: { code: number; message: string }[] }),
  };
}

describe("fake semgrep", () => {
  it("findings exit 0, or 1 with --error (output.py: error_on_findings)", async () => {
    expect((await semgrep(["--config", "rules/eqeq.yaml", "--json-output=/out/r.json", "."])).exitCode).toBe(0);
    const strict = await semgrep(["--config", "rules/eqeq.yaml", "--error", "--json-output=/out/r.json", "."]);
    expect(strict.exitCode).toBe(1);
    expect(strict.report!.results).toHaveLength(1);
  });

  it("a warn error exits 0, and its code only with --strict", async () => {
    const json = fixture("parse-error.json").replace(/targets\/bad\/invalid_go\.go/g, "targets/basic/stupid.py");
    expect((await semgrep(["--config", "rules/eqeq.yaml", "--json-output=/out/r.json", "."], undefined, json)).exitCode).toBe(0);
    expect((await semgrep(["--config", "rules/eqeq.yaml", "--strict", "--json-output=/out/r.json", "."], undefined, json)).exitCode).toBe(
      3,
    );
  });

  it("a missing config is code 7 with both errors in the report; auto without metrics aborts with 2 and no report", async () => {
    const missing = await semgrep(["--config", "rules/nope.yaml", "--json-output=/out/r.json", "."]);
    expect(missing.exitCode).toBe(7);
    expect(missing.report!.errors.map((e) => e.message)).toEqual([
      "WARNING: unable to find a config; path `rules/nope.yaml` does not exist",
      "invalid configuration file found (1 configs were invalid)",
    ]);
    const auto = await semgrep(["--config", "auto", "--metrics=off", "--json-output=/out/r.json", "."]);
    expect(auto.exitCode).toBe(2);
    expect(auto.stderr).toMatch(/^Cannot create auto config when metrics are off/);
    expect(auto.report).toBeUndefined();
  });

  it("an unknown option is click's usage error; a missing target is code 2; no semgrep outside its image", async () => {
    const usage = await semgrep(["--config", "rules/eqeq.yaml", "--sarif-out=/out/r.sarif", "."]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("Error: No such option: --sarif-out");
    const target = await semgrep(["--config", "rules/eqeq.yaml", "--json-output=/out/r.json", "nowhere"]);
    expect(target.exitCode).toBe(2);
    expect(target.report!.errors.map((e) => e.message)).toEqual(["File not found: nowhere"]);
    expect((await semgrep(["--config", "rules/eqeq.yaml", "."], "alpine:3.22.2")).exitCode).toBe(127);
  });
});
