/**
 * One look at an environment that is not being deployed: its smoke checks against production
 * (baseUrl) and one analysis run, judged exactly as a deploy's gates judge them (src/deploy/checks.ts).
 * Failing means a check failed or the analysis failed; an inconclusive analysis (no data) is
 * "unknown": not proof of health, and not an outage either, so an incident is neither opened nor closed.
 */
import { analysisGate, smokeGate, type CheckDeps } from "../deploy/checks.js";
import type { EnvironmentConfig } from "../deploy/config.js";
import type { GateDecision } from "../deploy/hooks.js";
import { Problem } from "../project/problem.js";

export type Health = "healthy" | "failing" | "unknown";

export interface Observation {
  health: Health;
  /** One line: what decided it. */
  cause: string;
  hint: string;
  decisions: GateDecision[];
  metrics: Record<string, number>;
}

const WHERE = { stage: "monitor", step: 0 };

export async function observe(envName: string, env: EnvironmentConfig, deps: CheckDeps = {}): Promise<Observation> {
  if (!env.smoke && !env.analysis)
    throw new Problem(
      `environment ${envName} has no smoke checks or analysis to monitor`,
      `add environments.${envName}.smoke (checks against baseUrl) or environments.${envName}.analysis to shipshape.yaml`,
    );
  const decisions: GateDecision[] = [];
  const metrics: Record<string, number> = {};
  if (env.smoke) {
    const s = await smokeGate(env.smoke, "production", WHERE, deps);
    decisions.push(s.decision);
    metrics["smoke.passed"] = s.verdict.results.filter((r) => r.passed).length;
    metrics["smoke.failed"] = s.verdict.results.filter((r) => !r.passed).length;
    // A failing smoke check is an outage on its own: the analysis would only add minutes.
    if (!s.verdict.passed)
      return { health: "failing", cause: `smoke checks failed: ${s.verdict.cause}`, hint: s.verdict.hint, decisions, metrics };
  }
  if (env.analysis) {
    const a = await analysisGate(env.analysis, "run", WHERE, deps);
    decisions.push(a.decision);
    for (const m of a.result.metrics) metrics[`analysis.${m.metric}.successful`] = m.successful;
    if (a.result.phase === "Failed")
      return { health: "failing", cause: `analysis failed: ${a.result.cause}`, hint: a.result.hint, decisions, metrics };
    if (a.result.phase === "Inconclusive")
      return { health: "unknown", cause: `analysis inconclusive: ${a.result.cause}`, hint: a.result.hint, decisions, metrics };
  }
  const passed = decisions.map((d) => d.gate).join(" and ");
  return { health: "healthy", cause: `${passed} passed`, hint: "", decisions, metrics };
}
