/**
 * gitleaks command lines (gitleaks@b58d3f1 cmd/root.go; `git`/`dir` need gitleaks 8.19+, so not
 * trixie's 8.16). Pure, so the Dagger wiring and the tests see the same argv; `withExec` does not
 * run the ENTRYPOINT, hence the leading "gitleaks".
 */
import { posix } from "node:path";
import { Problem } from "../../../deploy/src/project/problem.js";

export interface GitleaksOptions {
  /** git: every commit in history (`git log`); dir: the files as they are, no history. */
  mode: "git" | "dir";
  /** Report file to write, or "-" for stdout. */
  report: string;
  /** What to scan; defaults to the working directory. */
  source?: string;
  /** A redacted gitleaks JSON report of accepted findings; only new ones are reported. */
  baseline?: string;
  /** A .gitleaks.toml; otherwise gitleaks reads <source>/.gitleaks.toml or its defaults. */
  config?: string;
}

/**
 * gitleaks opens the report path with os.Create and then os.Remove's it to check that it is
 * writable (cmd/root.go:352-356): as root, `-r /dev/null` deletes the device. Refuse any /dev path.
 */
function checkReportPath(report: string): void {
  if (report === "-") return;
  if (report.trim() === "" || /^\/dev(\/|$)/.test(posix.normalize(report))) {
    throw new Problem(
      `refusing gitleaks report path ${JSON.stringify(report)}: gitleaks creates and then removes its report path, which deletes a device file`,
      'write the report to a regular file, or use "-" for stdout',
    );
  }
}

function command(opts: GitleaksOptions, format: "json" | "sarif"): string[] {
  checkReportPath(opts.report);
  return [
    "gitleaks",
    opts.mode,
    "--no-banner",
    // Bare --redact is 100% (NoOptDefVal "100"): Secret becomes "REDACTED" and is cut out of Match.
    // Baselines only match scans with the same redaction, so it is never optional.
    "--redact",
    "--report-format",
    format,
    "--report-path",
    opts.report,
    // Findings exit 0 too: gitleaks exits 1 for "leaks found" and for errors alike, so this
    // makes a non-zero exit mean "did not run" and the report alone say what was found.
    "--exit-code",
    "0",
    ...(opts.baseline === undefined ? [] : ["--baseline-path", opts.baseline]),
    ...(opts.config === undefined ? [] : ["--config", opts.config]),
    opts.source ?? ".",
  ];
}

/** JSON report: what parseGitleaksJson reads and what a baseline is made of. */
export function gitleaksCommand(opts: GitleaksOptions): string[] {
  return command(opts, "json");
}

/** SARIF report for code scanning, with the same redaction (the snippet is the Secret field). */
export function gitleaksSarifCommand(opts: GitleaksOptions): string[] {
  return command(opts, "sarif");
}
