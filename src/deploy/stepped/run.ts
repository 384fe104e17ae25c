/**
 * One stepped canary under the deploy lock, as a small state machine: checks, the safe split,
 * the canary service up and healthy, the steps, then promotion or rollback. Every way out goes
 * through finish(), and every failure after the canary service started through abort(), which
 * moves traffic back to stable before it scales the canary down.
 */
import type { Service } from "@aws-sdk/client-ecs";
import type { Action } from "@aws-sdk/client-elastic-load-balancing-v2";
import { progress } from "../../gates/progress.js";
import { Problem, describeError } from "../../project/problem.js";
import { ecsOf, type EcsOptions } from "../aws.js";
import { describeService, describeTaskDefinition, registerTaskDefinition, updateService } from "../ecs.js";
import { renderTaskDefinition, revisionName } from "../taskdef.js";
import { watchDeployment, type DeployResult, type DeploymentOutcome, type TimelineEvent } from "../watch.js";
import { elbOf, targetHealth, type Elb, type TargetCounts, type TrafficRoute } from "./elb.js";
import { checkServices, scaleCanaryToZero, startCanaryService } from "./services.js";
import { Traffic } from "./traffic.js";
import type {
  CanaryDecision,
  CanaryGate,
  GateStep,
  GateVerdict,
  SteppedCanaryClients,
  SteppedCanaryReport,
  SteppedCanaryRequest,
} from "./types.js";
import { SAFE, canaryAt, type TargetGroups } from "./weights.js";

export class CanaryRun {
  private readonly elb: Elb;
  private readonly timeline: TimelineEvent[] = [];
  private readonly decisions: CanaryDecision[] = [];
  private readonly tg: TargetGroups;
  private readonly traffic: Traffic;
  private taskDefinitionArn = "";
  private previous = "";
  private serviceDeploymentArn: string | undefined;

  constructor(
    private readonly clients: SteppedCanaryClients,
    private readonly req: SteppedCanaryRequest,
    private readonly gate: CanaryGate,
    private readonly opts: EcsOptions | undefined,
  ) {
    this.elb = elbOf(clients.elb, opts);
    const { canary } = req;
    this.tg = { stable: canary.stableTargetGroupArn, canary: canary.canaryTargetGroupArn };
    const route: TrafficRoute = canary.listenerRuleArn
      ? { kind: "rule", arn: canary.listenerRuleArn }
      : { kind: "listener", arn: canary.listenerArn ?? "" };
    this.traffic = new Traffic(this.elb, route, this.tg, this.timeline);
  }

  private get clock() {
    return ecsOf(this.clients.ecs, this.opts).clock;
  }

  private note(message: string): void {
    this.timeline.push({ at: new Date(this.clock.now()).toISOString(), message });
  }

  private merge(prefix: string, events: TimelineEvent[]): void {
    this.timeline.push(...events.map((e) => ({ at: e.at, message: `${prefix}: ${e.message}` })));
  }

  async run(): Promise<SteppedCanaryReport> {
    const { ecs } = this.clients;
    const env = this.req.config;
    // Everything up to the canary service update throws a Problem and changes no traffic.
    const main = await describeService(ecs, { cluster: env.cluster, service: env.service }, this.opts);
    const canarySvc = await describeService(ecs, { cluster: env.cluster, service: this.req.canary.canaryService }, this.opts);
    checkServices(main, canarySvc, this.tg);
    const previous = main.taskDefinition;
    if (!previous) throw new Problem(`service ${env.service} has no task definition`, "check the service in the ECS console");
    this.previous = previous;

    const { actions: snapshot, split } = await this.traffic.read();
    const stable = await targetHealth(this.elb, this.tg.stable);
    if (stable.healthy === 0) {
      throw new Problem(
        `the stable target group has no healthy targets (${stable.others || "no targets"}); a canary cannot be compared with it`,
        `get service ${env.service} healthy first`,
      );
    }
    // The safe split goes in first: it undoes what a crashed run left behind, and proves that
    // the role may modify the rule before the canary service is touched.
    const leftover = split.canary > 0 ? `reset: an earlier run left the canary at ${split.canary}%` : "start: stable carries all traffic";
    await this.traffic.set(SAFE, leftover);

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
    const canaryDeployment = await startCanaryService(ecs, canarySvc, this.taskDefinitionArn, desired, this.opts);
    this.note(`canary service ${this.req.canary.canaryService} started on ${revisionName(this.taskDefinitionArn)} with ${desired} tasks`);

    try {
      const notReady = await this.waitCanaryReady(canarySvc, canaryDeployment, desired);
      if (notReady) return await this.abort(canarySvc, notReady, snapshot);
      const rollback = await this.runSteps();
      if (rollback) return await this.abort(canarySvc, rollback, snapshot);
      return await this.promote(main, canarySvc, snapshot);
    } catch (e) {
      return this.abort(canarySvc, describeError(e).cause, snapshot);
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

  /** Polls a target group until `want` targets are healthy or the progress deadline passes; the last count either way. */
  private async waitHealthy(targetGroupArn: string, want: number): Promise<TargetCounts> {
    const env = this.req.config;
    const deadline = this.clock.now() + env.progressDeadlineMinutes * 60_000;
    for (;;) {
      const health = await targetHealth(this.elb, targetGroupArn);
      if (health.healthy >= want || this.clock.now() >= deadline) return health;
      await this.clock.sleep(env.pollSeconds * 1000);
    }
  }

  /** Each step: weights, pause, verdict. Returns why to roll back, or undefined when every step passed. */
  private async runSteps(): Promise<string | undefined> {
    const steps = this.req.canary.steps;
    for (const [i, step] of steps.entries()) {
      const n = i + 1;
      const health = await targetHealth(this.elb, this.tg.canary);
      if (health.healthy === 0)
        return `before step ${n} (${step.weight}%) the canary had no healthy targets (${health.others || "none registered"})`;
      await this.traffic.set(canaryAt(step.weight), `step ${n}/${steps.length}`);
      const since = new Date(this.clock.now()).toISOString();
      if (step.pauseMinutes > 0) await this.clock.sleep(step.pauseMinutes * 60_000);
      const verdict = await this.judge({
        step: n,
        steps: steps.length,
        weight: step.weight,
        pauseMinutes: step.pauseMinutes,
        since,
        taskDefinitionArn: this.taskDefinitionArn,
        stableTargetGroupArn: this.tg.stable,
        canaryTargetGroupArn: this.tg.canary,
      });
      const at = new Date(this.clock.now()).toISOString();
      this.decisions.push({ at, step: n, weight: step.weight, verdict: verdict.action, reason: verdict.reason, values: verdict.values });
      this.note(`step ${n} (${step.weight}%): ${verdict.action}: ${verdict.reason}`);
      progress("deploy", `canary step ${n}/${steps.length} at ${step.weight}%: ${verdict.action} (${verdict.reason})`);
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

  /** Every step passed: the main service moves to the new revision while the canary carries all traffic. */
  private async promote(main: Service, canarySvc: Service, snapshot: Action[]): Promise<SteppedCanaryReport> {
    const env = this.req.config;
    const rev = revisionName(this.taskDefinitionArn);
    this.note(`all ${this.req.canary.steps.length} steps passed; promoting service ${env.service} to ${rev}`);
    let outcome: Pick<DeploymentOutcome, "result" | "reason" | "runningTaskDefinitionArn">;
    try {
      const started = await updateService(
        this.clients.ecs,
        main,
        { taskDefinitionArn: this.taskDefinitionArn, strategy: "rolling" },
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

  /** Traffic first, then the canary's tasks; never throws, so the reason that got us here survives. */
  private async abort(canarySvc: Service, reason: string, snapshot: Action[]): Promise<SteppedCanaryReport> {
    progress("deploy", `canary rolling back: ${reason}`);
    const unsafe = await this.traffic.restore("rollback", snapshot);
    if (unsafe) {
      const left = this.traffic.current ? `${this.traffic.current.canary}%` : "an unknown share";
      return this.finish(
        "failed",
        `${reason}; then the weights could not be set back to stable (${unsafe}): the canary may still receive ${left} until the next run resets it, or set the weights by hand`,
      );
    }
    await this.scaleDown(canarySvc);
    return this.finish("rolled back", reason);
  }

  private async scaleDown(canarySvc: Service): Promise<void> {
    try {
      await scaleCanaryToZero(this.clients.ecs, canarySvc, this.opts);
      this.note(`canary service ${this.req.canary.canaryService} scaled to 0`);
    } catch (e) {
      // Traffic is already off it: a running canary only costs money, so this is a note, not a failure.
      this.note(
        `canary service ${this.req.canary.canaryService} could not be scaled to 0 (${describeError(e).cause}); scale it down by hand`,
      );
    }
  }

  private finish(result: DeployResult, reason: string): SteppedCanaryReport {
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
      traffic: this.traffic.history,
    };
  }
}
