import { ECSClient } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { deploy, type DeployRequest } from "../../deploy/lib/deploy/deploy.js";
import { DEPLOY_LOCK_TAG, encodeLock } from "../../deploy/lib/deploy/lock.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { FakeEcs, IMAGE, arnOf, onFakeTime } from "./fake-ecs.js";

const SERVICE_ARN = arnOf("service/main/api");
const APP1 = arnOf("task-definition/app:1");
let fake: FakeEcs;

const envs = EnvironmentsConfigSchema.parse({
  staging: { cluster: "main", service: "api", region: "us-east-1", containerName: "app", progressDeadlineMinutes: 10 },
  production: { cluster: "main", service: "api", region: "us-east-1", containerName: "app" },
});
const staging = envs.staging as EnvironmentConfig;
const withMigration: EnvironmentConfig = { ...staging, migration: { command: ["npm", "run", "migrate"], timeoutMinutes: 5 } };
const request = (overrides: Partial<DeployRequest> = {}): DeployRequest => ({
  environment: "staging",
  config: staging,
  image: IMAGE,
  runId: "gh-1-1",
  ...overrides,
});

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-11-20T09:00:00Z") });
  fake = new FakeEcs();
  fake.addService();
  vi.setSystemTime(new Date("2026-11-20T10:00:00Z"));
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

async function problemOf(p: Promise<unknown>): Promise<Problem> {
  const e = await onFakeTime(p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof Problem) return e;
  throw new Error(`expected a Problem, got ${String(e)}`);
}

const lockHeld = () => fake.tags.get(SERVICE_ARN)?.some((t) => t.key === DEPLOY_LOCK_TAG) ?? false;
const commands = () => fake.calls.map((c) => c.command);

describe("deploy", () => {
  it("rolls out with a migration first and reports the timeline", async () => {
    const report = await onFakeTime(deploy(fake.client, request({ config: withMigration })));
    expect(report).toMatchObject({
      result: "succeeded",
      taskDefinitionArn: arnOf("task-definition/app:2"),
      previousTaskDefinitionArn: APP1,
      migration: { exitCode: 0 },
    });
    const order = commands();
    expect(order.indexOf("RegisterTaskDefinition")).toBeLessThan(order.indexOf("RunTask"));
    expect(order.lastIndexOf("DescribeTasks")).toBeLessThan(order.indexOf("UpdateService"));
    expect(report.timeline.map((e) => e.message)).toEqual(
      expect.arrayContaining(["registered app:2 (from app:1)", "migration started: npm run migrate", "service update started (rolling)"]),
    );
    expect(lockHeld()).toBe(false);
  });

  it("refuses an image without a digest before any AWS call", async () => {
    const p = await problemOf(deploy(fake.client, request({ image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.4.0" })));
    expect(p.hint).toMatch(/deploy by digest/);
    expect(fake.calls).toEqual([]);
  });

  it("refuses an unapproved production deploy and a client for another region, before any AWS call", async () => {
    const prod = await problemOf(deploy(fake.client, request({ environment: "production", config: envs.production as EnvironmentConfig })));
    expect(prod.cause_).toBe("deploying to production needs approval");
    const elsewhere = new ECSClient({ region: "eu-west-1" });
    const region = await problemOf(deploy(elsewhere, request()));
    expect(region.cause_).toBe("environment staging is in us-east-1, but the ECS client calls eu-west-1");
    expect(fake.calls).toEqual([]);
  });

  it("leaves the service untouched and frees the lock when the migration exits 1", async () => {
    fake.nextTasks({ exitCode: 1 });
    const p = await problemOf(deploy(fake.client, request({ config: withMigration })));
    expect(p.cause_).toMatch(/exited with code 1/);
    expect(fake.count("UpdateService")).toBe(0);
    expect(fake.service().taskDefinition).toBe(APP1);
    expect(lockHeld()).toBe(false);
  });

  it("stops a migration that outlives its timeout, leaves the service untouched, frees the lock", async () => {
    fake.nextTasks({ runMs: Infinity });
    const p = await problemOf(deploy(fake.client, request({ config: withMigration })));
    expect(p.cause_).toMatch(/did not finish within 5 minutes; Shipshape stopped it/);
    expect(fake.count("StopTask")).toBe(1);
    expect(fake.count("UpdateService")).toBe(0);
    expect(lockHeld()).toBe(false);
  });

  it("reports a circuit-breaker rollback as 'rolled back', not success", async () => {
    fake.nextDeployments({ outcome: "unhealthy" });
    const report = await onFakeTime(deploy(fake.client, request()));
    expect(report.result).toBe("rolled back");
    expect(report.reason).toMatch(/^circuit breaker tripped/);
    expect(lockHeld()).toBe(false);
  });

  it("refuses while another live run holds the environment, before registering anything", async () => {
    fake.setTag(
      SERVICE_ARN,
      DEPLOY_LOCK_TAG,
      encodeLock({ runId: "gh-0-1", startedAt: "2026-11-20T09:50:00.000Z", expiresAt: "2026-11-20T11:00:00.000Z" }),
    );
    const p = await problemOf(deploy(fake.client, request()));
    expect(p.cause_).toMatch(/^another deploy \(run gh-0-1/);
    expect(fake.count("RegisterTaskDefinition")).toBe(0);
  });

  it("takes over a stale lock and says so", async () => {
    fake.setTag(
      SERVICE_ARN,
      DEPLOY_LOCK_TAG,
      encodeLock({ runId: "gh-0-1", startedAt: "2026-11-20T08:00:00.000Z", expiresAt: "2026-11-20T09:00:00.000Z" }),
    );
    const report = await onFakeTime(deploy(fake.client, request()));
    expect(report.tookOverLock?.runId).toBe("gh-0-1");
    expect(report.result).toBe("succeeded");
  });

  it("frees the lock when the configured container is missing, having registered nothing", async () => {
    const p = await problemOf(deploy(fake.client, request({ config: { ...staging, containerName: "web" } })));
    expect(p.cause_).toBe('task definition app:1 has no container named "web" (it has: app, log-router)');
    expect(fake.count("RegisterTaskDefinition")).toBe(0);
    expect(lockHeld()).toBe(false);
  });

  it("turns a missing service into one line, and a denied update into the permission to add", async () => {
    const missing = await problemOf(deploy(fake.client, request({ config: { ...staging, service: "payments" } })));
    expect(missing.cause_).toBe("service payments not found in cluster main (us-east-1)");
    fake.deny("UpdateService");
    const denied = await problemOf(deploy(fake.client, request()));
    expect(denied.cause_).toMatch(/^the AWS role lacks ecs:UpdateService/);
    expect(lockHeld()).toBe(false);
  });
});
