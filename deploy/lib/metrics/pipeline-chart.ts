/**
 * The pipeline chart as chart-model shapes, so the SVG and PNG renderers draw it exactly like the
 * DORA chart: ci runs per period as bars (passed below, failed on top) and blocking security
 * findings as a line, both on the left count axis; build success rate and line coverage as lines
 * on the 0–100% right axis.
 */
import { CHART_HEIGHT, CHART_WIDTH, COLOURS, dualAxes, plotArea, px, type ChartModel, type Shape, type TextSize } from "./chart-model.js";
import { renderSvg } from "./chart.js";
import type { DeliveryMetrics } from "./dora.js";
import type { PipelineMetrics } from "./pipeline.js";
import { encodePng, rasterise } from "./png.js";
import { Problem } from "../../src/project/problem.js";

export const PIPELINE_COLOURS = { coverage: "#7b3f98", security: "#e08a00" } as const;

const CHAR_WIDTH = 8;

type Series = { cls: string; colour: string; values: (number | null)[]; y: (v: number) => number };

/** Lays out the pipeline periods of one metrics result. */
export function pipelineChartModel(p: PipelineMetrics, period: string, title = `CI runs per ${period}`): ChartModel {
  const width = CHART_WIDTH;
  const height = CHART_HEIGHT;
  const area = plotArea(width, height);
  const { plot, bottom, right } = area;
  const text = (x: number, y: number, value: string, size: TextSize, anchor: "start" | "middle" | "end", cls: string) =>
    ({ type: "text", x: px(x), y: px(y), text: value, size, anchor, fill: COLOURS.text, cls }) as const;
  const shapes: Shape[] = [{ type: "rect", x: 0, y: 0, width, height, fill: COLOURS.background, cls: "background" }];
  shapes.push(text(width / 2, 30, title, "title", "middle", "title"));

  const maxCount = Math.max(0, ...p.periods.map((x) => Math.max(x.runs, x.securityFindings ?? 0)));
  const { yCount, yRate } = dualAxes(shapes, area, maxCount, text);
  for (const [x1, y1, x2, y2] of [
    [plot.x, plot.y, plot.x, bottom],
    [right, plot.y, right, bottom],
    [plot.x, bottom, right, bottom],
  ] as const)
    shapes.push({ type: "line", x1, y1, x2, y2, stroke: COLOURS.axis, width: 1, cls: "axis" });

  const n = Math.max(1, p.periods.length);
  const slot = plot.width / n;
  const barWidth = Math.min(slot * 0.6, 56);
  const longest = Math.max(0, ...p.periods.map((x) => x.period.length + (x.partial ? 1 : 0)));
  const labelEvery = Math.max(1, Math.ceil((longest * CHAR_WIDTH + 12) / slot));
  const centre = (i: number) => plot.x + slot * (i + 0.5);
  p.periods.forEach((x, i) => {
    if (i % labelEvery === 0) shapes.push(text(centre(i), bottom + 18, x.partial ? `${x.period}*` : x.period, "small", "middle", "period"));
    if (x.runs === 0) return;
    const left = px(centre(i) - barWidth / 2);
    const children: Shape[] = [];
    const segment = (from: number, count: number, fill: string, cls: string) => {
      if (count > 0)
        children.push({
          type: "rect",
          x: left,
          y: yCount(from + count),
          width: px(barWidth),
          height: px(yCount(from) - yCount(from + count)),
          fill,
          cls,
        });
    };
    segment(0, x.passed, COLOURS.ok, "passed");
    segment(x.passed, x.runs - x.passed, COLOURS.failed, "failed");
    shapes.push({
      type: "group",
      cls: "bar",
      data: { period: x.period, passed: String(x.passed), failed: String(x.runs - x.passed) },
      children,
    });
  });

  const series: Series[] = [
    { cls: "success-rate", colour: COLOURS.line, values: p.periods.map((x) => x.successRate), y: yRate },
    {
      cls: "coverage",
      colour: PIPELINE_COLOURS.coverage,
      values: p.periods.map((x) => (x.coverageLines === null ? null : x.coverageLines / 100)),
      y: yRate,
    },
    { cls: "security", colour: PIPELINE_COLOURS.security, values: p.periods.map((x) => x.securityFindings), y: yCount },
  ];
  for (const s of series) {
    const points = s.values.flatMap((v, i): [number, number][] => (v === null ? [] : [[px(centre(i)), s.y(v)]]));
    if (points.length === 0) continue;
    shapes.push({ type: "polyline", points, stroke: s.colour, width: 2, cls: `${s.cls}-line` });
    for (const [cx, cy] of points)
      shapes.push({
        type: "circle",
        cx,
        cy,
        r: px(Math.min(4, Math.max(2, slot / 4))),
        fill: COLOURS.background,
        stroke: s.colour,
        cls: `${s.cls}-point`,
      });
  }
  if (p.periods.every((x) => x.runs === 0))
    shapes.push(text(plot.x + plot.width / 2, plot.y + plot.height / 2, "No ci runs in this window", "label", "middle", "empty"));

  shapes.push({ ...text(18, plot.y + plot.height / 2, "CI runs, findings", "label", "middle", "axis-title"), vertical: true });
  shapes.push({ ...text(width - 12, plot.y + plot.height / 2, "Success rate, coverage", "label", "middle", "axis-title"), vertical: true });
  shapes.push(
    text(plot.x + plot.width / 2, height - 16, `${period[0]?.toUpperCase()}${period.slice(1)} (UTC)`, "label", "middle", "axis-title"),
  );

  const legend = [
    { colour: COLOURS.ok, label: "Passed", swatch: true },
    { colour: COLOURS.failed, label: "Failed", swatch: true },
    { colour: COLOURS.line, label: "Success rate", swatch: false },
    { colour: PIPELINE_COLOURS.coverage, label: "Coverage", swatch: false },
    { colour: PIPELINE_COLOURS.security, label: "Security findings", swatch: false },
  ];
  let lx = plot.x;
  for (const e of legend) {
    shapes.push(
      e.swatch
        ? { type: "rect", x: lx, y: 43, width: 12, height: 12, fill: e.colour, cls: "legend-swatch" }
        : { type: "line", x1: lx, y1: 49, x2: lx + 12, y2: 49, stroke: e.colour, width: 2, cls: "legend-swatch" },
    );
    shapes.push(text(lx + 18, 54, e.label, "small", "start", "legend"));
    lx += 18 + e.label.length * CHAR_WIDTH + 24;
  }
  return { width, height, title, plot, shapes };
}

function pipelineOf(metrics: DeliveryMetrics): PipelineMetrics {
  if (metrics.pipeline) return metrics.pipeline;
  throw new Problem(
    "metrics chart: the audit trail has no ci runs",
    "record ci runs with with-audit-trail ... ci (auditTrail.pipelineRuns, on by default)",
  );
}

/** The pipeline chart as SVG text. */
export const pipelineChartSvg = (metrics: DeliveryMetrics): string => renderSvg(pipelineChartModel(pipelineOf(metrics), metrics.period));

/** The same chart as PNG bytes. */
export const pipelineChartPng = (metrics: DeliveryMetrics): Buffer =>
  encodePng(rasterise(pipelineChartModel(pipelineOf(metrics), metrics.period)));
