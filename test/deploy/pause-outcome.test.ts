/**
 * A pause is not a pass unless the config asks for manual promotion, and what ECS does at the
 * pause's timeout (it rolls back, an hour later, with nobody watching) reaches the record: the next
 * status or deploy reports it as a decision, and the paused run's audit record is corrected.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import { HOOK_TAG } from "../../deploy/lib/deploy/hook-mark.js";
import { abandonedCorrection } from "../../deploy/lib/deploy/last-good.js";
import { environmentStatus } from "../../deploy/lib/deploy/status.js";
import { completeRecord, endFromDeploy, startRecord } from "../../deploy/lib/trail/builders.js";
import { ALB_WITH_ADVANCED_CONFIG, FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";

const APP1 = arnOf("task-definition/app:1");
const SERVICE_ARN = arnOf("service/main/api");
let fake: FakeEcs;

const base = {
  cluster: "main",
  service: "api",
  region: "us-east-1",
  containerName: "app",
  bakeTimeMinutes: 2,
  progressDeadlineMinutes: 10,
};
const analysis = {
  metrics: [
    {
      name: "error-rate",
      provider: { prometheus: { address: "http://prom.invalid", query: "x" } },
      successCondition: { op: "<=", threshold: 0.01 },
      interval: "10s",
      count: 2,
    },
  ],
  watchWindow: "20s",
};
const env = EnvironmentsConfigSchema.parse({
  staging: { ...base, strategy: "canary", canary: { percent: 10, bakeMinutes: 1 }, analysis, pauseTimeoutMinutes: 30 },
}).staging as EnvironmentConfig;
const noData: CheckDeps = { providerFor: () => ({ measure: async () => [] }) };
const request = (runId: string, deps: CheckDeps = noData): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId,
  onPause: progressiveGate(env, deps),
});

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService({ loadBalancers: [ALB_WITH_ADVANCED_CONFIG] });
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

describe("a pause the config did not ask for", () => {
  it("fails the deploy (promotion: auto), saying ECS rolls back at the hook's timeout unless someone decides", async () => {
    const report = await onFakeTime(deploy(fake.client, request("gh-5-1")));
    expect(report.result).toBe("failed");
    expect(report.pause).toMatchObject({ stage: "PRE_PRODUCTION_TRAFFIC_SHIFT", step: 2 });
    expect(report.reason).toMatch(
      /promotion is auto, so a pause is not a pass: promote or abort it before 2026-11-20T.*Z, when ECS rolls it back/,
    );
  });

  it("the timeout's outcome: status reports it as a decision, removes the hook, and the paused run's record is corrected", async () => {
    const paused = await onFakeTime(deploy(fake.client, request("gh-5-1")));
    vi.setSystemTime(Date.now() + 45 * 60_000); // nobody promoted: ECS applied ROLLBACK at the 30-minute timeout
    const status = await onFakeTime(environmentStatus(fake.client, { environment: "staging", config: env, runId: "gh-5-2" }));
    expect(fake.service().taskDefinition).toBe(APP1);
    expect(status.recovered?.abandoned).toMatchObject({ runId: "gh-5-1", outcome: "rolled back" });
    expect(status.recovered?.decisions).toEqual([expect.objectContaining({ gate: "hook-timeout", verdict: "timed out" })]);
    expect(status.lines.join("\n")).toMatch(/hook-timeout timed out: run gh-5-1's PAUSE hook .* ECS applied ROLLBACK/);
    expect(fake.tags.get(SERVICE_ARN)?.some((t) => t.key === HOOK_TAG)).toBe(false);
    expect(fake.service().deploymentConfiguration?.lifecycleHooks ?? []).toEqual([]);

    // The paused run's trail: started, then completed "failed" (paused); the correction says ECS rolled it back.
    const started = startRecord({ runId: "gh-5-1", kind: "deploy", environment: "staging", actor: "ci" });
    const completed = completeRecord(started, endFromDeploy(paused));
    const abandoned = status.recovered?.abandoned;
    if (!abandoned) throw new Error("no abandoned run");
    const fix = abandonedCorrection([started, completed], abandoned, "gh-5-2");
    expect(fix).toMatchObject({ phase: "correction", correctionOf: completed.recordId, outcome: "rolled back", runId: "gh-5-1" });
    expect(fix?.reason).toMatch(/^run gh-5-1 ended without finishing; found by run gh-5-2: ECS reports the deployment ROLLBACK_SUCCESSFUL/);
    expect(abandonedCorrection([started, completed, ...(fix ? [fix] : [])], abandoned, "gh-5-3")).toBeUndefined();
  });
});
