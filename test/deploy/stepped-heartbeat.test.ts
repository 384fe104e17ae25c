/**
 * The stepped canary's heartbeat lease (lease.ts) on fake time: a run killed at 20% is ended by
 * `status` or the monitor's sweep once its short TTL has passed, not before, and never while a
 * live run keeps beating; AWS trouble while renewing is retried within the TTL, and a lock that
 * cannot be renewed in time sends the weights back to stable before it lapses.
 */
import type { TagResourceCommandInput } from "@aws-sdk/client-ecs";
import { describe, expect, it, vi } from "vitest";
import type { EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { lockMinutes } from "../../deploy/lib/deploy/deploy.js";
import { DEPLOY_LOCK_TAG, decodeLock } from "../../deploy/lib/deploy/lock.js";
import { environmentStatus } from "../../deploy/lib/deploy/status.js";
import { steppedCanaryDeploy, type CanaryGate } from "../../deploy/lib/deploy/stepped/canary.js";
import { sweepStepped, type SteppedSweep } from "../../deploy/lib/deploy/stepped/commands.js";
import { heartbeatTiming } from "../../deploy/lib/deploy/stepped/lease.js";
import { STEPPED_TAG } from "../../deploy/lib/deploy/stepped/mark.js";
import { IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";
import { CANARY, STABLE, type SteppedFakes, useSteppedFakes } from "./stepped-fixture.js";

const SERVICE_ARN = arnOf("service/main/api");
let f: SteppedFakes;
let env: EnvironmentConfig;

useSteppedFakes((fakes, e) => {
  f = fakes;
  env = e;
});

const run = (gate: CanaryGate, runId = "gh-run") =>
  steppedCanaryDeploy(
    { ecs: f.ecs.client, elb: f.elb.client },
    { environment: "staging", config: env, canary: env.steppedCanary!, image: IMAGE, runId },
    gate,
  );
const weights = () => f.elb.history(f.rule, STABLE, CANARY);
const tag = (key: string) => f.ecs.tags.get(SERVICE_ARN)?.find((t) => t.key === key)?.value;
const lockExpiry = () => Date.parse(decodeLock(tag(DEPLOY_LOCK_TAG) ?? "")?.expiresAt ?? "");
const status = (runId: string) =>
  onFakeTime(environmentStatus(f.ecs.client, { environment: "staging", runId, config: env, elb: f.elb.client }), 5000);
const sweep = (runId: string): Promise<SteppedSweep> =>
  onFakeTime(
    sweepStepped({ ecs: f.ecs.client, elb: f.elb.client }, { environment: "staging", config: env, runId }, env.steppedCanary!),
    5000,
  );
const ok = { action: "CONTINUE" as const, reason: "ok", values: {} };

/** The process dies while the canary holds 20%: no call reaches AWS from then on. Returns when it died. */
async function killedAt20(): Promise<number> {
  let died = NaN;
  const gate: CanaryGate = async (s) => {
    if (s.weight === 20) {
      died = Date.now();
      f.ecs.crashAfter(1);
    }
    return ok;
  };
  await onFakeTime(
    run(gate, "gh-dead").catch(() => undefined),
    5000,
  );
  f.ecs.revive();
  expect(f.elb.weightsOf(f.rule).map((w) => w.weight)).toEqual([80, 20]);
  return died;
}

describe("a stepped canary run killed at 20%", () => {
  it("keeps its share at most one heartbeat TTL: status leaves it before the lock lapses and ends it after", async () => {
    const died = await killedAt20();
    const { ttlMinutes } = heartbeatTiming(env);
    const expires = lockExpiry();
    expect(expires - died).toBeLessThanOrEqual(ttlMinutes * 60_000); // minutes, not the rest of the run
    expect(expires).toBeGreaterThan(Date.now());

    vi.setSystemTime(expires - 1000);
    const early = await status("gh-early");
    expect(early.lines.find((l) => l.startsWith("run gh-dead is deploying"))).toBeDefined();
    expect(f.elb.weightsOf(f.rule).map((w) => w.weight)).toEqual([80, 20]);

    vi.setSystemTime(expires + 1000);
    const late = await status("gh-late");
    expect(weights().at(-1)).toBe("100/0");
    expect(f.ecs.service("api-canary").desiredCount).toBe(0);
    expect(tag(STEPPED_TAG)).toBeUndefined();
    expect(late.stepped?.decisions[0]?.reason).toMatch(/^run gh-dead ended without finishing with app:2 unjudged at canary 20%/);
  });

  it("is ended by a status that holds the lock as a run does: on the short TTL, so a status that dies keeps others out one TTL at most", async () => {
    const { ttlMinutes } = heartbeatTiming(env);
    expect(lockMinutes(env)).toBeGreaterThan(ttlMinutes); // a deploy's long TTL would tell apart
    await killedAt20();
    vi.setSystemTime(lockExpiry() + 1000);
    await status("gh-late");
    const [taken] = f.ecs
      .inputs<TagResourceCommandInput>("TagResource")
      .flatMap((i) => i.tags ?? [])
      .filter((t) => t.key === DEPLOY_LOCK_TAG)
      .map((t) => decodeLock(t.value ?? ""))
      .filter((l) => l?.runId === "gh-late");
    expect(taken).toBeDefined();
    expect(Date.parse(taken!.expiresAt) - Date.parse(taken!.startedAt)).toBeLessThanOrEqual(ttlMinutes * 60_000);
    expect(tag(DEPLOY_LOCK_TAG)).toBeUndefined(); // released when it finished
  });

  it("is ended by the monitor's sweep once the TTL passed, with a record; before that the sweep only reports the live lock", async () => {
    await killedAt20();
    const expires = lockExpiry();
    vi.setSystemTime(expires - 1000);
    expect(await sweep("gh-monitor")).toEqual({ live: expect.objectContaining({ runId: "gh-dead" }) as unknown });
    expect(f.elb.weightsOf(f.rule).map((w) => w.weight)).toEqual([80, 20]);

    vi.setSystemTime(expires + 1000);
    const ended = (await sweep("gh-monitor")).ended;
    expect(ended?.result).toBe("rolled back");
    expect(ended?.reason).toMatch(
      /^run gh-dead ended without finishing with app:2 unjudged at canary 20%: weights back to stable .*; app:1 serves$/,
    );
    expect(ended?.decisions).toMatchObject([{ gate: "recovery", verdict: "aborted", step: 2 }]);
    expect(f.elb.journal.slice(-2)).toEqual(["elb:ModifyRule api-stable=100 api-canary=0", "ecs:UpdateService api-canary desired=0"]);
    expect(tag(STEPPED_TAG)).toBeUndefined();
    expect(tag(DEPLOY_LOCK_TAG)).toBeUndefined();
    expect(await sweep("gh-monitor-2")).toEqual({}); // nothing in flight any more
  });
});

describe("a live run's heartbeat", () => {
  it("keeps the lock through a gate far longer than the TTL: status and the sweep leave the canary alone", async () => {
    const { ttlMinutes } = heartbeatTiming(env);
    let seen: SteppedSweep | undefined;
    let lines: string[] = [];
    const gate: CanaryGate = async (s) => {
      if (s.weight !== 20) return ok;
      await new Promise((resolve) => setTimeout(resolve, 2 * ttlMinutes * 60_000)); // only the heartbeat renews meanwhile
      seen = await sweepStepped(
        { ecs: f.ecs.client, elb: f.elb.client },
        { environment: "staging", config: env, runId: "gh-monitor" },
        env.steppedCanary!,
      );
      lines = (await environmentStatus(f.ecs.client, { environment: "staging", runId: "gh-status", config: env, elb: f.elb.client })).lines;
      return ok;
    };
    const report = await onFakeTime(run(gate), 5000);
    expect(report.result, report.reason).toBe("succeeded");
    expect(seen?.live?.runId).toBe("gh-run");
    expect(seen?.ended).toBeUndefined();
    expect(lines.find((l) => l.startsWith("run gh-run is deploying"))).toBeDefined();
    expect(weights()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
  });

  it("rides out throttling: a renewal that fails several times and then succeeds keeps the run going", async () => {
    let throttledFrom = -1;
    const gate: CanaryGate = async (s) => {
      if (s.weight === 5) {
        throttledFrom = f.ecs.count("TagResource");
        f.ecs.throttle("TagResource", 8); // more than one call's own retries (5): the lease retries the renewal
      }
      return ok;
    };
    const report = await onFakeTime(run(gate), 5000);
    expect(report.result, report.reason).toBe("succeeded");
    expect(f.ecs.count("TagResource") - throttledFrom).toBeGreaterThan(8);
    expect(weights()).toEqual(["100/0", "95/5", "80/20", "50/50", "0/100", "100/0"]);
  });

  it("that cannot renew before the lock lapses puts the weights back on stable first, and stops with one clear line", async () => {
    let failingFrom = NaN;
    let expiresAt = NaN;
    const gate: CanaryGate = async (s) => {
      if (s.weight === 5) {
        failingFrom = Date.now();
        expiresAt = lockExpiry();
        f.ecs.throttle("TagResource", 10_000);
      }
      return ok;
    };
    const report = await onFakeTime(run(gate), 5000);
    expect(report.result).toBe("failed");
    expect(report.reason).toMatch(
      /^run gh-run could not renew its deploy lock before it lapses at \S+ \(\d+ attempts; last: ECS kept failing ecs:TagResource \(ThrottlingException\) after 5 attempts\): it put the weights back on stable and stopped; the canary service is left for the next command \(or the scheduled monitor\) to end once the lock lapses$/,
    );
    expect(weights()).toEqual(["100/0", "95/5", "100/0"]); // never 80/20 on a lock it could not renew
    const back = f.elb.weightChanges.at(-1)?.at ?? NaN;
    expect(back).toBeGreaterThan(failingFrom);
    expect(back).toBeLessThan(expiresAt); // before anyone else could take the lock
  });
});
