/**
 * `rollback` returns to the newest revision that passed Shipshape's checks (the audit trail's
 * verdicts), not to ECS's newest SUCCESSFUL deployment, which may be one whose checks failed.
 * ECS's history is the fallback, read to its last page, and it only reaches 90 days back.
 */
import { DescribeServicesCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { judgedRevisions } from "../../deploy/lib/deploy/last-good.js";
import { rollbackEnvironment } from "../../deploy/lib/deploy/rollback.js";
import { completeRecord, correctionRecord, startRecord } from "../../deploy/lib/trail/builders.js";
import type { AuditRecord } from "../../deploy/lib/trail/record.js";
import { CLUSTER, FakeEcs, SERVICE, arnOf, onFakeTime } from "./fake-ecs.js";

const APP = (n: number) => arnOf(`task-definition/app:${n}`);
let fake: FakeEcs;
const env = EnvironmentsConfigSchema.parse({
  staging: { cluster: "main", service: "api", region: "us-east-1", containerName: "app", progressDeadlineMinutes: 10 },
}).staging as EnvironmentConfig;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-08-01T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

/** Another revision of app, registered as a deploy would. */
async function register(): Promise<void> {
  const td = fake.taskDefinitions.get(APP(1));
  await fake.client.send(new RegisterTaskDefinitionCommand({ family: "app", containerDefinitions: td?.containerDefinitions }));
}

/** ECS rolls `taskDefinition` out (healthy, at once) and calls it SUCCESSFUL. */
async function rolledOut(taskDefinition: string, force = false): Promise<void> {
  fake.nextDeployments({ outcome: "healthy", afterMs: 0 });
  await fake.client.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, taskDefinition, forceNewDeployment: force }));
  vi.setSystemTime(Date.now() + 60_000);
  await fake.client.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [SERVICE] }));
}

function verdict(runId: string, toRevision: string, outcome: "succeeded" | "rolled back", at: number): AuditRecord[] {
  const started = startRecord({ runId, kind: "deploy", environment: "staging", actor: "ci" }, { now: () => at });
  return [started, completeRecord(started, { outcome, toRevision }, { now: () => at + 60_000 })];
}

describe("the audit trail's verdicts", () => {
  it("newest pass first; a correction supersedes the record it points at", () => {
    const t0 = Date.parse("2026-07-01T00:00:00Z");
    const records = [
      ...verdict("r1", APP(1), "succeeded", t0),
      ...verdict("r2", APP(2), "succeeded", t0 + 1e6),
      ...verdict("r3", APP(3), "rolled back", t0 + 2e6),
    ];
    expect(judgedRevisions(records, "staging")).toEqual({ passed: [APP(2), APP(1)], rejected: [APP(3)] });
    const wrong = records[3];
    if (!wrong) throw new Error("no record");
    const fix = correctionRecord(wrong, { outcome: "failed" }, { by: "sre", reason: "app:2 corrupted data" }, { now: () => t0 + 3e6 });
    const after = judgedRevisions([...records, fix], "staging");
    expect(after.passed).toEqual([APP(1)]);
    expect(after.rejected.sort()).toEqual([APP(2), APP(3)]);
    expect(judgedRevisions(records, "production")).toEqual({ passed: [], rejected: [] });
  });
});

describe("rollback", () => {
  it("returns to the last revision that passed Shipshape's checks, not to ECS's newest SUCCESSFUL one (whose checks failed)", async () => {
    await register();
    await register();
    await rolledOut(APP(2)); // passed Shipshape's checks
    await rolledOut(APP(3)); // ECS: SUCCESSFUL; Shipshape: smoke failed, so it redeployed app:2
    await rolledOut(APP(2));
    const t0 = Date.parse("2026-07-01T00:00:00Z");
    const judged = judgedRevisions(
      [
        ...verdict("r1", APP(1), "succeeded", t0),
        ...verdict("r2", APP(2), "succeeded", t0 + 1e6),
        ...verdict("r3", APP(3), "rolled back", t0 + 2e6),
      ],
      "staging",
    );
    const report = await onFakeTime(rollbackEnvironment(fake.client, { environment: "staging", config: env, ...judged, runId: "gh-3-1" }));
    expect(report).toMatchObject({ result: "succeeded", taskDefinitionArn: APP(1), previousTaskDefinitionArn: APP(2) });
    expect(fake.service().taskDefinition).toBe(APP(1));
    expect(report.timeline.map((e) => e.message)).toContain(
      "app:1 is the newest revision that passed Shipshape's checks in staging (audit trail)",
    );
  });

  it("without a trail, reads ECS's history to its last page (never choosing a rejected revision)", async () => {
    await register();
    await rolledOut(APP(2));
    for (let i = 0; i < 120; i++) await rolledOut(APP(2), true); // a secret rotated hourly: 120 redeploys of app:2
    const report = await onFakeTime(rollbackEnvironment(fake.client, { environment: "staging", config: env, runId: "gh-3-2" }));
    expect(report).toMatchObject({ result: "succeeded", taskDefinitionArn: APP(1) });
    expect(fake.count("ListServiceDeployments")).toBe(2); // 122 successful deployments: two pages of 100
  });

  it("ECS forgets after 90 days: then only the trail knows where to go back", async () => {
    await register();
    await rolledOut(APP(2));
    vi.setSystemTime(Date.now() + 91 * 24 * 3600_000);
    await rolledOut(APP(2), true);
    const refused = await onFakeTime(rollbackEnvironment(fake.client, { environment: "staging", config: env, runId: "gh-3-3" }));
    expect(refused.result).toBe("failed");
    expect(refused.reason).toMatch(/no earlier revision to roll back to: .* ECS's history \(90 days\) has no other successful one/);
    expect(fake.service().taskDefinition).toBe(APP(2));
    const report = await onFakeTime(
      rollbackEnvironment(fake.client, { environment: "staging", config: env, passed: [APP(2), APP(1)], runId: "gh-3-4" }),
    );
    expect(report).toMatchObject({ result: "succeeded", taskDefinitionArn: APP(1) });
  });
});
