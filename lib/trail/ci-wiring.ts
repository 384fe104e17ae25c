/**
 * The Dagger side of recording a ci run (as gates/deploy-run.ts is for deploys): reads the chain's
 * audit settings (the database URL Secret's plaintext, the earlier trail File's contents) and the
 * config, then hands plain values to recordCiRun. Like it, never throws: whatever goes wrong here
 * becomes the one line ci reports, and the gates' verdict stays as it is.
 */
import type { Directory } from "@dagger.io/dagger";
import { secretText } from "../../deploy/lib/gates/secret-text.js";
import { loadConfig } from "../../deploy/lib/project/load.js";
import { describeError } from "../../deploy/src/project/problem.js";
import type { OutletSettings, RunSettings } from "../../deploy/src/settings.js";
import { auditTimeouts } from "../../deploy/lib/trail/config.js";
import type { CiTrailResult, RecordCiRun } from "../../deploy/lib/trail/ci-trail-api.js";
import { pipelineRunRecord, type GateOutcomeLike } from "./pipeline-builder.js";

export type { CiTrailResult };

// A computed specifier: the CI module imports and type-checks everything under its src/ on every
// call, and pg (with the trail behind it) is only needed when an audit trail is set.
const CI_TRAIL = ["..", "..", "deploy", "lib", "trail", "ci-trail.js"].join("/");

export const NOT_RECORDED: CiTrailResult = { jsonl: "", storage: "", note: "", warnings: [] };

type CiSettings = Pick<OutletSettings, "auditDatabaseUrl" | "auditTrail"> &
  Pick<RunSettings, "actor" | "commitSha" | "branch" | "runUrl"> & { source: Directory; configPath: string };

/** Appends the run when an audit trail is set and auditTrail.pipelineRuns allows it; else records nothing. */
export async function recordCi(s: CiSettings, outcomes: readonly GateOutcomeLike[], startedMs: number): Promise<CiTrailResult> {
  if (s.auditDatabaseUrl === undefined && s.auditTrail === undefined) return NOT_RECORDED;
  let existingJsonl: string | undefined;
  try {
    const { config } = await loadConfig(s.source, s.configPath);
    if (!config.auditTrail.pipelineRuns) return { ...NOT_RECORDED, note: "ci run not recorded: auditTrail.pipelineRuns is false" };
    const databaseUrl = await secretText(s.auditDatabaseUrl);
    existingJsonl = s.auditTrail ? await s.auditTrail.contents() : undefined;
    const { recordCiRun } = (await import(/* @vite-ignore */ CI_TRAIL)) as { recordCiRun: RecordCiRun };
    return await recordCiRun({ databaseUrl, existingJsonl, timeouts: auditTimeouts(config.auditTrail) }, () =>
      pipelineRunRecord({
        outcomes,
        startedMs,
        actor: s.actor,
        commitSha: s.commitSha,
        branch: s.branch,
        runUrl: s.runUrl,
        rules: { lintMaxWarnings: config.gates.lint.maxWarnings },
      }),
    );
  } catch (e) {
    // A config the gates already reported as broken, or a Secret or File the engine could not read.
    const note = `the ci run could not be recorded: ${describeError(e).cause}`;
    return { jsonl: existingJsonl ?? "", storage: "", note, warnings: [note] };
  }
}
