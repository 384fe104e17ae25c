import { posix } from "node:path";
import { z } from "zod";
import type { Diagnostic } from "../../../deploy/src/report/diagnostic.js";

/*
 * Parses `eslint --format json` (ESLint 9). Observed with 9.39.5:
 * - the JSON report goes to stdout; crashes and config errors ("Oops! Something
 *   went wrong!", "No files matching the pattern") go to stderr with an EMPTY stdout;
 * - exit 0 = no errors (warnings allowed), 1 = at least one error (parse errors
 *   included), 2 = ESLint itself failed. So exit 2 must never reach this parser.
 */

const message = z.object({
  // null for core messages: parse errors (fatal), "File ignored ...",
  // "Unused eslint-disable directive ...".
  ruleId: z.string().nullable(),
  severity: z.union([z.literal(1), z.literal(2)]),
  message: z.string(),
  // Absent on "File ignored" warnings; parse errors have line but no end.
  line: z.number().nullish(),
  column: z.number().nullish(),
  endLine: z.number().nullish(),
  endColumn: z.number().nullish(),
  fatal: z.boolean().optional(),
});

const fileResult = z.object({
  filePath: z.string(),
  messages: z.array(message),
  errorCount: z.number().int().nonnegative(),
  warningCount: z.number().int().nonnegative(),
  fixableErrorCount: z.number().int().nonnegative(),
  fixableWarningCount: z.number().int().nonnegative(),
});

const report = z.array(fileResult);

export interface EslintSummary {
  errors: number;
  warnings: number;
  /** Problems `eslint --fix` would fix (errors and warnings). */
  fixable: number;
  filesWithProblems: number;
  diagnostics: Diagnostic[];
}

function relativeTo(projectRoot: string, filePath: string): string {
  // The report comes from a Linux container, so paths are POSIX whatever the host.
  const rel = posix.relative(projectRoot, filePath.replace(/\\/g, "/"));
  return rel === "" ? posix.basename(filePath) : rel;
}

// ESLint columns are 1-based, but parse errors at end of file report column 0.
function atLeastOne(n: number | null | undefined): number | undefined {
  return n === null || n === undefined ? undefined : Math.max(1, n);
}

export function parseEslintJson(text: string, projectRoot: string): EslintSummary {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    const head = text.trim().slice(0, 80);
    throw new Error(`ESLint report is not valid JSON: ${head === "" ? "(empty output)" : head}`);
  }
  const parsed = report.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
    throw new Error(`ESLint report has an unexpected shape: ${issues.join("; ")}`);
  }

  const summary: EslintSummary = { errors: 0, warnings: 0, fixable: 0, filesWithProblems: 0, diagnostics: [] };
  for (const file of parsed.data) {
    summary.errors += file.errorCount;
    summary.warnings += file.warningCount;
    summary.fixable += file.fixableErrorCount + file.fixableWarningCount;
    if (file.messages.length > 0) summary.filesWithProblems += 1;
    const rel = relativeTo(projectRoot, file.filePath);
    for (const m of file.messages) {
      const d: Diagnostic = {
        ruleId: m.ruleId ?? (m.fatal ? "eslint/parse-error" : "eslint/core"),
        severity: m.severity === 2 ? "error" : "warning",
        message: m.message,
        file: rel,
      };
      const line = atLeastOne(m.line);
      if (line !== undefined) d.line = line;
      const column = atLeastOne(m.column);
      if (column !== undefined) d.column = column;
      const endLine = atLeastOne(m.endLine);
      if (endLine !== undefined) d.endLine = endLine;
      const endColumn = atLeastOne(m.endColumn);
      if (endColumn !== undefined) d.endColumn = endColumn;
      summary.diagnostics.push(d);
    }
  }
  return summary;
}
