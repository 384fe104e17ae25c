import { describe, expect, it } from "vitest";
import { bandOf } from "../../deploy/lib/metrics/bands.js";
import { bucketsBetween, periodLabel, periodStart } from "../../deploy/lib/metrics/periods.js";
import { parseInstant } from "../../deploy/lib/metrics/records.js";
import { percentile } from "../../deploy/lib/metrics/stats.js";

const at = (iso: string) => Date.parse(iso);
const weekOf = (iso: string) => periodLabel(periodStart(at(iso), "week"), "week");

describe("calendar buckets (UTC)", () => {
  it("labels ISO weeks across year ends by the week's Thursday", () => {
    expect(weekOf("2020-12-31T23:59:59Z")).toBe("2020-W53");
    expect(weekOf("2021-01-03T12:00:00Z")).toBe("2020-W53"); // a Sunday still in 2020's last week
    expect(weekOf("2021-01-04T00:00:00Z")).toBe("2021-W01");
    expect(weekOf("2024-12-30T08:00:00Z")).toBe("2025-W01"); // a Monday already in 2025's first week
    expect(weekOf("2026-11-20T12:00:00Z")).toBe("2026-W47");
    expect(new Date(periodStart(at("2026-11-22T23:59:59Z"), "week")).toISOString()).toBe("2026-11-16T00:00:00.000Z");
  });

  it("cuts months and days at UTC midnight, whatever the offset of the input", () => {
    expect(periodLabel(periodStart(at("2026-03-01T00:30:00+02:00"), "month"), "month")).toBe("2026-02");
    expect(periodLabel(periodStart(at("2026-03-01T00:30:00+02:00"), "day"), "day")).toBe("2026-02-28");
    const months = bucketsBetween(at("2026-01-15T00:00:00Z"), at("2026-04-01T00:00:00Z"), "month");
    expect(months.map((b) => [b.label, b.partial])).toEqual([
      ["2026-01", true],
      ["2026-02", false],
      ["2026-03", false],
    ]);
    expect(months[1]?.end).toBe(at("2026-03-01T00:00:00Z")); // 28 days in February 2026
  });
});

describe("parseInstant", () => {
  it("reads ISO dates and zoned times, refusing rolled-over days and zone-less times", () => {
    expect(parseInstant("2026-11-20")).toBe(at("2026-11-20T00:00:00Z"));
    expect(parseInstant("2026-11-20T10:00:00.250+01:00")).toBe(at("2026-11-20T09:00:00.250Z"));
    expect(parseInstant("2024-02-29T10:00:00Z")).toBe(at("2024-02-29T10:00:00Z"));
    for (const bad of ["2026-02-30", "2026-02-29T10:00:00Z", "2026-11-20T10:00:00", "yesterday", "", undefined])
      expect(parseInstant(bad)).toBeUndefined();
  });
});

describe("percentile and bands", () => {
  it("interpolates between ranks", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([7], 0.9)).toBe(7);
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 10], 0.9)).toBeCloseTo(7.6, 10);
  });

  it("puts values on a limit in the better band only where the report's range includes it", () => {
    const hour = 3_600_000;
    expect([0, 0.15, 0.1501, 0.3, 0.45, 0.46].map((r) => bandOf("changeFailureRate", r))).toEqual([
      "elite",
      "elite",
      "high",
      "high",
      "medium",
      "low",
    ]);
    expect([23 * hour, 24 * hour, 7 * 24 * hour, 30 * 24 * hour].map((ms) => bandOf("leadTime", ms))).toEqual([
      "elite",
      "high",
      "medium",
      "low",
    ]);
    expect([59 * 60_000, hour, 24 * hour, 7 * 24 * hour].map((ms) => bandOf("timeToRestore", ms))).toEqual([
      "elite",
      "high",
      "medium",
      "low",
    ]);
    expect([3, 1, 1 / 7, 1 / 30, 0].map((d) => bandOf("deploymentFrequency", d))).toEqual(["elite", "elite", "high", "medium", "low"]);
    expect(bandOf("leadTime", null)).toBe("no data");
  });
});
