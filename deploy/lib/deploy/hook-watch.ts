/**
 * The watcher's view of PAUSE hooks: which waiting hook is ours and still undecided, hooks that
 * timed out (ECS applied their timeout action because no decision came in time), and answering a
 * hook with ContinueServiceDeployment. Each hook is decided once: ECS may still list it as
 * AWAITING_ACTION for a poll or two after the answer.
 */
import type { ECSClient, ServiceDeployment } from "@aws-sdk/client-ecs";
import { describeError } from "../../src/project/problem.js";
import type { EcsOptions } from "./aws.js";
import { continueServiceDeployment, describeServiceDeployment } from "./ecs.js";
import {
  awaitingPauseHooks,
  describePause,
  gateStageOf,
  pauseInfo,
  type GateDecision,
  type PauseDecision,
  type PauseInfo,
} from "./hooks.js";
import type { Timeline, WatchGates } from "./watch.js";

export class HookWatcher {
  readonly decisions: GateDecision[] = [];
  /** ECS's words when it last refused an answer. */
  refusal = "";
  private readonly handled = new Set<string>();
  private readonly known = new Map<string, PauseInfo>();
  private readonly noted = new Set<string>();
  private timedOut?: { info: PauseInfo; action: string };

  constructor(
    private readonly gates: WatchGates | undefined,
    private readonly timeline: Timeline,
    private readonly now: () => number,
  ) {
    for (const id of gates?.answered ?? []) this.handled.add(id);
  }

  /** The first of our hooks waiting for a decision not yet taken; someone else's waiting hook is noted once and left alone. */
  next(sd: ServiceDeployment): PauseInfo | undefined {
    const stage = gateStageOf(sd.lifecycleStage);
    for (const hook of awaitingPauseHooks(sd)) {
      if (this.handled.has(hook.hookId)) continue;
      if (!this.gates || !stage || !this.gates.stages.includes(stage)) {
        this.once(
          hook.hookId,
          `a PAUSE hook Shipshape did not add waits at ${sd.lifecycleStage ?? "?"} (hook ${hook.hookId}); continue it in ECS`,
        );
        continue;
      }
      const info = pauseInfo(sd, hook, stage, this.gates);
      this.known.set(hook.hookId, info);
      return info;
    }
    return undefined;
  }

  markAnswered(hookId: string): void {
    this.handled.add(hookId);
  }

  expired(p: PauseInfo): boolean {
    return p.expiresAt !== undefined && this.now() >= Date.parse(p.expiresAt);
  }

  /** Records our hooks that ECS lists as TIMED_OUT. */
  noteTimeouts(sd: ServiceDeployment): void {
    for (const h of sd.lifecycleHookDetails ?? []) {
      const info = h.hookId ? this.known.get(h.hookId) : undefined;
      if (h.status === "TIMED_OUT" && info) this.recordTimeout(info, h.timeoutAction ?? "ROLLBACK");
    }
  }

  recordTimeout(info: PauseInfo, action: string): void {
    if (this.noted.has(`timeout ${info.hookId}`)) return;
    this.noted.add(`timeout ${info.hookId}`);
    this.timedOut = { info, action };
    const reason = `no decision before hook ${info.hookId} expired at ${info.expiresAt ?? "?"}; ECS applied its timeout action ${action}`;
    this.timeline.add(`PAUSE hook at ${describePause(info)} timed out: ${reason}`);
    this.decisions.push({
      at: new Date(this.now()).toISOString(),
      gate: "hook-timeout",
      stage: info.stage,
      step: info.step,
      verdict: "timed out",
      reason,
      values: [{ name: "productionTrafficPercent", value: info.productionTrafficPercent }],
    });
  }

  /** Why ECS rolled back, when one of our hooks timing out made it. */
  timeoutCause(): string | undefined {
    const t = this.timedOut;
    if (!t || t.action !== "ROLLBACK") return undefined;
    return `Shipshape's PAUSE hook at ${describePause(t.info)} got no decision before it expired at ${t.info.expiresAt ?? "?"}, so ECS rolled back (timeout action ROLLBACK)`;
  }

  describe(p: PauseInfo): string {
    return describePause(p);
  }

  private once(key: string, message: string): void {
    if (this.noted.has(key)) return;
    this.noted.add(key);
    this.timeline.add(message);
  }
}

export type Answered = "continued" | "rollback requested" | "refused";

/** ContinueServiceDeployment with the gate's action; a refusal is reported, not thrown: the caller decides what follows. */
export async function answerHook(
  client: ECSClient,
  waiting: PauseInfo,
  decided: PauseDecision,
  timeline: Timeline,
  hooks: HookWatcher,
  opts?: EcsOptions,
): Promise<Answered> {
  const action = decided.action === "ROLLBACK" ? "ROLLBACK" : "CONTINUE";
  hooks.markAnswered(waiting.hookId);
  try {
    await continueServiceDeployment(client, waiting.serviceDeploymentArn, waiting.hookId, action, opts);
  } catch (e) {
    hooks.refusal = describeError(e).cause;
    // The answer can take effect with its reply lost (a timeout or 5xx after the write; the retry is then refused):
    // ECS's own state says whether it did, and acting again would start a second, racing rollback.
    if (await tookEffect(client, waiting, action, opts)) {
      timeline.add(`ContinueServiceDeployment(${action}) for hook ${waiting.hookId} errored (${hooks.refusal}), but ECS had applied it`);
      return action === "ROLLBACK" ? "rollback requested" : "continued";
    }
    timeline.add(`ContinueServiceDeployment(${action}) for hook ${waiting.hookId} was refused: ${hooks.refusal}`);
    if (hooks.expired(waiting)) hooks.recordTimeout(waiting, "ROLLBACK");
    return "refused";
  }
  timeline.add(`ContinueServiceDeployment(${action}) at ${describePause(waiting)}: ${decided.reason}`);
  return action === "ROLLBACK" ? "rollback requested" : "continued";
}

const ROLLING_BACK = new Set(["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"]);

/** Whether ECS acted on our answer although the call failed: the hook left AWAITING_ACTION the way the answer would move it. */
async function tookEffect(client: ECSClient, waiting: PauseInfo, action: "CONTINUE" | "ROLLBACK", opts?: EcsOptions): Promise<boolean> {
  const sd = await describeServiceDeployment(client, waiting.serviceDeploymentArn, opts).catch(() => undefined);
  const hook = sd?.lifecycleHookDetails?.find((h) => h.hookId === waiting.hookId);
  if (!sd || !hook || hook.status === "AWAITING_ACTION" || hook.status === "TIMED_OUT") return false;
  return action === "ROLLBACK" ? ROLLING_BACK.has(sd.status ?? "") : hook.status === "SUCCEEDED" && !ROLLING_BACK.has(sd.status ?? "");
}
