/**
 * GitHub step-summary Markdown for a deploy event and for gate results. Plain data in, Markdown
 * out, so the Dagger layer returns it and the workflow appends it to $GITHUB_STEP_SUMMARY.
 */
import { formatDuration, headline, shortSha, type DeployEvent, type EventResult, verdictTone } from "../../deploy/lib/notify/event.js";
import { cell, code, mdLink, truncateMarkdown } from "../../deploy/lib/github/markdown.js";

/** GitHub refuses a step summary over 1 MiB ("supports content up to a size of 1024k"). */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

const RESULT_ICON: Record<EventResult, string> = { succeeded: "✅", "rolled back": "↩️", failed: "❌", paused: "⏸️" };
const GATE_ICON: Record<string, string> = { passed: "✅", failed: "❌", error: "⚠️", skipped: "⏭️" };

const VERDICT_ICON = { pass: "✅", fail: "❌", other: "❔" } as const;
const verdictIcon = (verdict: string) => VERDICT_ICON[verdictTone(verdict)];

export function deploySummary(event: DeployEvent): string {
  const facts: [string, string | undefined][] = [
    ["Environment", cell(event.environment)],
    ["Image", code(event.image)],
    ["Version", event.version === undefined ? undefined : cell(event.version)],
    ["Commit", event.commitSha === undefined ? undefined : mdLink(event.commitUrl, shortSha(event.commitSha))],
    ["Author", event.author === undefined ? undefined : cell(event.author)],
    ["Duration", formatDuration(event.durationSeconds)],
    ["Strategy", event.strategy === undefined ? undefined : cell(event.strategy)],
    ["Run", event.runUrl === undefined ? undefined : mdLink(event.runUrl, "workflow run")],
  ];
  const lines = [
    `## ${RESULT_ICON[event.result]} ${cell(headline(event))}`,
    "",
    cell(event.reason),
    "",
    "| | |",
    "|---|---|",
    ...facts.filter((f): f is [string, string] => f[1] !== undefined).map(([name, value]) => `| **${name}** | ${value} |`),
  ];
  const decisions = event.decisions ?? [];
  if (decisions.length > 0) {
    lines.push("", "### Gate decisions", "", "| Gate | Verdict | Reason |", "|---|---|---|");
    for (const d of decisions) lines.push(`| ${cell(d.gate)} | ${verdictIcon(d.verdict)} ${cell(d.verdict)} | ${cell(d.reason)} |`);
  }
  return lines.join("\n") + "\n";
}

/** One gate's result as plain data (report/outcome's GateOutcome fits). */
export interface GateRow {
  gate: string;
  /** passed, failed, error or skipped. */
  status: string;
  summary: string;
  durationMs?: number;
  hint?: string;
}

const passing = (g: GateRow) => g.status === "passed" || g.status === "skipped";

function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms / 1000);
}

export function gatesSummary(gates: readonly GateRow[], title = "Shipshape CI"): string {
  const ok = gates.every(passing);
  const lines = [`## ${ok ? "✅" : "❌"} ${cell(title)}`, ""];
  if (gates.length === 0) return [...lines, "No gates ran.", ""].join("\n");
  lines.push("| Gate | Status | Time | Detail |", "|---|---|---|---|");
  for (const g of gates) {
    const time = g.durationMs === undefined ? "" : seconds(g.durationMs);
    lines.push(`| ${cell(g.gate)} | ${GATE_ICON[g.status] ?? "❔"} ${cell(g.status)} | ${time} | ${cell(g.summary)} |`);
  }
  const fixes = gates.filter((g) => !passing(g) && g.hint !== undefined && g.hint !== "");
  if (fixes.length > 0) lines.push("", "**How to fix**", "", ...fixes.map((g) => `- **${cell(g.gate)}**: ${cell(g.hint ?? "")}`));
  return lines.join("\n") + "\n";
}

export interface CiReport {
  gates?: readonly GateRow[];
  deploy?: DeployEvent;
  runUrl?: string;
  commitSha?: string;
  title?: string;
}

/** The whole run: gates, then the deploy if there was one, then where to look for more. */
export function ciSummary(report: CiReport): string {
  const parts: string[] = [];
  if (report.gates !== undefined) parts.push(gatesSummary(report.gates, report.title));
  if (report.deploy !== undefined) parts.push(deploySummary(report.deploy));
  const footer = [
    report.commitSha === undefined ? undefined : `Commit ${code(shortSha(report.commitSha))}`,
    report.runUrl === undefined ? undefined : mdLink(report.runUrl, "workflow run"),
  ].filter((s) => s !== undefined);
  if (footer.length > 0) parts.push(`<sub>${footer.join(" · ")}</sub>\n`);
  return parts.join("\n");
}

const STEP_SUMMARY_NOTE = "> **Note:** this summary was cut short to fit GitHub's step-summary limit.";

/** Keeps a summary under GitHub's step-summary limit, which counts UTF-8 bytes. */
export function fitStepSummary(markdown: string, limitBytes = STEP_SUMMARY_LIMIT): string {
  let text = markdown;
  let chars = markdown.length;
  while (Buffer.byteLength(text, "utf8") > limitBytes && chars > 0) {
    // Shrink in proportion to the overshoot; multi-byte characters make one pass not always enough.
    chars = Math.floor((chars * limitBytes) / Buffer.byteLength(text, "utf8")) - 16;
    text = truncateMarkdown(markdown, Math.max(0, chars), STEP_SUMMARY_NOTE).text;
  }
  return text;
}
