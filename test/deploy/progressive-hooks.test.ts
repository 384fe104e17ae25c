import type { DeploymentLifecycleHook } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import {
  foreignPauseAt,
  gateStageOf,
  gateStages,
  stepAt,
  stepCount,
  strategyMinutes,
  withGateHooks,
  type GateStage,
  type HookMark,
} from "../../deploy/lib/deploy/hooks.js";
import { hooksPerDeployment } from "../../deploy/lib/deploy/progressive.js";

const base = { cluster: "main", service: "api", region: "us-east-1", containerName: "app" };
const envOf = (settings: Record<string, unknown>): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({ staging: { ...base, ...settings } }).staging as EnvironmentConfig;
const smoke = { baseUrl: "https://api.example.com", checks: [{ name: "h", path: "/h" }] };
const analysis = {
  metrics: [{ name: "m", provider: { prometheus: { address: "http://p:9090", query: "q" } }, successCondition: { op: "<", threshold: 1 } }],
};
const lambda: DeploymentLifecycleHook = {
  targetType: "AWS_LAMBDA",
  hookTargetArn: "arn:aws:lambda:us-east-1:1:function:f",
  lifecycleStages: ["POST_SCALE_UP"],
};

describe("gateStages", () => {
  it("pauses only where there is something to decide, never at the two stages PAUSE may not use", () => {
    // Rolling judges after its traffic moved, inside a hook whose timeout rolls back if Shipshape dies.
    expect(gateStages(envOf({ smoke, analysis }))).toEqual(["POST_PRODUCTION_TRAFFIC_SHIFT"]);
    expect(gateStages(envOf({}))).toEqual([]); // rolling, nothing to check
    expect(gateStages(envOf({ strategy: "blue-green" }))).toEqual([]);
    expect(gateStages(envOf({ strategy: "blue-green", smoke }))).toEqual(["POST_PRODUCTION_TRAFFIC_SHIFT"]);
    expect(gateStages(envOf({ strategy: "blue-green", smoke: { ...smoke, testUrl: "https://t.example.com" } }))).toEqual([
      "POST_TEST_TRAFFIC_SHIFT",
      "POST_PRODUCTION_TRAFFIC_SHIFT",
    ]);
    expect(gateStages(envOf({ strategy: "canary", analysis }))).toEqual(["PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"]);
    expect(gateStages(envOf({ strategy: "blue-green", promotion: "manual" }))).toEqual(["POST_TEST_TRAFFIC_SHIFT"]);
    expect(gateStages(envOf({ strategy: "linear", promotion: "manual" }))).toEqual(["PRE_PRODUCTION_TRAFFIC_SHIFT"]);
  });

  it("counts every linear step's hook for the lock's lifetime", () => {
    expect(hooksPerDeployment(envOf({ strategy: "linear", linear: { stepPercent: 25 }, analysis }))).toBe(5);
    expect(hooksPerDeployment(envOf({ strategy: "blue-green" }))).toBe(0);
  });
});

describe("withGateHooks", () => {
  const ours = (stages: string[], minutes = 60) => ({
    targetType: "PAUSE",
    lifecycleStages: stages,
    timeoutConfiguration: { timeoutInMinutes: minutes, action: "ROLLBACK" },
  });
  const mark = (stages: GateStage[], timeoutMinutes = 60): HookMark => ({ runId: "r1", stages, timeoutMinutes, paused: false });

  it("keeps the user's hooks, drops the hook the mark names as ours, and adds this deployment's (no hookDetails: ECS drops it on PAUSE hooks)", () => {
    const once = withGateHooks([lambda], undefined, { stages: ["POST_TEST_TRAFFIC_SHIFT"], timeoutMinutes: 30 });
    expect(once).toEqual([lambda, ours(["POST_TEST_TRAFFIC_SHIFT"], 30)]);
    const next = withGateHooks(once, mark(["POST_TEST_TRAFFIC_SHIFT"], 30), {
      stages: ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
      timeoutMinutes: 60,
    });
    expect(next).toEqual([lambda, ours(["PRE_PRODUCTION_TRAFFIC_SHIFT"])]);
    expect(withGateHooks(once, mark(["POST_TEST_TRAFFIC_SHIFT"], 30))).toEqual([lambda]);
  });

  it("recognises ours only by the mark's exact stages and timeout: without a mark, or with another timeout, the hook is not ours", () => {
    const once = withGateHooks([], undefined, { stages: ["POST_TEST_TRAFFIC_SHIFT"], timeoutMinutes: 30 });
    expect(withGateHooks(once, undefined)).toEqual(once);
    expect(withGateHooks(once, mark(["POST_TEST_TRAFFIC_SHIFT"], 60))).toEqual(once);
    expect(withGateHooks(once, mark(["POST_TEST_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"], 30))).toEqual(once);
  });

  it("finds a PAUSE hook at one of our stages that the mark does not name as ours", () => {
    const theirs: DeploymentLifecycleHook = { targetType: "PAUSE", lifecycleStages: ["PRE_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT"] };
    expect(foreignPauseAt([lambda, theirs], ["POST_TEST_TRAFFIC_SHIFT"])).toBe("POST_TEST_TRAFFIC_SHIFT");
    expect(foreignPauseAt([lambda, theirs], ["POST_PRODUCTION_TRAFFIC_SHIFT"])).toBeUndefined();
    const added = withGateHooks([], undefined, { stages: ["POST_TEST_TRAFFIC_SHIFT"], timeoutMinutes: 60 });
    expect(foreignPauseAt(added, ["POST_TEST_TRAFFIC_SHIFT"], mark(["POST_TEST_TRAFFIC_SHIFT"]))).toBeUndefined();
    expect(foreignPauseAt(added, ["POST_TEST_TRAFFIC_SHIFT"])).toBe("POST_TEST_TRAFFIC_SHIFT");
  });
});

describe("reading a pause", () => {
  it("maps the reported lifecycle stage to the gate, PRODUCTION_TRAFFIC_SHIFT included (the SDK enum lacks PRE_PRODUCTION)", () => {
    expect(gateStageOf("POST_TEST_TRAFFIC_SHIFT")).toBe("POST_TEST_TRAFFIC_SHIFT");
    expect(gateStageOf("PRE_PRODUCTION_TRAFFIC_SHIFT")).toBe("PRE_PRODUCTION_TRAFFIC_SHIFT");
    expect(gateStageOf("PRODUCTION_TRAFFIC_SHIFT")).toBe("PRE_PRODUCTION_TRAFFIC_SHIFT");
    expect(gateStageOf("POST_PRODUCTION_TRAFFIC_SHIFT")).toBe("POST_PRODUCTION_TRAFFIC_SHIFT");
    expect(gateStageOf("BAKE_TIME")).toBeUndefined();
  });

  it("numbers steps from the traffic already shifted", () => {
    const linear = envOf({ strategy: "linear", linear: { stepPercent: 12.5 } });
    expect(stepCount(linear)).toBe(8);
    expect([0, 12.5, 25, 87.5].map((w) => stepAt(linear, w))).toEqual([1, 2, 3, 8]);
    expect(stepCount(envOf({ strategy: "linear", linear: { stepPercent: 33.3 } }))).toBe(4);
    const canary = envOf({ strategy: "canary" });
    expect([stepCount(canary), stepAt(canary, 0), stepAt(canary, 5)]).toEqual([2, 1, 2]);
  });

  it("adds the strategy's own bake times to the deadline", () => {
    expect(strategyMinutes(envOf({}))).toBe(0);
    expect(strategyMinutes(envOf({ strategy: "blue-green", bakeTimeMinutes: 5 }))).toBe(5);
    expect(strategyMinutes(envOf({ strategy: "canary", bakeTimeMinutes: 5, canary: { bakeMinutes: 7 } }))).toBe(12);
    expect(strategyMinutes(envOf({ strategy: "linear", bakeTimeMinutes: 5, linear: { stepPercent: 25, stepBakeMinutes: 3 } }))).toBe(14);
  });
});
