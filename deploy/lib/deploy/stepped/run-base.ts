/**
 * The state of one stepped canary run and its ways out, shared by the steps (run.ts): the recovery
 * it starts with, waiting for healthy targets, and abort/finish, which put traffic back on stable
 * before anything else and report what happened.
 */
import type { Service } from "@aws-sdk/client-ecs";
import type { Action } from "@aws-sdk/client-elastic-load-balancing-v2";
import { progress } from "../../gates/progress.js";
import { describeError } from "../../../src/project/problem.js";
import { revisionName } from "../taskdef.js";
import { ecsOf, type EcsOptions } from "../aws.js";
import { nativeAlarms } from "../deploy.js";
import { updateService, type MigrationResult } from "../ecs.js";
import type { GateDecision } from "../hooks.js";
import { recoverUnder, type AbandonedRun } from "../recover.js";
import { watchDeployment, type DeployResult, type DeploymentOutcome, type TimelineEvent } from "../watch.js";
import { elbOf, targetHealth, type Elb, type TargetCounts } from "./elb.js";
import { groupsOf, recoverStepped, routeOf } from "./inflight.js";
import { LeaseLapsing, type Lease, type LostLock } from "./lease.js";
import { clearSteppedMark } from "./mark.js";
import { scaleCanaryToZero } from "./services.js";
import { Traffic, type TrafficChange } from "./traffic.js";
import type { CanaryDecision, SteppedCanaryClients, SteppedCanaryReport, SteppedCanaryRequest } from "./types.js";
import type { TargetGroups } from "./weights.js";

export abstract class CanaryRunBase {
  protected readonly elb: Elb;
  protected readonly timeline: TimelineEvent[] = [];
  protected readonly decisions: CanaryDecision[] = [];
  protected readonly tg: TargetGroups;
  protected readonly traffic: Traffic;
  protected taskDefinitionArn = "";
  protected previous = "";
  protected serviceDeploymentArn: string | undefined;
  protected readonly recovered: GateDecision[] = [];
  protected readonly recoveredTraffic: TrafficChange[] = [];
  protected abandoned: AbandonedRun | undefined;
  protected migration: MigrationResult | undefined;
  /** The rule's actions before the run changed them: what a restore falls back to when ELB cannot be read. */
  protected snapshot: Action[] = [];
  /** The in-flight mark is on the main service, ours to remove once the canary is at 0. */
  protected marked = false;

  constructor(
    protected readonly clients: SteppedCanaryClients,
    protected readonly req: SteppedCanaryRequest,
    protected readonly opts: EcsOptions | undefined,
    protected readonly lease: Lease,
  ) {
    this.elb = elbOf(clients.elb, opts);
    this.tg = groupsOf(req.canary);
    this.traffic = new Traffic(this.elb, routeOf(req.canary), this.tg, this.timeline);
  }

  protected get clock() {
    return ecsOf(this.clients.ecs, this.opts).clock;
  }

  protected note(message: string): void {
    this.timeline.push({ at: new Date(this.clock.now()).toISOString(), message });
  }

  protected merge(prefix: string, events: TimelineEvent[]): void {
    this.timeline.push(...events.map((e) => ({ at: e.at, message: `${prefix}: ${e.message}` })));
  }

  /** What a run that died left: its canary ended (traffic first), then its main-service deployment and hook (recover.ts). */
  protected async recoverFirst(): Promise<boolean> {
    const { lock } = this.lease;
    const base = { env: this.req.config, canary: this.req.canary, serviceArn: lock.serviceArn };
    const stepped = await recoverStepped(
      this.clients,
      { ...base, ...(lock.tookOver ? { tookOver: lock.tookOver } : {}), why: "abandoned" },
      this.opts,
    );
    const ctx = { client: this.clients.ecs, environment: this.req.environment, env: this.req.config, serviceArn: lock.serviceArn };
    const native = await recoverUnder(lock, ctx, this.opts);
    this.timeline.push(...native.timeline, ...stepped.timeline);
    this.recoveredTraffic.push(...stepped.traffic);
    this.recovered.push(...native.decisions, ...stepped.decisions);
    this.abandoned = native.abandoned ?? stepped.abandoned;
    return stepped.reset;
  }

  /** The heartbeat gave up (lease.ts): the weights go back now, whatever the run is doing; the run stops at its next check. */
  async heartbeatLost(why: LostLock): Promise<void> {
    progress("deploy", `canary lock: ${why.cause_}`);
    await this.traffic.restore(`lock: ${why.cause_}`, this.snapshot);
  }

  /** Polls a target group until `want` targets are healthy or the progress deadline passes; the last count either way. */
  protected async waitHealthy(targetGroupArn: string, want: number): Promise<TargetCounts> {
    const env = this.req.config;
    const deadline = this.clock.now() + env.progressDeadlineMinutes * 60_000;
    for (;;) {
      this.lease.assertAlive();
      const health = await targetHealth(this.elb, targetGroupArn);
      if (health.healthy >= want || this.clock.now() >= deadline) return health;
      await this.clock.sleep(env.pollSeconds * 1000);
    }
  }

  /**
   * Traffic first, then the canary's tasks; never throws, so the reason that got us here survives.
   * A run that lost its lock only puts the weights back: the canary service may be the new holder's.
   * One that could not renew it in time does the same: the lock lapses soon, and the next command or
   * the scheduled monitor ends the canary under a lock of its own.
   */
  protected async abort(canarySvc: Service, reason: string, snapshot: Action[], lostLock?: LostLock): Promise<SteppedCanaryReport> {
    progress("deploy", `canary rolling back: ${reason}`);
    const unsafe = await this.traffic.restore("rollback", snapshot);
    if (unsafe) {
      const left = this.traffic.current ? `${this.traffic.current.canary}%` : "an unknown share";
      return this.finish(
        "failed",
        `${reason}; then the weights could not be set back to stable (${unsafe}): the canary may still receive ${left} until the next run resets it, or set the weights by hand`,
      );
    }
    if (lostLock instanceof LeaseLapsing)
      return this.finish(
        "failed",
        `${reason}; the canary service is left for the next command (or the scheduled monitor) to end once the lock lapses`,
      );
    if (lostLock)
      return this.finish("failed", `${reason}; the weights are back on stable, the canary service is left to the lock's holder`);
    await this.scaleDown(canarySvc);
    return this.finish("rolled back", reason);
  }

  /** The canary to 0, then the mark off: while the canary still runs, the mark tells the next command to finish the job. */
  protected async scaleDown(canarySvc: Service): Promise<void> {
    try {
      await scaleCanaryToZero(this.clients.ecs, canarySvc, this.opts);
      this.note(`canary service ${this.req.canary.canaryService} scaled to 0`);
      if (this.marked) await clearSteppedMark(this.clients.ecs, this.lease.lock.serviceArn, this.opts);
      this.marked = false;
    } catch (e) {
      // Traffic is already off it: a running canary only costs money, so this is a note, not a failure.
      this.note(
        `canary service ${this.req.canary.canaryService} could not be scaled to 0 (${describeError(e).cause}); the next Shipshape command does it, or scale it down by hand`,
      );
    }
  }

  protected finish(result: DeployResult, reason: string): SteppedCanaryReport {
    this.note(`${result}: ${reason}`);
    progress("deploy", `stepped canary ${result}: ${reason}`);
    const timeline = [...this.timeline].sort((a, b) => a.at.localeCompare(b.at)); // stable sort keeps same-instant order
    return {
      environment: this.req.environment,
      image: this.req.image,
      result,
      reason,
      taskDefinitionArn: this.taskDefinitionArn,
      previousTaskDefinitionArn: this.previous,
      ...(this.serviceDeploymentArn ? { serviceDeploymentArn: this.serviceDeploymentArn } : {}),
      timeline,
      decisions: this.decisions,
      traffic: [...this.recoveredTraffic, ...this.traffic.history],
      recovered: this.recovered,
      ...(this.abandoned ? { abandoned: this.abandoned } : {}),
      ...(this.migration ? { migration: this.migration } : {}),
    };
  }
  /** Every step passed: the main service moves to the new revision while the canary carries all traffic. */
  protected async promote(main: Service, canarySvc: Service, snapshot: Action[]): Promise<SteppedCanaryReport> {
    const env = this.req.config;
    const rev = revisionName(this.taskDefinitionArn);
    this.note(`all ${this.req.canary.steps.length} steps passed; promoting service ${env.service} to ${rev}`);
    let outcome: Pick<DeploymentOutcome, "result" | "reason" | "runningTaskDefinitionArn">;
    await this.lease.renew();
    try {
      const alarms = nativeAlarms(env, this.req.alarms);
      const started = await updateService(
        this.clients.ecs,
        main,
        { taskDefinitionArn: this.taskDefinitionArn, strategy: "rolling", alarms },
        this.opts,
      );
      this.serviceDeploymentArn = started.serviceDeploymentArn;
      const watched = await watchDeployment(
        this.clients.ecs,
        {
          cluster: env.cluster,
          service: env.service,
          serviceDeploymentArn: started.serviceDeploymentArn,
          taskDefinitionArn: this.taskDefinitionArn,
          previousTaskDefinitionArn: this.previous,
          progressDeadlineMinutes: env.progressDeadlineMinutes,
          pollSeconds: env.pollSeconds,
        },
        this.opts,
      );
      this.merge("main service", watched.timeline);
      this.serviceDeploymentArn = watched.serviceDeploymentArn;
      outcome = watched;
    } catch (e) {
      outcome = {
        result: "failed",
        reason: `the update could not be started: ${describeError(e).cause}`,
        runningTaskDefinitionArn: this.previous,
      };
    }
    // Traffic goes back to the stable group only once it can carry all of it; otherwise the
    // healthy canary keeps it, which is the lesser harm.
    const want = Math.max(1, main.desiredCount ?? 1);
    const stable = await this.waitHealthy(this.tg.stable, want).catch(() => undefined);
    if (stable === undefined || stable.healthy < want) {
      const why =
        stable === undefined
          ? "its health could not be read"
          : `${stable.healthy}/${want} targets healthy (${stable.others || "none registered"})`;
      return this.finish(
        "failed",
        `promoting service ${env.service}: ${outcome.result}: ${outcome.reason}; traffic stays on the canary service (${rev}) because the stable target group cannot take it: ${why}`,
      );
    }
    const unsafe = await this.traffic.restore(
      outcome.result === "succeeded" ? "promoted: the main service serves the new revision" : "promotion failed",
      snapshot,
    );
    if (unsafe) return this.finish("failed", `${outcome.reason}; and the weights could not be set back to stable: ${unsafe}`);
    await this.scaleDown(canarySvc);
    if (outcome.result === "succeeded")
      return this.finish("succeeded", `${rev} passed ${this.req.canary.steps.length} steps and is serving`);
    const running = revisionName(outcome.runningTaskDefinitionArn ?? this.previous);
    return this.finish(
      outcome.result === "rolled back" ? "rolled back" : "failed",
      `every step passed, but promoting service ${env.service} ended ${outcome.result}: ${outcome.reason}; the main service runs ${running} and has the traffic again`,
    );
  }
}
