/**
 * The pipeline metrics as table rows; table.ts lays them out as Markdown and text beside the DORA
 * tables, so both forms come from the same cells.
 */
import { formatDuration, formatRate } from "./format.js";
import type { PipelineMetrics, PipelinePeriod } from "./pipeline.js";

export const PIPELINE_PERIOD_HEADERS = [
  "Period",
  "CI runs",
  "Passed",
  "Success rate",
  "Duration (p50)",
  "Duration (p95)",
  "Coverage (lines)",
  "Security findings",
];

export const GATE_HEADERS = [
  "Gate",
  "Runs",
  "Passed",
  "Failed",
  "Errors",
  "Success rate",
  "Duration (p50)",
  "Duration (p95)",
  "Blocking findings",
];

/** 87.5%, a dash for no measurement. */
export const formatPercent = (value: number | null): string => (value === null ? "—" : `${Math.round(value * 10) / 10}%`);

/** +1.5 pp, -2 pp, ±0 pp; nothing when there is no earlier bucket to compare with. */
export function formatChange(points: number | null): string {
  if (points === null) return "";
  const rounded = Math.round(points * 10) / 10;
  return rounded === 0 ? " (±0 pp)" : ` (${rounded > 0 ? "+" : ""}${rounded} pp)`;
}

/** A median count may be a half; shown as it is, a dash when no run had a count. */
const formatCount = (n: number | null): string => (n === null ? "—" : String(Math.round(n * 10) / 10));

export function pipelineSummaryRows(p: PipelineMetrics): string[][] {
  const w = p.window;
  const first = p.periods.find((x) => x.coverageLines !== null);
  const last = [...p.periods].reverse().find((x) => x.coverageLines !== null);
  const trend = first && last && first !== last ? `, ${formatPercent(first.coverageLines)} → ${formatPercent(last.coverageLines)}` : "";
  return [
    ["Build success rate", w.runs === 0 ? "no ci runs" : `${formatRate(w.successRate)} (${w.passed} of ${w.runs} runs passed)`],
    ["CI duration", w.runs === 0 ? "—" : `p50 ${formatDuration(w.durationP50Ms)}, p95 ${formatDuration(w.durationP95Ms)}`],
    [
      "Coverage (lines)",
      w.latestCoverageLines === null
        ? "not measured"
        : `latest ${formatPercent(w.latestCoverageLines)}, median ${formatPercent(w.coverageLines)}${trend}`,
    ],
    [
      "Security findings (blocking)",
      w.latestSecurityFindings === null
        ? "no security gate judged"
        : `latest run ${w.latestSecurityFindings}, median ${formatCount(w.securityFindings)} per run`,
    ],
  ];
}

export function pipelinePeriodRows(p: PipelineMetrics): string[][] {
  return p.periods.map((x: PipelinePeriod) => [
    x.partial ? `${x.period}*` : x.period,
    String(x.runs),
    String(x.passed),
    formatRate(x.successRate),
    formatDuration(x.durationP50Ms),
    formatDuration(x.durationP95Ms),
    `${formatPercent(x.coverageLines)}${formatChange(x.coverageChange)}`,
    formatCount(x.securityFindings),
  ]);
}

export function gateRows(p: PipelineMetrics): string[][] {
  return p.gates.map((g) => [
    g.gate,
    String(g.runs),
    String(g.passed),
    String(g.failed),
    String(g.errors),
    formatRate(g.successRate),
    formatDuration(g.p50Ms),
    formatDuration(g.p95Ms),
    String(g.blocking),
  ]);
}
