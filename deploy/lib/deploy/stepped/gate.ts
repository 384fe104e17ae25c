/**
 * What judges a stepped canary, and how its report becomes a DeployReport. The canary is judged
 * on its own targets only:
 *
 * - smoke checks on the canary's own route (smoke.testUrl / smoke.testHeader: a listener, port or
 *   header rule forwarding to the canary target group only; canary.ts refuses the shared baseUrl),
 *   once before any traffic (step 0) and again at every step;
 * - the analysis with the canary target group (and revision) in {{targetGroup}} / {{revision}},
 *   the stable group as its baseline.
 *
 * Inconclusive is not a pass: a canary whose metrics vanished must not take more traffic.
 */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Problem } from "../../../src/project/problem.js";
import { steppedTrafficContext } from "../analysis-context.js";
import { analysisGate, smokeGate, type CheckDeps } from "../checks.js";
import type { EnvironmentConfig } from "../config.js";
import type { DeployReport } from "../deploy.js";
import type { GateDecision } from "../hooks.js";
import type { SteppedCanaryConfig } from "./config.js";
import { steppedCanaryDeploy } from "./canary.js";
import type { CanaryGate, GateStep, GateVerdict, SteppedCanaryReport } from "./types.js";

/** The gate for each step; every decision also goes into `decisions`, for the report and the audit trail. */
export function steppedGate(env: EnvironmentConfig, canary: SteppedCanaryConfig, checks: CheckDeps, decisions: GateDecision[]): CanaryGate {
  return async (s: GateStep): Promise<GateVerdict> => {
    const where = { stage: s.step === 0 ? "canary before traffic" : `canary ${s.weight}% (step ${s.step}/${s.steps})`, step: s.step };
    const taken: GateDecision[] = [];
    if (env.smoke) taken.push((await smokeGate(env.smoke, "canary", where, checks)).decision);
    const smokeFailed = taken.some((d) => d.verdict !== "passed");
    if (env.analysis && s.step > 0 && !smokeFailed) {
      const traffic = steppedTrafficContext(canary, s);
      taken.push((await analysisGate(env.analysis, "run", where, { ...checks, traffic })).decision);
    }
    if (taken.length === 0) {
      const at = new Date((checks.now ?? Date.now)()).toISOString();
      taken.push({ at, gate: "analysis", ...where, verdict: "skipped", reason: "no analysis or smoke checks configured", values: [] });
    }
    decisions.push(...taken);
    const values = Object.fromEntries(
      taken.flatMap((d) => d.values).flatMap((v) => (typeof v.value === "number" ? [[v.name, v.value]] : [])),
    );
    const bad = taken.find((d) => d.verdict !== "passed" && d.verdict !== "skipped");
    const told = bad ?? taken.at(-1);
    return { action: bad ? "ROLLBACK" : "CONTINUE", reason: `${told?.verdict ?? "?"}: ${told?.reason ?? ""}`, values };
  };
}

/** The stepped canary's report as every other deploy's: its gate decisions, the recovery it did first, its traffic in the timeline. */
export function deployReportOf(r: SteppedCanaryReport, decisions: GateDecision[]): DeployReport {
  return {
    environment: r.environment,
    image: r.image,
    result: r.result,
    reason: r.reason,
    taskDefinitionArn: r.taskDefinitionArn,
    previousTaskDefinitionArn: r.previousTaskDefinitionArn,
    serviceDeploymentArn: r.serviceDeploymentArn ?? r.abandoned?.serviceDeploymentArn ?? "",
    // Every weight change is already in the timeline (traffic.ts writes it there).
    timeline: [...r.timeline].sort((a, b) => a.at.localeCompare(b.at)),
    strategy: "stepped-canary",
    decisions: [...r.recovered, ...decisions],
    ...(r.migration ? { migration: r.migration } : {}),
    ...(r.tookOverLock ? { tookOverLock: r.tookOverLock } : {}),
    ...(r.abandoned ? { abandoned: r.abandoned } : {}),
  };
}

export interface SteppedDeployInput {
  clients: { ecs: ECSClient; elb: ElasticLoadBalancingV2Client; cloudwatch?: CloudWatchClient };
  environment: string;
  config: EnvironmentConfig;
  image: string;
  runId: string;
  approved: boolean;
  checks: CheckDeps;
}

/** A whole stepped-canary deploy as the Dagger verb runs it. */
export async function runSteppedDeploy(i: SteppedDeployInput): Promise<DeployReport> {
  const canary = i.config.steppedCanary;
  if (!canary) throw new Problem(`environment ${i.environment} has no steppedCanary section`, "add steppedCanary, or deploy another way");
  const decisions: GateDecision[] = [];
  const r = await steppedCanaryDeploy(
    i.clients,
    {
      environment: i.environment,
      config: i.config,
      canary,
      image: i.image,
      runId: i.runId,
      approved: i.approved,
      checkBeforeTraffic: i.config.smoke !== undefined,
    },
    steppedGate(i.config, canary, i.checks, decisions),
  );
  return deployReportOf(r, decisions);
}
