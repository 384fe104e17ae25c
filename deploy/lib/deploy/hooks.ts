/**
 * Shipshape's gates inside ECS-native blue/green, linear and canary deployments: PAUSE lifecycle
 * hooks at the stages where a decision is due, read back from DescribeServiceDeployments while
 * they wait. Pure: which stages an environment needs, the hook list to send (the user's own hooks
 * kept, ours replaced), which hook awaits a decision, and which traffic step it belongs to.
 *
 * Stage rules (DeploymentLifecycleHook docs): PAUSE may not sit at TEST_TRAFFIC_SHIFT or
 * PRODUCTION_TRAFFIC_SHIFT; PRE_PRODUCTION_TRAFFIC_SHIFT fires before every linear/canary step,
 * each time with a new hookId.
 */
import type { DeploymentLifecycleHook, DeploymentLifecycleHookStage, ServiceDeployment } from "@aws-sdk/client-ecs";
import type { DeployStrategy, EnvironmentConfig } from "./config.js";

/** What step numbering needs to know of an environment. */
export interface StepShape {
  strategy: DeployStrategy;
  linear: { stepPercent: number };
}

/** The stages Shipshape pauses at. */
export const GATE_STAGES = ["POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"] as const;
export type GateStage = (typeof GATE_STAGES)[number];

/**
 * What Shipshape added to the service for one deployment: a PAUSE hook at these stages with this
 * timeout (action ROLLBACK). ECS keeps no mark on a PAUSE hook (hookDetails "is not used for PAUSE
 * hooks", ecs.json DeploymentLifecycleHook), and a hook has no id in the service's configuration,
 * so the mark lives in a service tag (hook-mark.ts) and names the hook by its content: the exact
 * stage set, timeout and action. A user's PAUSE hook at one of our stages is refused up front, so
 * a hook matching the mark is ours.
 */
export interface HookMark {
  /** The run that added the hook. */
  runId: string;
  stages: GateStage[];
  timeoutMinutes: number;
  /** The run ended "paused" on purpose: the deployment waits for promote or abort, not for a dead run. */
  paused: boolean;
  /** The id (last ARN segment) of the service deployment the hook was added for, once UpdateService named it. */
  deployment?: string;
}

/** promotion, freeze: the guards before a deploy (src/guards/); recovery: a command ended what a dead run left in flight (a stepped canary). */
export type GateName = "smoke" | "analysis" | "approval" | "hook-timeout" | "recovery" | "promotion" | "freeze";
export type GateVerdict =
  "passed" | "failed" | "inconclusive" | "waiting" | "approved" | "aborted" | "timed out" | "skipped" | "overridden";

/** One gate decision, for the report and the audit trail. */
export interface GateDecision {
  /** ISO 8601. */
  at: string;
  gate: GateName;
  /** The lifecycle stage it was taken at, or "after rollout" on the rolling path. */
  stage: string;
  /** Traffic step (1-based) for PRE_PRODUCTION_TRAFFIC_SHIFT; 0 elsewhere. */
  step: number;
  verdict: GateVerdict;
  /** One line, with the numbers that decided it. */
  reason: string;
  /** What the gate measured (metric values, smoke status codes, traffic weights). */
  values: { name: string; value: number | null }[];
}

/** A hook of ours waiting for a decision, as handed to the gate callback. */
export interface PauseInfo {
  serviceDeploymentArn: string;
  hookId: string;
  stage: GateStage;
  /** Traffic step (1-based) at PRE_PRODUCTION_TRAFFIC_SHIFT: step n shifts production traffic for the n-th time. 0 elsewhere. */
  step: number;
  /** Production traffic steps in the whole deployment (blue-green 1, canary 2, linear 100/stepPercent). */
  steps: number;
  /** Percent of production and test traffic the new revision has now. */
  productionTrafficPercent: number;
  testTrafficPercent: number;
  /** When ECS applies the hook's timeout action (ROLLBACK), ISO 8601. */
  expiresAt?: string;
}

/** CONTINUE and ROLLBACK go to ECS; PAUSE leaves the hook waiting for a human (promote or abort). */
export interface PauseDecision {
  action: "CONTINUE" | "ROLLBACK" | "PAUSE";
  reason: string;
  decisions: GateDecision[];
}

export type OnPause = (pause: PauseInfo) => Promise<PauseDecision>;

export const isProgressive = (env: Pick<EnvironmentConfig, "strategy">): boolean => env.strategy !== "rolling";

export const hasTestSmoke = (env: Pick<EnvironmentConfig, "smoke">): boolean =>
  env.smoke !== undefined && (env.smoke.testUrl !== undefined || env.smoke.testHeader !== undefined);

/**
 * Where a human approves in manual mode: before production traffic for blue-green, before every
 * step for linear and canary; rolling has no stage before its traffic moves, so after it.
 */
export const approvalStage = (env: Pick<EnvironmentConfig, "strategy">): GateStage =>
  env.strategy === "blue-green"
    ? "POST_TEST_TRAFFIC_SHIFT"
    : env.strategy === "rolling"
      ? "POST_PRODUCTION_TRAFFIC_SHIFT"
      : "PRE_PRODUCTION_TRAFFIC_SHIFT";

/**
 * The stages where this environment needs a decision; none when there is nothing to decide.
 * Rolling judges at POST_PRODUCTION_TRAFFIC_SHIFT: the checks and the watch window run while ECS
 * holds the deployment there, so if Shipshape dies, the hook's timeout (action ROLLBACK) is the
 * server-side safety net, and the lock is held until the watch window ends.
 */
export function gateStages(env: EnvironmentConfig): GateStage[] {
  if (!isProgressive(env)) return env.smoke || env.analysis || env.promotion === "manual" ? ["POST_PRODUCTION_TRAFFIC_SHIFT"] : [];
  const stages = new Set<GateStage>();
  if (hasTestSmoke(env)) stages.add("POST_TEST_TRAFFIC_SHIFT");
  if (env.strategy !== "blue-green" && env.analysis) stages.add("PRE_PRODUCTION_TRAFFIC_SHIFT");
  if (env.smoke || env.analysis) stages.add("POST_PRODUCTION_TRAFFIC_SHIFT");
  if (env.promotion === "manual") stages.add(approvalStage(env));
  return GATE_STAGES.filter((s) => stages.has(s));
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** The hook the mark describes: PAUSE, exactly the mark's stages, its timeout, action ROLLBACK (ECS's default). */
export const isShipshapeHook = (h: DeploymentLifecycleHook, mark: Pick<HookMark, "stages" | "timeoutMinutes"> | undefined): boolean =>
  mark !== undefined &&
  h.targetType === "PAUSE" &&
  sameSet(h.lifecycleStages ?? [], mark.stages) &&
  (h.timeoutConfiguration?.timeoutInMinutes ?? 1440) === mark.timeoutMinutes &&
  (h.timeoutConfiguration?.action ?? "ROLLBACK") === "ROLLBACK";

/** The PAUSE hook Shipshape adds for one deployment. No hookDetails: ECS does not keep it for PAUSE hooks. */
export const gateHook = (stages: readonly GateStage[], timeoutMinutes: number): DeploymentLifecycleHook => ({
  targetType: "PAUSE",
  lifecycleStages: [...stages],
  // ROLLBACK: a Shipshape that died mid-gate must leave the old revision serving, not the unjudged new one.
  timeoutConfiguration: { timeoutInMinutes: timeoutMinutes, action: "ROLLBACK" },
});

/**
 * The service's hooks without ours (per the mark on the service), plus this deployment's when it
 * has stages: the user's Lambda and PAUSE hooks stay as they are. A PAUSE hook of the user's at one
 * of our stages is refused by the caller (see foreignPauseAt): two pauses at one stage cannot be
 * told apart while they wait.
 */
export function withGateHooks(
  existing: readonly DeploymentLifecycleHook[],
  mark: HookMark | undefined,
  add?: { stages: readonly GateStage[]; timeoutMinutes: number },
): DeploymentLifecycleHook[] {
  const theirs = existing.filter((h) => !isShipshapeHook(h, mark));
  return add && add.stages.length > 0 ? [...theirs, gateHook(add.stages, add.timeoutMinutes)] : theirs;
}

/** The first of our stages where the service has a PAUSE hook that the mark does not name as ours. */
export function foreignPauseAt(
  existing: readonly DeploymentLifecycleHook[],
  stages: readonly GateStage[],
  mark?: HookMark,
): GateStage | undefined {
  const taken = new Set(
    existing.filter((h) => h.targetType === "PAUSE" && !isShipshapeHook(h, mark)).flatMap((h) => h.lifecycleStages ?? []),
  );
  return stages.find((s) => taken.has(s as DeploymentLifecycleHookStage));
}

/**
 * Which of our stages a paused deployment sits at. The SDK's ServiceDeploymentLifecycleStage
 * has no PRE_PRODUCTION_TRAFFIC_SHIFT member, so ECS may report that pause as
 * PRODUCTION_TRAFFIC_SHIFT: no PAUSE hook can sit there, so it can only be the pre-step one.
 */
export function gateStageOf(lifecycleStage: string | undefined): GateStage | undefined {
  switch (lifecycleStage) {
    case "POST_TEST_TRAFFIC_SHIFT":
      return "POST_TEST_TRAFFIC_SHIFT";
    case "PRE_PRODUCTION_TRAFFIC_SHIFT":
    case "PRODUCTION_TRAFFIC_SHIFT":
      return "PRE_PRODUCTION_TRAFFIC_SHIFT";
    case "POST_PRODUCTION_TRAFFIC_SHIFT":
      return "POST_PRODUCTION_TRAFFIC_SHIFT";
    default:
      return undefined;
  }
}

/** Production traffic steps: blue-green shifts once, canary twice, linear 100/stepPercent times (rounded up). */
export function stepCount(env: StepShape): number {
  if (env.strategy === "canary") return 2;
  if (env.strategy === "linear") return Math.ceil(100 / env.linear.stepPercent - 1e-9);
  return 1;
}

/** The step a PRE_PRODUCTION_TRAFFIC_SHIFT pause belongs to, from the traffic the new revision already has. */
export function stepAt(env: StepShape, productionPercent: number): number {
  if (productionPercent <= 0) return 1;
  if (env.strategy === "canary") return 2;
  if (env.strategy === "linear") return Math.min(stepCount(env), Math.round(productionPercent / env.linear.stepPercent) + 1);
  return 1;
}

/** Minutes the strategy itself takes once tasks are healthy: step bakes plus the final bake. */
export function strategyMinutes(env: Pick<EnvironmentConfig, "strategy" | "linear" | "canary" | "bakeTimeMinutes">): number {
  switch (env.strategy) {
    case "blue-green":
      return env.bakeTimeMinutes;
    case "canary":
      return env.canary.bakeMinutes + env.bakeTimeMinutes;
    case "linear":
      return (stepCount(env) - 1) * env.linear.stepBakeMinutes + env.bakeTimeMinutes;
    default:
      return 0;
  }
}

export interface AwaitingHook {
  hookId: string;
  expiresAt?: Date;
  timeoutAction?: string;
}

/** PAUSE hooks waiting for an action, oldest first. */
export function awaitingPauseHooks(sd: ServiceDeployment): AwaitingHook[] {
  return (sd.lifecycleHookDetails ?? [])
    .filter((h) => h.targetType === "PAUSE" && h.status === "AWAITING_ACTION" && h.hookId)
    .map((h) => ({
      hookId: h.hookId ?? "",
      ...(h.expiresAt ? { expiresAt: h.expiresAt } : {}),
      ...(h.timeoutAction ? { timeoutAction: h.timeoutAction } : {}),
    }));
}

/** Production and test traffic the new revision has, per the deployment's target revision. */
export function trafficOf(sd: ServiceDeployment): { production: number; test: number } {
  const t = sd.targetServiceRevision;
  return { production: t?.requestedProductionTrafficWeight ?? 0, test: t?.requestedTestTrafficWeight ?? 0 };
}

export function pauseInfo(sd: ServiceDeployment, hook: AwaitingHook, stage: GateStage, env: StepShape): PauseInfo {
  const traffic = trafficOf(sd);
  const steps = stepCount(env);
  return {
    serviceDeploymentArn: sd.serviceDeploymentArn ?? "",
    hookId: hook.hookId,
    stage,
    step: stage === "PRE_PRODUCTION_TRAFFIC_SHIFT" ? stepAt(env, traffic.production) : 0,
    steps,
    productionTrafficPercent: traffic.production,
    testTrafficPercent: traffic.test,
    ...(hook.expiresAt ? { expiresAt: hook.expiresAt.toISOString() } : {}),
  };
}

/** "PRE_PRODUCTION_TRAFFIC_SHIFT step 2/10 (10% production traffic)" */
export function describePause(p: Pick<PauseInfo, "stage" | "step" | "steps" | "productionTrafficPercent">): string {
  const step = p.step > 0 ? ` step ${p.step}/${p.steps}` : "";
  return `${p.stage}${step} (${p.productionTrafficPercent}% production traffic)`;
}
