import { repoRelativeText } from "../../src/report/paths.js";

/**
 * Progress lines for long steps; the engine shows a function's stderr under its span. A command
 * line names its container paths (/src, /shipshape/reports): a user reads repository paths.
 */
export function progress(step: string, message: string): void {
  process.stderr.write(`[shipshape] ${step}: ${repoRelativeText(message)}\n`);
}

/** "45s", "2m05s": how long so far, in the unit a person reads at a glance. */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

export interface WaitOptions {
  /** First line after this long: a short wait says nothing (default 10 s). */
  firstMs?: number;
  /** The gap doubles after each line up to this (default 60 s), so a long wait prints a line a minute at most. */
  maxGapMs?: number;
  /** Where lines go (tests); defaults to progress(). */
  write?: (step: string, message: string) => void;
}

/**
 * Awaits `work` and, while it has not settled, says what it waits for and for how long so far:
 * first after 10 s, then 20 s and 40 s later, then once a minute. A Dagger await is silent until the engine answers
 * (a Postgres health check, a Trivy DB pull, a push, an exec queued behind a LOCKED cache), and a
 * silent minute reads as a hang. A wait that printed anything also says when it ended.
 */
export async function waitingFor<T>(step: string, what: string, work: Promise<T>, opts: WaitOptions = {}): Promise<T> {
  const write = opts.write ?? progress;
  const firstMs = opts.firstMs ?? 10_000;
  const maxGapMs = opts.maxGapMs ?? 60_000;
  const started = Date.now();
  let gap = firstMs;
  let said = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    said = true;
    write(step, `waiting for ${what}: ${elapsed(Date.now() - started)} so far`);
    gap = Math.min(gap * 2, maxGapMs);
    timer = setTimeout(tick, gap);
  };
  timer = setTimeout(tick, gap);
  try {
    const value = await work;
    if (said) write(step, `${what}: done after ${elapsed(Date.now() - started)}`);
    return value;
  } catch (e) {
    if (said) write(step, `${what}: failed after ${elapsed(Date.now() - started)}`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
