/**
 * One turn of a loop that settles a promise on fake time (settle, onFakeTime). The clock moves only
 * while a fake timer is waiting. With none pending the code is busy with something real: a module
 * it imports when called (the ECR client behind a registry login takes real milliseconds, hundreds
 * on a loaded 2-core CI machine), a socket, a child process. Moving the clock then would age OIDC
 * tokens and lock leases by fake minutes that an engine, whose clock runs at real speed, never
 * spends: a token issued a moment before the call expired in CI that way. Returns the fake
 * milliseconds the clock moved. The turn yields on node:timers' setImmediate, which fake timers leave
 * real (@sinonjs/fake-timers, behind vi.useFakeTimers, replaces the globals named in toFake, not the
 * module's exports), so the code's pending microtasks and I/O run before the next.
 *
 * Where this is kinder than the real thing: real time passes during real work (milliseconds to a
 * second for an import), fake time does not. Nothing Shipshape times is within seconds of that:
 * the 5-minute OIDC token, the lease's minutes-long TTL, 900-second role sessions.
 */
import { setImmediate } from "node:timers";
import { vi } from "vitest";

export async function clockTurn(stepMs: number): Promise<number> {
  if (vi.getTimerCount() === 0) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    return 0;
  }
  await vi.advanceTimersByTimeAsync(stepMs);
  return stepMs;
}
