/**
 * migrations: the SQL migrations (all, or those changed against a base ref) linted by squawk and
 * judged by Shipshape's severity table; destructive changes need an explicit approval.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import { imageRef } from "../../deploy/lib/images.js";
import { Problem, quoted } from "../../deploy/src/project/problem.js";
import { plural, tail } from "../../deploy/src/report/outcome.js";
import { changedFilesCommand, changedFilesProblem, parseChangedFiles, selectMigrations } from "../release/migrations/discover.js";
import { collectFindings } from "../release/migrations/findings.js";
import { judgeMigrations, type MigrationsVerdict } from "../release/migrations/judge.js";
import { migrationsSarif, renderMigrationsMarkdown } from "../release/migrations/report.js";
import { readMigrationSource } from "../release/migrations/source.js";
import { parseSquawkJson, squawkCommand, type SquawkViolation } from "../release/migrations/squawk.js";
import { firstLine, type Gate } from "../../deploy/lib/gates/gate.js";
import { gitContainer, safeGit } from "../../deploy/lib/gates/git.js";
import { progress, waitingFor } from "../../deploy/lib/gates/progress.js";
import { run } from "../../deploy/lib/gates/workspace.js";

export interface MigrationsOptions {
  /** Only files changed against this ref ("" = every migration). */
  base: string;
  approveDestructive: boolean;
  /** The repository's .git directory: the source itself carries none. */
  gitDir: Directory;
}

/** squawk's image runs in /data (its WORKDIR), where it also reads a project's .squawk.toml. */
const SQUAWK_DIR = "/data";

/**
 * One line, each count once: judgeMigrations' cause ends with the same "N migrations checked:
 * <counts>" this line starts with, so that tail is left out of the cause here.
 */
export function migrationsSummary(v: MigrationsVerdict, base: string): string {
  if (v.files === 0) return base ? `no migrations changed against --base ${quoted(base)}: nothing to check` : "no migrations to check";
  const c = v.counts;
  const counted = `${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low`;
  const summary = `${plural(v.files, "migration")} checked: ${counted}${v.approved.length ? `; ${v.approved.length} destructive approved` : ""}`;
  if (v.status === "passed") return summary;
  return `${summary} — ${v.cause.replace(/ \(\d+ migrations? checked: [^()]*\)$/, "")}`;
}

export function migrations(opts: MigrationsOptions): Gate {
  return async ({ project, source }) => {
    const cfg = project.config.migrations;
    let changed: string[] | undefined;
    // "" checks every migration (a superset, never nothing); anything else must be a real ref,
    // which changedFilesCommand checks and git diff resolves (an unknown one fails, never passes).
    if (opts.base) {
      const step = await run(gitContainer(project.config, opts.gitDir), safeGit(changedFilesCommand(opts.base)));
      if (step.exitCode !== 0) throw changedFilesProblem(step.stderr, opts.base);
      changed = parseChangedFiles(step.stdout);
    }
    const files = selectMigrations(await source.glob("**/*.sql"), cfg.paths, changed);
    progress(
      "migrations",
      opts.base
        ? `${plural(files.length, "migration")} changed against --base ${quoted(opts.base)}`
        : `${plural(files.length, "migration")} found`,
    );
    // Contents travel as text: a non-UTF-8 file reaches us already decoded (noted in the issue).
    const sources = await Promise.all(files.map(async (f) => readMigrationSource(f, Buffer.from(await source.file(f).contents(), "utf8"))));
    const sql = sources.flatMap((s) => (s.kind === "sql" ? [s.file] : []));
    let violations: SquawkViolation[] = [];
    let log = "";
    if (sql.length > 0) {
      const cmd = squawkCommand(sql, cfg);
      progress("migrations", cmd.slice(0, 6).join(" ") + (cmd.length > 6 ? " …" : ""));
      const ctr = dag
        .container()
        .from(imageRef("squawk", project.config.images.squawk))
        .withMountedDirectory(SQUAWK_DIR, source)
        .withWorkdir(SQUAWK_DIR);
      const step = await waitingFor("migrations", `squawk to check ${plural(sql.length, "migration")}`, run(ctr, cmd));
      // 0 and 1 both carry a JSON report (1 = findings); 2 is squawk refusing its input.
      if (step.exitCode > 1)
        throw new Problem(
          `squawk could not check the migrations: ${firstLine(step.stderr, `exit code ${step.exitCode}`)}`,
          "check migrations.excludeRules and migrations.pgVersion in shipshape.yaml",
        );
      violations = parseSquawkJson(step.stdout, step.stderr);
      log = step.stderr;
    }
    const { findings, skipped } = collectFindings(sources, violations, cfg.excludeRules);
    const v = judgeMigrations(findings, { failOn: cfg.failOn, approvedDestructive: opts.approveDestructive, files, skipped });
    const c = v.counts;
    return {
      verdict: {
        status: v.status,
        summary: migrationsSummary(v, opts.base),
        cause: v.status === "passed" ? "" : v.cause,
        hint: v.status === "passed" ? "" : v.hint,
        metrics: { files: v.files, critical: c.critical, high: c.high, medium: c.medium, low: c.low, blocking: v.blocking.length },
        findings: v.blocking.slice(0, 20).map((f) => `${f.file}:${f.line} ${f.severity} ${f.rule} ${f.statement.split("\n")[0]}`),
        log: v.status === "passed" ? "" : tail(log),
      },
      files: dag
        .directory()
        .withNewFile("migrations.md", renderMigrationsMarkdown(v))
        .withNewFile("migrations.sarif", JSON.stringify(migrationsSarif(v), null, 2) + "\n"),
    };
  };
}
