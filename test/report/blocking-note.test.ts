/** A failing scan's summary says what blocks once, after its counts: ids and packages, and expired ignore entries. */
import { describe, expect, it } from "vitest";
import { blockingNote } from "../../deploy/src/report/outcome.js";

const b = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `CVE-2026-000${i}`, pkg: `p${i}` }));

describe("blockingNote", () => {
  it("names up to three blocking findings by id and package, then how many more", () => {
    expect(blockingNote(b(1), "1 high vulnerability")).toBe(" — blocking: CVE-2026-0000 in p0");
    expect(blockingNote(b(5), "5 high vulnerabilities")).toBe(
      " — blocking: CVE-2026-0000 in p0, CVE-2026-0001 in p1, CVE-2026-0002 in p2 and 2 more",
    );
  });

  it("keeps an expired ignore entry in view, with or without blocking findings", () => {
    expect(blockingNote(b(1), "x; expired ignore entry: GHSA-1", ["GHSA-1"])).toBe(
      " — blocking: CVE-2026-0000 in p0; expired ignore entry: GHSA-1",
    );
    expect(blockingNote([], "expired", ["GHSA-1", "GHSA-2"])).toBe(" — expired ignore entries: GHSA-1, GHSA-2");
  });

  it("falls back to the cause when neither explains the failure, and says nothing for none", () => {
    expect(blockingNote([], "the policy failed")).toBe(" — the policy failed");
    expect(blockingNote([], "")).toBe("");
  });
});
