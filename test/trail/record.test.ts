import { describe, expect, expectTypeOf, it } from "vitest";
import type { DeployReport } from "../../deploy/lib/deploy/deploy.js";
import type { DeliveryRecord } from "../../deploy/lib/metrics/records.js";
import { Problem } from "../../deploy/src/project/problem.js";
import {
  ciContext,
  completeRecord,
  correctionRecord,
  endFromDeploy,
  startRecord,
  type DeployLike,
} from "../../deploy/lib/trail/builders.js";
import { JsonlTrail } from "../../deploy/lib/trail/jsonl.js";
import { parseJsonl, parseRecord, serialiseJsonl, type AuditRecord } from "../../deploy/lib/trail/record.js";
import { DIGEST, IMAGE, REV, pair, run } from "./records.js";

const T0 = Date.parse("2026-11-20T10:00:00Z");
let ids = 0;
const deps = (ms = T0) => ({ now: () => ms, newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}` });

describe("audit records", () => {
  it("a started record: who and what, digest from the image, outcome unknown, no end", () => {
    const r = startRecord(run("gh-1-1"), deps());
    expect(r).toMatchObject({
      runId: "gh-1-1",
      kind: "deploy",
      phase: "started",
      environment: "production",
      digest: DIGEST,
      image: IMAGE,
      actor: "octocat",
      startedAt: "2026-11-20T10:00:00.000Z",
      // Commit times keep their instant and are stored in UTC.
      commitTimestamp: "2026-11-20T08:00:00.000Z",
      outcome: "unknown",
      decisions: [],
    });
    expect(r.endedAt).toBeUndefined();
  });

  it("a completed record keeps the run's who and what and adds how it ended, gate numbers included", () => {
    const started = startRecord(run("gh-2-1"), deps());
    const report = {
      result: "rolled back",
      reason: "alarm api-5xx went into ALARM",
      taskDefinitionArn: REV(42),
      previousTaskDefinitionArn: REV(41),
      serviceDeploymentArn: "arn:aws:ecs:eu-west-1:123456789012:service-deployment/main/api/x1",
      decisions: [
        {
          at: "2026-11-20T10:03:00Z",
          gate: "analysis",
          stage: "canary 10%",
          verdict: "fail",
          reason: "no data",
          values: { p99: NaN, errorRate: 0.2, window: { m: 5 } },
        },
      ],
    };
    const done = completeRecord(started, endFromDeploy(report), deps(T0 + 300_000));
    expect(done).toMatchObject({
      runId: "gh-2-1",
      phase: "completed",
      actor: "octocat",
      version: "1.4.2",
      outcome: "rolled back",
      rollbackReason: "alarm api-5xx went into ALARM",
      fromRevision: REV(41),
      toRevision: REV(42),
      endedAt: "2026-11-20T10:05:00.000Z",
      decisions: [{ at: "2026-11-20T10:03:00.000Z", values: { p99: "NaN", errorRate: 0.2, window: '{"m":5}' } }],
    });
    expect(done.recordId).not.toBe(started.recordId);
    expect(endFromDeploy({ ...report, result: "exploded" }).outcome).toBe("unknown");
    expect(endFromDeploy({ ...report, result: "succeeded" }).rollbackReason).toBeUndefined();
    // The deploy core's own report goes straight in (checked by tsc): drift there breaks this line.
    expectTypeOf<DeployReport>().toExtend<DeployLike>();
    // ...and what the trail reads back feeds the delivery metrics as is.
    expectTypeOf<AuditRecord>().toExtend<DeliveryRecord>();
  });

  it("takes the deploy core's decision shape: step kept, [{name, value}] values as a map, repeated names numbered", () => {
    const started = startRecord(run("gh-2-2", { strategy: "linear" }), deps());
    const report = {
      result: "paused",
      reason: "waiting for approval at step 2",
      taskDefinitionArn: REV(42),
      serviceDeploymentArn: "arn:sd/2",
      decisions: [
        {
          at: "2026-11-20T10:02:00.000Z",
          gate: "smoke",
          stage: "PRE_PRODUCTION_TRAFFIC_SHIFT",
          step: 2,
          verdict: "pass",
          reason: "2/2 checks answered 200",
          values: [
            { name: "status", value: 200 },
            { name: "status", value: 200 },
            { name: "latencyMs", value: null },
          ],
        },
      ],
    };
    const done = completeRecord(started, endFromDeploy(report), deps(T0 + 120_000));
    expect(done.outcome).toBe("paused");
    expect(done.decisions).toEqual([
      {
        at: "2026-11-20T10:02:00.000Z",
        gate: "smoke",
        stage: "PRE_PRODUCTION_TRAFFIC_SHIFT",
        step: 2,
        verdict: "pass",
        reason: "2/2 checks answered 200",
        values: { status: 200, "status #2": 200, latencyMs: null },
      },
    ]);
  });

  it("refuses records that break the phase rules, saying which field", () => {
    const started = startRecord(run("gh-3-1"), deps());
    const bad = (over: Record<string, unknown>) => () => parseRecord({ ...started, ...over });
    expect(bad({ outcome: "succeeded" })).toThrow("audit record is invalid: outcome: a started record's outcome is unknown");
    expect(bad({ phase: "completed" })).toThrow("endedAt: required: a completed record has an end time");
    expect(bad({ phase: "correction", reason: "why" })).toThrow("correctionOf: required: the recordId being corrected");
    expect(bad({ phase: "completed", endedAt: "2026-11-20T09:00:00Z" })).toThrow("endedAt: must not be before startedAt");
    expect(bad({ digest: "sha256:abc" })).toThrow('digest: expected an image digest like sha256:<64 hex>, got "sha256:abc"');
    expect(bad({ runId: "has spaces" })).toThrow("runId: expected a run id of letters");
    expect(bad({ kind: "redeploy" })).toThrow("kind: expected one of deploy, rollback, promote, abort");
    expect(bad({ actor: "" })).toThrow("actor: expected a non-empty string");
    expect(bad({ runUrl: "javascript:alert(1)" })).toThrow("runUrl: expected an http(s) URL");
    expect(bad({ secret: "x" })).toThrow("secret: unknown key");
  });

  it("a correction is a new record pointing at the one it supersedes, with who and why", () => {
    const [, completed] = pair("gh-4-1", "2026-11-20T10:00:00Z", "failed");
    const fix = correctionRecord(completed, { outcome: "succeeded" }, { by: "sre", reason: "healthy after all" }, deps(T0 + 86_400_000));
    expect(fix).toMatchObject({
      runId: "gh-4-1",
      phase: "correction",
      outcome: "succeeded",
      correctionOf: completed.recordId,
      endedAt: completed.endedAt,
      reason: "healthy after all (corrected by sre at 2026-11-21T10:00:00.000Z)",
    });
    expect(fix.recordId).not.toBe(completed.recordId);
  });

  it("reads actor, commit and run link from GitHub Actions or GitLab CI", () => {
    expect(
      ciContext({
        GITHUB_ACTOR: "octocat",
        GITHUB_SHA: "ABCDEF1234567",
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "acme/api",
        GITHUB_RUN_ID: "77",
      }),
    ).toEqual({ actor: "octocat", commitSha: "abcdef1234567", runUrl: "https://github.com/acme/api/actions/runs/77" });
    expect(
      ciContext({ GITLAB_USER_LOGIN: "dev", CI_COMMIT_SHA: "abc1234", CI_PIPELINE_URL: "https://gitlab.com/acme/api/-/pipelines/9" }),
    ).toEqual({
      actor: "dev",
      commitSha: "abc1234",
      runUrl: "https://gitlab.com/acme/api/-/pipelines/9",
    });
    expect(ciContext({})).toEqual({});
  });
});

describe("JSON Lines", () => {
  it("round-trips: what is written is what is read, one record per line", async () => {
    const records = [...pair("gh-5-1", "2026-11-20T10:00:00Z", "succeeded"), ...pair("gh-6-1", "2026-11-21T10:00:00Z", "rolled back")];
    const text = serialiseJsonl(records);
    expect(text.split("\n")).toHaveLength(5);
    expect(text.endsWith("\n")).toBe(true);
    expect(parseJsonl(text)).toEqual(records);

    const trail = new JsonlTrail(text);
    const [more] = pair("gh-7-1", "2026-11-22T10:00:00Z", "failed", { environment: "staging" });
    await trail.append(more);
    await trail.append(more); // a retry is not a second line
    expect(parseJsonl(trail.content())).toEqual([...records, more]);
    expect((await trail.read({ environment: "staging" })).map((r) => r.runId)).toEqual(["gh-7-1"]);
    expect((await trail.read({ since: "2026-11-21T00:00:00Z", until: "2026-11-22T00:00:00Z" })).map((r) => r.runId)).toEqual([
      "gh-6-1",
      "gh-6-1",
    ]);
  });

  it("names the line of a bad record or a line that is not JSON", () => {
    const [a, b] = pair("gh-8-1", "2026-11-20T10:00:00Z", "succeeded");
    const good = serialiseJsonl([a]);
    const broken = `${good}\n${JSON.stringify({ ...b, outcome: "great" })}\n`;
    expect(() => parseJsonl(broken, "audit.jsonl")).toThrow(Problem);
    expect(() => parseJsonl(broken, "audit.jsonl")).toThrow(
      'audit.jsonl line 3 is invalid: outcome: expected one of succeeded, rolled back, failed, paused, unknown, got "great"',
    );
    expect(() => parseJsonl(`${good}{"runId": `)).toThrow(/^audit trail line 2 is not JSON: /);
  });
});
