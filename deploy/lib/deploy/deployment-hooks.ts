/**
 * The life of the PAUSE hook Shipshape adds for one deployment (any strategy): marked on the
 * service before the UpdateService that adds it, the deployment's id added to the mark once ECS
 * names it, and taken off when the deployment ends, whichever way. A paused deployment keeps its
 * hook, marked paused, for promote or abort. When taking it off fails (or the run dies first), the
 * next deploy, rollback, promote, abort or status removes it (recover.ts).
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { describeError } from "../../src/project/problem.js";
import type { EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import type { ServiceRef } from "./ecs.js";
import { deploymentId, removeOurHooks, writeMark } from "./hook-mark.js";
import type { GateStage, HookMark } from "./hooks.js";

export interface DeploymentHooksContext {
  ref: ServiceRef;
  serviceArn: string;
  runId: string;
  stages: readonly GateStage[];
  env: Pick<EnvironmentConfig, "pauseTimeoutMinutes">;
  note: (message: string) => void;
}

export class DeploymentHooks {
  /** The mark on the service while our hook is on it. */
  current?: HookMark;

  constructor(
    private readonly client: ECSClient,
    private readonly ctx: DeploymentHooksContext,
    private readonly opts?: EcsOptions,
  ) {}

  /** Before UpdateService adds the hook: a failure here stops the deploy before anything changed. */
  async mark(): Promise<void> {
    if (this.ctx.stages.length === 0) return;
    const mark: HookMark = {
      runId: this.ctx.runId,
      stages: [...this.ctx.stages],
      timeoutMinutes: this.ctx.env.pauseTimeoutMinutes,
      paused: false,
    };
    await writeMark(this.client, this.ctx.serviceArn, mark, this.opts);
    this.current = mark;
  }

  /** Takes over the hook a paused deployment kept (promote, abort): this run now ends it. */
  async adopt(mark: HookMark | undefined): Promise<void> {
    if (!mark) return;
    this.current = mark;
    // No longer paused: if this run dies too, the next one rolls the deployment back instead of waiting for a person.
    if (mark.paused) {
      const driving = { ...mark, paused: false };
      await writeMark(this.client, this.ctx.serviceArn, driving, this.opts);
      this.current = driving;
    }
  }

  /** Names the deployment in the mark, so a later run tells it from someone else's that inherited the hook. */
  async started(serviceDeploymentArn: string): Promise<void> {
    if (!this.current) return;
    const mark = { ...this.current, deployment: deploymentId(serviceDeploymentArn) };
    await this.quietly("name the deployment in the hook mark", () => writeMark(this.client, this.ctx.serviceArn, mark, this.opts));
    this.current = mark;
  }

  /** The hook stays (marked paused) for promote or abort; otherwise it comes off with its mark. */
  async ended(paused: boolean): Promise<void> {
    const mark = this.current;
    if (!mark) return;
    if (paused) {
      const kept = { ...mark, paused: true };
      await this.quietly("mark the hook paused", () => writeMark(this.client, this.ctx.serviceArn, kept, this.opts));
      this.current = kept;
      return;
    }
    const done = await this.quietly("remove Shipshape's PAUSE hook", () => removeOurHooks(this.client, this.ctx.ref, mark, this.opts));
    if (done !== undefined) {
      this.ctx.note(`removed Shipshape's PAUSE hook (${mark.stages.join(", ")}) from the service`);
      delete this.current;
    }
  }

  /** A failure here must not change the deployment's outcome: the next run finishes the job. */
  private async quietly<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      this.ctx.note(`could not ${what} (${describeError(e).cause}); the next deploy, rollback or status does it`);
      return undefined;
    }
  }
}
