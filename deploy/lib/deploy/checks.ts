/**
 * Shipshape's gates as decisions: smoke checks and metric analysis run, judged and recorded with
 * the numbers they saw. Every strategy runs them inside ECS's PAUSE hooks through progressiveGate
 * (rolling at POST_PRODUCTION_TRAFFIC_SHIFT), which says CONTINUE,
 * ROLLBACK or PAUSE (a human decides: manual promotion, or an analysis without data).
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { runAnalysis, watchAfterDeploy, type AnalysisDeps, type AnalysisResult, type Measurement } from "./analysis.js";
import type { AnalysisConfig } from "./analysis-config.js";
import type { AnalysisContext } from "./analysis-context.js";
import { ecsTrafficContext, steppedTrafficContext } from "./analysis-traffic.js";
import type { EnvironmentConfig, SmokeConfig } from "./config.js";
import {
  approvalStage,
  describePause,
  hasTestSmoke,
  type GateDecision,
  type OnPause,
  type PauseDecision,
  type PauseInfo,
} from "./hooks.js";
import { runSmokeChecks, type SmokeOptions, type SmokeProgress, type SmokeVerdict } from "./smoke.js";

export interface CheckDeps {
  now?: () => number;
  /** Where metric values come from; the configured provider by default. */
  providerFor?: AnalysisDeps["providerFor"];
  /** CloudWatch client (or one per region) for cloudwatch and cloudwatchAlarm metrics. */
  cloudwatch?: AnalysisDeps["cloudwatch"];
  /**
   * ECS, for per-revision queries ({{targetGroup}}, {{revision}}) at the native strategies' hooks:
   * each sample reads which revision and target group are new from the paused service deployment.
   */
  ecs?: ECSClient;
  /** Whose traffic is new, when the caller knows it (the stepped canary's groups); wins over `ecs`. */
  traffic?: AnalysisContext;
  /** Timing of the smoke checks' retries (tests make it exact). */
  smokeTiming?: Pick<SmokeOptions, "sleep" | "random">;
  onSmokeProgress?: (p: SmokeProgress) => void;
  onMeasurement?: (m: Measurement) => void;
  /** One line per gate started, for progress output. */
  onGate?: (message: string) => void;
}

export interface Where {
  stage: string;
  step: number;
}

const iso = (deps: CheckDeps) => new Date((deps.now ?? Date.now)()).toISOString();

export interface SmokeOutcome {
  verdict: SmokeVerdict;
  decision: GateDecision;
}

/**
 * Against the test listener (testUrl, or baseUrl with the test header) before production traffic,
 * or baseUrl after it; "canary" is the stepped canary's own route, the same two settings, which
 * reach its target group only (the shared baseUrl mostly reaches the stable revision).
 */
export async function smokeGate(
  smoke: SmokeConfig,
  target: "test" | "production" | "canary",
  where: Where,
  deps: CheckDeps = {},
): Promise<SmokeOutcome> {
  const own = target !== "production";
  const baseUrl = own ? (smoke.testUrl ?? smoke.baseUrl) : smoke.baseUrl;
  const headers = own && smoke.testHeader ? { [smoke.testHeader.name]: smoke.testHeader.value } : undefined;
  deps.onGate?.(`smoke: ${smoke.checks.length} checks against ${baseUrl}${headers ? ` with the ${target} header` : ""} at ${where.stage}`);
  const verdict = await runSmokeChecks(smoke.checks, {
    baseUrl,
    ...(headers ? { headers } : {}),
    ...deps.smokeTiming,
    ...(deps.onSmokeProgress ? { onProgress: deps.onSmokeProgress } : {}),
  });
  const decision: GateDecision = {
    at: iso(deps),
    gate: "smoke",
    ...where,
    verdict: verdict.passed ? "passed" : "failed",
    reason: `${target === "test" ? "test listener" : target === "canary" ? "canary's own route" : "production"}: ${verdict.cause}`,
    values: verdict.results.flatMap((r) => [
      { name: `${r.name} status`, value: r.lastStatus },
      { name: `${r.name} attempts`, value: r.attempts },
    ]),
  };
  return { verdict, decision };
}

export interface AnalysisOutcome {
  result: AnalysisResult;
  decision: GateDecision;
}

/** One analysis run ("run"), or the post-rollout watch window ("watch"); the last value of each metric goes in the decision. */
export async function analysisGate(
  analysis: AnalysisConfig,
  mode: "run" | "watch",
  where: Where,
  deps: CheckDeps = {},
): Promise<AnalysisOutcome> {
  deps.onGate?.(
    `analysis (${mode === "watch" ? "watch window" : "run"}) of ${analysis.metrics.map((m) => m.name).join(", ")} at ${where.stage}`,
  );
  const analysisDeps: AnalysisDeps = {
    ...(deps.traffic ? { context: deps.traffic } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.providerFor ? { providerFor: deps.providerFor } : {}),
    ...(deps.cloudwatch ? { cloudwatch: deps.cloudwatch } : {}),
    ...(deps.onMeasurement ? { onMeasurement: deps.onMeasurement } : {}),
  };
  const result = mode === "watch" ? await watchAfterDeploy(analysis, analysisDeps) : await runAnalysis(analysis, analysisDeps);
  const last = new Map<string, number | null>();
  for (const m of result.measurements) last.set(m.metric, m.value);
  const decision: GateDecision = {
    at: iso(deps),
    gate: "analysis",
    ...where,
    verdict: result.phase === "Successful" ? "passed" : result.phase === "Failed" ? "failed" : "inconclusive",
    reason: result.cause,
    values: [...last].map(([name, value]) => ({ name, value })),
  };
  return { result, decision };
}

/**
 * The one context object the judge gets: the caller's, else the stepped canary's fixed groups,
 * else (at an ECS hook, with an ECS client) the paused service deployment's revisions.
 */
export function trafficContext(env: EnvironmentConfig, deps: CheckDeps, serviceDeploymentArn?: string): AnalysisContext | undefined {
  if (deps.traffic) return deps.traffic;
  if (env.steppedCanary) return steppedTrafficContext(env.steppedCanary);
  if (deps.ecs && serviceDeploymentArn) return ecsTrafficContext(deps.ecs, serviceDeploymentArn);
  return undefined;
}

/** What an inconclusive analysis does: never a pass; pause for a human, or roll back (analysis.onInconclusive). */
function inconclusive(analysis: AnalysisConfig, reason: string, decisions: GateDecision[]): PauseDecision {
  return analysis.onInconclusive === "rollback"
    ? { action: "ROLLBACK", reason: `${reason}; rolled back (analysis.onInconclusive: rollback)`, decisions }
    : { action: "PAUSE", reason: `${reason}; promote or abort by hand`, decisions };
}

/** The gate callback for watchDeployment: what each of our PAUSE hooks checks, and what follows. */
export function progressiveGate(env: EnvironmentConfig, given: CheckDeps = {}): OnPause {
  return async (p: PauseInfo): Promise<PauseDecision> => {
    const context = trafficContext(env, given, p.serviceDeploymentArn);
    const deps: CheckDeps = context ? { ...given, traffic: context } : given;
    const decisions: GateDecision[] = [];
    const where = { stage: p.stage, step: p.step };
    const at = describePause(p);
    const rollback = (reason: string): PauseDecision => ({ action: "ROLLBACK", reason, decisions });

    if (p.stage === "POST_TEST_TRAFFIC_SHIFT" && env.smoke && hasTestSmoke(env)) {
      const s = await smokeGate(env.smoke, "test", where, deps);
      decisions.push(s.decision);
      if (!s.verdict.passed) return rollback(`smoke checks failed on the test listener: ${s.verdict.cause}`);
    }
    if (p.stage === "PRE_PRODUCTION_TRAFFIC_SHIFT" && env.analysis) {
      if (p.productionTrafficPercent <= 0) {
        const reason = "the new revision has no production traffic yet: nothing to analyse before the first shift";
        decisions.push({ at: iso(deps), gate: "analysis", ...where, verdict: "skipped", reason, values: [] });
      } else {
        const a = await analysisGate(env.analysis, "run", where, deps);
        decisions.push(a.decision);
        if (a.result.phase === "Failed") return rollback(`analysis failed at ${at}: ${a.result.cause}`);
        if (a.result.phase === "Inconclusive")
          return inconclusive(env.analysis, `analysis inconclusive at ${at}: ${a.result.cause}`, decisions);
      }
    }
    if (p.stage === "POST_PRODUCTION_TRAFFIC_SHIFT") {
      // Rolling has no traffic shift of its own to name: its checks simply run once its tasks serve.
      const after = env.strategy === "rolling" ? "" : " after the production shift";
      if (env.smoke) {
        const s = await smokeGate(env.smoke, "production", where, deps);
        decisions.push(s.decision);
        if (!s.verdict.passed) return rollback(`smoke checks failed${after}: ${s.verdict.cause}`);
      }
      if (env.analysis) {
        for (const mode of ["run", "watch"] as const) {
          const a = await analysisGate(env.analysis, mode, where, deps);
          decisions.push(a.decision);
          if (a.result.phase === "Failed") return rollback(`analysis failed${after ? ` at ${at}` : ""}: ${a.result.cause}`);
          if (a.result.phase === "Inconclusive")
            return inconclusive(env.analysis, `analysis inconclusive at ${at}: ${a.result.cause}`, decisions);
        }
      }
    }
    if (env.promotion === "manual" && p.stage === approvalStage(env)) {
      const reason = `waiting at ${at} for promote or abort (promotion: manual)`;
      decisions.push({ at: iso(deps), gate: "approval", ...where, verdict: "waiting", reason, values: [] });
      return { action: "PAUSE", reason, decisions };
    }
    const passed = decisions.filter((d) => d.verdict === "passed").map((d) => d.gate);
    return { action: "CONTINUE", reason: passed.length ? `${passed.join(" and ")} passed` : "nothing to check here", decisions };
  };
}
