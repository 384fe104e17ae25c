/**
 * A damaged earlier audit trail (a run killed mid-write, a hand edit, a newer Shipshape's record):
 * the deploy goes on unless the trail is required, the trail handed back never holds fewer intact
 * records than it was given, and each damaged line is reported by number and kept byte for byte.
 */
import { dag } from "@dagger.io/dagger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import type { DeployReport } from "../../deploy/lib/deploy/deploy.js";
import { recordedRun } from "../../deploy/lib/gates/deploy-run.js";
import { describeError } from "../../deploy/src/project/problem.js";
import { JsonlTrail } from "../../deploy/lib/trail/jsonl.js";
import { serialiseJsonl, type AuditRecord } from "../../deploy/lib/trail/record.js";
import { openTrail } from "../../deploy/lib/trail/trail.js";
import { StubEngine } from "../harness/stub-engine.js";
import { IMAGE, pair } from "../trail/records.js";
import { expectClear, rejected } from "./clear.js";

const [a1, a2] = pair("gh-1-1", "2026-11-18T10:00:00Z", "succeeded");
const [b1, b2] = pair("gh-2-1", "2026-11-19T10:00:00Z", "rolled back");
const intact = serialiseJsonl([a1, a2, b1, b2]);
const ids = (records: AuditRecord[]) => records.map((r) => r.recordId);
const HALF = '{"recordId":"6f1c';

describe("openTrail over a damaged earlier trail", () => {
  it.each<[string, string, number[], RegExp]>([
    [
      "a half-written last line",
      `${intact}${HALF}`,
      [5],
      /^earlier audit trail line 5 is not JSON: .*\(cut off: the last line has no newline/,
    ],
    [
      "garbage in the middle",
      `${serialiseJsonl([a1, a2])}<<<<<<< HEAD\n${serialiseJsonl([b1, b2])}`,
      [3],
      /^earlier audit trail line 3 is not JSON/,
    ],
    [
      "a record from a newer Shipshape",
      `${intact}${JSON.stringify({ ...a1, recordId: crypto.randomUUID(), region: "eu" })}\n`,
      [5],
      /line 5 is invalid: region: unknown key/,
    ],
    [
      "a line with terminal escapes",
      `${intact}\u001b[2J\u001b]8;;http://x\u0007\n`,
      [5],
      /^earlier audit trail line 5 is not JSON: .*\\x1b/,
    ],
    ["CRLF line endings and a damaged line", `${intact.replace(/\n/g, "\r\n")}{oops\r\n`, [5], /line 5 is not JSON/],
  ])("%s: not refused, every intact record kept, the line reported and kept", async (_name, earlier, lines, warning) => {
    const trail = await openTrail({ existingJsonl: earlier });
    expect(ids(await trail.read())).toEqual(ids([a1, a2, b1, b2]));
    expect(trail.warnings).toHaveLength(lines.length);
    expectClear({ cause: trail.warnings[0] ?? "", hint: "-" }, warning);
    const [started] = pair("gh-3-1", "2026-11-20T10:00:00Z", "succeeded");
    await trail.append(started);
    const out = trail.jsonl();
    const damaged = earlier.split("\n")[(lines[0] ?? 0) - 1] ?? "";
    expect(out).toContain(`${damaged}\n`); // its bytes, as they were
    // The next run over this run's file loses nothing either.
    const next = new JsonlTrail(out);
    expect(ids(await next.read())).toEqual(ids([a1, a2, b1, b2, started]));
    expect(next.damaged.map((d) => d.line)).toEqual(lines);
  });

  it("required: refused, naming the line, with a hint", async () => {
    const refusal = await rejected(openTrail({ existingJsonl: `${intact}${HALF}`, required: true }));
    expectClear(
      refusal,
      /^the audit trail is required and the earlier trail given is damaged: earlier audit trail line 5 /,
      /auditTrail\.required/,
    );
  });

  it("many damaged lines: warnings stay bounded, every line is kept", async () => {
    const earlier = `${intact}${"not json\n".repeat(12)}`;
    const trail = await openTrail({ existingJsonl: earlier });
    expect(trail.warnings).toHaveLength(6);
    expect(trail.warnings[5]).toBe("7 more damaged lines kept as they were");
    expect(trail.jsonl().match(/^not json$/gm)).toHaveLength(12);
  });

  it("a duplicated record is kept twice: never fewer records than given", async () => {
    const trail = await openTrail({ existingJsonl: `${intact}${serialiseJsonl([a1])}` });
    expect(ids(await trail.read())).toEqual(ids([a1, a2, b1, b2, a1]));
  });
});

describe("a deploy over a damaged trail (the recorded-run wiring)", () => {
  let engine: StubEngine;
  beforeAll(async () => {
    engine = await new StubEngine().install();
  });
  afterAll(() => engine.uninstall());

  const report: DeployReport = {
    environment: "staging",
    image: IMAGE,
    result: "succeeded",
    reason: "deployment completed",
    taskDefinitionArn: "",
    serviceDeploymentArn: "",
    timeline: [],
    strategy: "rolling",
    decisions: [],
  };
  const deploy = async (yaml: string, work: () => Promise<DeployReport>) =>
    recordedRun(
      parseConfig(yaml).config,
      {
        kind: "deploy",
        environment: "staging",
        image: IMAGE,
        strategy: "rolling",
        context: { actor: "octocat", approver: "", runUrl: "", version: "", commitSha: "", repoUrl: "" },
        outlets: { auditTrail: dag.directory().withNewFile("audit.jsonl", `${intact}${HALF}`).file("audit.jsonl") },
        gitDir: dag.directory(),
      },
      work,
    );

  it("not required: the deploy runs, and the trail handed back holds every earlier record", async () => {
    let ran = false;
    const done = await deploy("", async () => ((ran = true), report));
    expect([ran, done.report.result, done.problem]).toEqual([true, "succeeded", undefined]);
    expect(done.warnings.join("\n")).toMatch(/line 5 is not JSON/);
    const back = new JsonlTrail(done.auditJsonl);
    expect(ids(await back.read()).slice(0, 4)).toEqual(ids([a1, a2, b1, b2]));
    expect((await back.read()).map((r) => r.phase).slice(4)).toEqual(["started", "completed"]);
    expect(done.auditJsonl).toContain(`${HALF}\n`);
  });

  it("required: refused before the work runs, with the line; the records still come back", async () => {
    let ran = false;
    const done = await deploy("auditTrail:\n  required: true\n", async () => ((ran = true), report));
    expect(ran).toBe(false);
    expectClear(done.problem ?? describeError(undefined), /earlier trail given is damaged: earlier audit trail line 5/, /required/);
    expect(ids(await new JsonlTrail(done.auditJsonl).read()).slice(0, 4)).toEqual(ids([a1, a2, b1, b2]));
  });
});
