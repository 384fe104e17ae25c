/** The core gates (each its own function and a `dagger check`), ci, which runs them all, and the pull-request comment. */
import type { Gate, GateRun } from "../../deploy/lib/gates/gate.js";
import { progress } from "../../deploy/lib/gates/progress.js";
import { secretText } from "../../deploy/lib/gates/secret-text.js";
import type { CoreGate, GateCalls } from "../../src/calls.js";
import type { Shipshape } from "../../src/index.js";
import { ciReportOf } from "../../src/report/gate-report.js";
import { configOf, reported, runNamed, toReport } from "./run.js";

// Each gate's code is imported by the call that runs it: `dagger call lint` needs neither the JUnit
// parser nor the audit's license code (its import is most of a gate call's cost past the entrypoint).
const GATES: Record<CoreGate, () => Promise<Gate>> = {
  lint: () => import("../gates/lint.js").then((m) => m.lint),
  typecheck: () => import("../gates/typecheck.js").then((m) => m.typecheck),
  test: () => import("../gates/test.js").then((m) => m.test),
  audit: () => import("../gates/audit.js").then((m) => m.audit),
};
const ORDER: CoreGate[] = ["lint", "typecheck", "test", "audit"];

/** One core gate's code (scripts/bench-entrypoint.ts times this too: it is part of a gate call's start). */
export const loadGate = (name: CoreGate): Promise<Gate> => GATES[name]();

export const runCore = (s: Shipshape, name: CoreGate): Promise<GateRun> =>
  runNamed(
    s,
    name,
    async (ctx) => (await loadGate(name))(ctx),
    (c) => c.gates[name].enabled,
  );

/** Gates ci runs only when shipshape.yaml asks: lighthouse.ci (it needs a live URL), sast.enabled. A bad config is every core gate's report already. */
async function optionalCiGates(s: Shipshape): Promise<Promise<GateRun>[]> {
  const config = await configOf(s).catch(() => undefined);
  if (!config?.lighthouse.ci && !config?.sast.enabled) return [];
  const { lighthouseRun, sastRun } = await import("./checks.js");
  return [...(config.lighthouse.ci ? [lighthouseRun(s, "", "")] : []), ...(config.sast.enabled ? [sastRun(s)] : [])];
}

export const calls: GateCalls = {
  gate: (s, name) => reported(runCore(s, name)),

  async ci(s) {
    const startedMs = Date.now();
    const runs = await Promise.all([...ORDER.map((g) => runCore(s, g)), ...(await optionalCiGates(s))]);
    // Session-cached, so one `dagger call ci` records once; the write is this process's, no exec to replay (deploy/lib/trail/ci-trail.ts).
    const { recordCi } = await import("../trail/ci-wiring.js");
    const audit = await recordCi(
      s,
      runs.map((r) => r.outcome),
      startedMs,
    );
    const report = ciReportOf(runs.map(toReport), audit);
    progress("ci", `\n${report.table()}`);
    if (audit.note) progress("audit", audit.note);
    return report;
  },

  async prComment(s, repository, pullNumber, githubToken) {
    const [config, { commentGates }] = await Promise.all([configOf(s), import("../gates/pr-comment.js")]);
    const token = (await secretText(githubToken)) ?? "";
    const gates = async () => (await Promise.all(ORDER.map((g) => runCore(s, g)))).map((r) => r.outcome);
    const target = { repository, pullNumber, token, runUrl: s.runUrl ?? "", commitSha: s.commitSha ?? "" };
    return commentGates(config, target, gates);
  },
};
