/** Markdown (PR comment / job summary) and SARIF (code scanning) for a migrations verdict. */
import type { Diagnostic } from "../../../deploy/src/report/diagnostic.js";
import { toSarif, type SarifLog } from "../../../deploy/src/report/sarif.js";
import type { MigrationFinding } from "./findings.js";
import type { MigrationsVerdict } from "./judge.js";
import { severityRank } from "../../../deploy/lib/release/migrations/severity.js";
import { oneLine } from "./sql.js";
import { SQUAWK_VERSION } from "./squawk.js";

/** GitHub rejects comments over 65536 characters; 100 rows stay well under it. */
const MAX_ROWS = 100;

// Table cells: a pipe would end the cell and a newline the row.
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

function code(s: string): string {
  if (s === "") return "";
  if (!s.includes("`")) return `\`${s}\``;
  // A code span needs a fence longer than any backtick run inside it, and spaces so an edge backtick is content.
  const fence = "`".repeat(Math.max(...[...s.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  return `${fence} ${s} ${fence}`;
}

function label(f: MigrationFinding, v: MigrationsVerdict): string {
  if (v.blocking.includes(f)) return `**${f.severity}** (blocking)`;
  if (v.approved.includes(f)) return `${f.severity} (approved)`;
  return f.severity;
}

/** Blocking first, then by severity, then in file order. */
function ordered(v: MigrationsVerdict): MigrationFinding[] {
  const weight = (f: MigrationFinding) => (v.blocking.includes(f) ? 10 : 0) + severityRank(f.severity);
  return [...v.findings].sort((a, b) => weight(b) - weight(a));
}

export function renderMigrationsMarkdown(v: MigrationsVerdict): string {
  const icon = v.status === "passed" ? "✅" : v.status === "failed" ? "❌" : "⚠️";
  const lines = [`### ${icon} Migrations: ${v.status}`, "", cell(v.cause)];
  if (v.hint !== "") lines.push("", `**Fix:** ${cell(v.hint)}`);
  const rows = ordered(v);
  if (rows.length > 0) {
    lines.push("", "| file:line | severity | rule | statement | fix |", "|---|---|---|---|---|");
    for (const f of rows.slice(0, MAX_ROWS)) {
      lines.push(
        `| ${cell(`${f.file}:${f.line}`)} | ${label(f, v)} | ${cell(f.rule)} | ${cell(code(oneLine(f.statement, 120)))} | ${cell(f.guidance)} |`,
      );
    }
    if (rows.length > MAX_ROWS) lines.push("", `…and ${rows.length - MAX_ROWS} more findings (see the SARIF report).`);
  }
  if (v.skipped.length > 0) lines.push("", "Skipped:", ...v.skipped.map((s) => `- ${cell(s.file)}: ${cell(s.note)}`));
  return `${lines.join("\n")}\n`;
}

/** Blocking findings are errors, the rest warnings (medium and up) or notes, so code scanning ranks them alike. */
export function migrationDiagnostics(v: MigrationsVerdict): Diagnostic[] {
  return v.findings.map((f): Diagnostic => {
    const severity = v.blocking.includes(f) ? "error" : severityRank(f.severity) >= severityRank("medium") ? "warning" : "note";
    const d: Diagnostic = {
      ruleId: f.rule,
      severity,
      message: `${f.severity}${f.destructive ? ", destructive" : ""}: ${f.message} Fix: ${f.guidance}.`,
      file: f.file,
      line: f.line,
      column: f.column,
    };
    if (f.endLine !== undefined) d.endLine = f.endLine;
    if (f.endColumn !== undefined) d.endColumn = f.endColumn;
    return d;
  });
}

export function migrationsSarif(v: MigrationsVerdict): SarifLog {
  return toSarif({ name: "squawk", version: SQUAWK_VERSION, informationUri: "https://squawkhq.com" }, migrationDiagnostics(v));
}
