/**
 * A stepped canary run keeps its lock alive with a short heartbeat (lease.ts), stops on a lost
 * lock with the weights back on stable, and honours migration and alarms as the other strategies do.
 */
import type { UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { describe, expect, it } from "vitest";
import type { EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { DEPLOY_LOCK_TAG, decodeLock } from "../../deploy/lib/deploy/lock.js";
import { environmentStatus } from "../../deploy/lib/deploy/status.js";
import type { CanaryGate, SteppedCanaryReport } from "../../deploy/lib/deploy/stepped/canary.js";
import { heartbeatTiming, steppedLockMinutes } from "../../deploy/lib/deploy/stepped/lease.js";
import { STEPPED_TAG } from "../../deploy/lib/deploy/stepped/mark.js";
import { FakeCloudWatch } from "./fake-cloudwatch.js";
import { arnOf, onFakeTime } from "./fake-ecs.js";
import { passingGate, steppedActions, steppedEnv, type SteppedFakes, useSteppedFakes } from "./stepped-fixture.js";

const SERVICE_ARN = arnOf("service/main/api");
let f: SteppedFakes;
let env: EnvironmentConfig;

useSteppedFakes((fakes, e) => {
  f = fakes;
  env = e;
});

const { run, weights, tag, problemOf } = steppedActions(() => ({ f, env }));
const command = { environment: "staging", runId: "gh-cmd" };

describe("the stepped canary's lock", () => {
  it("beats through every pause and gate: the lock is fresh at each gate and never further ahead than one TTL", async () => {
    const { ttlMinutes, everyMs } = heartbeatTiming(env);
    const seen: number[] = [];
    const slowGate: CanaryGate = async () => {
      seen.push(Date.parse(decodeLock(tag(DEPLOY_LOCK_TAG) ?? "")?.expiresAt ?? "") - Date.now());
      await new Promise((resolve) => setTimeout(resolve, 3 * ttlMinutes * 60_000)); // an analysis far longer than the TTL
      seen.push(Date.parse(decodeLock(tag(DEPLOY_LOCK_TAG) ?? "")?.expiresAt ?? "") - Date.now());
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    expect((await onFakeTime(run(slowGate), 5000)).result).toBe("succeeded");
    expect(seen).toHaveLength(8);
    for (const left of seen) {
      expect(left).toBeGreaterThan(ttlMinutes * 60_000 - everyMs - 60_000); // renewed within the last beat (plus the calls' time)
      expect(left).toBeLessThanOrEqual(ttlMinutes * 60_000);
    }
    expect(steppedLockMinutes(env)).toBe(ttlMinutes);
    expect(heartbeatTiming({ pollSeconds: 15 })).toEqual({ ttlMinutes: 5, everyMs: 60_000, retryMs: 15_000 });
    expect(heartbeatTiming({ pollSeconds: 300 }).ttlMinutes).toBe(15); // 3 polls
  });

  it("a run whose lock tag IaC deleted stops: weights back to stable, the canary left to whoever holds the lock", async () => {
    const gate: CanaryGate = async (s) => {
      if (s.weight === 5)
        f.ecs.tags.set(
          SERVICE_ARN,
          (f.ecs.tags.get(SERVICE_ARN) ?? []).filter((t) => t.key !== DEPLOY_LOCK_TAG),
        );
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    const report: SteppedCanaryReport = await onFakeTime(run(gate), 5000);
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(/lost the deploy lock .*the canary service is left to the lock's holder$/);
    expect(weights()).toEqual(["100/0", "95/5", "100/0"]);
    expect(f.ecs.service("api-canary").desiredCount).toBe(2);
    // The next command finds the canary (scaled up, marked) and ends it.
    await onFakeTime(environmentStatus(f.ecs.client, { ...command, config: env, elb: f.elb.client }), 5000);
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
    expect(tag(STEPPED_TAG)).toBeUndefined();
  });
});

describe("migration and alarms in a stepped canary", () => {
  it("runs the migration before the canary service starts, and a failed one changes no traffic", async () => {
    const migrating = steppedEnv(f.rule, { migration: { command: ["npm", "run", "migrate"] } });
    f.ecs.nextTasks({ exitCode: 0 });
    expect((await onFakeTime(run(passingGate(), migrating), 5000)).migration).toMatchObject({ exitCode: 0 });
    const order = f.ecs.calls.map((c) => c.command);
    const canaryUp = f.ecs.calls.findIndex(
      (c) => c.command === "UpdateService" && (c.input as UpdateServiceCommandInput).service?.endsWith("/api-canary"),
    );
    expect(order.indexOf("RunTask")).toBeGreaterThan(-1);
    expect(order.indexOf("RunTask")).toBeLessThan(canaryUp);

    f.ecs.nextTasks({ exitCode: 3 });
    const before = f.elb.count("ModifyRule");
    const p = await problemOf(run(passingGate(), migrating, "gh-2"));
    expect(p.cause_).toMatch(/^the migration \(npm run migrate\) exited with code 3/);
    expect(f.elb.count("ModifyRule")).toBe(before + 1); // the start's stable 100/0 only
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
    expect(tag(STEPPED_TAG)).toBeUndefined();
  });

  it("an alarm in ALARM during a pause fails that step: traffic back to stable, canary down; ECS gets the alarms too", async () => {
    const cw = new FakeCloudWatch();
    cw.setAlarm("api-5xx", "OK");
    const alarmed = steppedEnv(f.rule, { alarms: ["api-5xx"] });
    const gate: CanaryGate = async (s) => {
      if (s.weight === 5) setTimeout(() => cw.setAlarm("api-5xx", "ALARM", "Threshold Crossed: 3 datapoints > 10"), 60_000);
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    const report = await onFakeTime(run(gate, alarmed, "gh-alarm", cw), 5000);
    cw.restore();
    expect(report.result).toBe("rolled back");
    expect(report.reason).toBe("at step 2 (20%): CloudWatch alarm in ALARM: api-5xx (Threshold Crossed: 3 datapoints > 10)");
    expect(weights()).toEqual(["100/0", "95/5", "80/20", "100/0"]);
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
    const canaryUp = f.ecs.inputs<UpdateServiceCommandInput>("UpdateService").find((i) => i.taskDefinition);
    expect(canaryUp?.deploymentConfiguration?.alarms).toEqual({ alarmNames: ["api-5xx"], enable: true, rollback: true });
  });

  it("an alarm that does not exist is said at once, before the canary gets any traffic", async () => {
    const cw = new FakeCloudWatch();
    const report = await onFakeTime(run(passingGate(), steppedEnv(f.rule, { alarms: ["api-5xxx"] }), "gh-typo", cw), 5000);
    cw.restore();
    expect(report.result).toBe("rolled back");
    expect(report.reason).toBe(`CloudWatch has no alarm named "api-5xxx", which this environment's alarms name`);
    expect(weights()).toEqual(["100/0"]);
  });

  it("refuses alarms without a CloudWatch client, and a shared-URL smoke check that cannot see the canary", async () => {
    const p = await problemOf(run(passingGate(), steppedEnv(f.rule, { alarms: ["api-5xx"] })));
    expect(p.cause_).toMatch(/has CloudWatch alarms, but the stepped canary was given no CloudWatch client/);
    const smoke = { baseUrl: "https://api.example.com", checks: [{ name: "health", path: "/healthz" }] };
    const q = await problemOf(run(passingGate(), steppedEnv(f.rule, { smoke })));
    expect(q.cause_).toMatch(/smoke-checks a stepped canary at the shared baseUrl, where most requests reach the stable revision/);
    expect(q.hint).toMatch(/smoke\.testUrl .* or smoke\.testHeader/);
    expect(f.elb.count("ModifyRule")).toBe(0);
  });
});
