/**
 * One deployment at a time per environment, held in a tag on the ECS service itself: no table to
 * provision, and whoever can deploy can see the lock in the console. Tags have no conditional
 * write, so taking the lock is write-then-read-back; two runs racing within the same second can
 * still both pass, which the circuit breaker and the watcher's revision check then make visible.
 *
 * The value is `runId=<id> startedAt=<iso> expiresAt=<iso>`, not JSON: ECS tag values only allow
 * letters, digits, spaces and _ . : / = + - @ (API_Tag pattern), so braces and quotes are refused.
 */
import { ListTagsForResourceCommand, TagResourceCommand, UntagResourceCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";
import { ecsOf, send, type Ecs, type EcsOptions } from "./aws.js";

export const DEPLOY_LOCK_TAG = "shipshape:deploy-lock";

export interface LockInfo {
  runId: string;
  startedAt: string;
  expiresAt: string;
}

export interface DeployLock extends LockInfo {
  serviceArn: string;
  /** The stale lock this run took over, if any (a crashed run's). */
  tookOver?: LockInfo;
}

export interface LockOptions {
  /** The service's long ARN (…:service/<cluster>/<service>); short ARNs cannot be tagged. */
  serviceArn: string;
  runId: string;
  /** How long the lock protects this run; past it another run may take over. Cover the whole deploy. */
  ttlMinutes: number;
  /**
   * Take the lock even from a live run (an `abort` of a stepped canary): that run finds its lock
   * gone at its next heartbeat (renewDeployLock) and stops shifting traffic.
   */
  force?: boolean;
}

const RUN_ID = /^[A-Za-z0-9_.:/+@-]{1,64}$/;
const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z`;
const VALUE = new RegExp(`^runId=(\\S+) startedAt=(${ISO}) expiresAt=(${ISO})$`);

export const encodeLock = (l: LockInfo): string => `runId=${l.runId} startedAt=${l.startedAt} expiresAt=${l.expiresAt}`;

export function decodeLock(value: string): LockInfo | undefined {
  const m = VALUE.exec(value);
  return m ? { runId: m[1] ?? "", startedAt: m[2] ?? "", expiresAt: m[3] ?? "" } : undefined;
}

/** Another run holds the environment: a refusal that callers (abort) can tell apart from other failures. */
export class LockHeld extends Problem {
  constructor(
    readonly holder: LockInfo,
    serviceArn: string,
  ) {
    super(
      `another deploy (run ${holder.runId}, started ${holder.startedAt}) holds this environment until ${holder.expiresAt}`,
      `wait for it to finish; if that run died, its lock expires then, or remove it: ${removeByHand(serviceArn)}`,
    );
  }
}

const removeByHand = (arn: string) => `aws ecs untag-resource --resource-arn ${arn} --tag-keys ${DEPLOY_LOCK_TAG}`;

async function readLock(ecs: Ecs, serviceArn: string): Promise<{ raw?: string; lock?: LockInfo }> {
  const out = await send(ecs, "ecs:ListTagsForResource", () =>
    ecs.client.send(new ListTagsForResourceCommand({ resourceArn: serviceArn })),
  );
  const raw = out.tags?.find((t) => t.key === DEPLOY_LOCK_TAG)?.value;
  return raw === undefined ? {} : { raw, lock: decodeLock(raw) };
}

function checkArguments(o: LockOptions): void {
  if (!RUN_ID.test(o.runId)) {
    throw new Problem(`the run id "${o.runId.slice(0, 80)}" cannot go in an ECS tag`, "use 1-64 letters, digits and _ . : / + - @");
  }
  // arn:aws:ecs:<region>:<account>:service/<cluster>/<name>; the old form has no cluster segment.
  if (!/:service\/[^/]+\/[^/]+$/.test(o.serviceArn)) {
    throw new Problem(
      `service ARN ${o.serviceArn} is in the old short format, which ECS cannot tag`,
      "migrate the service to the long ARN format (see 'Migrate an Amazon ECS short service ARN to a long ARN')",
    );
  }
}

export async function acquireDeployLock(client: ECSClient, o: LockOptions, opts?: EcsOptions): Promise<DeployLock> {
  checkArguments(o);
  const ecs = ecsOf(client, opts);
  const held = await readLock(ecs, o.serviceArn);
  const now = ecs.clock.now();
  if (held.raw !== undefined && !held.lock) {
    throw new Problem(
      `the deploy lock tag on ${o.serviceArn} is unreadable: "${held.raw.slice(0, 80)}"`,
      `remove it: ${removeByHand(o.serviceArn)}`,
    );
  }
  const other = held.lock && held.lock.runId !== o.runId ? held.lock : undefined;
  if (other && Date.parse(other.expiresAt) > now && !o.force) throw new LockHeld(other, o.serviceArn);
  const mine: LockInfo = {
    runId: o.runId,
    startedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + o.ttlMinutes * 60_000).toISOString(),
  };
  await send(ecs, "ecs:TagResource", () =>
    client.send(new TagResourceCommand({ resourceArn: o.serviceArn, tags: [{ key: DEPLOY_LOCK_TAG, value: encodeLock(mine) }] })),
  );
  // No compare-and-swap on tags: read back to catch a run that wrote between our read and write.
  const after = await readLock(ecs, o.serviceArn);
  if (after.lock?.runId !== o.runId) {
    throw new Problem(
      `another deploy (run ${after.lock?.runId ?? "?"}) took the lock on this environment at the same moment`,
      "let that run finish, then deploy again",
    );
  }
  return { ...mine, serviceArn: o.serviceArn, ...(other ? { tookOver: other } : {}) };
}

/**
 * Before each step that changes the service: is the lock still ours? Tags have no compare-and-swap
 * and IaC tools with authoritative tags delete tags they did not write, so the lock can vanish
 * under a live run. Vanished: written again (and read back), and said so. Another run's: a
 * Problem, and the caller stops changing anything (a paused hook then times out into ROLLBACK).
 */
export async function ensureDeployLock(client: ECSClient, lock: DeployLock, opts?: EcsOptions): Promise<string | undefined> {
  const ecs = ecsOf(client, opts);
  const held = await readLock(ecs, lock.serviceArn);
  if (held.lock?.runId === lock.runId) return undefined;
  if (held.raw === undefined) {
    const mine: LockInfo = { runId: lock.runId, startedAt: lock.startedAt, expiresAt: lock.expiresAt };
    await send(ecs, "ecs:TagResource", () =>
      client.send(new TagResourceCommand({ resourceArn: lock.serviceArn, tags: [{ key: DEPLOY_LOCK_TAG, value: encodeLock(mine) }] })),
    );
    const after = await readLock(ecs, lock.serviceArn);
    if (after.lock?.runId === lock.runId)
      return `the lock tag had been removed (by IaC or by hand) while run ${lock.runId} held it; taken again`;
  }
  const other = (await readLock(ecs, lock.serviceArn)).lock;
  throw new Problem(
    `run ${lock.runId} lost the deploy lock${other ? ` to run ${other.runId}` : ""}: another run may be changing this environment, so this one stops changing it`,
    "let the other run finish; then check what serves (dagger call shipshape-deploy environment --name=<env> status) and deploy again",
  );
}

/**
 * The heartbeat of a long run (a stepped canary): the lock must still be ours, exactly as we wrote
 * it, and its expiry moves to `ttlMinutes` from now. Unlike ensureDeployLock, a vanished tag is
 * not written again: while it was gone another run may have taken and released the environment
 * (an abort does), so a lost lock is a Problem and the caller stops shifting traffic.
 */
export async function renewDeployLock(client: ECSClient, lock: DeployLock, ttlMinutes: number, opts?: EcsOptions): Promise<void> {
  const ecs = ecsOf(client, opts);
  const held = await readLock(ecs, lock.serviceArn);
  const lost = (who?: LockInfo) =>
    new Problem(
      `run ${lock.runId} lost the deploy lock (${who ? `run ${who.runId} holds it` : "the tag was removed, by IaC, by hand or by an abort"}): it stops shifting traffic`,
      "check what serves (dagger call shipshape-deploy environment --name=<env> status), then deploy again",
    );
  if (held.lock?.runId !== lock.runId || held.lock.startedAt !== lock.startedAt) throw lost(held.lock);
  const renewed: LockInfo = {
    runId: lock.runId,
    startedAt: lock.startedAt,
    expiresAt: new Date(ecs.clock.now() + ttlMinutes * 60_000).toISOString(),
  };
  await send(ecs, "ecs:TagResource", () =>
    client.send(new TagResourceCommand({ resourceArn: lock.serviceArn, tags: [{ key: DEPLOY_LOCK_TAG, value: encodeLock(renewed) }] })),
  );
  const after = await readLock(ecs, lock.serviceArn);
  if (after.lock?.runId !== lock.runId) throw lost(after.lock);
  lock.expiresAt = renewed.expiresAt;
}

/** Read-only: the lock is still this run's, as written (right after a weight change: did an abort take it meanwhile?). */
export async function checkDeployLock(client: ECSClient, lock: DeployLock, opts?: EcsOptions): Promise<void> {
  const held = await readLock(ecsOf(client, opts), lock.serviceArn);
  if (held.lock?.runId === lock.runId && held.lock.startedAt === lock.startedAt) return;
  throw new Problem(
    `run ${lock.runId} lost the deploy lock (${held.lock ? `run ${held.lock.runId} holds it` : "the tag was removed, by IaC, by hand or by an abort"}): it stops shifting traffic`,
    "check what serves (dagger call shipshape-deploy environment --name=<env> status), then deploy again",
  );
}

/** Removes the tag only while it is still ours: a run that outlived its lock must not free another's. */
export async function releaseDeployLock(client: ECSClient, lock: DeployLock, opts?: EcsOptions): Promise<void> {
  const ecs = ecsOf(client, opts);
  const held = await readLock(ecs, lock.serviceArn);
  if (held.lock?.runId !== lock.runId) return;
  await send(ecs, "ecs:UntagResource", () =>
    client.send(new UntagResourceCommand({ resourceArn: lock.serviceArn, tagKeys: [DEPLOY_LOCK_TAG] })),
  );
}

/**
 * Runs `fn` holding the lock and releases it in `finally`. A failed release never hides `fn`'s own
 * error (the lock expires anyway); after a success it is reported, since it blocks the next deploy.
 */
export async function withDeployLock<T>(
  client: ECSClient,
  o: LockOptions,
  fn: (lock: DeployLock) => Promise<T>,
  opts?: EcsOptions,
): Promise<T> {
  const lock = await acquireDeployLock(client, o, opts);
  let failed = false;
  try {
    return await fn(lock);
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    await releaseDeployLock(client, lock, opts).catch((e: unknown) => {
      if (failed) return;
      const cause = e instanceof Problem ? e.cause_ : String(e);
      throw new Problem(
        `the deploy finished but its lock could not be released: ${cause}`,
        `it expires at ${lock.expiresAt}; or ${removeByHand(o.serviceArn)}`,
      );
    });
  }
}
