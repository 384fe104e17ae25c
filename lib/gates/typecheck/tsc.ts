import { repoRelative } from "../../../deploy/src/report/paths.js";
import type { Diagnostic, Severity } from "../../../deploy/src/report/diagnostic.js";

/*
 * Parses `tsc --noEmit --pretty false` (TypeScript 5.9.3). Observed:
 * - everything, diagnostics included, goes to stdout; stderr stays empty;
 * - exit 0 = clean, 2 = diagnostics found (type errors, bad tsconfig options,
 *   TS18003 no inputs, TS5083 unreadable "extends"), 1 = the project could not be
 *   loaded at all (TS5058 path does not exist, TS5057 no tsconfig in that dir);
 * - paths are relative to tsc's cwd, so run it from the project root;
 * - elaborations ("Types of property 'x' are incompatible.") follow on lines
 *   indented by two spaces per level; related information is not printed;
 * - no "Found N errors" summary without --pretty.
 */

const LOCATED = /^(.+)\((\d+),(\d+)\): (error|warning|message|suggestion) (TS\d+): (.*)$/;
const GLOBAL = /^(error|warning|message|suggestion) (TS\d+): (.*)$/;

function severity(category: string): Severity {
  if (category === "error") return "error";
  return category === "warning" ? "warning" : "note";
}

export function parseTscOutput(text: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  let last: Diagnostic | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const located = LOCATED.exec(line);
    if (located) {
      const [, file = "", ln = "1", col = "1", category = "error", code = "", message = ""] = located;
      last = {
        ruleId: code,
        severity: severity(category),
        message,
        // Relative to tsc's cwd, unless the file is outside it: then tsc prints it absolute.
        file: repoRelative(file),
        line: Number(ln),
        column: Number(col),
      };
      diagnostics.push(last);
      continue;
    }
    const global = GLOBAL.exec(line);
    if (global) {
      const [, category = "error", code = "", message = ""] = global;
      last = { ruleId: code, severity: severity(category), message };
      diagnostics.push(last);
      continue;
    }
    // Indentation is kept: it shows the depth of the elaboration chain.
    if (last && /^\s+\S/.test(line)) last.message += `\n${line}`;
    else if (line !== "") last = undefined;
  }
  return diagnostics;
}

export interface TscSummary {
  errors: number;
  warnings: number;
  /** Distinct files with at least one diagnostic, sorted. */
  files: string[];
  /** Diagnostics with no file: tsconfig/project-level failures. */
  global: number;
}

export function summarizeTsc(diagnostics: Diagnostic[]): TscSummary {
  const files = new Set<string>();
  let errors = 0;
  let warnings = 0;
  let global = 0;
  for (const d of diagnostics) {
    if (d.severity === "error") errors += 1;
    else if (d.severity === "warning") warnings += 1;
    if (d.file) files.add(d.file);
    else global += 1;
  }
  return { errors, warnings, files: [...files].sort(), global };
}
