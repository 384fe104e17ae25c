/**
 * test: the project's test script against a throwaway Postgres bound as `db`; JUnit and lcov are
 * collected and the coverage policy from shipshape.yaml is enforced here, not by the runner.
 */
import { dag, type Container, type Directory } from "@dagger.io/dagger";
import { detectTestRunner, hasDependency } from "../../deploy/lib/project/detect.js";
import type { Project } from "../../deploy/lib/project/load.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { plural, tail, type GateOutcome } from "../../deploy/src/report/outcome.js";
import { REPORTS_DIR, runScriptCommand, SOURCE_DIR, testReportFlags } from "../../deploy/lib/gates/commands.js";
import type { Gate } from "../../deploy/lib/gates/gate.js";
import { databaseEnv, databaseWaitLabel, DB_HOST, DB_PORT, isDatabaseStartFailure, postgresService } from "./postgres.js";
import { progress, waitingFor } from "../../deploy/lib/gates/progress.js";
import { evaluateCoverage, formatViolation, type CoverageVerdict } from "./test/coverage-policy.js";
import { parseJUnit, repoRelativeJUnit, type JUnitSummary } from "./test/junit.js";
import { parseLcov, repoRelativeLcov } from "./test/lcov.js";
import { readFile, run } from "../../deploy/lib/gates/workspace.js";

/** GNU timeout exits 124; busybox's (alpine images) dies with SIGTERM, 143. */
const TIMEOUT_EXITS = [124, 143];

/** The full test command: the script, the report flags for its runner, bounded by `timeout`. */
export function testCommand(project: Project, reports = REPORTS_DIR, root = SOURCE_DIR) {
  const cfg = project.config.gates.test;
  const script = project.pkg.scripts?.[cfg.script];
  if (script === undefined) {
    throw new Problem(
      `no "${cfg.script}" script in package.json`,
      `add "${cfg.script}": "vitest run" (or your runner) to scripts, or set gates.test.script in shipshape.yaml`,
    );
  }
  const runner = detectTestRunner(script);
  const coverage = runner !== "vitest" || ["@vitest/coverage-v8", "@vitest/coverage-istanbul"].some((d) => hasDependency(project.pkg, d));
  const flags = testReportFlags(runner, { coverage, jestJunit: hasDependency(project.pkg, "jest-junit") }, reports);
  return {
    runner,
    args: ["timeout", String(cfg.timeoutMinutes * 60), ...runScriptCommand(project.pm, cfg.script, flags.args)],
    env: { ...cfg.env, ...flags.env },
    junit: flags.junit ?? (cfg.junit && `${root}/${cfg.junit}`),
    lcov: flags.lcov ?? (cfg.lcov && `${root}/${cfg.lcov}`),
  };
}

/** Binds Postgres as `db`: the engine starts it for the test exec and runs the tests once it is healthy. */
function withDatabase(project: Project, ctr: Container): Container {
  const db = project.config.database;
  if (!db.enabled) return ctr;
  let withDb = ctr.withServiceBinding(DB_HOST, postgresService(project));
  for (const [k, v] of Object.entries(databaseEnv(db.name))) withDb = withDb.withEnvVariable(k, v);
  progress(
    "test",
    `Postgres ${db.version} bound as ${DB_HOST}:${DB_PORT}; the tests start once pg_isready passes (up to ${db.readyTimeoutSeconds}s)`,
  );
  return withDb;
}

export const test: Gate = async ({ project, installed }) => {
  const cmd = testCommand(project);
  let ctr = withDatabase(project, await installed());
  for (const [k, v] of Object.entries(cmd.env)) ctr = ctr.withEnvVariable(k, v);
  progress("test", cmd.args.join(" "));
  const db = project.config.database;
  const what = db.enabled ? databaseWaitLabel(project) : `the ${project.config.gates.test.script} script`;
  const step = await waitingFor("test", what, run(ctr, cmd.args)).catch((e: unknown) => {
    if (!db.enabled || !isDatabaseStartFailure(e)) throw e;
    throw new Problem(
      `Postgres never became ready at ${DB_HOST}:${DB_PORT} within ${db.readyTimeoutSeconds}s`,
      "check database.version and images.postgres in shipshape.yaml, or raise database.readyTimeoutSeconds; the service log is in the Dagger trace",
    );
  });
  const [junitXml, lcovText] = await Promise.all([
    cmd.junit ? readFile(step.ctr, cmd.junit) : undefined,
    cmd.lcov ? readFile(step.ctr, cmd.lcov) : undefined,
  ]);
  const junit = junitXml ? parseReport("JUnit", cmd.junit, () => parseJUnit(junitXml)) : undefined;
  const coverage = lcovText
    ? parseReport("lcov", cmd.lcov, () => evaluateCoverage(parseLcov(lcovText, SOURCE_DIR), project.config.coverage))
    : undefined;
  const verdict = judgeTests(project, step.exitCode, junit, coverage, step.stdout + step.stderr);
  let files: Directory = dag.directory();
  // The exported files name repository paths too: CI annotations and coverage tools resolve them from the checkout.
  if (junitXml) files = files.withNewFile("junit.xml", repoRelativeJUnit(junitXml));
  if (lcovText) files = files.withNewFile("lcov.info", repoRelativeLcov(lcovText, SOURCE_DIR));
  if (coverage) files = files.withNewFile("coverage.json", JSON.stringify(coverage, null, 2) + "\n");
  return { verdict, files };
};

/** A report the runner wrote but we cannot read (truncated, wrong format) is an error, not a pass. */
function parseReport<T>(kind: string, path: string | undefined, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new Problem(
      `the ${kind} report at ${path} could not be read: ${(e as Error).message.split("\n")[0]}`,
      `check that the test runner finished writing ${path}; a crash or a full disk truncates it`,
    );
  }
}

/** Pure: the test gate's decision from what the run left behind. */
export function judgeTests(
  project: Project,
  exitCode: number,
  junit: JUnitSummary | undefined,
  coverage: CoverageVerdict | undefined,
  output: string,
): Omit<GateOutcome, "gate" | "durationMs"> {
  const cfg = project.config.gates.test;
  const metrics: Record<string, number> = {};
  if (junit) Object.assign(metrics, { tests: junit.tests, failures: junit.failures + junit.errors, skipped: junit.skipped });
  if (coverage)
    Object.assign(metrics, {
      "coverage.lines": coverage.global.lines,
      "coverage.branches": coverage.global.branches,
      "coverage.functions": coverage.global.functions,
    });
  const counts = junit
    ? `${junit.tests - junit.skipped - junit.failures - junit.errors}/${junit.tests - junit.skipped} tests passed${junit.skipped ? `, ${junit.skipped} skipped` : ""}`
    : "";
  const covLine = coverage ? `lines ${coverage.global.lines}%` : project.explicit.coverage ? "" : "coverage not measured";
  const base = { metrics, log: "" };

  if (exitCode !== 0) {
    const failed = junit?.failed ?? [];
    const cause = TIMEOUT_EXITS.includes(exitCode)
      ? `tests did not finish within ${cfg.timeoutMinutes} minutes`
      : junit && junit.failures + junit.errors > 0
        ? `${plural(junit.failures + junit.errors, "test")} failed of ${junit.tests}`
        : `the ${cfg.script} script exited ${exitCode}: ${lastMeaningfulLine(output)}`;
    return {
      ...base,
      status: "failed",
      summary: cause,
      cause,
      hint: TIMEOUT_EXITS.includes(exitCode)
        ? "find the hanging test (an open handle or server), or raise gates.test.timeoutMinutes"
        : `reproduce with npm run ${cfg.script} against a local Postgres (DATABASE_URL)`,
      findings: failed.slice(0, 20).map((f) => `${f.suite} › ${f.name}: ${f.message.split("\n")[0]}`),
      log: tail(output),
    };
  }
  if (!coverage && project.explicit.coverage) {
    const cause = "coverage thresholds are set but no lcov report was produced";
    return {
      ...base,
      status: "failed",
      summary: cause,
      cause,
      hint: "install @vitest/coverage-v8 (vitest) or set gates.test.lcov to where your runner writes lcov.info",
      findings: [],
    };
  }
  if (coverage && !coverage.passed) {
    const lines = coverage.violations.map(formatViolation);
    const cause = `coverage below policy: ${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ""}`;
    return {
      ...base,
      status: "failed",
      summary: [counts, cause].filter(Boolean).join("; "),
      cause,
      hint: "add tests for the uncovered code, or change coverage in shipshape.yaml deliberately",
      findings: lines,
    };
  }
  const summary = [counts || "test script passed", covLine].filter(Boolean).join("; ");
  return { ...base, status: "passed", summary, cause: "", hint: "", findings: [] };
}

function lastMeaningfulLine(output: string): string {
  const lines = output
    .trim()
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("npm ") && !/^>\s/.test(l));
  return lines.at(-1) ?? "no output";
}
