/** Which freeze is open when, what a refusal says, and what an override records. */
import { describe, expect, it } from "vitest";
import { FreezesConfigSchema, type Freeze } from "../../deploy/lib/guards/freeze-config.js";
import { checkFreeze, openFreeze, overrideReason } from "../../deploy/lib/guards/freeze.js";
import { spansOf } from "../../deploy/lib/guards/windows.js";
import { describeError } from "../../deploy/src/project/problem.js";

const freezes = (input: unknown): Freeze[] => FreezesConfigSchema.parse(input);
const at = (s: string) => Date.parse(s);

describe("recurring windows", () => {
  // Europe/Berlin springs forward on 2026-03-29 at 02:00 local: that night is an hour shorter.
  const nightly = freezes([{ name: "nights", timeZone: "Europe/Berlin", start: "22:00", end: "06:00", environments: ["prod"] }]);

  it("keeps local times across the DST change: the spring-forward night lasts 7 hours, the fall-back night 9", () => {
    const [spring] = spansOf(nightly[0] as Freeze, at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z"));
    expect(spring).toEqual({ start: at("2026-03-28T21:00:00Z"), end: at("2026-03-29T04:00:00Z") });
    const [fall] = spansOf(nightly[0] as Freeze, at("2026-10-24T12:00:00Z"), at("2026-10-25T12:00:00Z"));
    expect(fall).toEqual({ start: at("2026-10-24T20:00:00Z"), end: at("2026-10-25T05:00:00Z") });
  });

  it("is open at 05:30 local after the change (03:30Z) and closed at 06:30 local (04:30Z), not by a fixed offset", () => {
    expect(openFreeze(nightly, "prod", at("2026-03-29T03:30:00Z"))?.endsAt).toBe(at("2026-03-29T04:00:00Z"));
    // A +01:00 offset kept from the evening before would still call 04:30Z (05:30 CET) frozen.
    expect(openFreeze(nightly, "prod", at("2026-03-29T04:30:00Z"))).toBeUndefined();
    expect(openFreeze(nightly, "staging", at("2026-03-29T03:30:00Z"))).toBeUndefined();
  });

  it("only on its days, and chains touching windows into one end (Saturday and Sunday whole days end Monday 00:00)", () => {
    const weekend = freezes([{ name: "weekend", timeZone: "America/New_York", days: ["sat", "sun"], start: "00:00", end: "00:00" }]);
    // Saturday 2026-12-05 10:00 in New York (EST, -05:00).
    expect(openFreeze(weekend, "prod", at("2026-12-05T15:00:00Z"))?.endsAt).toBe(at("2026-12-07T05:00:00Z"));
    expect(openFreeze(weekend, "prod", at("2026-12-04T15:00:00Z"))).toBeUndefined(); // Friday
  });
});

describe("one-off windows", () => {
  const yearEnd = freezes([
    {
      name: "year-end",
      reason: "holiday change freeze",
      timeZone: "Europe/Berlin",
      from: "2026-12-20",
      to: "2027-01-04T09:00",
      environments: ["prod"],
    },
  ]);

  it("reads bounds without an offset as wall time in the zone, and with one as given", () => {
    expect(spansOf(yearEnd[0] as Freeze, -Infinity, Infinity)).toEqual([
      { start: at("2026-12-19T23:00:00Z"), end: at("2027-01-04T08:00:00Z") },
    ]);
    const utc = freezes([{ name: "x", from: "2026-12-20T00:00:00Z", to: "2026-12-21T00:00:00+02:00", timeZone: "Asia/Tokyo" }]);
    expect(spansOf(utc[0] as Freeze, -Infinity, Infinity)).toEqual([
      { start: at("2026-12-20T00:00:00Z"), end: at("2026-12-20T22:00:00Z") },
    ]);
  });

  it("refuses a deploy inside, saying when it ends in the zone and in UTC, with the override as the hint", () => {
    const v = checkFreeze(yearEnd, "prod", { now: at("2026-12-24T12:00:00Z"), override: "", actor: "ada" });
    expect(v.decision).toMatchObject({ gate: "freeze", verdict: "failed" });
    const { cause, hint } = describeError(v.refusal);
    expect(cause).toBe(
      'refusing to deploy: prod is frozen by "year-end" (holiday change freeze) until 2027-01-04 09:00 Europe/Berlin (2027-01-04T08:00:00Z)',
    );
    expect(hint).toMatch(/--freeze-override "<reason>"/);
  });

  it("lets an override through with who and why in the decision", () => {
    const v = checkFreeze(yearEnd, "prod", { now: at("2026-12-24T12:00:00Z"), override: "  hotfix INC-42 ", actor: "ada" });
    expect(v.refusal).toBeUndefined();
    expect(v.decision.verdict).toBe("overridden");
    expect(v.decision.reason).toMatch(/until 2027-01-04 09:00 Europe\/Berlin .*; overridden by ada: hotfix INC-42$/);
  });

  it("passes outside the window and notes an override that was not needed", () => {
    const v = checkFreeze(yearEnd, "prod", { now: at("2027-01-04T08:00:00Z"), override: "just in case", actor: "ada" });
    expect(v.decision).toMatchObject({
      verdict: "passed",
      reason: "no freeze window is open for prod; the override (just in case) was not needed",
    });
  });

  it("refuses a blank or overlong override reason, and escapes control characters", () => {
    expect(() => overrideReason("   ")).toThrow(/blank/);
    expect(() => overrideReason("x".repeat(301))).toThrow(/more than 300/);
    expect(overrideReason("a\nb\u001b[31m")).toBe("a\\x0ab\\x1b[31m");
    expect(overrideReason("")).toBe("");
  });
});
