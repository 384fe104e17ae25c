/**
 * Fake time next to real sockets: the deploy's sleeps run on fake timers, while Postgres and
 * HTTP receivers answer over real sockets. Fake time must not race past an answer that is on
 * its way (a 10 s connect timeout is 10 loop turns, a few real milliseconds), so every fetch and
 * every pg connect/query/end in flight holds the clock, for at most `patienceMs` of real time
 * (1.5 s: enough for a connect on a loaded 2-core CI machine): after that the peer counts as
 * hanging and the clock jumps to the next timer (the timeout that ends the wait), so a hanging
 * receiver costs real milliseconds, not its timeout. With no timer waiting the clock stands still
 * (fake-clock.ts).
 */
import pg from "pg";
import { vi } from "vitest";
import { clockTurn } from "./fake-clock.js";

let inFlight = 0;

function held<T>(value: T): T {
  if (!(value instanceof Promise)) return value;
  inFlight++;
  value.then(
    () => inFlight--,
    () => inFlight--,
  );
  return value;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Counts fetches (until their body is read) and pg client calls in flight; returns the restore function. */
export function trackRealIo(): () => void {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    held(
      (async () => {
        const res = await realFetch(input, init);
        // The body is part of the answer: a receiver that stalls mid-body still holds the clock.
        const body = [101, 204, 205, 304].includes(res.status) ? null : await res.arrayBuffer();
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      })(),
    );
  const proto = pg.Client.prototype as unknown as Record<string, Method>;
  const originals = (["connect", "query", "end"] as const).map((name) => [name, proto[name]] as const);
  for (const [name, original] of originals) {
    if (!original) continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      return held(original.apply(this, args));
    };
  }
  return () => {
    globalThis.fetch = realFetch;
    for (const [name, original] of originals) if (original) proto[name] = original;
  };
}

export interface SettleOptions {
  /** Fake milliseconds per turn while nothing real is in flight. */
  stepMs?: number;
  /** Fake milliseconds after which time stops moving (the promise is then awaited as it is). */
  limitMs?: number;
  /** Real milliseconds an in-flight fetch or query may hold the clock. */
  patienceMs?: number;
}

/** Settles a promise on fake time; see the file comment for how real I/O holds the clock. */
export async function settle<T>(promise: Promise<T>, opts: SettleOptions = {}): Promise<T> {
  const { stepMs = 1000, limitMs = 12 * 3600_000, patienceMs = 1500 } = opts;
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined); // observed by the caller; keeps Node from reporting it early
  const start = Date.now();
  let waitingSince: number | undefined;
  while (!settled && Date.now() - start < limitMs) {
    if (inFlight > 0) {
      waitingSince ??= performance.now();
      if (performance.now() - waitingSince < patienceMs) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      waitingSince = undefined;
      await vi.advanceTimersToNextTimerAsync();
      continue;
    }
    waitingSince = undefined;
    await clockTurn(stepMs);
  }
  return tracked;
}
