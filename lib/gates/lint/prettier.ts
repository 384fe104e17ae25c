import type { Diagnostic } from "../../../deploy/src/report/diagnostic.js";

/*
 * Parses `prettier --check` (Prettier 3.10.1). Observed streams and exit codes:
 * - stdout only ever holds "Checking formatting...", then "All matched files use
 *   Prettier code style!" or "Error occurred when checking code style in ...";
 * - stderr holds one "[warn] <path>" per unformatted file (path relative to the
 *   cwd, POSIX), then "[warn] Code style issues found in N files|the above file...",
 *   plus "[error] <path>: SyntaxError: ... (line:col)" and its indented code frame;
 * - exit 0 = all formatted, 1 = some unformatted, 2 = prettier failed on a file or
 *   pattern (the unformatted [warn] lines are still printed, the summary is not);
 * - exit 2 with "[error] No files matching the pattern were found" still prints
 *   "All matched files use Prettier code style!" on stdout: trust the exit code.
 * - with CI set (or FORCE_COLOR) the [warn]/[error] tags carry ANSI colours even
 *   without a TTY. Feed these functions stderr, or stdout+stderr combined.
 */

// Built from a string: a literal ESC in a regex trips no-control-regex, and colours are the point.
const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");

// Non-file [warn] messages prettier prints in --check mode.
const NOT_A_FILE = [/^Code style issues (found|fixed) in /, /^Ignored unknown option /, /^Unknown flag /];

function tagged(output: string, tag: "warn" | "error"): string[] {
  const prefix = `[${tag}] `;
  return output
    .replace(ANSI, "")
    .split(/\r?\n/)
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

/** Files `prettier --check` reported as not formatted, in report order, without duplicates. */
export function parsePrettierCheck(output: string): string[] {
  const files = tagged(output, "warn").filter(
    // Indented lines continue a multi-line warning; they are never paths.
    (l) => l.trim() !== "" && !/^\s/.test(l) && !NOT_A_FILE.some((re) => re.test(l)),
  );
  return [...new Set(files)];
}

export function prettierDiagnostics(files: string[]): Diagnostic[] {
  return files.map((file) => ({
    ruleId: "prettier/format",
    severity: "error",
    message: `File is not formatted; run prettier --write ${file}`,
    file,
  }));
}

export interface PrettierError {
  /** Set when prettier names the file it could not handle (e.g. a syntax error). */
  file?: string;
  /** e.g. "SyntaxError: '}' expected." or "No files matching the pattern were found: ...". */
  message: string;
  line?: number;
  column?: number;
}

const FILE_ERROR = /^(.+?): (\w*Error\b.*?)(?: \((\d+):(\d+)\))?$/;

/** The failures behind a prettier exit 2, one per error (code frames and stacks dropped). */
export function parsePrettierErrors(output: string): PrettierError[] {
  const errors: PrettierError[] = [];
  for (const line of tagged(output, "error")) {
    // Code frames ("  1 | ...", "> 3 |") and stack traces are indented or start with ">".
    if (line.trim() === "" || /^[\s>]/.test(line)) continue;
    const m = FILE_ERROR.exec(line);
    if (!m?.[1] || !m[2]) {
      errors.push({ message: line });
      continue;
    }
    const e: PrettierError = { file: m[1], message: m[2] };
    if (m[3] && m[4]) {
      e.line = Number(m[3]);
      e.column = Number(m[4]);
    }
    errors.push(e);
  }
  return errors;
}

/** Diagnostics for files prettier could not parse, so the gate reports them with a location. */
export function prettierErrorDiagnostics(errors: PrettierError[]): Diagnostic[] {
  return errors.map((e) => {
    const d: Diagnostic = {
      ruleId: "prettier/syntax-error",
      severity: "error",
      message: e.file ? `prettier could not parse ${e.file}: ${e.message}` : `prettier failed: ${e.message}`,
    };
    if (e.file) d.file = e.file;
    if (e.line !== undefined) d.line = e.line;
    if (e.column !== undefined) d.column = e.column;
    return d;
  });
}
