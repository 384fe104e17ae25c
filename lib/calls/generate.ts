/** The adoption files: what scaffold, init and init-diff write or show. */
import { dag } from "@dagger.io/dagger";
import { progress } from "../../deploy/lib/gates/progress.js";
import type { GenerateCalls } from "../../src/calls.js";
import type { Shipshape } from "../../src/index.js";
import { describePlan } from "../generate/plan.js";
import { generation, type GenerationRequest } from "../generate/run.js";

/** One generator run; with measureCoverage, today's line coverage from the test gate itself. */
async function generated(s: Shipshape, target: Pick<GenerationRequest, "repo" | "ref">, measureCoverage: boolean = false) {
  const measuredLines = measureCoverage
    ? (await import("./gates.js").then(({ runCore }) => runCore(s, "test"))).outcome.metrics["coverage.lines"]
    : undefined;
  return generation({ source: s.source, configPath: s.configPath, ...target, measuredLines });
}

export const calls: GenerateCalls = {
  async scaffold(s, repo, ref) {
    const { files, plan } = await generated(s, { repo, ref });
    // Only new files: `dagger check` runs every generator as a check, and a team's edits are not drift.
    const after = plan.create.reduce((dir, path) => dir.withNewFile(path, files[path]!), s.source);
    return after.changes(s.source);
  },

  async init(s, force, repo, ref, measureCoverage) {
    const { files, plan, notes } = await generated(s, { repo, ref }, measureCoverage);
    const paths = [...plan.create, ...(force ? plan.differ.map((d) => d.path) : [])];
    if (!force && plan.differ.length > 0)
      progress(
        "init",
        `left as they are (differ): ${plan.differ.map((d) => d.path).join(", ")}; init-diff shows the diff, --force writes them`,
      );
    for (const note of notes) progress("init", note);
    return paths.reduce((dir, path) => dir.withNewFile(path, files[path]!), dag.directory());
  },

  async initDiff(s, repo, ref, measureCoverage) {
    const { files, plan, notes } = await generated(s, { repo, ref }, measureCoverage);
    return describePlan(plan, files, notes);
  },
};
