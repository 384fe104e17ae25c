/** Text and Markdown renderings of gate outcomes: the CLI table and the GitHub step summary. */
import type { GateOutcome, GateStatusValue } from "./outcome.js";
import { repoRelativeText } from "./paths.js";

const ICON: Record<GateStatusValue, string> = { passed: "✅", failed: "❌", error: "⚠️", skipped: "⏭️" };

export function seconds(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** What a person reads of an outcome, with every container path made repository-relative. */
export function relativeOutcome(o: GateOutcome): GateOutcome {
  const r = repoRelativeText;
  return { ...o, summary: r(o.summary), cause: r(o.cause), hint: r(o.hint), findings: o.findings.map(r), log: r(o.log) };
}

export const passedAll = (outcomes: GateOutcome[]) => outcomes.every((o) => o.status === "passed" || o.status === "skipped");

/** Fixed-width table: gate, status, duration, one-line cause; hints follow for what did not pass. */
export function renderTable(all: GateOutcome[]): string {
  const outcomes = all.map(relativeOutcome);
  const rows = [
    ["GATE", "STATUS", "TIME", "DETAIL"],
    ...outcomes.map((o) => [o.gate, o.status.toUpperCase(), seconds(o.durationMs), o.summary]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c))
      .join("  ")
      .trimEnd(),
  );
  const hints = outcomes.filter((o) => o.hint && o.status !== "passed").map((o) => `${o.gate}: ${o.hint}`);
  const verdict = passedAll(outcomes)
    ? "all gates passed"
    : `${outcomes.filter((o) => o.status === "failed" || o.status === "error").length} of ${outcomes.length} gates did not pass`;
  return [...lines, "", verdict, ...(hints.length ? ["", "how to fix:", ...hints.map((h) => `  ${h}`)] : [])].join("\n");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderMarkdown(all: GateOutcome[], title = "Shipshape CI"): string {
  const outcomes = all.map(relativeOutcome);
  const head = `## ${passedAll(outcomes) ? "✅" : "❌"} ${title}\n\n| Gate | Status | Time | Detail |\n|---|---|---|---|`;
  const rows = outcomes.map((o) => `| ${o.gate} | ${ICON[o.status]} ${o.status} | ${seconds(o.durationMs)} | ${cell(o.summary)} |`);
  const details = outcomes
    .filter((o) => o.status === "failed" || o.status === "error")
    .map((o) => {
      const findings = o.findings.length ? "\n\n" + o.findings.map((f) => `- \`${f.replace(/`/g, "'")}\``).join("\n") : "";
      const hint = o.hint ? `\n\n**Fix:** ${o.hint}` : "";
      // The row above already shows the summary; a cause it contains would say its counts twice.
      const why = o.cause && !o.summary.includes(o.cause) ? o.cause : "findings and fix";
      return `<details><summary><b>${o.gate}</b>: ${cell(why)}</summary>${hint}${findings}\n\n</details>`;
    });
  return [head, ...rows, ...(details.length ? ["", ...details] : [])].join("\n") + "\n";
}
