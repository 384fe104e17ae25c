/**
 * The settle loops move fake time only while a fake timer waits: real work with no timer pending
 * (a lazy import, a child process) must not age tokens and leases by fake minutes.
 */
import { setTimeout as realSleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { onFakeTime } from "../deploy/fake-ecs.js";
import { settle } from "../helpers/fake-time-io.js";

const START = Date.parse("2026-12-01T00:00:00Z");

beforeEach(() => void vi.useFakeTimers({ now: START, toFake: ["setTimeout", "clearTimeout", "Date"] }));
afterEach(() => void vi.useRealTimers());

describe.each([
  ["settle", (p: Promise<number>) => settle(p)],
  ["onFakeTime", (p: Promise<number>) => onFakeTime(p)],
])("%s", { timeout: 10_000 }, (_name, drive) => {
  it("holds the clock while the code does real work with no timer pending", async () => {
    // 300 real ms of work (what an import of the ECR client costs on a loaded machine), then the time it sees.
    const seen = await drive(realSleep(300).then(() => Date.now()));
    expect(seen).toBe(START);
  });

  it("moves it to the timers the code waits on, after the real work before them", async () => {
    const work = async () => {
      await realSleep(100);
      const before = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 600_000));
      return Date.now() - before;
    };
    const waited = await drive(work());
    expect(waited).toBeGreaterThanOrEqual(600_000);
    expect(waited).toBeLessThan(602_000);
  });
});
