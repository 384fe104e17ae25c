/**
 * The Semgrep command line (semgrep/semgrep cli/src/semgrep/commands/scan.py at v1.93.0; the flags
 * are unchanged in the 1.x line), and what a failed run means.
 */
import type { SemgrepError } from "./report.js";

export interface SemgrepArgs {
  /** --config values: registry ids as they are, repository paths relative to the scanned root. */
  configs: readonly string[];
  json: string;
  sarif: string;
  exclude: readonly string[];
}

/**
 * - `scan .` from the repository root, so paths in both reports are repository-relative and the
 *   check_id prefix of a local rule is its path in the repository (rules/x.yaml -> "rules.<id>").
 * - `--json-output` and `--sarif-output` write both reports from the one scan (test_output.py
 *   test_additional_outputs); the JSON is what the gate judges, the SARIF what code scanning reads.
 * - No `--error`: findings exit 0, so any other exit is a failed run, never a verdict.
 * - No `--strict`: a file Semgrep cannot fully parse is a `warn` error in the report, which the gate
 *   lists, instead of a failed run (output.py _final_raise).
 * - `--metrics=off` and `--disable-version-check`: nothing leaves the engine but the rule download.
 */
export function semgrepCommand(a: SemgrepArgs): string[] {
  return [
    "semgrep",
    "scan",
    ...a.configs.flatMap((c) => ["--config", c]),
    "--metrics=off",
    "--disable-version-check",
    `--json-output=${a.json}`,
    `--sarif-output=${a.sarif}`,
    ...a.exclude.flatMap((e) => ["--exclude", e]),
    ".",
  ];
}

/** Exit codes of cli/src/semgrep/error.py, for a failed run's one line. */
const EXIT_MEANING: Record<number, string> = {
  1: "findings with --error",
  2: "fatal error",
  3: "invalid target code",
  4: "invalid pattern in a rule",
  5: "unparseable rules YAML",
  7: "missing or invalid rules config",
  8: "invalid language in a rule",
  13: "invalid API key",
  14: "scan failure",
};

export function exitMeaning(code: number): string {
  return EXIT_MEANING[code] ?? `exit code ${code}`;
}

/**
 * The cause of a failed run: the first error-level error of the report (for an invalid config the
 * specific one comes first, "invalid configuration file found" last), else stderr's first line.
 */
export function semgrepFailure(exitCode: number, errors: readonly SemgrepError[], stderr: string): string {
  const first = errors.find((e) => e.level === "error" && e.message !== "") ?? errors.find((e) => e.message !== "");
  const line = first
    ? first.message
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "")
        .join(" ")
    : stderr
        .trim()
        .split("\n")
        .find((l) => l.trim() !== "");
  return `${line ?? "no output"} (${exitMeaning(exitCode)})`;
}
