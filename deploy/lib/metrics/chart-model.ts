/**
 * The chart as plain shapes in pixel coordinates: bars of deployments per period (stacked: no
 * failure below, change failures on top), the change failure rate as a line on a 0–100% right
 * axis, axes, labels, legend and title. The SVG and PNG renderers only draw these shapes, so the
 * two images cannot disagree and the layout is tested once.
 */
import type { EnvironmentMetrics } from "./dora.js";
import { formatRate } from "./format.js";
import type { Period } from "./periods.js";

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 480;

export const COLOURS = {
  background: "#ffffff",
  ok: "#4c9f70",
  failed: "#d1495b",
  line: "#1f4e79",
  axis: "#333333",
  grid: "#dddddd",
  text: "#222222",
  inverse: "#ffffff",
} as const;

export type TextSize = "title" | "label" | "small";

export type Shape =
  | { type: "rect"; x: number; y: number; width: number; height: number; fill: string; cls: string }
  | { type: "line"; x1: number; y1: number; x2: number; y2: number; stroke: string; width: number; cls: string; dashed?: boolean }
  | { type: "polyline"; points: [number, number][]; stroke: string; width: number; cls: string }
  | { type: "circle"; cx: number; cy: number; r: number; fill: string; stroke: string; cls: string; data?: Record<string, string> }
  | {
      type: "text";
      x: number;
      y: number;
      text: string;
      size: TextSize;
      anchor: "start" | "middle" | "end";
      fill: string;
      cls: string;
      /** Quarter turn counter-clockwise about (x, y), for the vertical axis titles. */
      vertical?: boolean;
    }
  | { type: "group"; cls: string; data: Record<string, string>; children: Shape[] };

export interface ChartModel {
  width: number;
  height: number;
  title: string;
  plot: { x: number; y: number; width: number; height: number };
  shapes: Shape[];
}

const PLOT = { left: 64, right: 72, top: 76, bottom: 72 };
/** Below this many pixels a number does not fit inside a bar segment; the total above it still shows. */
const MIN_SEGMENT_FOR_LABEL = 14;
const MIN_BAR_FOR_LABEL = 16;
const CHAR_WIDTH = 8;

/** Tick step 1, 2 or 5 × 10^k giving about five ticks; counts are whole, so never below 1. */
export function niceStep(max: number): number {
  const rough = Math.max(max / 5, 1);
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) as number;
  return Math.max(1, step);
}

/** Coordinates rounded to a tenth of a pixel: enough for drawing, and stable text in the SVG. */
export const px = (n: number) => Math.round(n * 10) / 10;

/** The plot area inside the chart's margins, shared by the delivery and pipeline charts. */
export function plotArea(width: number, height: number) {
  const plot = { x: PLOT.left, y: PLOT.top, width: width - PLOT.left - PLOT.right, height: height - PLOT.top - PLOT.bottom };
  return { plot, bottom: plot.y + plot.height, right: plot.x + plot.width };
}

type TextAt = (x: number, y: number, value: string, size: TextSize, anchor: "start" | "middle" | "end", cls: string) => Shape;

/**
 * Both charts' two scales: counts on the left (grid lines at a nice step up to `maxCount`), a rate
 * from 0 to 100 % on the right. Pushes the grid and the ticks; returns where a count or a rate sits.
 */
export function dualAxes(shapes: Shape[], area: ReturnType<typeof plotArea>, maxCount: number, text: TextAt) {
  const { plot, bottom, right } = area;
  const step = niceStep(maxCount);
  const axisMax = Math.max(step, Math.ceil(maxCount / step) * step);
  const yCount = (n: number) => px(bottom - (n / axisMax) * plot.height);
  const yRate = (r: number) => px(bottom - r * plot.height);
  for (let v = 0; v <= axisMax; v += step) {
    shapes.push({ type: "line", x1: plot.x, y1: yCount(v), x2: right, y2: yCount(v), stroke: COLOURS.grid, width: 1, cls: "grid" });
    shapes.push(text(plot.x - 8, yCount(v) + 4, String(v), "small", "end", "tick-left"));
  }
  for (const r of [0, 0.25, 0.5, 0.75, 1]) {
    shapes.push({ type: "line", x1: right, y1: yRate(r), x2: right + 5, y2: yRate(r), stroke: COLOURS.axis, width: 1, cls: "tick" });
    shapes.push(text(right + 8, yRate(r) + 4, formatRate(r), "small", "start", "tick-right"));
  }
  return { yCount, yRate };
}

export interface ChartOptions {
  title?: string;
}

/** Lays out one environment's periods. */
export function chartModel(env: EnvironmentMetrics, period: Period, options: ChartOptions = {}): ChartModel {
  const width = CHART_WIDTH;
  const height = CHART_HEIGHT;
  const area = plotArea(width, height);
  const { plot, bottom, right } = area;
  const title = options.title ?? `Deployments per ${period}: ${env.environment}`;
  const shapes: Shape[] = [{ type: "rect", x: 0, y: 0, width, height, fill: COLOURS.background, cls: "background" }];
  const text = (
    x: number,
    y: number,
    value: string,
    size: TextSize,
    anchor: "start" | "middle" | "end",
    cls: string,
    fill: string = COLOURS.text,
  ) => ({ type: "text", x: px(x), y: px(y), text: value, size, anchor, fill, cls }) as const;

  shapes.push(text(width / 2, 30, title, "title", "middle", "title"));

  // Grid and left axis (deployments), right axis (change failure rate).
  const maxDeploys = Math.max(0, ...env.periods.map((p) => p.deploys));
  const { yCount, yRate } = dualAxes(shapes, area, maxDeploys, text);
  shapes.push({ type: "line", x1: plot.x, y1: plot.y, x2: plot.x, y2: bottom, stroke: COLOURS.axis, width: 1, cls: "axis" });
  shapes.push({ type: "line", x1: right, y1: plot.y, x2: right, y2: bottom, stroke: COLOURS.axis, width: 1, cls: "axis" });
  shapes.push({ type: "line", x1: plot.x, y1: bottom, x2: right, y2: bottom, stroke: COLOURS.axis, width: 1, cls: "axis" });

  const n = Math.max(1, env.periods.length);
  const slot = plot.width / n;
  const barWidth = Math.min(slot * 0.6, 56);
  // Text is about 8px a character in both renderers (the PNG font is 4px × 2); labels must not touch.
  const longest = Math.max(0, ...env.periods.map((p) => p.period.length + (p.partial ? 1 : 0)));
  const labelEvery = Math.max(1, Math.ceil((longest * CHAR_WIDTH + 12) / slot));
  const points: [number, number][] = [];
  const markers: Shape[] = [];

  env.periods.forEach((p, i) => {
    const centre = plot.x + slot * (i + 0.5);
    if (i % labelEvery === 0) shapes.push(text(centre, bottom + 18, p.partial ? `${p.period}*` : p.period, "small", "middle", "period"));
    if (p.deploys === 0) return;
    const ok = p.deploys - p.changeFailures;
    const x = px(centre - barWidth / 2);
    const w = px(barWidth);
    const children: Shape[] = [];
    const segment = (from: number, count: number, fill: string, cls: string) => {
      if (count === 0) return;
      const top = yCount(from + count);
      const h = px(yCount(from) - top);
      children.push({ type: "rect", x, y: top, width: w, height: h, fill, cls });
      if (h >= MIN_SEGMENT_FOR_LABEL && w >= MIN_BAR_FOR_LABEL) {
        children.push(text(centre, top + h / 2 + 4, String(count), "small", "middle", `value ${cls}-value`, COLOURS.inverse));
      }
    };
    segment(0, ok, COLOURS.ok, "ok");
    segment(ok, p.changeFailures, COLOURS.failed, "failed");
    // A total wider than its slot would run into the next one's; the axis still gives the height.
    if (String(p.deploys).length * CHAR_WIDTH + 4 <= slot) {
      children.push(text(centre, yCount(p.deploys) - 5, String(p.deploys), "label", "middle", "value total-value"));
    }
    shapes.push({ type: "group", cls: "bar", data: { period: p.period, ok: String(ok), failed: String(p.changeFailures) }, children });

    if (p.changeFailureRate !== null) {
      const point: [number, number] = [px(centre), yRate(p.changeFailureRate)];
      points.push(point);
      markers.push({
        type: "circle",
        cx: point[0],
        cy: point[1],
        r: px(Math.min(4, Math.max(2, slot / 4))),
        fill: COLOURS.background,
        stroke: COLOURS.line,
        cls: "cfr-point",
        data: { period: p.period, rate: String(p.changeFailureRate) },
      });
    }
  });
  if (points.length > 0) shapes.push({ type: "polyline", points, stroke: COLOURS.line, width: 2, cls: "cfr-line" }, ...markers);
  if (maxDeploys === 0)
    shapes.push(text(plot.x + plot.width / 2, plot.y + plot.height / 2, "No deployments in this window", "label", "middle", "empty"));

  // Axis titles.
  shapes.push({ ...text(18, plot.y + plot.height / 2, "Deployments", "label", "middle", "axis-title"), vertical: true });
  shapes.push({ ...text(width - 12, plot.y + plot.height / 2, "Change failure rate", "label", "middle", "axis-title"), vertical: true });
  shapes.push(
    text(plot.x + plot.width / 2, height - 16, `${period[0]?.toUpperCase()}${period.slice(1)} (UTC)`, "label", "middle", "axis-title"),
  );

  // Legend, under the title.
  const legendY = 52;
  const entries = [
    { colour: COLOURS.ok, label: "Deploys without failure", kind: "swatch" },
    { colour: COLOURS.failed, label: "Change failures", kind: "swatch" },
    { colour: COLOURS.line, label: "Change failure rate", kind: "line" },
  ];
  let lx = plot.x;
  for (const e of entries) {
    if (e.kind === "swatch")
      shapes.push({ type: "rect", x: lx, y: legendY - 9, width: 12, height: 12, fill: e.colour, cls: "legend-swatch" });
    else
      shapes.push({
        type: "line",
        x1: lx,
        y1: legendY - 3,
        x2: lx + 12,
        y2: legendY - 3,
        stroke: e.colour,
        width: 2,
        cls: "legend-swatch",
      });
    shapes.push(text(lx + 18, legendY + 2, e.label, "small", "start", "legend"));
    lx += 18 + e.label.length * 8 + 24;
  }
  return { width, height, title, plot, shapes };
}
