import { ListTagsForResourceCommand, TagResourceCommand } from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DEPLOY_LOCK_TAG,
  acquireDeployLock,
  decodeLock,
  encodeLock,
  releaseDeployLock,
  withDeployLock,
} from "../../deploy/lib/deploy/lock.js";
import { FakeEcs, arnOf } from "./fake-ecs.js";

const T0 = new Date("2026-11-20T10:00:00Z");
const SERVICE_ARN = arnOf("service/main/api");
const lockArgs = { serviceArn: SERVICE_ARN, runId: "gh-1234-1", ttlMinutes: 45 };
let fake: FakeEcs;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  fake = new FakeEcs();
  fake.addService();
});
afterEach(() => {
  fake.restore();
  vi.useRealTimers();
});

const lockTag = () => fake.tags.get(SERVICE_ARN)?.find((t) => t.key === DEPLOY_LOCK_TAG)?.value;
const other = (expiresAt: string) => encodeLock({ runId: "gh-999-1", startedAt: "2026-11-20T09:00:00.000Z", expiresAt });

describe("deploy lock", () => {
  it("is a service tag with runId, startedAt and expiresAt, released by its owner", async () => {
    const lock = await acquireDeployLock(fake.client, lockArgs);
    expect(lockTag()).toBe("runId=gh-1234-1 startedAt=2026-11-20T10:00:00.000Z expiresAt=2026-11-20T10:45:00.000Z");
    expect(decodeLock(lockTag() ?? "")).toEqual({ runId: "gh-1234-1", startedAt: lock.startedAt, expiresAt: lock.expiresAt });
    await releaseDeployLock(fake.client, lock);
    expect(lockTag()).toBeUndefined();
  });

  it("uses a value ECS accepts: tag values allow no JSON braces or quotes", async () => {
    const json = JSON.stringify({ runId: "x", startedAt: T0.toISOString(), expiresAt: T0.toISOString() });
    await expect(
      fake.client.send(new TagResourceCommand({ resourceArn: SERVICE_ARN, tags: [{ key: DEPLOY_LOCK_TAG, value: json }] })),
    ).rejects.toThrow(/invalid key or value/);
  });

  it("refuses while another live run holds it, and says until when", async () => {
    fake.setTag(SERVICE_ARN, DEPLOY_LOCK_TAG, other("2026-11-20T10:30:00.000Z"));
    await expect(acquireDeployLock(fake.client, lockArgs)).rejects.toThrow(
      "another deploy (run gh-999-1, started 2026-11-20T09:00:00.000Z) holds this environment until 2026-11-20T10:30:00.000Z",
    );
    expect(fake.count("TagResource")).toBe(0);
  });

  it("takes over a stale lock: a crashed run cannot hold the environment forever", async () => {
    fake.setTag(SERVICE_ARN, DEPLOY_LOCK_TAG, other("2026-11-20T09:59:59.000Z"));
    const lock = await acquireDeployLock(fake.client, lockArgs);
    expect(lock.tookOver?.runId).toBe("gh-999-1");
    expect(decodeLock(lockTag() ?? "")?.runId).toBe("gh-1234-1");
  });

  it("is released after the guarded work fails, and the work's error is the one thrown", async () => {
    await expect(
      withDeployLock(fake.client, lockArgs, async () => {
        expect(lockTag()).toMatch(/^runId=gh-1234-1 /);
        throw new Error("rollout exploded");
      }),
    ).rejects.toThrow("rollout exploded");
    expect(lockTag()).toBeUndefined();
  });

  it("does not free a lock another run took over after ours expired", async () => {
    const lock = await acquireDeployLock(fake.client, lockArgs);
    fake.setTag(SERVICE_ARN, DEPLOY_LOCK_TAG, other("2026-11-20T12:00:00.000Z"));
    await releaseDeployLock(fake.client, lock);
    expect(decodeLock(lockTag() ?? "")?.runId).toBe("gh-999-1");
  });

  it("notices a run that wrote its lock between our write and read-back", async () => {
    fake.afterCall.set("TagResource", () => fake.setTag(SERVICE_ARN, DEPLOY_LOCK_TAG, other("2026-11-20T11:00:00.000Z")));
    await expect(acquireDeployLock(fake.client, lockArgs)).rejects.toThrow(/another deploy \(run gh-999-1\) took the lock/);
  });

  it("reports a failed release after a successful deploy, since it would block the next one", async () => {
    fake.deny("UntagResource");
    await expect(withDeployLock(fake.client, lockArgs, async () => "ok")).rejects.toThrow(
      /the deploy finished but its lock could not be released: the AWS role lacks ecs:UntagResource/,
    );
  });

  it("refuses what ECS cannot tag or parse, with the way out", async () => {
    await expect(acquireDeployLock(fake.client, { ...lockArgs, serviceArn: arnOf("service/api") })).rejects.toThrow(/old short format/);
    await expect(acquireDeployLock(fake.client, { ...lockArgs, runId: "run {1}" })).rejects.toThrow(/cannot go in an ECS tag/);
    fake.setTag(SERVICE_ARN, DEPLOY_LOCK_TAG, "garbage");
    await expect(acquireDeployLock(fake.client, lockArgs)).rejects.toThrow(/unreadable.*aws ecs untag-resource/s);
    const tags = await fake.client.send(new ListTagsForResourceCommand({ resourceArn: SERVICE_ARN }));
    expect(tags.tags).toEqual([{ key: DEPLOY_LOCK_TAG, value: "garbage" }]);
  });
});
