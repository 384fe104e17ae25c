/**
 * How long a stepped canary may honestly hold the environment, and the heartbeat that keeps its
 * lock. The ECS-native strategies have a server-side safety net (a PAUSE hook's timeout rolls back
 * without us); a stepped canary has none, so the lock must not lapse while the run is alive, and
 * must lapse soon after it died, so the next command can put traffic back on stable.
 *
 * - The first TTL covers the whole run: migration, canary service up and healthy, every step's
 *   pause and gate, promotion and the stable group's health, each at its own timeout.
 * - Before each weight change (and after it) the lock is renewed to cover what is left from there:
 *   the expiry shrinks as the run advances, so a run that died at 20% is recoverable once the
 *   remaining honest time has passed, not the whole run's.
 * - A renewal that finds the lock gone (another run took it, IaC or a person removed the tag, an
 *   `abort` forced it) throws LostLock: the run puts the weights back on stable and leaves the
 *   canary service to whoever holds the lock now.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { Problem, describeError } from "../../project/problem.js";
import type { EcsOptions } from "../aws.js";
import type { EnvironmentConfig } from "../config.js";
import { checkDeployLock, renewDeployLock, type DeployLock } from "../lock.js";
import type { SteppedCanaryConfig } from "./config.js";

const minutesOf = (ms: number) => Math.ceil(ms / 60_000);

/** One gate's longest honest run: smoke checks with every retry and backoff, then every analysis metric in turn. */
export function gateMinutes(env: Pick<EnvironmentConfig, "analysis" | "smoke">): number {
  const smoke = (env.smoke?.checks ?? []).reduce((ms, c) => ms + c.retries * (c.timeoutMs + c.backoff.maxMs), 0);
  // Sequential as an upper bound; one minute per metric for slow queries.
  const analysis = (env.analysis?.metrics ?? []).reduce((ms, m) => ms + m.initialDelay + m.count * m.interval + 60_000, 0);
  return minutesOf(smoke) + minutesOf(analysis);
}

/** Where the run is: before anything (0), about to set step n (1-based), or promoting (steps + 1). */
export function remainingMinutes(env: EnvironmentConfig, canary: SteppedCanaryConfig, from: number): number {
  const deadline = env.progressDeadlineMinutes;
  const gate = gateMinutes(env);
  const steps = canary.steps.slice(Math.max(0, from - 1)).reduce((sum, s) => sum + s.pauseMinutes + gate, 0);
  const start = from === 0 ? (env.migration?.timeoutMinutes ?? 0) + 2 * deadline + gate : 0; // canary deployment + its targets + the pre-traffic smoke
  const promote = 2 * deadline; // the main service's rolling update, then its targets' health
  return start + steps + promote + 10; // 10: AWS calls, retries, restoring traffic
}

/** The lock of a stepped canary run: the whole run's honest duration. */
export const steppedLockMinutes = (env: EnvironmentConfig, canary: SteppedCanaryConfig): number => remainingMinutes(env, canary, 0);

/** The lock is gone: the run stops shifting traffic; what runs on the canary service is the new holder's business. */
export class LostLock extends Problem {}

export class Lease {
  constructor(
    private readonly client: ECSClient,
    readonly lock: DeployLock,
    private readonly opts?: EcsOptions,
  ) {}

  /** Renews to `minutes` from now; LostLock when the lock is no longer this run's. */
  renew(minutes: number): Promise<void> {
    return this.guarded(() => renewDeployLock(this.client, this.lock, minutes, this.opts));
  }

  /** Read-only: LostLock when the lock is no longer this run's. */
  check(): Promise<void> {
    return this.guarded(() => checkDeployLock(this.client, this.lock, this.opts));
  }

  private async guarded(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      const { cause, hint } = describeError(e);
      // Only a lock seen in someone else's hands (or gone) is lost; an AWS error while renewing is not proof of that.
      if (/lost the deploy lock/.test(cause)) throw new LostLock(cause, hint);
      throw e;
    }
  }
}
