/**
 * The ci run record: its schema, how `ci`'s gate outcomes become one, and how it lives beside the
 * deploy records in a JSON Lines trail (old trails still load, newer versions are kept, not guessed).
 */
import { describe, expect, it } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import { JsonlTrail, readJsonlEntries, replayJsonl } from "../../deploy/lib/trail/jsonl.js";
import { blockingOf, pipelineRunRecord } from "../../lib/trail/pipeline-builder.js";
import { parsePipelineRun } from "../../deploy/lib/trail/pipeline-record.js";
import { parseJsonl, serialiseJsonl } from "../../deploy/lib/trail/record.js";
import type { AuditTrail, PipelineStore } from "../../deploy/lib/trail/store.js";
import { ciRun, gate, gates } from "./ci-runs.js";
import { pair } from "./records.js";

describe("pipelineRunRecord", () => {
  it("keeps each gate's status, duration and blocking findings, the test gate's coverage and the run context", () => {
    const t = Date.parse("2026-11-20T10:00:00Z");
    const run = pipelineRunRecord(
      {
        outcomes: gates([gate("audit", "failed", 12_345.6, { critical: 1, high: 2, blocking: 3 })]),
        startedMs: t,
        actor: "octocat",
        commitSha: "ABCDEF0123456",
        branch: "main",
        runUrl: "https://github.com/acme/api/actions/runs/7",
      },
      { now: () => t + 150_000, newId: () => "11111111-1111-4111-8111-111111111111" },
    );
    expect(run).toMatchObject({
      type: "pipeline-run",
      schemaVersion: 1,
      startedAt: "2026-11-20T10:00:00.000Z",
      endedAt: "2026-11-20T10:02:30.000Z",
      outcome: "failed",
      commitSha: "abcdef0123456",
      branch: "main",
      coverageLines: 86.5,
      coverageBranches: 71.25,
    });
    expect(run.runId).toMatch(/^shipshape-ci-/);
    expect(run.gates).toEqual([
      { name: "lint", status: "passed", durationMs: 20_000, blocking: 0, security: false },
      { name: "typecheck", status: "passed", durationMs: 30_000, blocking: 0, security: false },
      { name: "test", status: "passed", durationMs: 90_000, blocking: 0, security: false },
      { name: "audit", status: "failed", durationMs: 12_346, blocking: 3, security: true },
    ]);
  });

  it("passes with skipped gates, and leaves out withRun values that are not a SHA or a URL rather than the record", () => {
    const run = pipelineRunRecord({
      outcomes: [gate("lint", "skipped", 0), gate("test", "skipped", 0)],
      startedMs: Date.parse("2026-11-20T10:00:00Z"),
      commitSha: "HEAD~1",
      runUrl: "javascript:alert(1)",
    });
    expect(run.outcome).toBe("passed");
    expect(run).not.toHaveProperty("commitSha");
    expect(run).not.toHaveProperty("runUrl");
    expect(run).not.toHaveProperty("coverageLines");
  });

  it("fails on an errored gate, which has no blocking count", () => {
    const run = ciRun("2026-11-20T10:00:00Z", 3, [gate("test", "error", 5_000)]);
    expect(run.outcome).toBe("failed");
    expect(run.gates.find((g) => g.name === "test")).toEqual({ name: "test", status: "error", durationMs: 5_000, security: false });
  });
});

describe("blockingOf", () => {
  it("counts what failed each gate: its blocking metric first, else the gate's own counts", () => {
    expect(blockingOf(gate("lint", "failed", 1, { errors: 2, warnings: 5, unformatted: 1 }))).toBe(8);
    // Warnings block only above gates.lint.maxWarnings (-1: never).
    expect(blockingOf(gate("lint", "failed", 1, { errors: 2, warnings: 5, unformatted: 1 }), { lintMaxWarnings: 10 })).toBe(3);
    expect(blockingOf(gate("lint", "failed", 1, { errors: 0, warnings: 5 }), { lintMaxWarnings: -1 })).toBe(0);
    expect(blockingOf(gate("typecheck", "failed", 1, { errors: 4, files: 2 }))).toBe(4);
    expect(blockingOf(gate("test", "failed", 1, { tests: 9, failures: 2 }))).toBe(2);
    expect(blockingOf(gate("audit", "failed", 1, { critical: 3, high: 1, blocking: 1 }))).toBe(1);
    expect(blockingOf(gate("sast", "failed", 1, { findings: 6 }))).toBe(6);
    expect(blockingOf(gate("audit", "passed", 1, { critical: 3 }))).toBe(0);
    expect(blockingOf(gate("audit", "error", 1))).toBeUndefined();
  });
});

describe("parsePipelineRun", () => {
  const good = () => ({ ...ciRun("2026-11-20T10:00:00Z", 2) });

  it("refuses a bad record in one line naming the field", () => {
    const bad = { ...good(), gates: [{ name: "lint", status: "green", durationMs: 1 }] };
    expect(() => parsePipelineRun(bad)).toThrow(Problem);
    expect(() => parsePipelineRun(bad)).toThrow(
      /^ci run record is invalid: gates\[0\]\.status: expected one of passed, failed, error, skipped, got "green"/,
    );
    expect(() => parsePipelineRun({ ...good(), coverageLines: 130 })).toThrow(
      /coverageLines: expected a percentage from 0 to 100, got 130/,
    );
    expect(() => parsePipelineRun({ ...good(), endedAt: "2026-11-19T00:00:00Z" })).toThrow(/endedAt: must not be before startedAt/);
  });

  it("refuses a newer schema version by name, with the upgrade as the fix", () => {
    const err = (() => {
      try {
        parsePipelineRun({ ...good(), schemaVersion: 2 });
      } catch (e) {
        return e as Problem;
      }
    })();
    expect(err?.cause_).toBe("ci run record has schemaVersion 2, newer than this Shipshape reads (1)");
    expect(err?.hint).toMatch(/upgrade Shipshape/);
  });
});

describe("a JSON Lines trail with ci runs", () => {
  const [started, completed] = pair("gh-1-1", "2026-11-19T10:00:00Z", "succeeded");
  const oldTrail = serialiseJsonl([started, completed]);

  it("loads an old trail without ci runs as before, and appends ci runs beside the deploy records", async () => {
    const trail = new JsonlTrail(oldTrail);
    expect(await trail.readPipelineRuns()).toEqual([]);
    const run = ciRun("2026-11-20T10:00:00Z", 4);
    await trail.appendPipelineRun(run);
    await trail.appendPipelineRun(run); // a retried append is a no-op
    const content = trail.content();
    expect(content.startsWith(oldTrail)).toBe(true);
    expect(content.split("\n").filter(Boolean)).toHaveLength(3);
    // The deploy readers see the deploys, the ci readers the run; nothing is damaged.
    expect(parseJsonl(content)).toEqual([started, completed]);
    const again = new JsonlTrail(content);
    expect(again.damaged).toEqual([]);
    expect(await again.read()).toEqual([started, completed]);
    expect(await again.readPipelineRuns()).toEqual([run]);
    expect(await again.readPipelineRuns({ since: "2026-11-21T00:00:00Z" })).toEqual([]);
  });

  it("keeps a line from a newer Shipshape as it was, reported, and reads the rest", () => {
    const newer = JSON.stringify({ ...ciRun("2026-11-20T10:00:00Z", 1), schemaVersion: 2, extra: true });
    const content = `${oldTrail}${newer}\n`;
    const trail = new JsonlTrail(content, "audit.jsonl");
    expect(trail.damaged.map((d) => d.cause)).toEqual(["audit.jsonl line 3 has schemaVersion 2, newer than this Shipshape reads (1)"]);
    expect(trail.content()).toBe(content);
    expect(readJsonlEntries(content).filter((e) => "record" in e)).toHaveLength(2);
    // The strict reader refuses it whole, naming the line.
    expect(() => parseJsonl(content, "audit.jsonl")).toThrow(/^audit\.jsonl line 3 has schemaVersion 2/);
  });

  it("replays deploy records and ci runs into a store that keeps both", async () => {
    const run = ciRun("2026-11-20T10:00:00Z", 4);
    const content = `${oldTrail}${JSON.stringify(run)}\n`;
    const kept: unknown[] = [];
    const store: AuditTrail & PipelineStore = {
      append: async (r) => (kept.push(r), parseJsonl(serialiseJsonl([r as never]))[0]!),
      read: async () => [],
      close: async () => undefined,
      appendPipelineRun: async (r) => (kept.push(r), parsePipelineRun(r)),
      readPipelineRuns: async () => [],
    };
    expect(await replayJsonl(content, store)).toBe(3);
    expect(kept).toEqual([started, completed, run]);
  });
});
