/**
 * The tag lock under the ways it breaks: IaC deletes the tag mid-run (taken again, said so),
 * another run overwrites it (this run stops changing anything: no CONTINUE), promote and rollback
 * respect it, and a migration task left running by a cancelled run blocks the next one and is named.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { progressiveGate, type CheckDeps } from "../../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import type { OnPause } from "../../deploy/lib/deploy/hooks.js";
import { DEPLOY_LOCK_TAG, encodeLock, LockHeld } from "../../deploy/lib/deploy/lock.js";
import { promoteDeployment } from "../../deploy/lib/deploy/promote.js";
import { rollbackEnvironment } from "../../deploy/lib/deploy/rollback.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";

const SERVICE_ARN = arnOf("service/main/api");
let fake: FakeEcs;
const envOf = (settings: Record<string, unknown> = {}): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({
    staging: {
      cluster: "main",
      service: "api",
      region: "us-east-1",
      containerName: "app",
      progressDeadlineMinutes: 10,
      analysis: {
        metrics: [
          {
            name: "error-rate",
            provider: { prometheus: { address: "http://prom.invalid", query: "x" } },
            successCondition: { op: "<=", threshold: 0.01 },
            interval: "10s",
            count: 2,
          },
        ],
        watchWindow: "1m",
      },
      ...settings,
    },
  }).staging as EnvironmentConfig;
const ok: CheckDeps = { providerFor: () => ({ measure: async () => [0] }) };
const request = (env: EnvironmentConfig, onPause: OnPause, runId = "gh-8-1"): DeployRequest => ({
  environment: "staging",
  config: env,
  image: IMAGE,
  runId,
  onPause,
});
/** The gate, with something happening to the lock while it judges. */
const meanwhile =
  (env: EnvironmentConfig, act: () => void): OnPause =>
  async (p) => {
    act();
    return progressiveGate(env, ok)(p);
  };
const lockTag = () => fake.tags.get(SERVICE_ARN)?.find((t) => t.key === DEPLOY_LOCK_TAG)?.value;

async function failure(p: Promise<unknown>): Promise<Problem> {
  const e = await onFakeTime(p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof Problem) return e;
  throw new Error(`expected a Problem, got ${String(e)}`);
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

describe("the lock under change", () => {
  it("IaC deletes the tag while the checks run: taken again before the CONTINUE, and the timeline says so", async () => {
    const env = envOf();
    const deleteTag = () =>
      fake.tags.set(
        SERVICE_ARN,
        (fake.tags.get(SERVICE_ARN) ?? []).filter((t) => t.key !== DEPLOY_LOCK_TAG),
      );
    const report = await onFakeTime(deploy(fake.client, request(env, meanwhile(env, deleteTag))));
    expect(report.result).toBe("succeeded");
    expect(report.timeline.map((e) => e.message)).toContain(
      "the lock tag had been removed (by IaC or by hand) while run gh-8-1 held it; taken again",
    );
  });

  it("another run takes the tag while the checks run: this run stops, sends no CONTINUE, and leaves the hook to time out into ROLLBACK", async () => {
    const env = envOf();
    const steal = () =>
      fake.setTag(
        SERVICE_ARN,
        DEPLOY_LOCK_TAG,
        encodeLock({ runId: "gh-8-9", startedAt: "2026-11-20T10:01:00Z", expiresAt: "2026-11-20T14:00:00Z" }),
      );
    const p = await failure(deploy(fake.client, request(env, meanwhile(env, steal))));
    expect(p.cause_).toMatch(/^run gh-8-1 lost the deploy lock to run gh-8-9/);
    expect(fake.count("ContinueServiceDeployment")).toBe(0);
    expect(lockTag()).toMatch(/^runId=gh-8-9 /); // not released: it is not ours
  });

  it("promote and rollback take the lock: refused while a live run holds it", async () => {
    const env = envOf();
    fake.setTag(
      SERVICE_ARN,
      DEPLOY_LOCK_TAG,
      encodeLock({ runId: "gh-8-9", startedAt: "2026-11-20T09:59:00Z", expiresAt: "2026-11-20T14:00:00Z" }),
    );
    for (const call of [
      () => promoteDeployment(fake.client, { environment: "staging", config: env, runId: "gh-8-2" }),
      () => rollbackEnvironment(fake.client, { environment: "staging", config: env, runId: "gh-8-3" }),
    ]) {
      const p = await failure(call());
      expect(p).toBeInstanceOf(LockHeld);
      expect(p.cause_).toMatch(/^another deploy \(run gh-8-9, started .*\) holds this environment until 2026-11-20T14:00:00Z$/);
    }
    expect(fake.count("UpdateService") + fake.count("ContinueServiceDeployment")).toBe(0);
  });
});

describe("one migration at a time", () => {
  const withMigration = () => envOf({ migration: { command: ["npm", "run", "migrate"], timeoutMinutes: 5 } });

  it("a cancelled run's migration task still running blocks the next migration, and is named", async () => {
    fake.nextTasks({ runMs: Infinity });
    const env = withMigration();
    const dying = deploy(fake.client, request(env, progressiveGate(env, ok)));
    dying.catch(() => undefined); // abandoned: its calls fail once it is dead
    await vi.advanceTimersByTimeAsync(60_000);
    fake.crashAfter(1); // the job is cancelled while its migration runs; the task does not stop with it
    await vi.advanceTimersByTimeAsync(60_000);
    fake.revive();
    vi.setSystemTime(Date.now() + 3 * 3600_000); // the dead run's lock expires; its task still runs
    const p = await failure(deploy(fake.client, request(env, progressiveGate(env, ok), "gh-8-2")));
    expect(p.cause_).toMatch(
      /^a migration task of shipshape\/gh-8-1 is still running \(task \w+, RUNNING since .*\); a second migration now could corrupt the schema$/,
    );
    expect(fake.count("RunTask")).toBe(1);
    expect(fake.count("UpdateService")).toBe(0);
  });

  it("a cancelled run's migration that finished meanwhile is reported by the next deploy (ECS lists stopped tasks for an hour)", async () => {
    fake.nextTasks({ runMs: 5 * 60_000, exitCode: 0 });
    const env = { ...withMigration(), pauseTimeoutMinutes: 5 }; // lock: 5 + 2 × 10 + 5 + 10 = 40 minutes
    const dying = deploy(fake.client, request(env, progressiveGate(env, ok)));
    dying.catch(() => undefined); // abandoned: its calls fail once it is dead
    await vi.advanceTimersByTimeAsync(60_000);
    fake.crashAfter(1);
    await vi.advanceTimersByTimeAsync(60_000);
    fake.revive();
    vi.setSystemTime(Date.now() + 40 * 60_000); // past the dead run's lock; its task stopped half an hour ago
    const report = await onFakeTime(deploy(fake.client, request(env, progressiveGate(env, ok), "gh-8-2")));
    expect(report.result).toBe("succeeded");
    expect(report.timeline.map((e) => e.message).join("\n")).toMatch(/run gh-8-1's migration task \w+ stopped \(exit code 0: /);
  });
});
