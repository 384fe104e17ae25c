/**
 * sast: Semgrep over the repository, judged by severity with sast.ignore (reason and expiry
 * required); Semgrep's own SARIF, minus what the gate accepted, for GitHub code scanning.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { imageRef } from "../../deploy/lib/images.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { plural, tail } from "../../deploy/src/report/outcome.js";
import { repoRelativeText } from "../../deploy/src/report/paths.js";
import { semgrepCommand, semgrepFailure } from "../supply/sast/commands.js";
import { isRegistryConfig } from "../../deploy/lib/supply/sast/config.js";
import { bySeverity, judgeSast, sastLine } from "../supply/sast/policy.js";
import { parseSemgrepJson, rewriteSemgrepSarif, type SemgrepError, type SemgrepReport } from "../supply/sast/report.js";
import { REPORTS_DIR, SOURCE_DIR } from "../../deploy/lib/gates/commands.js";
import type { Verdict } from "../../deploy/lib/gates/gate.js";
import { progress, waitingFor } from "../../deploy/lib/gates/progress.js";
import { readFile, run } from "../../deploy/lib/gates/workspace.js";

const JSON_REPORT = `${REPORTS_DIR}/semgrep.json`;
const SARIF_REPORT = `${REPORTS_DIR}/semgrep.sarif`;

const RULES_HINT =
  "fix sast.rules: a registry ruleset (p/default) needs the engine to reach semgrep.dev; rules in the repository must be valid Semgrep YAML (semgrep --validate --config <path>)";

export async function sast(config: ShipshapeConfig, source: Directory): Promise<{ verdict: Verdict; files: Directory }> {
  const cfg = config.sast;
  for (const rules of cfg.rules.filter((r) => !isRegistryConfig(r))) {
    if (!(await source.exists(rules))) {
      throw new Problem(
        `the Semgrep rules ${rules} listed in sast.rules do not exist in the repository`,
        `add ${rules}, or remove it from sast.rules (a registry ruleset is written p/<name>, e.g. p/default)`,
      );
    }
  }
  let ctr = dag
    .container()
    .from(imageRef("semgrep", config.images.semgrep))
    .withMountedDirectory(SOURCE_DIR, source)
    .withWorkdir(SOURCE_DIR)
    .withExec(["mkdir", "-p", REPORTS_DIR]);
  // Registry rulesets change without the source changing: the date makes the exec cache replay a
  // scan for one day at most, not for as long as the repository stays the same.
  if (cfg.rules.some(isRegistryConfig)) ctr = ctr.withEnvVariable("SHIPSHAPE_SEMGREP_RULES_DAY", new Date().toISOString().slice(0, 10));
  const cmd = semgrepCommand({ configs: cfg.rules, json: JSON_REPORT, sarif: SARIF_REPORT, exclude: cfg.exclude });
  progress("sast", cmd.join(" "));
  const what = `Semgrep with ${cfg.rules.join(", ")}${cfg.rules.some(isRegistryConfig) ? " (downloading the registry rules)" : ""}`;
  const step = await waitingFor("sast", what, run(ctr, cmd));
  const json = await readFile(step.ctr, JSON_REPORT);
  // Without --error, findings exit 0: anything else is a run that did not finish.
  if (step.exitCode !== 0 || json === undefined) {
    const errors = json === undefined ? [] : errorsOf(json);
    throw new Problem(
      `semgrep could not scan the repository: ${repoRelativeText(semgrepFailure(step.exitCode, errors, step.stderr))}`,
      RULES_HINT,
    );
  }
  const report = parseSemgrepJson(json);
  // Fail closed: an error-level error means part of the scan did not happen, whatever the exit code.
  const fatal = report.errors.find((e) => e.level === "error");
  if (fatal) throw new Problem(`semgrep reported an error: ${semgrepFailure(2, [fatal], "")}`, RULES_HINT);
  const sarifText = await readFile(step.ctr, SARIF_REPORT);
  if (sarifText === undefined)
    throw new Problem("semgrep wrote no SARIF report", "check images.semgrep: the gate needs --sarif-output (Semgrep 1.x)");

  const v = judgeSast(report.findings, cfg, new Date());
  const sarif = rewriteSemgrepSarif(sarifText, (key) =>
    v.ignored.some((f) => f.ruleId === key.ruleId && f.path === key.path && (key.line === undefined || key.line === f.line)),
  );
  const partial = report.errors.filter((e) => e.level !== "error");
  return {
    verdict: {
      status: v.status,
      summary: summaryOf(report, v, partial),
      cause: v.status === "passed" ? "" : v.cause,
      hint: v.status === "passed" ? "" : v.hint,
      metrics: {
        critical: v.counts.CRITICAL,
        high: v.counts.HIGH,
        medium: v.counts.MEDIUM,
        low: v.counts.LOW,
        info: v.counts.INFO,
        blocking: v.blocking.length,
        ignored: v.ignored.length,
        notAnalysed: partial.length,
      },
      // Blocking first (most severe first), then what did not fully scan, then what was accepted.
      findings: [
        ...v.blocking.map(sastLine),
        ...partial.map((e) => `${e.path ?? "."} not fully analysed: ${e.type} (${firstLine(e.message)})`),
        ...v.ignored.map((f) => `${sastLine(f)} [ignored: ${f.reason}]`),
      ].slice(0, 20),
      log: v.status === "passed" ? "" : tail(repoRelativeText(step.stderr)),
    },
    files: dag.directory().withNewFile("semgrep.json", json).withNewFile("sast.sarif", sarif),
  };
}

function summaryOf(report: SemgrepReport, v: ReturnType<typeof judgeSast>, partial: SemgrepError[]): string {
  const c = v.counts;
  const counted = `${c.CRITICAL} critical, ${c.HIGH} high, ${c.MEDIUM} medium, ${c.LOW} low, ${c.INFO} info${report.scanned === undefined ? "" : ` in ${plural(report.scanned, "file")}`}`;
  const notes = [
    ...(v.ignored.length ? [`${v.ignored.length} ignored`] : []),
    ...(partial.length ? [`${plural(partial.length, "file")} not fully analysed`] : []),
  ];
  const blocking =
    v.status === "failed"
      ? ` — ${[
          ...(v.blocking.length
            ? [
                `blocking: ${bySeverity(v.blocking)} (${v.blocking
                  .slice(0, 3)
                  .map((f) => `${f.ruleId} in ${f.path}:${f.line}`)
                  .join(", ")}${v.blocking.length > 3 ? ` and ${v.blocking.length - 3} more` : ""})`,
              ]
            : []),
          ...(v.expired.length
            ? [`expired ignore entr${v.expired.length === 1 ? "y" : "ies"}: ${v.expired.map((e) => e.id).join(", ")}`]
            : []),
        ].join("; ")}`
      : "";
  return counted + notes.map((n) => `; ${n}`).join("") + blocking;
}

/** The errors of a report that may be incomplete (a failed run), or none if it does not parse. */
function errorsOf(json: string): SemgrepError[] {
  try {
    return parseSemgrepJson(json).errors;
  } catch {
    return [];
  }
}

const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";
