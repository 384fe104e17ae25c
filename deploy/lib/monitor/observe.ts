/**
 * One look at an environment that is not being deployed: its smoke checks against production
 * (baseUrl) and one analysis run, judged exactly as a deploy's gates judge them (src/deploy/checks.ts).
 * Failing means a check failed or the analysis failed; an inconclusive analysis (no data) is
 * "unknown": not proof of health, and not an outage either, so an incident is neither opened nor closed.
 *
 * For a stepped canary the monitor is also the scheduled safety net (ALB never resets weights on its
 * own): before judging, it ends a canary whose run died, once that run's heartbeat lock lapsed, the
 * way `status` does (stepped/commands.ts sweepStepped); a live run's fresh lock is only reported.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { EcsOptions } from "../deploy/aws.js";
import { analysisGate, smokeGate, type CheckDeps } from "../deploy/checks.js";
import type { DeployReport } from "../deploy/deploy.js";
import { steppedOf, sweepStepped } from "../deploy/stepped/commands.js";
import type { EnvironmentConfig } from "../deploy/config.js";
import type { GateDecision } from "../deploy/hooks.js";
import { Problem } from "../../src/project/problem.js";

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

/** The AWS clients the monitor needs for an environment that deploys with a stepped canary. */
export interface SteppedDeps {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  opts?: EcsOptions;
}

export interface CanarySweep {
  /** What the monitor saw or did, one line each. */
  lines: string[];
  /** The dead run's canary it ended: the record (decisions, timeline) of that recovery. */
  ended?: DeployReport;
}

/** Ends a dead run's stepped canary (lock lapsed); reports a live one. Undefined when the environment has none. */
export async function sweepCanary(
  envName: string,
  env: EnvironmentConfig,
  deps: SteppedDeps | undefined,
  runId?: string,
): Promise<CanarySweep | undefined> {
  if (!env.steppedCanary) return undefined;
  if (!deps)
    throw new Problem(
      `environment ${envName} deploys with a stepped canary, but the monitor was given no ECS and ELB clients to end a dead run's canary`,
      "give the monitor AWS access (with-aws) for the environment's region: it is the scheduled safety net of a stepped canary",
    );
  const stepped = steppedOf(env, deps.ecs, deps.elb);
  if (!stepped) return undefined;
  const req = { environment: envName, config: env, ...(runId ? { runId } : {}) };
  const sweep = await sweepStepped(stepped.clients, req, stepped.canary, deps.opts);
  if (sweep.live)
    return {
      lines: [`stepped canary: run ${sweep.live.runId} holds the lock until ${sweep.live.expiresAt}: a live deploy, nothing touched`],
    };
  if (!sweep.ended) return { lines: ["stepped canary: none in flight"] };
  return { lines: [`stepped canary ended: ${sweep.ended.reason}`], ended: sweep.ended };
}

/** A canary the monitor had to end is an incident, whatever the checks say now (they ran after traffic was back on stable). */
export function withSweep(obs: Observation, sweep: CanarySweep | undefined): Observation {
  const ended = sweep?.ended;
  if (!ended) return obs;
  const after = obs.health === "healthy" ? `; then ${obs.cause}` : `; then ${obs.cause} (${obs.health})`;
  return {
    health: "failing",
    cause: `a dead deploy run's stepped canary was ended by the monitor: ${ended.reason}${after}`,
    hint: `find why that run stopped (its CI job), then deploy again${obs.hint ? `; ${obs.hint}` : ""}`,
    decisions: [...ended.decisions, ...obs.decisions],
    metrics: { ...obs.metrics, "steppedCanary.ended": 1 },
  };
}
