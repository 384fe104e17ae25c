/**
 * The chart as a self-contained SVG: fixed width/height plus a viewBox, no scripts, no external
 * fonts or stylesheets, every text escaped, and the same bytes for the same metrics.
 */
import { Problem } from "../../src/project/problem.js";
import { chartModel, type ChartModel, type ChartOptions, type Shape, type TextSize } from "./chart-model.js";
import type { DeliveryMetrics, EnvironmentMetrics } from "./dora.js";

const FONT_SIZE: Record<TextSize, number> = { title: 18, label: 12, small: 11 };

/** Escapes text and attribute values; control characters XML 1.0 cannot hold are dropped. */
export function xmlEscape(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- removing exactly these characters is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

const dataAttrs = (data: Record<string, string> | undefined) =>
  data === undefined
    ? ""
    : Object.entries(data)
        .map(([k, v]) => ` data-${k}="${xmlEscape(v)}"`)
        .join("");

function shapeSvg(s: Shape, indent: string): string {
  switch (s.type) {
    case "rect":
      return `${indent}<rect class="${s.cls}" x="${s.x}" y="${s.y}" width="${s.width}" height="${s.height}" fill="${s.fill}"/>`;
    case "line":
      return (
        `${indent}<line class="${s.cls}" x1="${s.x1}" y1="${s.y1}" x2="${s.x2}" y2="${s.y2}" stroke="${s.stroke}" stroke-width="${s.width}"` +
        `${s.dashed ? ' stroke-dasharray="4 3"' : ""}/>`
      );
    case "polyline":
      return `${indent}<polyline class="${s.cls}" points="${s.points.map(([x, y]) => `${x},${y}`).join(" ")}" fill="none" stroke="${s.stroke}" stroke-width="${s.width}" stroke-linejoin="round"/>`;
    case "circle":
      return `${indent}<circle class="${s.cls}" cx="${s.cx}" cy="${s.cy}" r="${s.r}" fill="${s.fill}" stroke="${s.stroke}" stroke-width="2"${dataAttrs(s.data)}/>`;
    case "text": {
      const weight = s.size === "title" ? ' font-weight="bold"' : "";
      const rotate = s.vertical ? ` transform="rotate(-90 ${s.x} ${s.y})"` : "";
      return `${indent}<text class="${s.cls}" x="${s.x}" y="${s.y}" font-size="${FONT_SIZE[s.size]}" text-anchor="${s.anchor}" fill="${s.fill}"${weight}${rotate}>${xmlEscape(s.text)}</text>`;
    }
    case "group":
      return [
        `${indent}<g class="${s.cls}"${dataAttrs(s.data)}>`,
        ...s.children.map((c) => shapeSvg(c, `${indent}  `)),
        `${indent}</g>`,
      ].join("\n");
  }
}

export function renderSvg(model: ChartModel): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${model.width}" height="${model.height}" viewBox="0 0 ${model.width} ${model.height}" role="img" aria-label="${xmlEscape(model.title)}" font-family="Helvetica, Arial, sans-serif">`,
    `  <title>${xmlEscape(model.title)}</title>`,
    ...model.shapes.map((s) => shapeSvg(s, "  ")),
    "</svg>",
    "",
  ].join("\n");
}

/** The environment a chart is for: the one named, or the only one; several need a choice. */
export function chartEnvironment(metrics: DeliveryMetrics, environment?: string): EnvironmentMetrics {
  const names = metrics.environments.map((e) => e.environment);
  if (environment !== undefined) {
    const found = metrics.environments.find((e) => e.environment === environment);
    if (found) return found;
    throw new Problem(
      `metrics chart: no environment ${JSON.stringify(environment)} in these metrics`,
      names.length === 0 ? "there are no runs in the window" : `use one of: ${names.join(", ")}`,
    );
  }
  const [only, ...more] = metrics.environments;
  if (only !== undefined && more.length === 0) return only;
  throw new Problem(
    names.length === 0 ? "metrics chart: the audit trail has no runs" : `metrics chart: ${names.length} environments; a chart shows one`,
    names.length === 0 ? "name the environment in the metrics query to chart it empty" : `name the environment: ${names.join(", ")}`,
  );
}

export interface ChartRequest extends ChartOptions {
  environment?: string;
}

/** Deployments per period with the change failure rate, for one environment, as SVG text. */
export function metricsChartSvg(metrics: DeliveryMetrics, request: ChartRequest = {}): string {
  const env = chartEnvironment(metrics, request.environment);
  return renderSvg(chartModel(env, metrics.period, request));
}
