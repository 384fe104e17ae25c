/**
 * audit: known vulnerabilities in dependencies, judged from the tool's JSON (never its exit code:
 * npm exits non-zero both for findings and when the audit endpoint refuses the request).
 */
import { randomUUID } from "node:crypto";
import { dag } from "@dagger.io/dagger";
import { auditCommand } from "../../deploy/lib/gates/commands.js";
import { judgeAudit } from "./audit/policy.js";
import { parseAudit } from "./audit/parse.js";
import type { Gate } from "../../deploy/lib/gates/gate.js";
import { progress } from "../../deploy/lib/gates/progress.js";
import { blockingNote, tail } from "../../deploy/src/report/outcome.js";
import { base, run } from "../../deploy/lib/gates/workspace.js";

/** A value per audit run, so the exec is never answered from the exec cache. */
export const AUDIT_RUN_ENV = "SHIPSHAPE_AUDIT_RUN";

export const audit: Gate = async ({ project, source }) => {
  const cfg = project.config.gates.audit;
  const cmd = auditCommand(project.pm, cfg.level, cfg.production);
  progress("audit", cmd.join(" "));
  // Only the manifest and lockfile are needed: the audit neither waits for nor breaks with an install.
  // The advisory database changes under the same lockfile: the engine's exec cache would replay an
  // identical audit forever, so each run of the function (at most one a day, see its cache policy)
  // asks the registry again.
  const step = await run(base(project, source).withEnvVariable(AUDIT_RUN_ENV, randomUUID()), cmd);
  const flavour = project.pm.name === "yarn" && project.pm.yarnBerry ? "yarn-berry" : project.pm.name;
  const result = parseAudit(flavour, { stdout: step.stdout, stderr: step.stderr, exitCode: step.exitCode });
  const verdict = judgeAudit(result, { level: cfg.level, ignore: cfg.ignore, now: new Date() });
  const counts = verdict.counts;
  const summary =
    verdict.status === "error"
      ? verdict.cause
      : `${counts.critical} critical, ${counts.high} high, ${counts.moderate} moderate, ${counts.low} low` +
        (verdict.ignored.length ? `; ${verdict.ignored.length} ignored` : "") +
        (verdict.status === "failed"
          ? blockingNote(
              verdict.blocking.map((a) => ({ id: a.id, pkg: a.package })),
              verdict.cause,
              verdict.expiredIgnores,
            )
          : "");
  return {
    verdict: {
      status: verdict.status,
      summary,
      cause: verdict.status === "passed" ? "" : verdict.cause,
      hint: verdict.status === "passed" ? "" : verdict.hint,
      metrics: { ...counts, blocking: verdict.blocking.length },
      findings: verdict.blocking.slice(0, 20).map((a) => `${a.package} ${a.severity} ${a.id} ${a.title}`),
      log: verdict.status === "error" ? tail(step.stdout + step.stderr) : "",
    },
    files: dag
      .directory()
      .withNewFile("audit.json", step.stdout)
      .withNewFile("verdict.json", JSON.stringify(verdict, null, 2) + "\n"),
  };
};
