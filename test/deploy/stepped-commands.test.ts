/**
 * Every command knows a stepped canary in flight: status reports it (and ends a dead run's),
 * abort ends a live one by taking its lock, promote refuses, rollback and the next deploy end it
 * first. The run's own lock and its migration and alarms: stepped-safety.test.ts.
 */
import { describe, expect, it, vi } from "vitest";
import type { EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { DEPLOY_LOCK_TAG } from "../../deploy/lib/deploy/lock.js";
import { abortDeployment, promoteDeployment } from "../../deploy/lib/deploy/promote.js";
import { rollbackEnvironment } from "../../deploy/lib/deploy/rollback.js";
import { environmentStatus } from "../../deploy/lib/deploy/status.js";
import type { CanaryGate } from "../../deploy/lib/deploy/stepped/canary.js";
import { steppedLockMinutes } from "../../deploy/lib/deploy/stepped/lease.js";
import { STEPPED_TAG } from "../../deploy/lib/deploy/stepped/mark.js";
import { arnOf, onFakeTime } from "./fake-ecs.js";
import { passingGate, type SteppedFakes, steppedActions, useSteppedFakes } from "./stepped-fixture.js";

const APP = (n: number) => arnOf(`task-definition/app:${n}`);
let f: SteppedFakes;
let env: EnvironmentConfig;

useSteppedFakes((fakes, e) => {
  f = fakes;
  env = e;
});

const { run, weights, tag, problemOf } = steppedActions(() => ({ f, env }));
const command = { environment: "staging", runId: "gh-cmd" };

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
    vi.setSystemTime(Date.now() + steppedLockMinutes(env) * 60_000);
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
    expect(p.hint).toMatch(/^to stop it, abort it \(dagger call shipshape-deploy environment --name=staging abort\)/);
    await deadAt20();
    vi.setSystemTime(Date.now() + steppedLockMinutes(env) * 60_000);
    const report = await onFakeTime(promoteDeployment(f.ecs.client, { ...command, config: env, elb: f.elb.client }), 5000);
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(/^nothing to promote: run gh-dead ended without finishing with app:2 unjudged at canary 20%/);
    expect(weights().at(-1)).toBe("100/0");
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
  });

  it("rollback after a dead run ends its canary first and counts that as the rollback", async () => {
    await deadAt20();
    vi.setSystemTime(Date.now() + steppedLockMinutes(env) * 60_000);
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

  it("the next deploy ends a dead run's canary before it starts, and records it as a decision", async () => {
    await deadAt20();
    vi.setSystemTime(Date.now() + steppedLockMinutes(env) * 60_000);
    const report = await onFakeTime(run(passingGate(), env, "gh-next"), 5000);
    expect(report.result).toBe("succeeded");
    expect(report.recovered).toMatchObject([{ gate: "recovery", verdict: "aborted", step: 2 }]);
    expect(report.abandoned).toMatchObject({ runId: "gh-dead", outcome: "rolled back" });
    // Stable first (the reset), then a clean canary of its own: app:3, never above the dead run's 20% unjudged.
    expect(weights()).toEqual(["100/0", "95/5", "80/20", "100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
    expect(f.ecs.service().taskDefinition).toBe(APP(3));
  });

  it("status with nothing in flight says so, and changes nothing", async () => {
    const { lines } = await onFakeTime(environmentStatus(f.ecs.client, { ...command, config: env, elb: f.elb.client }), 5000);
    expect(lines).toContain("no stepped canary in flight");
    expect(lines).toContain("canary service api-canary: 0 running / 0 desired on app-canary:1");
    expect(f.elb.count("ModifyRule") + f.ecs.count("UpdateService")).toBe(0);
  });

  it("refuses an ELB-less command for a stepped environment instead of ignoring the weights", async () => {
    const p = await problemOf(environmentStatus(f.ecs.client, { ...command, config: env }));
    expect(p.cause_).toMatch(/deploys with a stepped canary, whose weights live on the load balancer, but no ELB client was given/);
  });
});
