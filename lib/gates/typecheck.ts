/** typecheck: the project's own `tsc --noEmit`, diagnostics parsed into SARIF. */
import { dag } from "@dagger.io/dagger";
import { hasDependency } from "../../deploy/lib/project/detect.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { plural, tail } from "../../deploy/src/report/outcome.js";
import { toSarif } from "../../deploy/src/report/sarif.js";
import { tscCommand } from "../../deploy/lib/gates/commands.js";
import { findings, firstLine, type Gate } from "../../deploy/lib/gates/gate.js";
import { progress } from "../../deploy/lib/gates/progress.js";
import { parseTscOutput } from "./typecheck/tsc.js";
import { run } from "../../deploy/lib/gates/workspace.js";

export const typecheck: Gate = async ({ project, source, installed }) => {
  const cfg = project.config.gates.typecheck;
  if (!hasDependency(project.pkg, "typescript")) {
    throw new Problem(
      "typescript is not a dependency of the project",
      "npm install --save-dev typescript, or set gates.typecheck.enabled: false in shipshape.yaml",
    );
  }
  if (!(await source.exists(cfg.project))) {
    throw new Problem(`no ${cfg.project} in the project`, "add a tsconfig.json, or point gates.typecheck.project at the one to check");
  }
  const cmd = tscCommand(project.pm, cfg.project);
  progress("typecheck", cmd.join(" "));
  const step = await run(await installed(), cmd);
  const output = step.stdout + step.stderr;
  const diagnostics = parseTscOutput(output);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (step.exitCode !== 0 && diagnostics.length === 0) {
    throw new Problem(`tsc exited ${step.exitCode} without diagnostics: ${firstLine(output, "no output")}`, "run npx tsc --noEmit locally");
  }
  // Only location-less errors (TS5058 missing path, TS18003 no inputs...): the project itself
  // could not be loaded, so there is no verdict on the code.
  if (errors.length > 0 && errors.every((d) => !d.file)) {
    throw new Problem(
      `tsc could not load ${cfg.project}: ${errors[0]!.ruleId} ${firstLine(errors[0]!.message, "")}`,
      `fix ${cfg.project} (npx tsc --noEmit -p ${cfg.project} reproduces it)`,
    );
  }
  const filesWithErrors = new Set(errors.map((d) => d.file ?? "(global)")).size;
  const failed = step.exitCode !== 0 || errors.length > 0;
  const summary = failed ? `${plural(errors.length, "type error")} in ${plural(filesWithErrors, "file")}` : "no type errors";
  const sarif = toSarif({ name: "tsc", informationUri: "https://www.typescriptlang.org" }, diagnostics);
  return {
    verdict: {
      status: failed ? "failed" : "passed",
      summary,
      cause: failed ? summary : "",
      hint: failed ? "fix the type errors listed (see typecheck/typecheck.sarif); npx tsc --noEmit reproduces them" : "",
      metrics: { errors: errors.length, files: filesWithErrors },
      findings: findings(diagnostics),
      log: failed ? tail(output) : "",
    },
    files: dag
      .directory()
      .withNewFile("tsc.txt", output)
      .withNewFile("typecheck.sarif", JSON.stringify(sarif, null, 2) + "\n"),
  };
};
