/**
 * A deploy's --commit-sha is checked before anything opens or runs (it reaches `git show`), and
 * delivery metrics over a trail with a damaged line count the intact records and report the line.
 */
import { dag } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { readJsonlTrail, readTrail } from "../../deploy/lib/gates/delivery.js";
import { recordedRun } from "../../deploy/lib/gates/deploy-run.js";
import { serialiseJsonl } from "../../deploy/lib/trail/record.js";
import { StubEngine } from "../harness/stub-engine.js";
import { IMAGE, pair } from "../trail/records.js";
import { expectClear, rejected, thrown } from "./clear.js";

let engine: StubEngine;
beforeAll(async () => {
  engine = await new StubEngine().install();
  engine.onExec(() => true, { exitCode: 0 });
});
afterAll(() => engine.uninstall());

const config = parseConfig(undefined).config;

describe("deploy --commit-sha", () => {
  it.each(["--output=/tmp/pwned", "HEAD~1", "abc def", "zz12345"])(
    "%j is refused naming --commit-sha; no work, no git, no trail",
    async (sha) => {
      let ran = false;
      const answer = await rejected(
        recordedRun(
          config,
          {
            kind: "deploy",
            environment: "staging",
            image: IMAGE,
            strategy: "rolling",
            context: { actor: "octocat", approver: "", runUrl: "", version: "", commitSha: sha, repoUrl: "" },
            outlets: {},
            gitDir: dag.directory().withNewFile(".git/HEAD", "ref: refs/heads/main\n"),
          },
          async () => {
            ran = true;
            throw new Error("the deploy ran");
          },
        ),
      );
      expectClear(answer, /^--commit-sha ".*" is not a commit SHA$/, /hex digits/);
      expect(ran).toBe(false);
      expect(engine.commands.filter((c) => c.includes("git") || c.includes("show"))).toEqual([]);
    },
  );
});

describe("delivery metrics over a damaged trail", () => {
  const [a1, a2] = pair("gh-1-1", "2026-11-18T10:00:00Z", "succeeded");
  const [b1, b2] = pair("gh-2-1", "2026-11-19T10:00:00Z", "succeeded");
  const damaged = `${serialiseJsonl([a1, a2])}{"recordId":"6f1c\n${serialiseJsonl([b1, b2])}`;

  it("a damaged line in the middle: every intact record counts, the line is reported by number", async () => {
    const { records } = await readTrail(config, { jsonl: damaged }, "");
    expect(records.map((r) => r.recordId)).toEqual([a1, a2, b1, b2].map((r) => r.recordId));
    const { damaged: lines } = readJsonlTrail(damaged);
    expect(lines.map((d) => [d.line, d.raw])).toEqual([[3, '{"recordId":"6f1c']]);
    expect(lines[0]!.cause).toMatch(/^audit trail line 3 is not JSON/);
  });

  it("a trail with lines but not one intact record is an error, not empty metrics", () => {
    expectClear(
      thrown(() => readJsonlTrail("not json\n{\n")),
      /^the audit trail has no intact record: audit trail line 1 is not JSON.* \(and 1 more\)$/,
      /audit\.jsonl/,
    );
  });
});
