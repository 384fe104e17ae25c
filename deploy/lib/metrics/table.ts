/**
 * The metrics as tables: Markdown for PR comments and reports, plain text for a terminal. Both
 * come from one set of rows so they cannot disagree.
 */
import { BAND_RULES, type Band, type MetricName } from "./bands.js";
import type { DeliveryMetrics, EnvironmentMetrics } from "./dora.js";
import { formatDuration, formatInstant, formatPerDay, formatRate } from "./format.js";
import { GATE_HEADERS, gateRows, PIPELINE_PERIOD_HEADERS, pipelinePeriodRows, pipelineSummaryRows } from "./pipeline-table.js";

const METRIC_TITLES: Record<MetricName, string> = {
  deploymentFrequency: "Deployment frequency",
  leadTime: "Lead time for changes",
  changeFailureRate: "Change failure rate",
  timeToRestore: "Time to restore",
};

const PERIOD_HEADERS = [
  "Period",
  "Deploys",
  "Successful",
  "Change failures",
  "Failure rate",
  "Lead time (median)",
  "Lead time (p90)",
  "Time to restore (median)",
];

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function summaryRows(env: EnvironmentMetrics): string[][] {
  const w = env.window;
  const band = (metric: MetricName): string => env.bands[metric] satisfies Band;
  return [
    [
      METRIC_TITLES.deploymentFrequency,
      `${w.successful} successful (${formatPerDay(w.successfulPerDay)} per day)`,
      band("deploymentFrequency"),
    ],
    [
      METRIC_TITLES.leadTime,
      w.leadTime.samples === 0
        ? "no successful deploy with a commit time"
        : `median ${formatDuration(w.leadTime.medianMs)}, p90 ${formatDuration(w.leadTime.p90Ms)} (${plural(w.leadTime.samples, "commit")})`,
      band("leadTime"),
    ],
    [
      METRIC_TITLES.changeFailureRate,
      w.deploys === 0 ? "no deploys" : `${formatRate(w.changeFailureRate)} (${w.changeFailures} of ${w.deploys})`,
      band("changeFailureRate"),
    ],
    [
      METRIC_TITLES.timeToRestore,
      (w.timeToRestore.samples === 0
        ? "no restored failure"
        : `median ${formatDuration(w.timeToRestore.medianMs)} (${plural(w.timeToRestore.samples, "outage")})`) +
        (w.openFailures > 0 ? `, ${w.openFailures} still open` : ""),
      band("timeToRestore"),
    ],
  ];
}

function periodRows(env: EnvironmentMetrics): string[][] {
  return env.periods.map((p) => [
    p.partial ? `${p.period}*` : p.period,
    String(p.deploys),
    String(p.successful),
    String(p.changeFailures),
    formatRate(p.changeFailureRate),
    formatDuration(p.leadTime.medianMs),
    formatDuration(p.leadTime.p90Ms),
    formatDuration(p.timeToRestore.medianMs),
  ]);
}

const failureLines = (env: EnvironmentMetrics): string[] =>
  env.changeFailures.map(
    (f) =>
      `${f.runId}${f.version === undefined ? "" : ` (${f.version})`} ended ${formatInstant(f.endedAt)}: ${f.why}; ` +
      (f.restoredAt === undefined ? "not restored yet" : `restored ${formatInstant(f.restoredAt)}`),
  );

const bandLines = (): string[] =>
  (Object.keys(METRIC_TITLES) as MetricName[]).map((metric) => {
    const rule = BAND_RULES[metric];
    return `${METRIC_TITLES[metric]}: elite ${rule.words.elite}; high ${rule.words.high}; medium ${rule.words.medium}; low ${rule.words.low} (${rule.source})`;
  });

const heading = (m: DeliveryMetrics, env: EnvironmentMetrics) =>
  `Delivery metrics: ${env.environment}, ${formatInstant(m.from)} to ${formatInstant(m.to)} UTC, by ${m.period}`;

const pipelineHeading = (m: DeliveryMetrics) => `Pipeline: ci runs, ${formatInstant(m.from)} to ${formatInstant(m.to)} UTC, by ${m.period}`;

/** With ci runs but no deploy the trail is not empty: say which half is missing. */
const nothing = (m: DeliveryMetrics) => (m.pipeline ? "No deploys in the audit trail." : "No runs in the audit trail.");

// ---- Markdown ----

/** Escapes what Markdown (and the HTML it may carry) would interpret inside a table cell or list item. */
export function markdownText(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

function markdownTable(headers: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(markdownText).join(" | ")} |`;
  return [line(headers), `|${headers.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}

/** One section per environment, then unresolved runs, notes and the band thresholds used. */
export function metricsMarkdown(m: DeliveryMetrics): string {
  const out: string[] = [];
  if (m.environments.length === 0) out.push(`## Delivery metrics, ${formatInstant(m.from)} to ${formatInstant(m.to)} UTC\n\n${nothing(m)}`);
  for (const env of m.environments) {
    out.push(`## ${markdownText(heading(m, env))}`);
    out.push(markdownTable(["Metric", "Value", "DORA band"], summaryRows(env)));
    out.push(markdownTable(PERIOD_HEADERS, periodRows(env)));
    if (env.periods.some((p) => p.partial)) out.push("\\* partial period: the window covers only part of it.");
    const failures = failureLines(env);
    if (failures.length > 0) out.push(`**Change failures**\n\n${failures.map((f) => `- ${markdownText(f)}`).join("\n")}`);
  }
  if (m.pipeline) {
    out.push(`## ${markdownText(pipelineHeading(m))}`);
    out.push(markdownTable(["Metric", "Value"], pipelineSummaryRows(m.pipeline)));
    out.push(markdownTable(PIPELINE_PERIOD_HEADERS, pipelinePeriodRows(m.pipeline)));
    out.push(markdownTable(GATE_HEADERS, gateRows(m.pipeline)));
  }
  if (m.unresolved.length > 0) {
    const rows = m.unresolved.map((u) => [
      u.runId,
      u.kind,
      u.environment,
      u.startedAt === undefined ? "—" : formatInstant(u.startedAt),
      u.status,
    ]);
    out.push(`**Runs not counted**\n\n${markdownTable(["Run", "Kind", "Environment", "Started", "Why"], rows)}`);
  }
  if (m.notes.length > 0) out.push(`**Notes**\n\n${m.notes.map((n) => `- ${markdownText(n)}`).join("\n")}`);
  out.push(
    `<details><summary>DORA bands used</summary>\n\n${bandLines()
      .map((b) => `- ${markdownText(b)}`)
      .join("\n")}\n\n</details>`,
  );
  return `${out.join("\n\n")}\n`;
}

// ---- Plain text ----

function textTable(headers: readonly string[], rows: readonly string[][]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c + " ".repeat((widths[i] ?? 0) - [...c].length))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The same content as metricsMarkdown, aligned in columns for a terminal or a log. */
export function metricsText(m: DeliveryMetrics): string {
  const clean = (s: string) => s.replace(/[\r\n\t]+/g, " ");
  const out: string[] = [];
  if (m.environments.length === 0)
    out.push(`Delivery metrics, ${formatInstant(m.from)} to ${formatInstant(m.to)} UTC: ${nothing(m).toLowerCase().replace(/\.$/, "")}.`);
  for (const env of m.environments) {
    out.push(clean(heading(m, env)));
    out.push(
      textTable(
        ["Metric", "Value", "DORA band"],
        summaryRows(env).map((r) => r.map(clean)),
      ),
    );
    out.push(textTable(PERIOD_HEADERS, periodRows(env)));
    if (env.periods.some((p) => p.partial)) out.push("* partial period: the window covers only part of it.");
    const failures = failureLines(env);
    if (failures.length > 0) out.push(`Change failures:\n${failures.map((f) => `  ${clean(f)}`).join("\n")}`);
  }
  if (m.pipeline) {
    out.push(pipelineHeading(m));
    out.push(textTable(["Metric", "Value"], pipelineSummaryRows(m.pipeline)));
    out.push(textTable(PIPELINE_PERIOD_HEADERS, pipelinePeriodRows(m.pipeline)));
    out.push(textTable(GATE_HEADERS, gateRows(m.pipeline)));
  }
  if (m.unresolved.length > 0) {
    const rows = m.unresolved.map((u) =>
      [u.runId, u.kind, u.environment, u.startedAt === undefined ? "—" : formatInstant(u.startedAt), u.status].map(clean),
    );
    out.push(`Runs not counted:\n${textTable(["Run", "Kind", "Environment", "Started", "Why"], rows)}`);
  }
  if (m.notes.length > 0) out.push(`Notes:\n${m.notes.map((n) => `  ${clean(n)}`).join("\n")}`);
  out.push(
    `DORA bands used:\n${bandLines()
      .map((b) => `  ${b}`)
      .join("\n")}`,
  );
  return `${out.join("\n\n")}\n`;
}
