import { XMLParser, XMLValidator } from "fast-xml-parser";
import { crc32 as zlibCrc32, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { COLOURS } from "../../deploy/lib/metrics/chart-model.js";
import { metricsChartSvg } from "../../deploy/lib/metrics/chart.js";
import { deliveryMetrics, type DeliveryMetrics } from "../../deploy/lib/metrics/dora.js";
import { metricsChartPng } from "../../deploy/lib/metrics/png.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { NOW, trail, type RunSpec } from "./trail.js";

// Three weeks with deploys after an empty one: W45 2 fine + 1 rolled back, W46 4 fine, W47 1 failed + 1 fine.
const day = (d: string, outcome: RunSpec["outcome"] = "succeeded"): RunSpec => ({
  id: `run-${d}`,
  start: `2026-11-${d}T10:00:00Z`,
  end: `2026-11-${d}T10:10:00Z`,
  outcome,
});
const RECORDS = trail(
  day("02"),
  day("03", "rolled back"),
  day("04"),
  day("09"),
  day("10"),
  day("11"),
  day("12"),
  day("16", "failed"),
  day("17"),
);
const metricsFor = (env = "prod", records = RECORDS): DeliveryMetrics =>
  deliveryMetrics(records, { environment: env, period: "week", from: "2026-10-26", now: NOW });

interface Node {
  [key: string]: string | Node[] | undefined;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  isArray: (name) => ["g", "rect", "text", "line", "circle", "polyline"].includes(name),
});

function parseSvg(svg: string): Node {
  expect(XMLValidator.validate(svg)).toBe(true);
  return (parser.parse(svg) as { svg: Node }).svg;
}

const list = (node: Node, tag: string): Node[] => (node[tag] as Node[] | undefined) ?? [];
const withClass = (nodes: Node[], cls: string) => nodes.filter((n) => String(n.class).split(" ").includes(cls));
const num = (value: string | Node[] | undefined) => Number(value);
const text = (n: Node) => String(n["#text"]);

/** The left axis as value → y, read back from its labels and grid lines. */
function countScale(svg: Node): (count: number) => number {
  const grid = withClass(list(svg, "line"), "grid")
    .map((l) => num(l.y1))
    .sort((a, b) => b - a);
  const labels = withClass(list(svg, "text"), "tick-left")
    .map((t) => Number(text(t)))
    .sort((a, b) => a - b);
  expect(grid).toHaveLength(labels.length);
  const [y0, yTop] = [grid[0] as number, grid[grid.length - 1] as number];
  const top = labels[labels.length - 1] as number;
  return (count) => y0 - (count / top) * (y0 - yTop);
}

/** The right axis as rate → y, from its 0% and 100% ticks. */
function rateScale(svg: Node): (rate: number) => number {
  const ticks = withClass(list(svg, "line"), "tick").map((l) => num(l.y1));
  const labels = withClass(list(svg, "text"), "tick-right").map(text);
  expect(labels).toEqual(["0%", "25%", "50%", "75%", "100%"]);
  const [y0, y100] = [Math.max(...ticks), Math.min(...ticks)];
  return (rate) => y0 - rate * (y0 - y100);
}

describe("metricsChartSvg", () => {
  const metrics = metricsFor();
  const env = metrics.environments[0];
  const svgText = metricsChartSvg(metrics);
  const svg = parseSvg(svgText);

  it("is a fixed-size SVG with a viewBox, a title, a legend and axis titles", () => {
    expect([svg.xmlns, svg.width, svg.height, svg.viewBox]).toEqual(["http://www.w3.org/2000/svg", "960", "480", "0 0 960 480"]);
    expect(svgText).not.toMatch(/<script|href=|@import|url\(/);
    const texts = list(svg, "text");
    expect(text(withClass(texts, "title")[0] as Node)).toBe("Deployments per week: prod");
    expect(withClass(texts, "legend").map(text)).toEqual(["Deploys without failure", "Change failures", "Change failure rate"]);
    expect(withClass(texts, "axis-title").map(text)).toEqual(["Deployments", "Change failure rate", "Week (UTC)"]);
    expect(withClass(texts, "period").map(text)).toEqual(["2026-W44", "2026-W45", "2026-W46", "2026-W47*"]);
  });

  it("draws one stacked bar per period with deploys, sized and labelled with the computed numbers", () => {
    const withData = env?.periods.filter((p) => p.deploys > 0) ?? [];
    const bars = withClass(list(svg, "g"), "bar");
    expect(bars.map((b) => b["data-period"])).toEqual(withData.map((p) => p.period));
    expect(withData.map((p) => [p.deploys, p.changeFailures])).toEqual([
      [3, 1],
      [4, 0],
      [2, 1],
    ]);
    const y = countScale(svg);
    bars.forEach((bar, i) => {
      const p = withData[i];
      if (!p) throw new Error("more bars than periods with data");
      const labels = list(bar, "text");
      expect(text(withClass(labels, "total-value")[0] as Node)).toBe(String(p.deploys));
      const ok = p.deploys - p.changeFailures;
      expect(withClass(labels, "ok-value").map(text)).toEqual(ok > 0 ? [String(ok)] : []);
      expect(withClass(labels, "failed-value").map(text)).toEqual(p.changeFailures > 0 ? [String(p.changeFailures)] : []);
      // Fine deploys at the bottom, change failures stacked on top, heights on the left axis's scale.
      const [okRect] = withClass(list(bar, "rect"), "ok");
      expect(num(okRect?.y) + num(okRect?.height)).toBeCloseTo(y(0), 0);
      expect(num(okRect?.y)).toBeCloseTo(y(ok), 0);
      const failed = withClass(list(bar, "rect"), "failed");
      if (p.changeFailures === 0) expect(failed).toEqual([]);
      else {
        expect(num(failed[0]?.y) + num(failed[0]?.height)).toBeCloseTo(y(ok), 0);
        expect(num(failed[0]?.y)).toBeCloseTo(y(p.deploys), 0);
        expect(failed[0]?.fill).toBe(COLOURS.failed);
      }
    });
  });

  it("plots the change failure rate on the right axis, one point per period with deploys, joined by the line", () => {
    const points = withClass(list(svg, "circle"), "cfr-point");
    expect(points.map((c) => [c["data-period"], Number(c["data-rate"])])).toEqual([
      ["2026-W45", 1 / 3],
      ["2026-W46", 0],
      ["2026-W47", 0.5],
    ]);
    const y = rateScale(svg);
    const bars = withClass(list(svg, "g"), "bar");
    points.forEach((c, i) => {
      expect(num(c.cy)).toBeCloseTo(y(Number(c["data-rate"])), 0);
      const rect = list(bars[i] as Node, "rect")[0] as Node;
      expect(num(c.cx)).toBeCloseTo(num(rect.x) + num(rect.width) / 2, 0);
    });
    const line = withClass(list(svg, "polyline"), "cfr-line")[0] as Node;
    expect(String(line.points)).toBe(points.map((c) => `${c.cx},${c.cy}`).join(" "));
  });

  it("is deterministic and escapes every text", () => {
    expect(metricsChartSvg(metricsFor())).toBe(svgText);
    const name = `a<b&"c'`;
    const odd = RECORDS.map((r) => ({ ...r, environment: name }));
    const oddSvg = metricsChartSvg(metricsFor(name, odd));
    expect(oddSvg).not.toContain("a<b");
    expect(text(withClass(list(parseSvg(oddSvg), "text"), "title")[0] as Node)).toBe(`Deployments per week: ${name}`);
  });

  it("says so when there is nothing to draw", () => {
    const empty = parseSvg(metricsChartSvg(metricsFor("prod", [])));
    expect(withClass(list(empty, "g"), "bar")).toEqual([]);
    expect(withClass(list(empty, "circle"), "cfr-point")).toEqual([]);
    expect(list(empty, "polyline")).toEqual([]);
    expect(withClass(list(empty, "text"), "empty").map(text)).toEqual(["No deployments in this window"]);
  });

  it("thins period labels so many days do not overlap, keeping every bar", () => {
    const days = Array.from({ length: 120 }, (_, i) => {
      const d = new Date(Date.parse("2026-07-01T10:00:00Z") + i * 86_400_000).toISOString();
      return { id: `d${i}`, start: d, end: d };
    });
    const m = deliveryMetrics(trail(...days), { environment: "prod", period: "day", from: "2026-07-01", to: "2026-10-29", now: NOW });
    const dense = parseSvg(metricsChartSvg(m));
    expect(withClass(list(dense, "g"), "bar")).toHaveLength(120);
    const xs = withClass(list(dense, "text"), "period").map((t) => num(t.x));
    expect(xs.length).toBeGreaterThan(5);
    expect(xs.length).toBeLessThan(120);
    for (let i = 1; i < xs.length; i++) expect((xs[i] as number) - (xs[i - 1] as number)).toBeGreaterThanOrEqual(60);
  });

  it("needs an environment named when the metrics hold several", () => {
    const two = deliveryMetrics([...RECORDS, ...RECORDS.map((r) => ({ ...r, runId: `s-${r.runId}`, environment: "staging" }))], {
      now: NOW,
    });
    expect(() => metricsChartSvg(two)).toThrow(Problem);
    expect(() => metricsChartSvg(two)).toThrow(/name the environment: prod, staging/);
    expect(metricsChartSvg(two, { environment: "staging" })).toContain("Deployments per week: staging");
    expect(() => metricsChartSvg(two, { environment: "qa" })).toThrow(/no environment "qa"/);
  });
});

// ---- PNG: decoded here with nothing but node:zlib, independently of the encoder ----

interface Decoded {
  width: number;
  height: number;
  pixel: (x: number, y: number) => string;
  count: (hex: string) => number;
}

function decodePng(png: Buffer): Decoded {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString("ascii", at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length)).toBe(zlibCrc32(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data });
    at += 12 + length;
  }
  expect(chunks[0]?.type).toBe("IHDR");
  expect(chunks[chunks.length - 1]?.type).toBe("IEND");
  const ihdr = chunks[0]?.data as Buffer;
  const [width, height] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)];
  expect([...ihdr.subarray(8)]).toEqual([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no interlace
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === "IDAT").map((c) => c.data)));
  const stride = width * 3 + 1;
  expect(raw.length).toBe(stride * height);
  for (let y = 0; y < height; y++) expect(raw[y * stride]).toBe(0); // filter "none" on every line
  const hex = (x: number, y: number) => {
    const o = y * stride + 1 + x * 3;
    return `#${[raw[o], raw[o + 1], raw[o + 2]].map((b) => (b as number).toString(16).padStart(2, "0")).join("")}`;
  };
  const counts = new Map<string, number>();
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) counts.set(hex(x, y), (counts.get(hex(x, y)) ?? 0) + 1);
  return { width, height, pixel: hex, count: (c) => counts.get(c) ?? 0 };
}

describe("metricsChartPng", () => {
  const metrics = metricsFor();
  const png = metricsChartPng(metrics);
  const image = decodePng(png);
  const svg = parseSvg(metricsChartSvg(metrics));
  const rects = (cls: string) => withClass(list(svg, "g"), "bar").flatMap((b) => withClass(list(b, "rect"), cls));
  const area = (rs: Node[]) => rs.reduce((sum, r) => sum + num(r.width) * num(r.height), 0);
  const LEGEND_SWATCH = 12 * 12;

  it("has the SVG's dimensions and decodes to a non-empty picture", () => {
    expect([image.width, image.height]).toEqual([960, 480]);
    expect(image.count(COLOURS.background)).toBeLessThan(960 * 480);
    expect(image.count(COLOURS.text)).toBeGreaterThan(500); // title, legend, ticks and labels
    expect(image.count(COLOURS.line)).toBeGreaterThan(200); // the change failure rate line
  });

  it("paints the bars in their colours, over the areas the SVG gives them", () => {
    for (const [cls, colour] of [
      ["ok", COLOURS.ok],
      ["failed", COLOURS.failed],
    ] as const) {
      const expected = area(rects(cls)) + LEGEND_SWATCH;
      // White value labels sit on the bars; everything else of the colour is bar or swatch.
      expect(image.count(colour)).toBeGreaterThan(expected * 0.9);
      expect(image.count(colour)).toBeLessThan(expected * 1.05);
      for (const r of rects(cls)) expect(image.pixel(Math.floor(num(r.x) + 3), Math.floor(num(r.y) + 3))).toBe(colour);
    }
  });

  it("prints each bar's total above it", () => {
    for (const bar of withClass(list(svg, "g"), "bar")) {
      const label = withClass(list(bar, "text"), "total-value")[0] as Node;
      let ink = 0;
      for (let y = num(label.y) - 11; y <= num(label.y); y++) {
        for (let x = num(label.x) - 8; x <= num(label.x) + 8; x++) if (image.pixel(Math.round(x), Math.round(y)) === COLOURS.text) ink += 1;
      }
      expect(ink).toBeGreaterThan(10);
    }
  });

  it("is deterministic, and an empty window paints only the legend swatches in bar colours", () => {
    expect(metricsChartPng(metricsFor()).equals(png)).toBe(true);
    const empty = decodePng(metricsChartPng(metricsFor("prod", [])));
    expect([empty.count(COLOURS.ok), empty.count(COLOURS.failed)]).toEqual([LEGEND_SWATCH, LEGEND_SWATCH]);
  });
});
