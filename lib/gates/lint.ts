/** lint: the project's own ESLint (zero warnings by default) and Prettier --check. */
import { dag } from "@dagger.io/dagger";
import { hasDependency } from "../../deploy/lib/project/detect.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { repoRelativeText } from "../../deploy/src/report/paths.js";
import { toSarif } from "../../deploy/src/report/sarif.js";
import { plural, tail } from "../../deploy/src/report/outcome.js";
import { eslintCommand, prettierCommand, REPORTS_DIR, SOURCE_DIR } from "../../deploy/lib/gates/commands.js";
import { findings, firstLine, type Gate } from "../../deploy/lib/gates/gate.js";
import { parseEslintJson } from "./lint/eslint.js";
import { parsePrettierCheck, parsePrettierErrors, prettierDiagnostics } from "./lint/prettier.js";
import { progress } from "../../deploy/lib/gates/progress.js";
import { readFile, run } from "../../deploy/lib/gates/workspace.js";

export const lint: Gate = async ({ project, installed }) => {
  const cfg = project.config.gates.lint;
  if (!hasDependency(project.pkg, "eslint")) {
    throw new Problem(
      "eslint is not a dependency of the project",
      "npm install --save-dev eslint (with an eslint.config.js), or set gates.lint.enabled: false in shipshape.yaml",
    );
  }
  const ctr = await installed();
  const eslintCmd = eslintCommand(project.pm, cfg.maxWarnings);
  progress("lint", eslintCmd.join(" "));
  const eslint = await run(ctr, eslintCmd);
  const json = await readFile(eslint.ctr, `${REPORTS_DIR}/eslint.json`);
  if (json === undefined || eslint.exitCode === 2) {
    // Exit 2 is ESLint's own failure (bad config, crash), not a finding.
    throw new Problem(
      `eslint could not run: ${firstLine(eslint.stderr || eslint.stdout, `exit code ${eslint.exitCode}`)}`,
      "run npx eslint . locally; a missing or invalid eslint.config.js is the usual cause",
    );
  }
  const es = parseEslintJson(json, SOURCE_DIR);

  let unformatted: string[] = [];
  let prettierNote = "";
  if (!cfg.prettier) prettierNote = "prettier disabled";
  else if (!hasDependency(project.pkg, "prettier")) prettierNote = "prettier not installed: skipped";
  else {
    const cmd = prettierCommand(project.pm);
    progress("lint", cmd.join(" "));
    const p = await run(ctr, cmd);
    if (p.exitCode === 2) {
      // Exit 2: a file prettier cannot parse, or a pattern that matched nothing; not a style finding.
      const err = parsePrettierErrors(p.stdout + "\n" + p.stderr)[0];
      const what = err ? `${err.file ? `${err.file}: ` : ""}${err.message}` : firstLine(p.stderr, "exit code 2");
      throw new Problem(
        `prettier could not check the project: ${what}`,
        "run npx prettier --check . locally; fix the syntax error or add the file to .prettierignore",
      );
    }
    unformatted = parsePrettierCheck(p.stdout + "\n" + p.stderr);
  }

  const diagnostics = [...es.diagnostics, ...prettierDiagnostics(unformatted)];
  const overWarnings = cfg.maxWarnings >= 0 && es.warnings > cfg.maxWarnings;
  const failed = es.errors > 0 || overWarnings || unformatted.length > 0;
  const parts = [
    `${plural(es.errors, "error")}, ${plural(es.warnings, "warning")} (eslint${cfg.maxWarnings >= 0 ? `, max ${cfg.maxWarnings} warnings` : ""})`,
    prettierNote || (unformatted.length ? `${plural(unformatted.length, "file")} not formatted (prettier)` : "formatted (prettier)"),
  ];
  const summary = parts.join("; ");
  const hint = [
    es.fixable > 0
      ? `${es.fixable} fixable with npx eslint . --fix`
      : es.errors + es.warnings > 0
        ? "fix the findings listed (see lint/eslint.sarif)"
        : "",
    unformatted.length ? "run npx prettier --write ." : "",
  ]
    .filter(Boolean)
    .join("; ");
  const sarif = toSarif({ name: "ESLint", informationUri: "https://eslint.org" }, diagnostics);
  const files = dag
    .directory()
    .withNewFile("eslint.json", repoRelativeText(json))
    .withNewFile("lint.sarif", JSON.stringify(sarif, null, 2) + "\n");
  return {
    verdict: {
      status: failed ? "failed" : "passed",
      summary,
      cause: failed ? summary : "",
      hint: failed ? hint : "",
      metrics: { errors: es.errors, warnings: es.warnings, fixable: es.fixable, unformatted: unformatted.length },
      findings: findings(diagnostics),
      log: failed ? tail(eslint.stdout + eslint.stderr) : "",
    },
    files,
  };
};
