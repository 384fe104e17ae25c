/**
 * A stateful fake of the ELBv2 calls a stepped canary makes, behind aws-sdk-client-mock: target
 * groups, one ALB listener with a default action and rules, weighted forward actions validated as
 * ELB validates them, and target health that follows the ECS services registered to each target
 * group in a FakeEcs (or a scripted state). Errors are the SDK's own classes with ELB's codes and
 * messages; ELB is a Query-protocol API, so unmodelled errors (ValidationError, Throttling,
 * AccessDenied) arrive as ElasticLoadBalancingV2ServiceException with that name.
 *
 * The semantics follow @aws-sdk/client-elastic-load-balancing-v2 (3.1142.0, dist-types/models and
 * commands, generated from aws-sdk-js-v3's codegen/sdk-codegen/aws-models/elastic-load-balancing-v2.json;
 * the repository itself was too large to fetch here): TargetGroupTuple.Weight "The range is 0 to
 * 999"; ForwardActionConfig.TargetGroups (at most 5); TargetGroupStickinessConfig.DurationSeconds
 * "must [be specified] when enabling target group stickiness", 1-604800; ModifyRule throws
 * RuleNotFoundException, TargetGroupNotFoundException, OperationNotPermittedException (a default
 * rule's conditions) among others; DescribeRules throws ListenerNotFoundException and
 * RuleNotFoundException.
 *
 * Every weight change is kept with its time, so tests assert the traffic history exactly; the
 * journal interleaves ELB writes with the linked FakeEcs's UpdateService calls, so tests assert
 * that traffic moved before the canary was scaled down.
 */
import type { UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ListenerNotFoundException,
  ModifyListenerCommand,
  ModifyRuleCommand,
  OperationNotPermittedException,
  RuleNotFoundException,
  TargetGroupNotFoundException,
  type Action,
  type DescribeListenersCommandInput,
  type DescribeRulesCommandInput,
  type DescribeTargetHealthCommandInput,
  type Listener,
  type ModifyListenerCommandInput,
  type ModifyRuleCommandInput,
  type Rule,
  type TargetGroupStickinessConfig,
  type TargetHealth,
  type TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mockClient } from "aws-sdk-client-mock";
import { FakeAwsService } from "./fake-aws.js";
import { ACCOUNT, CLUSTER, REGION, type FakeEcs } from "./fake-ecs.js";

const ELB = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}`;
export const LOAD_BALANCER = `${ELB}:loadbalancer/app/web/50dc6c495c0c9188`;
export const LISTENER = `${ELB}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`;
export const tgArnOf = (name: string) => `${ELB}:targetgroup/${name}/${Buffer.from(name).toString("hex").padEnd(16, "0").slice(0, 16)}`;

const meta = { httpStatusCode: 400 };
const copy = <T>(value: T): T => structuredClone(value);

/** An unmodelled Query-protocol error, as the SDK builds it from the response's Code. */
const queryError = (name: string, message: string, httpStatusCode = 400) =>
  new ElasticLoadBalancingV2ServiceException({
    name,
    $fault: httpStatusCode >= 500 ? "server" : "client",
    $metadata: { httpStatusCode },
    message,
  });

export const elbThrottling = () => queryError("Throttling", "Rate exceeded");

/** AWS's "1 validation error detected" wording for a field constraint. */
const constraint = (value: unknown, path: string, rule: string) =>
  queryError("ValidationError", `1 validation error detected: Value '${String(value)}' at '${path}' failed to satisfy constraint: ${rule}`);

interface FakeTargetGroup {
  arn: string;
  name: string;
  /** ECS service (in the FakeEcs cluster) whose running tasks are this group's targets. */
  ecsService?: string;
  scripted?: TargetHealth;
}

export interface WeightChange {
  at: number;
  arn: string;
  weights: { arn: string; weight: number }[];
}

export class FakeElb extends FakeAwsService {
  readonly mock = mockClient(ElasticLoadBalancingV2Client);
  readonly client = new ElasticLoadBalancingV2Client({
    region: REGION,
    credentials: { accessKeyId: "AKIAFAKEFAKEFAKEFAKE", secretAccessKey: "fake" },
  });
  /** ELB writes and (when linked) ECS UpdateService calls, in the order they happened. */
  readonly journal: string[] = [];
  readonly weightChanges: WeightChange[] = [];
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly rules = new Map<string, Rule>();
  readonly listener: Listener = {
    ListenerArn: LISTENER,
    LoadBalancerArn: LOAD_BALANCER,
    Port: 443,
    Protocol: "HTTPS",
    DefaultActions: [{ Type: "fixed-response", FixedResponseConfig: { StatusCode: "404", ContentType: "text/plain" } }],
  };
  /** Milliseconds a new target spends in "initial" before its health checks pass (interval × healthy threshold). */
  initialMs = 30_000;
  private readonly registeredAt = new Map<string, number>();
  private readonly taskIps = new Map<string, number>();
  private ruleSeq = 0;

  constructor(private readonly ecs?: FakeEcs) {
    super();
    const on = this.mock.on.bind(this.mock);
    on(DescribeRulesCommand).callsFake((i: DescribeRulesCommandInput) => this.handle("DescribeRules", i, () => this.describeRules(i)));
    on(ModifyRuleCommand).callsFake((i: ModifyRuleCommandInput) => this.handle("ModifyRule", i, () => this.modifyRule(i)));
    on(DescribeListenersCommand).callsFake((i: DescribeListenersCommandInput) =>
      this.handle("DescribeListeners", i, () => this.describeListeners(i)),
    );
    on(ModifyListenerCommand).callsFake((i: ModifyListenerCommandInput) => this.handle("ModifyListener", i, () => this.modifyListener(i)));
    on(DescribeTargetHealthCommand).callsFake((i: DescribeTargetHealthCommandInput) =>
      this.handle("DescribeTargetHealth", i, () => this.describeTargetHealth(i)),
    );
    if (ecs) {
      this.link(ecs);
      ecs.shareCrash(this);
    }
  }

  // --- scripting ---------------------------------------------------------------------------

  /** A target group; with `ecsService`, its targets are that service's running tasks (already registered ones count as healthy). */
  addTargetGroup(name: string, ecsService?: string): string {
    const arn = tgArnOf(name);
    this.targetGroups.set(arn, { arn, name, ...(ecsService ? { ecsService } : {}) });
    for (const t of this.targetsOf(arn)) this.registeredAt.set(t, -Infinity);
    return arn;
  }

  /** A rule on the listener forwarding to these target groups with these weights. */
  addRule(forward: [string, number][]): string {
    const id = (0x9683b2d02a6c + ++this.ruleSeq).toString(16);
    const arn = `${ELB}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/${id}`;
    this.rules.set(arn, {
      RuleArn: arn,
      Priority: String(10 * this.ruleSeq),
      IsDefault: false,
      Conditions: [{ Field: "host-header", Values: ["api.example.com"], HostHeaderConfig: { Values: ["api.example.com"] } }],
      Actions: [this.forward(forward)],
    });
    return arn;
  }

  /** The listener's default action forwards to these target groups with these weights. */
  forwardByDefault(forward: [string, number][]): string {
    this.listener.DefaultActions = [this.forward(forward)];
    return LISTENER;
  }

  /** Every target of the group reports this state (undefined: back to following ECS). */
  scriptHealth(tgArn: string, health: TargetHealth | undefined): void {
    const tg = this.targetGroups.get(tgArn);
    if (!tg) throw new Error(`no target group ${tgArn}`);
    tg.scripted = health;
  }

  /** The weights of a rule's (or the listener's) forward action now. */
  weightsOf(arn: string): { arn: string; weight: number }[] {
    const actions = arn === LISTENER ? this.listener.DefaultActions : this.rules.get(arn)?.Actions;
    return (actions?.find((a) => a.Type === "forward")?.ForwardConfig?.TargetGroups ?? []).map((t) => ({
      arn: t.TargetGroupArn ?? "?",
      weight: t.Weight ?? 1,
    }));
  }

  /** Each weight change of `arn` as "stable/canary", for exact history assertions. */
  history(arn: string, stable: string, canary: string): string[] {
    const of = (c: WeightChange, tg: string) => c.weights.find((w) => w.arn === tg)?.weight ?? "-";
    return this.weightChanges.filter((c) => c.arn === arn).map((c) => `${of(c, stable)}/${of(c, canary)}`);
  }

  restore(): void {
    this.mock.restore();
  }

  // --- plumbing ----------------------------------------------------------------------------

  private forward(forward: [string, number][], stickiness: TargetGroupStickinessConfig = { Enabled: false }): Action {
    const [first] = forward;
    return {
      Type: "forward",
      // ELB reports a lone target group both ways; a weighted pair only in ForwardConfig.
      ...(forward.length === 1 && first ? { TargetGroupArn: first[0] } : {}),
      ForwardConfig: {
        TargetGroups: forward.map(([arn, weight]) => ({ TargetGroupArn: arn, Weight: weight })),
        TargetGroupStickinessConfig: copy(stickiness),
      },
    };
  }

  /** Stickiness on a rule's forward action (ELB keeps what ModifyRule was sent, and drops what it was not). */
  setStickiness(ruleArn: string, stickiness: TargetGroupStickinessConfig): void {
    const forward = this.rules.get(ruleArn)?.Actions?.find((a) => a.Type === "forward");
    if (forward?.ForwardConfig) forward.ForwardConfig.TargetGroupStickinessConfig = copy(stickiness);
  }

  /**
   * The FakeEcs ignores UpdateService's desiredCount; applied here right after the call (same
   * instant), as ECS applies it, so the canary service really scales. Also journals the call.
   */
  private link(ecs: FakeEcs): void {
    ecs.afterCall.set("UpdateService", () => {
      const input = ecs.inputs<UpdateServiceCommandInput>("UpdateService").at(-1);
      const name = (input?.service ?? "").split("/").pop() ?? "";
      this.journal.push(`ecs:UpdateService ${name}${input?.desiredCount === undefined ? "" : ` desired=${input.desiredCount}`}`);
      const service = ecs.services.get(`${CLUSTER}/${name}`);
      if (!service || input?.desiredCount === undefined) return;
      service.desiredCount = input.desiredCount;
      const primary = service.deployments?.[0];
      if (primary)
        Object.assign(primary, {
          desiredCount: input.desiredCount,
          pendingCount: Math.max(0, input.desiredCount - (primary.runningCount ?? 0)),
        });
    });
  }

  protected throttlingError(): Error {
    return elbThrottling();
  }

  protected accessDenied(command: string): Error {
    return queryError(
      "AccessDenied",
      `User: arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci is not authorized to perform: elasticloadbalancing:${command} ` +
        `on resource: ${LISTENER} because no identity-based policy allows the elasticloadbalancing:${command} action`,
      403,
    );
  }

  private async handle<T>(command: string, input: unknown, fn: () => T): Promise<T> {
    this.enter(command, input);
    return fn();
  }

  private describeRules(input: DescribeRulesCommandInput) {
    if (input.ListenerArn && input.ListenerArn !== LISTENER)
      throw new ListenerNotFoundException({ message: `Listener '${input.ListenerArn}' not found`, $metadata: meta });
    const arns = input.RuleArns ?? [...this.rules.keys()];
    const missing = arns.find((a) => !this.rules.has(a));
    if (missing) throw new RuleNotFoundException({ message: "One or more rules not found", $metadata: meta });
    return { Rules: arns.map((a) => copy(this.rules.get(a))) };
  }

  private describeListeners(input: DescribeListenersCommandInput) {
    if ((input.ListenerArns ?? []).some((a) => a !== LISTENER))
      throw new ListenerNotFoundException({ message: "One or more listeners not found", $metadata: meta });
    return { Listeners: [copy(this.listener)] };
  }

  /**
   * The checks ELB makes on forward actions before accepting them; `where` is the request field.
   * Error codes, the 0-999 weight range, the five-group limit and the constraint wording are
   * ELB's; the free-text ValidationError messages for malformed forward configs are paraphrased.
   */
  private validate(actions: Action[], where: string): Action[] {
    actions.forEach((action, i) => {
      if (action.Type !== "forward") return;
      const at = `${where}.${i + 1}.member`;
      const tuples = action.ForwardConfig?.TargetGroups ?? [];
      if (action.TargetGroupArn && tuples.length > 1)
        throw queryError("ValidationError", "You cannot specify a target group ARN and a forward config with more than one target group");
      if (action.TargetGroupArn && tuples.length === 1 && tuples[0]?.TargetGroupArn !== action.TargetGroupArn)
        throw queryError("ValidationError", "The target group ARN and the forward config's target group must be the same");
      if (!action.TargetGroupArn && tuples.length === 0)
        throw queryError("ValidationError", "A target group ARN or a forward config must be specified");
      if (tuples.length > 5)
        throw constraint(tuples.length, `${at}.forwardConfig.targetGroups`, "Member must have length less than or equal to 5");
      tuples.forEach((t, j) => {
        const path = `${at}.forwardConfig.targetGroups.${j + 1}.member.weight`;
        if (t.Weight === undefined && tuples.length > 1)
          throw queryError("ValidationError", "A weight must be specified for each target group");
        if (t.Weight !== undefined && t.Weight > 999) throw constraint(t.Weight, path, "Member must have value less than or equal to 999");
        if (t.Weight !== undefined && t.Weight < 0) throw constraint(t.Weight, path, "Member must have value greater than or equal to 0");
      });
      const arns = [action.TargetGroupArn, ...tuples.map((t) => t.TargetGroupArn)].filter((a): a is string => a !== undefined);
      const unknown = arns.find((a) => !this.targetGroups.has(a));
      if (unknown) throw new TargetGroupNotFoundException({ message: `Target group '${unknown}' not found`, $metadata: meta });
      if (new Set(tuples.map((t) => t.TargetGroupArn)).size !== tuples.length)
        throw queryError("ValidationError", "A target group cannot be specified more than once in a forward config");
      const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
      const duration = sticky?.DurationSeconds;
      if (sticky?.Enabled && duration === undefined)
        throw queryError("ValidationError", "A duration must be specified when target group stickiness is enabled");
      if (duration !== undefined && (duration < 1 || duration > 604800))
        throw constraint(
          duration,
          `${at}.forwardConfig.targetGroupStickinessConfig.durationSeconds`,
          "Member must have value between 1 and 604800",
        );
    });
    // Stored as ELB reports it: a lone target group also as TargetGroupArn, weights filled in.
    return actions.map((a) => {
      if (a.Type !== "forward") return copy(a);
      const tuples = (a.ForwardConfig?.TargetGroups ?? [{ TargetGroupArn: a.TargetGroupArn }]).map((t) => ({
        ...t,
        Weight: t.Weight ?? 1,
      }));
      return this.forward(
        tuples.map((t) => [t.TargetGroupArn ?? "", t.Weight]),
        a.ForwardConfig?.TargetGroupStickinessConfig,
      );
    });
  }

  private record(arn: string, actions: Action[]): void {
    const weights = this.weightsOf(arn);
    this.weightChanges.push({ at: Date.now(), arn, weights });
    const forward = actions.find((a) => a.Type === "forward");
    const names = (forward?.ForwardConfig?.TargetGroups ?? []).map(
      (t) => `${this.targetGroups.get(t.TargetGroupArn ?? "")?.name}=${t.Weight}`,
    );
    this.journal.push(`elb:${arn === LISTENER ? "ModifyListener" : "ModifyRule"} ${names.join(" ")}`);
  }

  private modifyRule(input: ModifyRuleCommandInput) {
    const rule = this.rules.get(input.RuleArn ?? "");
    if (!rule) throw new RuleNotFoundException({ message: "One or more rules not found", $metadata: meta });
    if (!input.Actions && !input.Conditions) throw queryError("ValidationError", "Either conditions or actions must be specified");
    if (input.Conditions && rule.IsDefault)
      throw new OperationNotPermittedException({ message: "You cannot modify the conditions of a default rule", $metadata: meta });
    if (input.Actions) rule.Actions = this.validate(input.Actions, "actions");
    if (input.Conditions) rule.Conditions = copy(input.Conditions);
    this.record(rule.RuleArn ?? "", rule.Actions ?? []);
    return { Rules: [copy(rule)] };
  }

  private modifyListener(input: ModifyListenerCommandInput) {
    if (input.ListenerArn !== LISTENER)
      throw new ListenerNotFoundException({ message: `Listener '${input.ListenerArn}' not found`, $metadata: meta });
    if (input.DefaultActions) this.listener.DefaultActions = this.validate(input.DefaultActions, "defaultActions");
    this.record(LISTENER, this.listener.DefaultActions ?? []);
    return { Listeners: [copy(this.listener)] };
  }

  /** Target ids (awsvpc task IPs) of the group's ECS service: every running task of every deployment. */
  private targetsOf(tgArn: string): string[] {
    const tg = this.targetGroups.get(tgArn);
    const service = tg?.ecsService ? this.ecs?.services.get(`${CLUSTER}/${tg.ecsService}`) : undefined;
    return (service?.deployments ?? []).flatMap((d) => {
      const key = d.id ?? "?";
      if (!this.taskIps.has(key)) this.taskIps.set(key, this.taskIps.size + 1);
      return Array.from({ length: d.runningCount ?? 0 }, (_, i) => `10.0.${this.taskIps.get(key)}.${i + 10}`);
    });
  }

  private describeTargetHealth(input: DescribeTargetHealthCommandInput) {
    const tg = this.targetGroups.get(input.TargetGroupArn ?? "");
    if (!tg) throw new TargetGroupNotFoundException({ message: `Target group '${input.TargetGroupArn}' not found`, $metadata: meta });
    const now = Date.now();
    const descriptions = this.targetsOf(tg.arn).map((id): TargetHealthDescription => {
      if (!this.registeredAt.has(id)) this.registeredAt.set(id, now);
      const checking = now < (this.registeredAt.get(id) ?? now) + this.initialMs;
      const health: TargetHealth =
        tg.scripted ??
        (checking
          ? { State: "initial", Reason: "Elb.InitialHealthChecking", Description: "Initial health checks in progress" }
          : { State: "healthy" });
      return { Target: { Id: id, Port: 8080, AvailabilityZone: `${REGION}a` }, HealthCheckPort: "8080", TargetHealth: copy(health) };
    });
    return { TargetHealthDescriptions: descriptions };
  }
}
