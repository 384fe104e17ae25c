/**
 * What every call of the root object shares: the per-call project context, running a gate unless
 * shipshape.yaml disables it, and turning a run into the GateReport the function returns.
 */
import { dag } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { runGate, type Gate, type GateContext, type GateRun } from "../../deploy/lib/gates/gate.js";
import { installer } from "../../deploy/lib/gates/workspace.js";
import { loadConfig, loadProject } from "../../deploy/lib/project/load.js";
import { skipped } from "../../deploy/src/report/outcome.js";
import { renderTable } from "../../deploy/src/report/render.js";
import type { Shipshape } from "../../src/index.js";
import { gateReportOf, type GateReport } from "../../src/report/gate-report.js";

// Per-call memo: the runtime rebuilds the object for every call, and a memo lives for one call.
const contexts = new WeakMap<Shipshape, Promise<GateContext>>();

/** The project (config, package manager, workspaces) and its installed dependencies, once per call. */
export function context(s: Shipshape): Promise<GateContext> {
  let ctx = contexts.get(s);
  if (!ctx) {
    ctx = loadProject(s.source, s.configPath).then((project) => ({ project, source: s.source, installed: installer(project, s.source) }));
    contexts.set(s, ctx);
  }
  return ctx;
}

/** shipshape.yaml with every default filled in. */
export const configOf = (s: Shipshape): Promise<ShipshapeConfig> => loadConfig(s.source, s.configPath).then(({ config }) => config);

/** Runs a gate on the project context unless `enabled` says shipshape.yaml disables it. */
export function runNamed(s: Shipshape, name: string, gate: Gate, enabled: (c: ShipshapeConfig) => boolean): Promise<GateRun> {
  return runEnabled(
    s,
    name,
    () => context(s),
    (ctx) => enabled(ctx.project.config),
    gate,
  );
}

/** Runs a gate unless shipshape.yaml disables it; whatever goes wrong becomes its report. */
export function runEnabled<C>(
  s: Shipshape,
  name: string,
  load: () => Promise<C>,
  enabled: (c: C) => boolean,
  gate: (c: C) => ReturnType<Gate>,
): Promise<GateRun> {
  return runGate(name, load, async (ctx) => {
    if (!enabled(ctx)) {
      const { gate: _g, durationMs: _d, ...verdict } = skipped(name, `disabled in ${s.configPath}`);
      return { verdict, files: dag.directory() };
    }
    return gate(ctx);
  });
}

export const toReport = (run: GateRun): GateReport => gateReportOf(run.outcome, run.files);

/** A gate's report; an ERROR (it could not judge) fails the call, so the engine never caches it. */
export async function reported(run: Promise<GateRun>): Promise<GateReport> {
  const { outcome, files } = await run;
  if (outcome.status === "error") throw new Error(renderTable([outcome]));
  return gateReportOf(outcome, files);
}
