/**
 * Every command knows a stepped canary in flight: status reports it (and ends a dead run's),
 * abort ends a live one by taking its lock, promote refuses, rollback ends it first. The run
 * itself keeps its lock alive (and shrinking), stops on a lost lock, and honours migration and
 * alarms.
 */
import type { UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EnvironmentConfig } from "../../src/deploy/config.js";
import { DEPLOY_LOCK_TAG, decodeLock } from "../../src/deploy/lock.js";
import { abortDeployment, promoteDeployment } from "../../src/deploy/promote.js";
import { rollbackEnvironment } from "../../src/deploy/rollback.js";
import { environmentStatus } from "../../src/deploy/status.js";
import { steppedCanaryDeploy, type CanaryGate, type SteppedCanaryReport } from "../../src/deploy/stepped/canary.js";
import { remainingMinutes, steppedLockMinutes } from "../../src/deploy/stepped/lease.js";
import { STEPPED_TAG } from "../../src/deploy/stepped/mark.js";
import { Problem } from "../../src/project/problem.js";
import { FakeCloudWatch } from "./fake-cloudwatch.js";
import { IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";
import { CANARY, STABLE, passingGate, steppedEnv, steppedFakes, type SteppedFakes } from "./stepped-fixture.js";

const APP = (n: number) => arnOf(`task-definition/app:${n}`);
const SERVICE_ARN = arnOf("service/main/api");
let f: SteppedFakes;
let env: EnvironmentConfig;

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  f = steppedFakes();
  env = steppedEnv(f.rule);
});
afterEach(() => {
  f.ecs.restore();
  f.elb.restore();
  vi.useRealTimers();
});

const run = (gate: CanaryGate = passingGate(), e = env, runId = "gh-run", cloudwatch?: FakeCloudWatch) =>
  steppedCanaryDeploy(
    { ecs: f.ecs.client, elb: f.elb.client, ...(cloudwatch ? { cloudwatch: cloudwatch.client } : {}) },
    { environment: "staging", config: e, canary: e.steppedCanary!, image: IMAGE, runId },
    gate,
  );
const command = { environment: "staging", runId: "gh-cmd" };
const weights = () => f.elb.history(f.rule, STABLE, CANARY);
const tag = (key: string) => f.ecs.tags.get(SERVICE_ARN)?.find((t) => t.key === key)?.value;
const problemOf = async (p: Promise<unknown>) => {
  const e = await onFakeTime(p, 5000).then(
    () => undefined,
    (x: unknown) => x,
  );
  if (e instanceof Problem) return e;
  throw new Error(`expected a Problem, got ${String(e)}`);
};

/** A run killed while the canary holds 20%: the process dies, AWS keeps what it had. */
async function deadAt20(): Promise<void> {
  const gate: CanaryGate = async (s) => {
    if (s.weight === 20) f.ecs.crashAfter(1);
    return { action: "CONTINUE", reason: "ok", values: {} };
  };
  await onFakeTime(
    run(gate, env, "gh-dead").catch(() => undefined),
    5000,
  );
  f.ecs.revive();
  expect(f.elb.weightsOf(f.rule).map((w) => w.weight)).toEqual([80, 20]);
}

describe("a stepped canary in flight, seen by every command", () => {
  it("status of a live run only reads: mode, weights, canary revision and how long", async () => {
    let lines: string[] = [];
    const gate: CanaryGate = async (s) => {
      if (s.weight === 20) lines = (await environmentStatus(f.ecs.client, { ...command, config: env, elb: f.elb.client })).lines;
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    expect((await onFakeTime(run(gate), 5000)).result).toBe("succeeded");
    expect(lines).toContain(`mode: stepped canary (ALB weights on listener rule ${f.rule})`);
    expect(lines).toContain("weights: stable 80% / canary 20%");
    expect(lines).toContain("canary service api-canary: 2 running / 2 desired on app:2");
    expect(lines.find((l) => l.startsWith("stepped canary in flight"))).toMatch(
      /^stepped canary in flight: run gh-run, app:2, for \d+ min \(since /,
    );
    expect(lines.find((l) => l.startsWith("run gh-run is deploying"))).toBeDefined();
    expect(weights()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
  });

  it("status after a run died at 20% puts traffic back on stable first, then scales the canary to 0, and says so", async () => {
    await deadAt20();
    vi.setSystemTime(Date.now() + steppedLockMinutes(env, env.steppedCanary!) * 60_000);
    const status = await onFakeTime(environmentStatus(f.ecs.client, { ...command, config: env, elb: f.elb.client }), 5000);
    expect(weights().at(-1)).toBe("100/0");
    expect(f.elb.journal.at(-2)).toBe("elb:ModifyRule api-stable=100 api-canary=0");
    expect(f.elb.journal.at(-1)).toBe("ecs:UpdateService api-canary desired=0");
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
    expect(tag(STEPPED_TAG)).toBeUndefined();
    expect(status.lines).toContain("weights: stable 100% / canary 0%");
    expect(status.stepped?.decisions).toMatchObject([
      {
        gate: "recovery",
        verdict: "aborted",
        step: 2,
        reason: expect.stringMatching(/^run gh-dead ended without finishing with app:2 unjudged at canary 20%/),
      },
    ]);
    expect(status.stepped?.abandoned).toMatchObject({ runId: "gh-dead", outcome: "rolled back" });
  });

  it("abort ends a live run's canary at once: it takes the lock, and the run stops at its next lock check", async () => {
    let aborted: Awaited<ReturnType<typeof abortDeployment>> | undefined;
    const gate: CanaryGate = async (s) => {
      if (s.weight === 20) aborted = await abortDeployment(f.ecs.client, { ...command, config: env, elb: f.elb.client });
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    const report = await onFakeTime(run(gate), 5000);
    expect(aborted).toMatchObject({
      result: "rolled back",
      strategy: "stepped-canary",
      reason: "aborted by hand at canary 20% (app:2): weights back to stable 100% / canary 0%, canary service at 0; app:1 serves",
    });
    expect(aborted?.decisions).toMatchObject([{ gate: "approval", verdict: "aborted", step: 2 }]);
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(
      /^run gh-run lost the deploy lock \(the tag was removed, by IaC, by hand or by an abort\): it stops shifting traffic; the weights are back on stable/,
    );
    // Never above 20% after the abort; the run wrote nothing but stable again.
    expect(weights()).toEqual(["100/0", "95/5", "80/20", "100/0"]);
    expect(f.ecs.service().taskDefinition).toBe(APP(1));
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
    expect(tag(STEPPED_TAG)).toBeUndefined();
    expect(tag(DEPLOY_LOCK_TAG)).toBeUndefined();
  });

  it("abort with nothing in flight refuses with a cause and a hint, changing nothing", async () => {
    const p = await problemOf(abortDeployment(f.ecs.client, { ...command, config: env, elb: f.elb.client }));
    expect(p.cause_).toBe(
      "nothing to abort: no stepped canary is in flight in staging (weights stable 100% / canary 0%, canary service at 0)",
    );
    expect(p.hint).toMatch(/^use rollback/);
    expect(f.elb.count("ModifyRule")).toBe(0);
  });

  it("promote refuses in one line with a hint, and after a dead run still ends its canary and records it", async () => {
    const p = await problemOf(promoteDeployment(f.ecs.client, { ...command, config: env, elb: f.elb.client }));
    expect(p.cause_).toBe(
      "staging deploys with a stepped canary, which has no pause to promote: each step is judged, and the main service promoted, by the deploy run itself",
    );
    expect(p.hint).toMatch(/^to stop it, abort it \(dagger call environment --name=staging abort\)/);
    await deadAt20();
    vi.setSystemTime(Date.now() + steppedLockMinutes(env, env.steppedCanary!) * 60_000);
    const report = await onFakeTime(promoteDeployment(f.ecs.client, { ...command, config: env, elb: f.elb.client }), 5000);
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(/^nothing to promote: run gh-dead ended without finishing with app:2 unjudged at canary 20%/);
    expect(weights().at(-1)).toBe("100/0");
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
  });

  it("rollback after a dead run ends its canary first and counts that as the rollback", async () => {
    await deadAt20();
    vi.setSystemTime(Date.now() + steppedLockMinutes(env, env.steppedCanary!) * 60_000);
    const report = await onFakeTime(rollbackEnvironment(f.ecs.client, { ...command, config: env, elb: f.elb.client }), 5000);
    expect(report).toMatchObject({
      result: "succeeded",
      strategy: "stepped-canary",
      abandoned: { runId: "gh-dead", outcome: "rolled back" },
    });
    expect(report.reason).toMatch(/^staging is back on app:1: run gh-dead ended without finishing/);
    expect(f.ecs.count("RegisterTaskDefinition")).toBe(1); // the dead run's only
    expect(weights().at(-1)).toBe("100/0");
  });

  it("refuses an ELB-less command for a stepped environment instead of ignoring the weights", async () => {
    const p = await problemOf(environmentStatus(f.ecs.client, { ...command, config: env }));
    expect(p.cause_).toMatch(/deploys with a stepped canary, whose weights live on the load balancer, but no ELB client was given/);
  });
});

describe("the stepped canary's lock", () => {
  it("is alive at every gate, and its expiry shrinks to what is left of the run", async () => {
    const seen: { step: number; left: number; expires: number }[] = [];
    const gate: CanaryGate = async (s) => {
      const lock = decodeLock(tag(DEPLOY_LOCK_TAG) ?? "");
      seen.push({
        step: s.step,
        left: remainingMinutes(env, env.steppedCanary!, s.step),
        expires: Date.parse(lock?.expiresAt ?? "") - Date.now(),
      });
      return { action: "CONTINUE", reason: "ok", values: {} };
    };
    expect((await onFakeTime(run(gate), 5000)).result).toBe("succeeded");
    for (const s of seen) {
      expect(s.expires, `step ${s.step}`).toBeGreaterThan(0);
      expect(s.expires, `step ${s.step}`).toBeLessThanOrEqual(s.left * 60_000);
    }
    expect(seen.map((s) => s.expires)).toEqual([...seen.map((s) => s.expires)].sort((a, b) => b - a));
    expect(steppedLockMinutes(env, env.steppedCanary!)).toBe(remainingMinutes(env, env.steppedCanary!, 0));
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
