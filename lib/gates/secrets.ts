/**
 * secretScan: gitleaks over the files as they are and, when the repository's .git is there, over
 * its history; always redacted, and a report that still holds a secret is refused, not shown.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import { imageRef } from "../../deploy/lib/images.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { plural, tail } from "../../deploy/src/report/outcome.js";
import { toSarif } from "../../deploy/src/report/sarif.js";
import { gitleaksCommand } from "../supply/secrets/commands.js";
import { withoutBaselined } from "../supply/secrets/merge.js";
import { judgeSecrets, secretDiagnostics, secretLine } from "../supply/secrets/policy.js";
import { parseBaselineSpots, parseGitleaksJson, type SecretFinding } from "../supply/secrets/report.js";
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { REPORTS_DIR, SOURCE_DIR } from "../../deploy/lib/gates/commands.js";
import { firstLine, type Verdict } from "../../deploy/lib/gates/gate.js";
import { progress, waitingFor } from "../../deploy/lib/gates/progress.js";
import { readFile, run } from "../../deploy/lib/gates/workspace.js";

/** Where the .git-only directory goes: gitleaks git mode reads history through `git log`. */
export const HISTORY_DIR = "/repo";

export async function secretScan(
  shipshape: ShipshapeConfig,
  source: Directory,
  gitDir: Directory,
): Promise<{ verdict: Verdict; files: Directory }> {
  const cfg = shipshape.secrets;
  const baseline = cfg.baseline ? `${SOURCE_DIR}/${cfg.baseline}` : undefined;
  if (cfg.baseline && !(await source.exists(cfg.baseline))) {
    throw new Problem(
      `the secrets baseline ${cfg.baseline} does not exist`,
      "create it with gitleaks git --redact --report-format json --report-path <file>, or remove secrets.baseline",
    );
  }
  const spots = cfg.baseline ? parseBaselineSpots(await source.file(cfg.baseline).contents()) : new Set<string>();
  // gitleaks reads <source>/.gitleaks.toml (cmd/root.go:222-226 at v8.26.0), and the history
  // source holds only .git: without the flag, history would be scanned without the team's rules.
  const config = (await source.exists(".gitleaks.toml")) ? `${SOURCE_DIR}/.gitleaks.toml` : undefined;
  const withHistory = await gitDir.exists(".git");
  let ctr = dag
    .container()
    .from(imageRef("gitleaks", shipshape.images.gitleaks))
    .withMountedDirectory(SOURCE_DIR, source)
    .withWorkdir(SOURCE_DIR)
    .withExec(["mkdir", "-p", REPORTS_DIR]);
  if (withHistory) ctr = ctr.withMountedDirectory(HISTORY_DIR, gitDir);

  // "." in /src, not /src: dir reports the path it walked, so /src/... would reach the report, the
  // fingerprints and .gitleaksignore matching (gitleaks sources/directory.go at v8.26.0).
  const scans: { mode: "dir" | "git"; source: string; report: string }[] = [
    { mode: "dir", source: ".", report: `${REPORTS_DIR}/gitleaks-dir.json` },
  ];
  if (withHistory) scans.push({ mode: "git", source: HISTORY_DIR, report: `${REPORTS_DIR}/gitleaks-git.json` });
  const found: SecretFinding[] = [];
  let files = dag.directory();
  let log = "";
  for (const scan of scans) {
    const cmd = gitleaksCommand({ ...scan, baseline, ...(config ? { config } : {}) });
    progress("secrets", cmd.join(" "));
    const what = scan.mode === "dir" ? "gitleaks to scan the files" : "gitleaks to scan the history (every commit)";
    const step = await waitingFor("secrets", what, run(ctr, cmd));
    const report = await readFile(step.ctr, scan.report);
    // --exit-code 0 makes findings exit 0: anything else means gitleaks did not run.
    if (step.exitCode !== 0 || report === undefined) {
      throw new Problem(
        `gitleaks ${scan.mode} scan failed: ${firstLine(step.stderr, `exit code ${step.exitCode}`)}`,
        "run gitleaks locally with the same flags; a bad .gitleaks.toml or baseline is the usual cause",
      );
    }
    found.push(...withoutBaselined(parseGitleaksJson(report), spots));
    files = files.withNewFile(`gitleaks-${scan.mode}.json`, report);
    log += step.stderr;
  }
  // The same secret is usually both in the files and in history: judgeSecrets makes it one finding.
  const v = judgeSecrets(found);
  const unique = v.findings;
  const scanned = withHistory ? "files and history" : "files (no .git: history not scanned)";
  const sarif = toSarif({ name: "gitleaks", informationUri: "https://github.com/gitleaks/gitleaks" }, secretDiagnostics(v));
  return {
    verdict: {
      status: v.status,
      summary: v.status === "passed" ? `no secrets in ${scanned}` : `${plural(unique.length, "possible secret")} in ${scanned}`,
      cause: v.status === "passed" ? "" : v.cause,
      hint: v.status === "passed" ? "" : v.hint,
      metrics: { findings: unique.length },
      findings: unique.slice(0, 20).map(secretLine),
      log: v.status === "passed" ? "" : tail(log),
    },
    files: files.withNewFile("secrets.sarif", JSON.stringify(sarif, null, 2) + "\n"),
  };
}
