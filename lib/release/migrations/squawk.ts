/**
 * squawk's command line and JSON report (squawk-cli 2.66.0). Observed:
 * - exit 1 on ANY finding, warnings included, and also when it fails (missing file, non-UTF-8
 *   file) with an empty stdout; exit 2 for a bad flag (unknown --exclude rule, bad --pg-version).
 *   So the verdict comes from the report, never from the exit code.
 * - `line`/`line_end` are 0-based; `column`/`column_end` are 0-based UTF-8 BYTE offsets in the line.
 * - paths are globs: a file named `a[1].sql` is "not found" unless escaped.
 * - a `.squawk.toml` in the working directory or any parent is read as well (excluded_rules etc.).
 */
import { z } from "zod";
import type { MigrationsConfig } from "../../../deploy/lib/release/migrations/config.js";
import { SQUAWK_EXCLUDABLE } from "../../../deploy/lib/release/migrations/severity.js";

export const SQUAWK_VERSION = "2.66.0";

export interface SquawkCommandOptions {
  /** How to start squawk: ["squawk"] in its image, ["node_modules/.bin/squawk"] on a host. */
  bin?: string[];
}

// The glob crate squawk uses treats `[x]` as a literal x.
function escapeGlob(path: string): string {
  return path.replace(/[[*?]/g, (c) => `[${c}]`);
}

export function squawkCommand(
  files: readonly string[],
  cfg: Pick<MigrationsConfig, "pgVersion" | "assumeInTransaction" | "excludeRules">,
  opts: SquawkCommandOptions = {},
): string[] {
  // With no paths squawk prints [] and exits 0: a silent pass the caller must not mistake for a check.
  if (files.length === 0) throw new Error("squawkCommand needs at least one file");
  const squawkRules: readonly string[] = SQUAWK_EXCLUDABLE;
  const exclude = cfg.excludeRules.filter((r) => squawkRules.includes(r));
  return [
    ...(opts.bin ?? ["squawk"]),
    "--reporter",
    "json",
    ...(cfg.pgVersion === undefined ? [] : ["--pg-version", cfg.pgVersion]),
    ...(cfg.assumeInTransaction ? ["--assume-in-transaction"] : []),
    ...(exclude.length > 0 ? ["--exclude", exclude.join(",")] : []),
    "--", // a file named "-x.sql" stays a file
    ...files.map(escapeGlob),
  ];
}

const violation = z.object({
  file: z.string(),
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative(),
  line_end: z.number().int().nonnegative(),
  column_end: z.number().int().nonnegative(),
  level: z.enum(["Warning", "Error"]),
  message: z.string(),
  help: z.string().nullable(),
  rule_name: z.string(),
});

const report = z.array(violation);

export interface SquawkViolation {
  file: string;
  rule: string;
  level: "Warning" | "Error";
  message: string;
  help: string | null;
  /** 1-based lines. */
  line: number;
  endLine: number;
  /** Offsets in UTF-8 bytes from the start of the line (0 = first byte), as squawk reports them; see positionFromBytes. */
  byteOffset: number;
  endByteOffset: number;
}

/** `stderr` only improves the error message when the report is missing. */
export function parseSquawkJson(stdout: string, stderr = ""): SquawkViolation[] {
  const text = stdout.trim();
  const why = stderr.trim().split("\n")[0] ?? "";
  if (text === "") throw new Error(`squawk printed no report${why === "" ? "" : `: ${why}`}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`squawk report is not valid JSON: ${text.slice(0, 80)}`);
  }
  const parsed = report.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`squawk report has an unexpected shape: ${issues.join("; ")}`);
  }
  return parsed.data.map((v) => ({
    file: v.file,
    rule: v.rule_name,
    level: v.level,
    message: v.message,
    help: v.help,
    line: v.line + 1,
    endLine: v.line_end + 1,
    byteOffset: v.column,
    endByteOffset: v.column_end,
  }));
}
