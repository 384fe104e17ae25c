/**
 * Pipeline analytics as `dagger call` runs them, each call a fresh module through the SDK's
 * invocation path: `ci` appends its run to the audit trail (a JSON Lines File handed back, or the
 * real Postgres), the next `ci` continues the trail it returned, and `metrics` reads the runs back
 * into the pipeline tables and chart. The trail never changes ci's verdict; bad config is one line.
 */
import { dag } from "@dagger.io/dagger";
import { XMLParser } from "fast-xml-parser";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../../deploy/src/report/delivery.js";
import type { CiReport } from "../../src/report/gate-report.js";
import { readJsonlEntries } from "../../deploy/lib/trail/jsonl.js";
import { serialiseJsonl } from "../../deploy/lib/trail/record.js";
import { drive, type Driven } from "../helpers/drive.js";
import { callWith } from "../helpers/ship-calls.js";
import { admin, closedPort, freshDatabase, type FreshDb } from "../trail/db.js";
import { pair } from "../trail/records.js";

const GATES_OFF = `gates:
  lint: { enabled: false }
  typecheck: { enabled: false }
  test: { enabled: false }
  audit: { enabled: false }
`;
// typecheck really runs (tsc on the fixture); the others are skipped, so a run takes seconds.
const TYPECHECK_ONLY = GATES_OFF.replace("typecheck: { enabled: false }", "typecheck: { enabled: true }");

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const jsonlFile = (content: string) => dag.directory().withNewFile("audit.jsonl", content).file("audit.jsonl");
const ciRunsIn = (jsonl: string) => readJsonlEntries(jsonl).flatMap((e) => ("pipeline" in e ? [e.pipeline] : []));
const DEPLOYS = serialiseJsonl(pair("gh-1-1", new Date(Date.now() - 3 * 86_400_000).toISOString(), "succeeded"));

describe("ci with a JSON Lines audit trail", () => {
  it("appends its run to the trail it was given and hands the trail back; the next ci continues it", async () => {
    current = await drive({ files: { "shipshape.yaml": TYPECHECK_ONLY } });
    const first = await callWith<CiReport>(current, "ci", {}, { auditTrail: jsonlFile(DEPLOYS), actor: "octocat" });
    expect(first.json.auditStorage).toBe("jsonl");
    expect(first.json.audit).toMatch(/^ci run shipshape-ci-[0-9a-f-]{36} \(passed\) recorded in the JSON Lines trail only/);
    const trail = await (await first.file("auditTrail")).contents();
    expect(trail.startsWith(DEPLOYS)).toBe(true);
    const [run] = ciRunsIn(trail);
    expect(run?.outcome).toBe("passed");
    expect(run?.actor).toBe("octocat");
    expect(run?.gates.map((g) => [g.name, g.status])).toEqual([
      ["lint", "skipped"],
      ["typecheck", "passed"],
      ["test", "skipped"],
      ["audit", "skipped"],
    ]);
    expect(run?.gates[1]?.durationMs).toBeGreaterThan(0);
    // files() carries the trail as audit.jsonl next to the gates' files, as a Deployment's does.
    const files = await (await first.call("files")).directory();
    expect(await files.file("audit.jsonl").contents()).toBe(trail);

    // The returned File, passed on by its ID as `with-audit-trail --trail` does: a second run, its own id.
    const second = await callWith<CiReport>(current, "ci", {}, { auditTrail: await first.file("auditTrail") });
    const both = ciRunsIn(await (await second.file("auditTrail")).contents());
    expect(both).toHaveLength(2);
    expect(new Set(both.map((r) => r.runId)).size).toBe(2);

    const report = await callWith<DeliveryReport>(
      current,
      "metrics",
      { period: "week" },
      { auditTrail: await second.file("auditTrail") },
      "deploy",
    );
    expect(report.json.markdown).toMatch(/## Pipeline: ci runs, .* by week/);
    expect(report.json.markdown).toContain("| Build success rate | 100% (2 of 2 runs passed) |");
    expect(report.json.markdown).toMatch(/\| typecheck \| 2 \| 2 \| 0 \| 0 \| 100% \|/);
    const out = await report.directory("files");
    expect((await out.entries()).sort()).toEqual(["metrics.json", "metrics.md", "metrics.txt", "pipeline.svg", "production.svg"]);
    const svg = new XMLParser({ ignoreAttributes: false }).parse(await out.file("pipeline.svg").contents()) as { svg: { title: string } };
    expect(svg.svg.title).toBe("CI runs per week");
  });

  it("records a failing run as failed, and the ci verdict is the gates' own", async () => {
    current = await drive({ variant: "type-error", files: { "shipshape.yaml": TYPECHECK_ONLY } });
    const report = await callWith<CiReport>(current, "ci", {}, { auditTrail: jsonlFile("") });
    expect((await report.call("passed")).json).toBe(false);
    const [run] = ciRunsIn(await (await report.file("auditTrail")).contents());
    expect(run?.outcome).toBe("failed");
    expect(run?.gates.find((g) => g.name === "typecheck")).toMatchObject({ status: "failed", blocking: 1 });
  });

  it("without an audit trail records nothing, and auditTrail.pipelineRuns: false turns it off", async () => {
    current = await drive({ files: { "shipshape.yaml": GATES_OFF } });
    const bare = await current.call<CiReport>("ci");
    expect([bare.json.auditStorage, bare.json.audit]).toEqual(["", ""]);
    expect(await (await bare.call("files")).directory().then((d) => d.entries())).not.toContain("audit.jsonl");
    current.engine.uninstall();
    current = await drive({ files: { "shipshape.yaml": `${GATES_OFF}auditTrail: { pipelineRuns: false }\n` } });
    const off = await callWith<CiReport>(current, "ci", {}, { auditTrail: jsonlFile(DEPLOYS) });
    expect([off.json.auditStorage, off.json.audit]).toEqual(["", "ci run not recorded: auditTrail.pipelineRuns is false"]);
  });

  it("a bad auditTrail.pipelineRuns is one line with the fix, not a silent default", async () => {
    current = await drive({ files: { "shipshape.yaml": `${GATES_OFF}auditTrail: { pipelineRuns: "yes" }\n` } });
    await expect(current.call("config")).rejects.toThrow(/auditTrail\.pipelineRuns: expected true or false, got "yes"/);
    const report = await callWith<CiReport>(current, "ci", {}, { auditTrail: jsonlFile(DEPLOYS) });
    expect(report.json.auditStorage).toBe("");
    expect(report.json.audit).toMatch(/^the ci run could not be recorded: .*auditTrail\.pipelineRuns: expected true or false, got "yes"/);
  });
});

describe("ci with Postgres", () => {
  let db: FreshDb;
  beforeAll(async () => {
    db = await freshDatabase("shipshape_ci_e2e");
    process.env.SHIPSHAPE_TEST_CI_AUDIT_URL = db.url();
    process.env.SHIPSHAPE_TEST_CI_DEAD_URL = `postgres://ci@127.0.0.1:${await closedPort()}/audit`;
  });
  afterAll(async () => {
    delete process.env.SHIPSHAPE_TEST_CI_AUDIT_URL;
    delete process.env.SHIPSHAPE_TEST_CI_DEAD_URL;
    await db.drop();
  });

  it("writes one pipeline_audit row per ci call, which metrics reads back", async () => {
    current = await drive({ files: { "shipshape.yaml": GATES_OFF } });
    const auditDatabaseUrl = dag.secret("env://SHIPSHAPE_TEST_CI_AUDIT_URL");
    const report = await callWith<CiReport>(current, "ci", {}, { auditDatabaseUrl, runUrl: "https://github.com/acme/api/actions/runs/9" });
    expect(report.json.auditStorage).toBe("postgres");
    const rows = await admin(db.name, (c) =>
      c.query<{ run_id: string; run_url: string; outcome: string }>("SELECT run_id, run_url, outcome FROM pipeline_audit"),
    );
    expect(rows.rows).toEqual([
      {
        run_id: expect.stringMatching(/^shipshape-ci-/) as unknown,
        run_url: "https://github.com/acme/api/actions/runs/9",
        outcome: "passed",
      },
    ]);
    const metrics = await callWith<DeliveryReport>(current, "metrics", { period: "day" }, { auditDatabaseUrl }, "deploy");
    expect(metrics.json.markdown).toContain("| Build success rate | 100% (1 of 1 runs passed) |");
    expect(metrics.json.markdown).toContain("No deploys in the audit trail.");
  });

  it("a database that is down never changes the verdict: the run stays in the JSON Lines, and ci says so", async () => {
    current = await drive({ files: { "shipshape.yaml": GATES_OFF } });
    const report = await callWith<CiReport>(current, "ci", {}, { auditDatabaseUrl: dag.secret("env://SHIPSHAPE_TEST_CI_DEAD_URL") });
    expect((await report.call("passed")).json).toBe(true);
    expect(report.json.auditStorage).toBe("jsonl");
    expect(report.json.audit).toMatch(/recorded in the JSON Lines trail only .*audit records go to the JSON Lines trail only: /);
    expect(report.json.audit).not.toContain("SHIPSHAPE_TEST");
    expect(ciRunsIn(await (await report.file("auditTrail")).contents())).toHaveLength(1);
  });
});
