/**
 * The guards a deploy passes before anything else happens (no AWS call, no signature check): the
 * freeze windows, then promotion (`requires`). Their decisions lead the Deployment's decisions
 * and the audit record; a refusal carries them too, so a refused run's record and notification
 * say what was checked and what was missing.
 */
import type { ShipshapeConfig } from "../config/schema.js";
import type { CheckDeps } from "../deploy/checks.js";
import type { GateDecision } from "../deploy/hooks.js";
import { progress } from "../gates/progress.js";
import { Problem } from "../../src/project/problem.js";
import type { AuditTrail } from "../trail/store.js";
import { appliesTo, checkFreeze } from "./freeze.js";
import { checkPromotion } from "./promotion.js";

/** A deploy the guards refused: the Problem the caller sees, with the decisions that refused it. */
export class GuardRefusal extends Problem {
  constructor(
    problem: Problem,
    readonly decisions: GateDecision[],
  ) {
    super(problem.cause_, problem.hint);
    this.name = "GuardRefusal";
  }
}

export interface GuardInput {
  environment: string;
  /** repository@sha256:<hex>, already checked. */
  image: string;
  trail: AuditTrail | undefined;
  /** The reason for deploying inside a freeze window; "" for none. */
  freezeOverride: string;
  actor: string;
  checks?: CheckDeps;
  now?: () => number;
}

/** The guards' decisions when the deploy may go ahead; throws GuardRefusal when it may not. */
export async function guardDeploy(config: ShipshapeConfig, input: GuardInput): Promise<GateDecision[]> {
  const now = input.now ?? Date.now;
  const decisions: GateDecision[] = [];
  // Environments without freezes get no freeze decision unless an override asks for one, so it is on record as unused.
  if (config.freezes.some((f) => appliesTo(f, input.environment)) || input.freezeOverride !== "") {
    const freeze = checkFreeze(config.freezes, input.environment, { now: now(), override: input.freezeOverride, actor: input.actor });
    decisions.push(freeze.decision);
    progress("guard", `freeze ${freeze.decision.verdict}: ${freeze.decision.reason}`);
    if (freeze.refusal) throw new GuardRefusal(freeze.refusal, decisions);
  }
  const requires = config.environments[input.environment]?.requires ?? [];
  if (requires.length === 0) return decisions;
  const required = requires.map((name) => {
    const env = config.environments[name];
    // The config's own check makes this unreachable; a refusal still beats a deploy on a broken promise.
    if (!env)
      throw new Problem(`${input.environment} requires ${name}, which is not in environments:`, "add it, or remove it from requires");
    return { name, config: env };
  });
  const promotion = await checkPromotion({
    environment: input.environment,
    image: input.image,
    required,
    trail: input.trail,
    ...(input.checks ? { checks: input.checks } : {}),
    now,
  });
  decisions.push(...promotion.decisions);
  for (const d of promotion.decisions.filter((x) => x.gate === "promotion")) progress("guard", `promotion ${d.verdict}: ${d.reason}`);
  if (promotion.refusal) throw new GuardRefusal(promotion.refusal, decisions);
  return decisions;
}
