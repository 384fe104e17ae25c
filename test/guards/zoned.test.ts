/**
 * Wall time in IANA zones across DST changes, checked against instants whose local time the
 * zones' published rules fix (EU: last Sunday of March 01:00Z forward, last Sunday of October
 * 01:00Z back; US: second Sunday of March 02:00 local forward, first Sunday of November back).
 */
import { describe, expect, it } from "vitest";
import { describeInstant, instantOf, isTimeZone, localOf } from "../../deploy/lib/guards/zoned.js";

const iso = (ms: number) => new Date(ms).toISOString();

describe("instantOf", () => {
  it("follows the zone's offset on either side of a transition", () => {
    expect(iso(instantOf({ year: 2026, month: 3, day: 28, hour: 22, minute: 0 }, "Europe/Berlin"))).toBe("2026-03-28T21:00:00.000Z");
    expect(iso(instantOf({ year: 2026, month: 3, day: 29, hour: 6, minute: 0 }, "Europe/Berlin"))).toBe("2026-03-29T04:00:00.000Z");
    expect(iso(instantOf({ year: 2026, month: 11, day: 1, hour: 12, minute: 0 }, "America/New_York"))).toBe("2026-11-01T17:00:00.000Z");
    expect(iso(instantOf({ year: 2026, month: 7, day: 1, hour: 9, minute: 30 }, "Asia/Kolkata"))).toBe("2026-07-01T04:00:00.000Z");
  });

  it("moves a time the spring-forward gap skips forward by the gap (02:30 → 03:30 CEST)", () => {
    const t = instantOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, "Europe/Berlin");
    expect(iso(t)).toBe("2026-03-29T01:30:00.000Z");
    expect(localOf(t, "Europe/Berlin")).toMatchObject({ hour: 3, minute: 30 });
  });

  it("takes the earlier of a time that happens twice when the clocks fall back", () => {
    expect(iso(instantOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, "Europe/Berlin"))).toBe("2026-10-25T00:30:00.000Z");
    expect(iso(instantOf({ year: 2026, month: 11, day: 1, hour: 1, minute: 30 }, "America/New_York"))).toBe("2026-11-01T05:30:00.000Z");
  });

  it("round-trips every quarter hour of a DST week", () => {
    for (let t = Date.parse("2026-03-26T00:00:00Z"); t < Date.parse("2026-04-02T00:00:00Z"); t += 15 * 60_000) {
      expect(instantOf(localOf(t, "Europe/Berlin"), "Europe/Berlin")).toBe(t);
    }
  });
});

describe("names and descriptions", () => {
  it("knows IANA zones and refuses others", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Europe/Berlinn")).toBe(false);
    expect(isTimeZone("CEST+2")).toBe(false);
  });

  it("says an instant in the zone and in UTC", () => {
    expect(describeInstant(Date.parse("2026-12-24T17:00:00Z"), "Europe/Berlin")).toBe(
      "2026-12-24 18:00 Europe/Berlin (2026-12-24T17:00:00Z)",
    );
  });
});
