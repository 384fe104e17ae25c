/**
 * Pipeline metrics from hand-built ci runs: numbers per week and per gate, worked out by hand in
 * the comments, then the same numbers in the Markdown and text tables and in the SVG and PNG chart.
 */
import { XMLParser } from "fast-xml-parser";
import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { COLOURS } from "../../deploy/lib/metrics/chart-model.js";
import { deliveryMetrics } from "../../deploy/lib/metrics/dora.js";
import { PIPELINE_COLOURS, pipelineChartPng, pipelineChartSvg } from "../../deploy/lib/metrics/pipeline-chart.js";
import { metricsMarkdown, metricsText } from "../../deploy/lib/metrics/table.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { ciRun, gate } from "../trail/ci-runs.js";
import { NOW, trail } from "./trail.js";

const cov = (lines: number) => gate("test", "passed", 90_000, { tests: 40, failures: 0, "coverage.lines": lines });
// W45: one pass, one lint failure. W46: two passes, one audit failure with 2 blocking findings.
// W47 (partial): a run with the test gate skipped, then one whose audit could not judge. October: outside the window.
const RUNS = [
  ciRun("2026-10-20T10:00:00Z", 5),
  ciRun("2026-11-02T10:00:00Z", 10, [cov(80)]),
  ciRun("2026-11-03T10:00:00Z", 14, [cov(80), gate("lint", "failed", 20_000, { errors: 3, warnings: 0, unformatted: 0 })]),
  ciRun("2026-11-09T10:00:00Z", 12, [cov(82)]),
  ciRun("2026-11-10T10:00:00Z", 20, [cov(84), gate("audit", "failed", 10_000, { high: 2, blocking: 2 })]),
  ciRun("2026-11-11T10:00:00Z", 8, [cov(83)]),
  ciRun("2026-11-16T10:00:00Z", 9, [gate("test", "skipped", 0)]),
  ciRun("2026-11-18T10:00:00Z", 5, [gate("audit", "error", 10_000)]),
];
const metricsFor = (runs = RUNS) =>
  deliveryMetrics(trail({ id: "d-1", start: "2026-11-04T10:00:00Z", end: "2026-11-04T10:05:00Z" }), {
    period: "week",
    from: "2026-11-02",
    now: NOW,
    pipelineRuns: runs,
  });
const MIN = 60_000;

describe("pipelineMetrics", () => {
  const p = metricsFor().pipeline!;

  it("per week: runs, success rate, p50/p95 duration, median coverage with its change, median security findings", () => {
    expect(p.periods.map((x) => [x.period, x.partial, x.runs, x.passed, x.successRate])).toEqual([
      ["2026-W45", false, 2, 1, 0.5],
      ["2026-W46", false, 3, 2, 2 / 3],
      ["2026-W47", true, 2, 1, 0.5],
    ]);
    // W45 [10, 14] min: p50 12, p95 10 + 0.95 × 4 = 13.8. W46 [8, 12, 20]: p50 12, p95 12 + 0.9 × 8 = 19.2. W47 [5, 9].
    expect(p.periods.map((x) => [x.durationP50Ms, x.durationP95Ms])).toEqual([
      [12 * MIN, 13.8 * MIN],
      [12 * MIN, 19.2 * MIN],
      [7 * MIN, 8.8 * MIN],
    ]);
    // W47's only measurement is the last run's default 86.5 (the skipped test gate measured nothing).
    expect(p.periods.map((x) => [x.coverageLines, x.coverageChange])).toEqual([
      [80, null],
      [83, 3],
      [86.5, 3.5],
    ]);
    // The errored audit has no count, so W47 has the one run whose audit judged.
    expect(p.periods.map((x) => x.securityFindings)).toEqual([0, 0, 0]);
  });

  it("over the window: success rate, latest coverage and latest security count", () => {
    expect(p.window).toMatchObject({ runs: 7, passed: 4, successRate: 4 / 7, latestCoverageLines: 86.5, latestSecurityFindings: 0 });
    expect(p.window.securityFindings).toBe(0); // median of [0, 0, 0, 2, 0, 0]
    expect(p.window.coverageLines).toBe(82.5); // median of [80, 80, 82, 84, 83, 86.5]
  });

  it("per gate: runs it ran in, outcomes, p50/p95 duration and blocking findings", () => {
    const byGate = Object.fromEntries(p.gates.map((g) => [g.gate, g]));
    expect(p.gates.map((g) => g.gate)).toEqual(["lint", "typecheck", "test", "audit"]);
    expect(byGate.lint).toMatchObject({ runs: 7, passed: 6, failed: 1, errors: 0, blocking: 3, p50Ms: 20_000, p95Ms: 20_000 });
    expect(byGate.test).toMatchObject({ runs: 6, passed: 6, successRate: 1 }); // skipped once: not a run
    expect(byGate.audit).toMatchObject({ runs: 7, passed: 5, failed: 1, errors: 1, blocking: 2, successRate: 5 / 7 });
  });

  it("leaves out runs with unreadable times, with a note, and is absent when the trail has no ci runs", () => {
    const broken = { ...ciRun("2026-11-12T10:00:00Z", 3), endedAt: "2026-11-12T09:00:00Z" };
    const m = metricsFor([...RUNS, broken]);
    expect(m.pipeline?.window.runs).toBe(7);
    expect(m.notes).toContain("pipeline: 1 ci run with unreadable times left out");
    const none = metricsFor([]);
    expect(none).not.toHaveProperty("pipeline");
    expect(metricsMarkdown(none)).not.toMatch(/Pipeline/);
  });
});

describe("the tables", () => {
  const m = metricsFor();
  const md = metricsMarkdown(m);

  it("put the pipeline section next to the DORA one, with the same numbers", () => {
    expect(md.indexOf("## Delivery metrics: prod")).toBeLessThan(
      md.indexOf("## Pipeline: ci runs, 2026-11-02 to 2026-11-20 12:00 UTC, by week"),
    );
    expect(md).toContain("| Build success rate | 57.1% (4 of 7 runs passed) |");
    expect(md).toContain("| Coverage (lines) | latest 86.5%, median 82.5%, 80% → 86.5% |");
    expect(md).toContain("| Security findings (blocking) | latest run 0, median 0 per run |");
    expect(md).toContain("| 2026-W45 | 2 | 1 | 50% | 12m | 14m | 80% | 0 |");
    expect(md).toContain("| 2026-W46 | 3 | 2 | 66.7% | 12m | 19m | 83% (+3 pp) | 0 |");
    expect(md).toContain("| 2026-W47\\* | 2 | 1 | 50% | 7m | 9m | 86.5% (+3.5 pp) | 0 |");
    expect(md).toContain("| lint | 7 | 6 | 1 | 0 | 85.7% | 20s | 20s | 3 |");
    expect(md).toContain("| audit | 7 | 5 | 1 | 1 | 71.4% | 10s | 10s | 2 |");
  });

  it("say which half is missing when there are ci runs but no deploys", () => {
    const onlyCi = deliveryMetrics([], { period: "week", from: "2026-11-02", now: NOW, pipelineRuns: RUNS });
    expect(metricsMarkdown(onlyCi)).toContain("No deploys in the audit trail.");
    expect(metricsText(onlyCi)).toMatch(/UTC: no deploys in the audit trail\.\n/);
    expect(metricsText(onlyCi)).toMatch(/^2026-W46\s+3\s+2\s+66\.7%\s+12m\s+19m\s+83% \(\+3 pp\)\s+0$/m);
  });
});

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  isArray: (n) => ["g", "rect", "polyline", "circle", "text", "line"].includes(n),
});
type Node = Record<string, unknown>;

function decodePng(png: Buffer): { width: number; count: (hex: string) => number } {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let o = 8; o < png.length;) {
    const length = png.readUInt32BE(o);
    if (png.toString("ascii", o + 4, o + 8) === "IDAT") idat.push(png.subarray(o + 8, o + 8 + length));
    o += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const counts = new Map<string, number>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * (width * 3 + 1) + 1 + x * 3;
      const hex = `#${[raw[i], raw[i + 1], raw[i + 2]].map((b) => (b as number).toString(16).padStart(2, "0")).join("")}`;
      counts.set(hex, (counts.get(hex) ?? 0) + 1);
    }
  }
  return { width, count: (hex) => counts.get(hex) ?? 0 };
}

describe("the pipeline chart", () => {
  const m = metricsFor();
  const svg = (parser.parse(pipelineChartSvg(m)) as { svg: Node }).svg;
  const byClass = (cls: string, tag: string) => ((svg[tag] as Node[] | undefined) ?? []).filter((n) => n.class === cls);

  it("draws a bar per week with passed and failed runs, and a point per week on each line", () => {
    expect(byClass("bar", "g").map((g) => [g["data-period"], g["data-passed"], g["data-failed"]])).toEqual([
      ["2026-W45", "1", "1"],
      ["2026-W46", "2", "1"],
      ["2026-W47", "1", "1"],
    ]);
    for (const cls of ["success-rate", "coverage", "security"]) {
      expect(byClass(`${cls}-point`, "circle")).toHaveLength(3);
      expect(byClass(`${cls}-line`, "polyline")).toHaveLength(1);
    }
    // Coverage 80% sits 80% up the plot: y = bottom − 0.8 × height (plot 76..408).
    const [first] = byClass("coverage-point", "circle");
    expect(Number(first?.cy)).toBeCloseTo(408 - 0.8 * 332, 0);
  });

  it("as a PNG: the same size, deterministic, the coverage and security lines in their colours", () => {
    const png = pipelineChartPng(m);
    expect(png.subarray(1, 4).toString("ascii")).toBe("PNG");
    const image = decodePng(png);
    expect(image.width).toBe(960);
    expect(image.count(PIPELINE_COLOURS.coverage)).toBeGreaterThan(100);
    expect(image.count(PIPELINE_COLOURS.security)).toBeGreaterThan(100);
    expect(image.count(COLOURS.failed)).toBeGreaterThan(12 * 12);
    expect(pipelineChartPng(metricsFor()).equals(png)).toBe(true);
  });

  it("without ci runs is refused with what to do", () => {
    const none = metricsFor([]);
    expect(() => pipelineChartSvg(none)).toThrow(Problem);
    expect(() => pipelineChartSvg(none)).toThrow(/^metrics chart: the audit trail has no ci runs\nhint: record ci runs/);
  });
});
