/**
 * The heartbeat of a stepped canary's lock. The ECS-native strategies have a server-side safety
 * net (a PAUSE hook's timeout rolls back without us); a stepped canary has none (ALB never resets
 * weights on its own), so the lock is what lets the next command, or the scheduled `monitor`,
 * find a dead run's canary and put traffic back on stable. It must not lapse while the run lives,
 * and must lapse soon after the run died:
 *
 * - The TTL is short: max(5 min, 3 poll intervals) (heartbeatTiming). A dead run's lock lapses
 *   within one TTL of its last beat, however long the honest rest of the run would have been.
 * - The live run beats every poll interval (at most once a minute) in the background, whatever it
 *   is doing (a step's pause, a gate's analysis, a service update), and renews once more right
 *   before every weight change, so it never shifts traffic on a lock about to lapse.
 * - An AWS error while renewing is not proof the lock is lost: the renewal is retried within the
 *   TTL. If it cannot succeed before the lock would lapse (one beat before expiry, to leave time
 *   to act), the run puts the weights back on stable (onFail) and stops: LeaseLapsing.
 * - A renewal that finds the lock gone (another run took it, IaC or a person removed the tag, an
 *   `abort` forced it) throws LostLock at once: weights back on stable, the canary service left to
 *   whoever holds the lock now.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { Problem, describeError } from "../../../src/project/problem.js";
import { ecsOf, type EcsOptions } from "../aws.js";
import type { EnvironmentConfig } from "../config.js";
import { checkDeployLock, renewDeployLock, type DeployLock } from "../lock.js";

/** The floor of the TTL: a few minutes of AWS trouble (throttling, a slow tag write) must not end a live run. */
export const MIN_HEARTBEAT_TTL_MINUTES = 5;
/** Missed polls the TTL tolerates. */
const POLLS_PER_TTL = 3;

export interface HeartbeatTiming {
  /** The lock's TTL from each renewal. */
  ttlMinutes: number;
  /** Between background renewals: the poll interval, at most once a minute. */
  everyMs: number;
  /** Between retries of a failed renewal. */
  retryMs: number;
}

/** Derived from the environment's poll interval: pollSeconds 15 → TTL 5 min, a beat every minute. */
export function heartbeatTiming(env: Pick<EnvironmentConfig, "pollSeconds">): HeartbeatTiming {
  const pollMs = env.pollSeconds * 1000;
  const ttlMinutes = Math.max(MIN_HEARTBEAT_TTL_MINUTES, Math.ceil((POLLS_PER_TTL * pollMs) / 60_000));
  const everyMs = Math.min(Math.max(pollMs, 60_000), (ttlMinutes * 60_000) / POLLS_PER_TTL);
  return { ttlMinutes, everyMs, retryMs: Math.max(1000, Math.round(everyMs / 4)) };
}

/** The lock of a stepped canary run (and of the commands that end one): the heartbeat's TTL. */
export const steppedLockMinutes = (env: Pick<EnvironmentConfig, "pollSeconds">): number => heartbeatTiming(env).ttlMinutes;

/** The lock is gone: the run stops shifting traffic; what runs on the canary service is the new holder's business. */
export class LostLock extends Problem {}

/** The lock could not be renewed before it lapses (AWS errors, not another holder): weights back on stable, the run stops. */
export class LeaseLapsing extends LostLock {}

const isLost = (cause: string) => /lost the deploy lock/.test(cause);

export class Lease {
  readonly timing: HeartbeatTiming;
  /** Why the lease ended under the run (LostLock or LeaseLapsing); every later renewal or check throws it. */
  failure: LostLock | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly client: ECSClient,
    readonly lock: DeployLock,
    env: Pick<EnvironmentConfig, "pollSeconds">,
    private readonly opts?: EcsOptions,
  ) {
    this.timing = heartbeatTiming(env);
  }

  private get clock() {
    return ecsOf(this.client, this.opts).clock;
  }

  /** Renews now (before a weight change), retrying AWS errors within the TTL; LostLock or LeaseLapsing when it cannot. */
  renew(): Promise<void> {
    const next = this.chain.then(() => this.renewWithin());
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Read-only: LostLock when the lock is no longer this run's (or the heartbeat already gave up). */
  async check(): Promise<void> {
    this.assertAlive();
    try {
      await checkDeployLock(this.client, this.lock, this.opts);
    } catch (e) {
      const { cause, hint } = describeError(e);
      // Only a lock seen in someone else's hands (or gone) is lost; an AWS error while reading is not proof of that.
      if (isLost(cause)) throw this.fail(new LostLock(cause, hint));
      throw e;
    }
  }

  /** Throws the heartbeat's failure, if it had one: the run's cheap check at every poll. */
  assertAlive(): void {
    if (this.failure) throw this.failure;
  }

  /** Beats in the background until stop(); onFail runs once if the lease ends under the run (puts the weights back). */
  start(onFail?: (why: LostLock) => Promise<unknown>): void {
    if (this.beating) return;
    this.beating = (async () => {
      while (!this.stopped && !this.failure) {
        await this.clock.sleep(this.timing.everyMs);
        if (this.stopped || this.failure) return; // a failure the run's own renewal met is the run's to handle
        const failed = await this.renew().then(
          () => false,
          () => this.failure !== undefined,
        );
        // The run may be deep in a gate's analysis: the weights go back now, it stops at its next check.
        if (failed && !this.stopped && onFail) await onFail(this.failure ?? new LostLock("lease ended", "")).catch(() => undefined);
      }
    })();
  }

  /** Ends the heartbeat; waits for a renewal in progress, so nothing writes the tag after the lock is released. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }

  private fail(why: LostLock): LostLock {
    this.failure ??= why;
    return this.failure;
  }

  private async renewWithin(): Promise<void> {
    this.assertAlive();
    // Give up one beat before expiry: the run still holds the lock while it puts the weights back.
    const giveUpAt = Date.parse(this.lock.expiresAt) - this.timing.everyMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await renewDeployLock(this.client, this.lock, this.timing.ttlMinutes, this.opts);
        return;
      } catch (e) {
        const { cause, hint } = describeError(e);
        if (isLost(cause)) throw this.fail(new LostLock(cause, hint));
        if (this.stopped) throw e;
        if (this.clock.now() + this.timing.retryMs > giveUpAt)
          throw this.fail(
            new LeaseLapsing(
              `run ${this.lock.runId} could not renew its deploy lock before it lapses at ${this.lock.expiresAt} (${attempt} attempts; last: ${cause}): it put the weights back on stable and stopped`,
              "check the role's ecs:TagResource and ecs:ListTagsForResource permissions and AWS health, then deploy again",
            ),
          );
        await this.clock.sleep(this.timing.retryMs);
      }
    }
  }
}
