import { describe, expect, it } from "vitest";
import { deliveryMetrics } from "../../deploy/lib/metrics/dora.js";
import type { DeliveryRecord } from "../../deploy/lib/metrics/records.js";
import { metricsMarkdown, metricsText } from "../../deploy/lib/metrics/table.js";
import { formatDuration } from "../../deploy/lib/metrics/format.js";
import { NOW, trail } from "./trail.js";

const records: DeliveryRecord[] = trail(
  { id: "r1", start: "2026-11-02T10:00:00Z", end: "2026-11-02T10:10:00Z", commitAt: "2026-11-02T08:10:00Z", version: "1.0.0" },
  { id: "r2", start: "2026-11-03T10:00:00Z", end: "2026-11-03T10:25:00Z", outcome: "rolled back", version: "1.1.0" },
  { id: "r3", start: "2026-11-10T10:00:00Z", end: "2026-11-10T10:10:00Z", commitAt: "2026-11-09T10:10:00Z" },
  { id: "evil|<b>*x*", start: "2026-11-19T10:00:00Z" },
);
const metrics = deliveryMetrics(records, { environment: "prod", period: "week", from: "2026-11-02", now: NOW });

/** Cells of a Markdown table row, splitting on pipes that are not escaped. */
const cells = (row: string) =>
  row
    .split(/(?<!\\)\|/)
    .slice(1, -1)
    .map((c) => c.trim());

describe("metricsMarkdown", () => {
  const md = metricsMarkdown(metrics);
  const lines = md.split("\n");

  it("shows the window's four metrics with their bands", () => {
    const row = (metric: string) => cells(lines.find((l) => l.startsWith(`| ${metric} |`)) ?? "");
    expect(row("Deployment frequency")).toEqual(["Deployment frequency", "2 successful (0.11 per day)", "medium"]);
    expect(row("Lead time for changes")).toEqual(["Lead time for changes", "median 13h, p90 21h 48m (2 commits)", "elite"]);
    expect(row("Change failure rate")).toEqual(["Change failure rate", "33.3% (1 of 3)", "medium"]);
    expect(row("Time to restore")).toEqual(["Time to restore", "median 25m (1 outage)", "elite"]);
  });

  it("has one well-formed row per period, with the computed numbers", () => {
    const header = lines.findIndex((l) => l.startsWith("| Period |"));
    const rows = lines.slice(header + 2, header + 2 + metrics.environments[0]!.periods.length).map(cells);
    expect(rows).toEqual([
      ["2026-W45", "2", "1", "1", "50%", "2h", "2h", "25m"],
      ["2026-W46", "1", "1", "0", "0%", "1d", "1d", "—"],
      ["2026-W47\\*", "0", "0", "0", "—", "—", "—", "—"],
    ]);
    expect(cells(lines[header + 1] ?? "")).toHaveLength(8);
  });

  it("lists change failures and uncounted runs, escaping what Markdown would interpret", () => {
    expect(md).toContain("- r2 (1.1.0) ended 2026-11-03 10:25: rolled back; restored 2026-11-03 10:25");
    const runRow = lines.find((l) => l.includes("no completed record")) ?? "";
    expect(cells(runRow)).toEqual(["evil\\|\\<b\\>\\*x\\*", "deploy", "prod", "2026-11-19 10:00", "no completed record"]);
    expect(md).not.toContain("<b>");
    expect(md).toContain("- Change failure rate: elite 0–15%; high 16–30%; medium 31–45%; low over 45%");
  });
});

describe("metricsText", () => {
  const text = metricsText(metrics);
  const lines = text.split("\n");

  it("aligns every column of the period table", () => {
    const header = lines.findIndex((l) => l.startsWith("Period "));
    const table = lines.slice(header, header + 5);
    const starts = [...(table[1] ?? "").matchAll(/-+/g)].map((m) => m.index);
    expect(starts).toHaveLength(8);
    for (const line of [table[0], ...table.slice(2)]) {
      for (const at of starts.slice(1)) {
        expect(line?.slice(at - 2, at)).toBe("  ");
        expect(line?.[at]).not.toBe(" ");
      }
    }
    expect(table[2]?.split(/\s{2,}/)).toEqual(["2026-W45", "2", "1", "1", "50%", "2h", "2h", "25m"]);
  });

  it("carries the same summary, failures and uncounted runs as the Markdown", () => {
    expect(text).toMatch(/^Change failure rate\s+33\.3% \(1 of 3\)\s+medium$/m);
    expect(text).toContain("r2 (1.1.0) ended 2026-11-03 10:25: rolled back; restored 2026-11-03 10:25");
    expect(text).toMatch(/^evil\|<b>\*x\*\s+deploy\s+prod\s+2026-11-19 10:00\s+no completed record$/m);
  });
});

describe("formatDuration", () => {
  it("picks the unit after rounding", () => {
    expect([0, 59_400, 59_600, 3_599_000, 5_400_000, 86_399_000, 90_000_000, 172_800_000].map(formatDuration)).toEqual([
      "0s",
      "59s",
      "1m",
      "1h",
      "1h 30m",
      "1d",
      "1d 1h",
      "2d",
    ]);
    expect(formatDuration(null)).toBe("—");
  });
});
