/** What is judged from git history: the commits of a range, the next version, and the migrations changed. */
import { runGate } from "../../deploy/lib/gates/gate.js";
import { make } from "../../deploy/src/report/fields.js";
import type { HistoryCalls } from "../../src/calls.js";
import { ReleaseVersion } from "../../src/report/release-version.js";
import { commitsCheck, computeVersion, type VersionResult } from "../gates/history.js";
import { migrations } from "../gates/migrations.js";
import { configOf, reported, runNamed } from "./run.js";

/** The release version object from what history computed. */
export function releaseVersionOf(r: VersionResult): ReleaseVersion {
  return make(ReleaseVersion, {
    current: r.next.current ?? "",
    next: r.next.next?.version ?? "",
    bump: r.next.bump,
    gitTag: r.next.next?.gitTag ?? "",
    imageTags: r.next.next?.imageTags ?? [],
    changelog: r.changelog,
    reasons: r.next.reasons,
  });
}

export const calls: HistoryCalls = {
  commits: (s, gitDir, base, head) =>
    reported(
      runGate(
        "commits",
        () => configOf(s),
        (config) => commitsCheck(config, gitDir, base, head),
      ),
    ),
  async version(s, gitDir) {
    return releaseVersionOf(await computeVersion(await configOf(s), gitDir, s.repoUrl ?? "", new Date()));
  },
  migrations: (s, gitDir, base, approveDestructive) =>
    reported(runNamed(s, "migrations", migrations({ base, approveDestructive, gitDir }), (c) => c.migrations.enabled)),
};
