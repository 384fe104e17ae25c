/**
 * One stepped canary under the deploy lock, as a small state machine: what a dead run left ended
 * first (inflight.ts, recover.ts), checks, the safe split, the in-flight mark, the migration, the
 * canary service up and healthy (and smoke-checked on its own route), the steps, then promotion
 * or rollback. Every way out goes through finish(), and every failure after the canary service
 * started through abort(), which moves traffic back to stable before it scales the canary down.
 * The lock beats in the background (lease.ts), is renewed once more before each weight change and
 * checked right after it: a run that lost it, or could not renew it in time, puts the weights back
 * on stable and touches nothing else.
 */
import type { Service } from "@aws-sdk/client-ecs";
import { progress } from "../../gates/progress.js";
import { Problem, describeError } from "../../../src/project/problem.js";
import type { EcsOptions } from "../aws.js";
import { nativeAlarms } from "../deploy.js";
import { describeService, describeTaskDefinition, registerTaskDefinition, runMigration } from "../ecs.js";
import { renderTaskDefinition, revisionName } from "../taskdef.js";
import { watchDeployment } from "../watch.js";
import type { AlarmCheck } from "./alarms.js";
import { targetHealth } from "./elb.js";
import { LostLock, type Lease } from "./lease.js";
import { clearSteppedMark, writeSteppedMark } from "./mark.js";
import { checkServices, startCanaryService } from "./services.js";
import type { CanaryGate, GateStep, GateVerdict, SteppedCanaryClients, SteppedCanaryReport, SteppedCanaryRequest } from "./types.js";
import { CanaryRunBase } from "./run-base.js";
import { SAFE, canaryAt } from "./weights.js";

export class CanaryRun extends CanaryRunBase {
  constructor(
    clients: SteppedCanaryClients,
    req: SteppedCanaryRequest,
    private readonly gate: CanaryGate,
    opts: EcsOptions | undefined,
    lease: Lease,
    private readonly alarm?: AlarmCheck,
  ) {
    super(clients, req, opts, lease);
  }

  async run(): Promise<SteppedCanaryReport> {
    const { ecs } = this.clients;
    const env = this.req.config;
    const reset = await this.recoverFirst();
    // Everything up to the canary service update throws a Problem and changes no traffic.
    const main = await describeService(ecs, { cluster: env.cluster, service: env.service }, this.opts);
    const canarySvc = await describeService(ecs, { cluster: env.cluster, service: this.req.canary.canaryService }, this.opts);
    checkServices(main, canarySvc, this.tg);
    const previous = main.taskDefinition;
    if (!previous) throw new Problem(`service ${env.service} has no task definition`, "check the service in the ECS console");
    this.previous = previous;

    const { actions: snapshot } = await this.traffic.read();
    this.snapshot = snapshot;
    // Waited for, not read once: a recovery above may just have rolled the main service back onto fresh tasks.
    const stable = await this.waitHealthy(this.tg.stable, 1);
    if (stable.healthy === 0) {
      throw new Problem(
        `the stable target group has no healthy targets (${stable.others || "no targets"}); a canary cannot be compared with it`,
        `get service ${env.service} healthy first`,
      );
    }
    // The safe split goes in first (unless the recovery just wrote it): it proves that the role
    // may modify the rule before the canary service is touched.
    if (!reset) await this.traffic.set(SAFE, "start: stable carries all traffic");

    const { taskDefinition, tags } = await describeTaskDefinition(ecs, previous, this.opts);
    const input = renderTaskDefinition(taskDefinition, {
      containerName: env.containerName,
      image: this.req.image,
      overrides: env.overrides,
      tags,
    });
    this.taskDefinitionArn = (await registerTaskDefinition(ecs, input, this.opts)).taskDefinitionArn;
    this.note(`registered ${revisionName(this.taskDefinitionArn)} (from ${revisionName(previous)})`);

    const desired = this.req.canary.canaryDesiredCount ?? Math.max(1, main.desiredCount ?? 1);
    const canaryDeployment = await this.startCanary(main, canarySvc, desired);

    try {
      const notReady = await this.waitCanaryReady(canarySvc, canaryDeployment, desired);
      if (notReady) return await this.abort(canarySvc, notReady, snapshot);
      const rollback = await this.runSteps();
      if (rollback) return await this.abort(canarySvc, rollback, snapshot);
      return await this.promote(main, canarySvc, snapshot);
    } catch (e) {
      return this.abort(canarySvc, describeError(e).cause, snapshot, e instanceof LostLock ? e : undefined);
    }
  }

  /** The mark, the migration, then the new revision on the canary service: nothing takes traffic yet. */
  private async startCanary(main: Service, canarySvc: Service, desired: number): Promise<string> {
    const env = this.req.config;
    const { ecs } = this.clients;
    const rev = revisionName(this.taskDefinitionArn);
    try {
      await this.lease.check();
      const mark = { runId: this.req.runId, revision: rev, startedAt: new Date(this.clock.now()).toISOString() };
      await writeSteppedMark(ecs, this.lease.lock.serviceArn, mark, this.opts);
      this.marked = true;
      if (env.migration) {
        this.note(`migration started: ${env.migration.command.join(" ")}`);
        this.migration = await runMigration(
          ecs,
          {
            service: main,
            taskDefinitionArn: this.taskDefinitionArn,
            containerName: env.migration.containerName ?? env.containerName,
            command: env.migration.command,
            timeoutMinutes: env.migration.timeoutMinutes,
            runId: this.req.runId,
          },
          this.opts,
        );
        this.note(`migration succeeded in ${this.migration.durationSeconds}s`);
      }
      await this.lease.check();
      const alarms = nativeAlarms(env, this.req.alarms);
      const started = await startCanaryService(ecs, canarySvc, this.taskDefinitionArn, desired, alarms, this.opts);
      this.note(`canary service ${this.req.canary.canaryService} started on ${rev} with ${desired} tasks`);
      return started;
    } catch (e) {
      // Nothing runs on the canary yet: the mark goes (the next run would only clear it), unless the lock is someone else's now.
      if (this.marked && !(e instanceof LostLock))
        await clearSteppedMark(ecs, this.lease.lock.serviceArn, this.opts).then(
          () => (this.marked = false),
          () => undefined,
        );
      throw e;
    }
  }

  /** The canary's deployment must succeed and all its tasks be healthy in its target group. */
  private async waitCanaryReady(canarySvc: Service, serviceDeploymentArn: string, desired: number): Promise<string | undefined> {
    const env = this.req.config;
    const rev = revisionName(this.taskDefinitionArn);
    const outcome = await watchDeployment(
      this.clients.ecs,
      {
        cluster: env.cluster,
        service: this.req.canary.canaryService,
        serviceDeploymentArn,
        taskDefinitionArn: this.taskDefinitionArn,
        ...(canarySvc.taskDefinition ? { previousTaskDefinitionArn: canarySvc.taskDefinition } : {}),
        progressDeadlineMinutes: env.progressDeadlineMinutes,
        pollSeconds: env.pollSeconds,
      },
      this.opts,
    );
    this.merge("canary service", outcome.timeline);
    if (outcome.result !== "succeeded") return `the canary service did not come up on ${rev}: ${outcome.reason}`;
    const health = await this.waitHealthy(this.tg.canary, desired);
    if (health.healthy < desired) {
      return `the canary's targets never became healthy: ${health.healthy}/${desired} healthy after ${env.progressDeadlineMinutes} min (${health.others || "no targets registered"})`;
    }
    this.note(`canary target group: ${health.healthy}/${desired} targets healthy`);
    return undefined;
  }

  /** The gate's question for step n (0: before any traffic). */
  private question(n: number, weight: number, pauseMinutes: number, since: string): GateStep {
    return {
      step: n,
      steps: this.req.canary.steps.length,
      weight,
      pauseMinutes,
      since,
      taskDefinitionArn: this.taskDefinitionArn,
      previousTaskDefinitionArn: this.previous,
      stableTargetGroupArn: this.tg.stable,
      canaryTargetGroupArn: this.tg.canary,
    };
  }

  private record(n: number, weight: number, verdict: GateVerdict): void {
    const at = new Date(this.clock.now()).toISOString();
    this.decisions.push({ at, step: n, weight, verdict: verdict.action, reason: verdict.reason, values: verdict.values });
    this.note(`step ${n} (${weight}%): ${verdict.action}: ${verdict.reason}`);
    progress("deploy", `canary step ${n}/${this.req.canary.steps.length} at ${weight}%: ${verdict.action} (${verdict.reason})`);
  }

  /**
   * Holds a step's weight, waking every poll interval: the heartbeat's failure (lease.ts) stops the
   * run there, and with alarms they are read each time. Returns an alarm that fired.
   */
  private async hold(minutes: number): Promise<string | undefined> {
    const until = this.clock.now() + minutes * 60_000;
    for (;;) {
      this.lease.assertAlive();
      const fired = await this.alarm?.();
      const left = until - this.clock.now();
      if (fired || left <= 0) return fired;
      await this.clock.sleep(Math.min(left, this.req.config.pollSeconds * 1000));
    }
  }

  /** Each step: weights, pause, verdict. Returns why to roll back, or undefined when every step passed. */
  private async runSteps(): Promise<string | undefined> {
    const { steps } = this.req.canary;
    if (this.req.checkBeforeTraffic) {
      const verdict = await this.judge(this.question(0, 0, 0, new Date(this.clock.now()).toISOString()));
      this.record(0, 0, verdict);
      if (verdict.action !== "CONTINUE") return `the canary's own checks failed before it got any traffic: ${verdict.reason}`;
    }
    for (const [i, step] of steps.entries()) {
      const n = i + 1;
      const health = await targetHealth(this.elb, this.tg.canary);
      if (health.healthy === 0)
        return `before step ${n} (${step.weight}%) the canary had no healthy targets (${health.others || "none registered"})`;
      const before = await this.alarm?.();
      if (before) return `before step ${n} (${step.weight}%): ${before}`;
      await this.lease.renew(); // never a weight change on a lock about to lapse
      await this.traffic.set(canaryAt(step.weight), `step ${n}/${steps.length}`);
      await this.lease.check(); // an abort that took the lock while the weight was being written
      const since = new Date(this.clock.now()).toISOString();
      const fired = await this.hold(step.pauseMinutes);
      if (fired) return `at step ${n} (${step.weight}%): ${fired}`;
      const verdict = await this.judge(this.question(n, step.weight, step.pauseMinutes, since));
      this.lease.assertAlive(); // the heartbeat may have given up while the gate judged
      this.record(n, step.weight, verdict);
      if (verdict.action !== "CONTINUE") return `analysis at step ${n} (${step.weight}%) called for a rollback: ${verdict.reason}`;
    }
    return undefined;
  }

  /** A gate that throws or answers nonsense is a rollback: no verdict is not a pass. */
  private async judge(step: GateStep): Promise<GateVerdict> {
    try {
      const verdict = await this.gate(step);
      if (verdict.action === "CONTINUE" || verdict.action === "ROLLBACK") return verdict;
      return { action: "ROLLBACK", reason: `the gate answered ${String(verdict.action)}`, values: verdict.values ?? {} };
    } catch (e) {
      return { action: "ROLLBACK", reason: `analysis failed: ${describeError(e).cause}`, values: {} };
    }
  }
}
