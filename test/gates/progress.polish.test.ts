/** waitingFor: what a long await waits for and for how long, at a bounded rate, on fake time. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { elapsed, progress, waitingFor } from "../../deploy/lib/gates/progress.js";

let lines: string[] = [];
const write = (step: string, message: string) => lines.push(`${step}: ${message}`);
beforeEach(() => {
  lines = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

/** A promise settled by hand, to stand for an engine call. */
function pending<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe("waitingFor", () => {
  it("says nothing for a short wait", async () => {
    const p = pending<number>();
    const w = waitingFor("test", "Postgres", p.promise, { write });
    await vi.advanceTimersByTimeAsync(9_000);
    p.resolve(7);
    expect(await w).toBe(7);
    expect(lines).toEqual([]);
  });

  it("names what it waits for with the time so far, then backs off to once a minute, and says when it ended", async () => {
    const p = pending<string>();
    const w = waitingFor("scan", "Trivy's vulnerability DB download", p.promise, { write });
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    p.resolve("ok");
    await w;
    expect(lines.slice(0, 4)).toEqual([
      "scan: waiting for Trivy's vulnerability DB download: 10s so far",
      "scan: waiting for Trivy's vulnerability DB download: 30s so far",
      "scan: waiting for Trivy's vulnerability DB download: 1m10s so far",
      "scan: waiting for Trivy's vulnerability DB download: 2m10s so far",
    ]);
    // Bounded: 10 minutes of waiting is 4 lines up to 130 s, one a minute from 190 s to 550 s, then the end.
    expect(lines).toHaveLength(4 + 7 + 1);
    expect(lines.at(-1)).toBe("scan: Trivy's vulnerability DB download: done after 10m00s");
  });

  it("a failed wait says so and rethrows; no line after it settled", async () => {
    const p = pending<void>();
    const w = waitingFor("publish", "the registry to take app:1", p.promise, { write });
    const caught = w.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(15_000);
    p.reject(new Error("denied"));
    expect(((await caught) as Error).message).toBe("denied");
    expect(lines).toEqual([
      "publish: waiting for the registry to take app:1: 10s so far",
      "publish: the registry to take app:1: failed after 15s",
    ]);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(lines).toHaveLength(2);
  });

  it("formats elapsed time", () => {
    expect([elapsed(999), elapsed(59_999), elapsed(60_000), elapsed(125_000)]).toEqual(["0s", "59s", "1m00s", "2m05s"]);
  });
});

describe("progress", () => {
  it("prints a command line with repository paths, never the container's", () => {
    const spy = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      progress("lint", "npx eslint . --format json --output-file /shipshape/reports/eslint.json --cache-location /src/.eslintcache");
      progress("scan", "trivy fs /src --output /shipshape/reports/trivy.json");
      const printed = spy.mock.calls.map((c) => String(c[0])).join("");
      expect(printed).toBe(
        "[shipshape] lint: npx eslint . --format json --output-file eslint.json --cache-location .eslintcache\n" +
          "[shipshape] scan: trivy fs . --output trivy.json\n",
      );
    } finally {
      spy.mockRestore();
    }
  });
});
