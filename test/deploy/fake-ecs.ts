/**
 * A stateful fake of the ECS API behind aws-sdk-client-mock: services, task definitions with
 * revision numbers, service deployments that progress over (fake) time, one-off tasks that stop
 * with scripted exit codes, and tags. Time is Date.now(), so vi.useFakeTimers() drives it. Errors
 * are the SDK's own exception classes, shaped as ECS sends them. It models what the deploy core
 * relies on, including the two traps in the notes: a circuit-breaker rollback leaves ONE
 * deployment with running == desired (so waitUntilServicesStable succeeds), and a stopped task
 * is "stopped" whatever its exit code.
 *
 * BLUE_GREEN, LINEAR and CANARY deployments walk ECS's lifecycle stages over fake time
 * (RECONCILE_SERVICE → … → BAKE_TIME → CLEAN_UP → SUCCESSFUL), moving traffic weights on the
 * source and target service revisions, and stop at each PAUSE hook's stage with a fresh hookId
 * (every linear/canary step gets a new one) until ContinueServiceDeployment answers it or its
 * timeout applies its action. While paused before a production step the deployment reports
 * lifecycleStage PRODUCTION_TRAFFIC_SHIFT: the SDK's ServiceDeploymentLifecycleStage has no
 * PRE_PRODUCTION_TRAFFIC_SHIFT member.
 */
import {
  AccessDeniedException,
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  ContinueServiceDeploymentCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ECSServiceException,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ResourceNotFoundException,
  RunTaskCommand,
  ServiceDeploymentNotFoundException,
  ServiceNotFoundException,
  StopServiceDeploymentCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  type Container,
  type ContinueServiceDeploymentCommandInput,
  type DeploymentConfiguration,
  type DeploymentLifecycleHookDetail,
  type DeploymentLifecycleHookStage,
  type DescribeServiceDeploymentsCommandInput,
  type DescribeServiceRevisionsCommandInput,
  type DescribeServicesCommandInput,
  type DescribeTaskDefinitionCommandInput,
  type DescribeTasksCommandInput,
  type ListServiceDeploymentsCommandInput,
  type ListTagsForResourceCommandInput,
  type ListTasksCommandInput,
  type RegisterTaskDefinitionCommandInput,
  type RunTaskCommandInput,
  type Service,
  type ServiceDeployment,
  type ServiceDeploymentLifecycleStage,
  type StopServiceDeploymentCommandInput,
  type StopTaskCommandInput,
  type Tag,
  type TagResourceCommandInput,
  type Task,
  type TaskDefinition,
  type UntagResourceCommandInput,
  type UpdateServiceCommandInput,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { FakeAwsService } from "./fake-aws.js";
import { clockTurn } from "../helpers/fake-clock.js";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const CLUSTER = "main";
export const SERVICE = "api";
export const arnOf = (resource: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:${resource}`;
export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/api@${DIGEST}`;

/** How the next service deployment goes. Durations are fake-time milliseconds after UpdateService. */
export type DeploymentScript =
  | { outcome: "healthy"; afterMs?: number }
  /** New tasks fail health checks: the circuit breaker trips, then ECS rolls back. */
  | { outcome: "unhealthy"; failAfterMs?: number; rollbackMs?: number }
  /** Never finishes on its own (capacity never arrives); only a rollback ends it. */
  | { outcome: "stuck" };

/** How the next RunTask task goes. */
export interface TaskScript {
  /** Exit code of the overridden container; "none" = it never started (image pull failure). */
  exitCode?: number | "none";
  /** Milliseconds until it stops; Infinity = runs until StopTask. */
  runMs?: number;
  /** RunTask answers with this failure instead of a task (e.g. "RESOURCE:MEMORY"). */
  startFailure?: string;
}

interface FakeDeployment {
  sd: ServiceDeployment;
  service: Service;
  script: DeploymentScript;
  from?: string;
  to: string;
  startedAt: number;
  rollbackAt?: number;
  /** When a progressive rollback had the listener re-weighted back to the source revision. */
  trafficBackAt?: number;
  /** Blue/green, linear and canary: the stages still to walk. */
  progressive?: { phases: Phase[]; index: number; since: number; entered: boolean };
}

/** One step of a progressive deployment: a lifecycle stage (with its hooks), how long it takes, the traffic it leaves behind. */
interface Phase {
  stage: ServiceDeploymentLifecycleStage;
  hookStage?: DeploymentLifecycleHookStage;
  ms: number;
  production?: number;
  test?: number;
}

/** Seconds ECS takes to re-weight a listener rule, in the fake. */
const SHIFT_MS = 5_000;
const RETENTION_MS = 90 * 24 * 3600_000;
/** How long a STOP_REQUESTED deployment takes to be STOPPED, in the fake. */
const STOP_MS = 30_000;
const PROGRESSIVE = new Set(["BLUE_GREEN", "LINEAR", "CANARY"]);
/** A load balancer set up for ECS-native blue/green, linear and canary. */
export const ALB_WITH_ADVANCED_CONFIG = {
  targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-blue/0123456789abcdef`,
  containerName: "app",
  containerPort: 8080,
  advancedConfiguration: {
    alternateTargetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-green/fedcba9876543210`,
    productionListenerRule: `arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/0123456789abcdef/0123456789abcdef/0123456789abcdef`,
    testListenerRule: `arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/0123456789abcdef/fedcba9876543210/0123456789abcdef`,
    roleArn: `arn:aws:iam::123456789012:role/ecs-infrastructure`,
  },
};

interface FakeTask {
  task: Task;
  script: TaskScript;
  container: string;
}

const meta = { httpStatusCode: 400 };
const copy = <T>(value: T): T => structuredClone(value);
// ECS's API_Tag pattern for keys and values.
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const REGISTER_KEYS = new Set([
  "family",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "containerDefinitions",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "tags",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
  "enableFaultInjection",
]);

export const throttling = () =>
  new ECSServiceException({ name: "ThrottlingException", $fault: "client", $metadata: meta, message: "Rate exceeded" });
const invalid = (message: string) => new InvalidParameterException({ message, $metadata: meta });

export class FakeEcs extends FakeAwsService {
  readonly mock = mockClient(ECSClient);
  readonly client = new ECSClient({ region: REGION, credentials: { accessKeyId: "AKIAFAKEFAKEFAKEFAKE", secretAccessKey: "fake" } });
  readonly services = new Map<string, Service>();
  readonly taskDefinitions = new Map<string, TaskDefinition>();
  readonly deployments = new Map<string, FakeDeployment>();
  readonly tasks = new Map<string, FakeTask>();
  readonly tags = new Map<string, Tag[]>();
  private readonly revisions = new Map<string, { taskDefinition: string; serviceArn: string; createdAt: Date }>();
  private readonly deploymentScripts: DeploymentScript[] = [];
  private readonly taskScripts: TaskScript[] = [];
  private readonly clientTokens = new Map<string, string>();
  /** Runs after a call of the command succeeds: another pipeline acting in between our calls. */
  readonly afterCall = new Map<string, () => void>();
  private seq = 0;

  constructor() {
    super();
    const on = this.mock.on.bind(this.mock);
    on(DescribeServicesCommand).callsFake((i: DescribeServicesCommandInput) =>
      this.handle("DescribeServices", i, () => this.describeServices(i)),
    );
    on(DescribeTaskDefinitionCommand).callsFake((i: DescribeTaskDefinitionCommandInput) =>
      this.handle("DescribeTaskDefinition", i, () => this.describeTaskDefinition(i)),
    );
    on(RegisterTaskDefinitionCommand).callsFake((i: RegisterTaskDefinitionCommandInput) =>
      this.handle("RegisterTaskDefinition", i, () => ({ taskDefinition: copy(this.register(i)) })),
    );
    on(UpdateServiceCommand).callsFake((i: UpdateServiceCommandInput) => this.handle("UpdateService", i, () => this.updateService(i)));
    on(DescribeServiceDeploymentsCommand).callsFake((i: DescribeServiceDeploymentsCommandInput) =>
      this.handle("DescribeServiceDeployments", i, () => this.describeServiceDeployments(i)),
    );
    on(StopServiceDeploymentCommand).callsFake((i: StopServiceDeploymentCommandInput) =>
      this.handle("StopServiceDeployment", i, () => this.stopServiceDeployment(i)),
    );
    on(ContinueServiceDeploymentCommand).callsFake((i: ContinueServiceDeploymentCommandInput) =>
      this.handle("ContinueServiceDeployment", i, () => this.continueServiceDeployment(i)),
    );
    on(ListServiceDeploymentsCommand).callsFake((i: ListServiceDeploymentsCommandInput) =>
      this.handle("ListServiceDeployments", i, () => this.listServiceDeployments(i)),
    );
    on(DescribeServiceRevisionsCommand).callsFake((i: DescribeServiceRevisionsCommandInput) =>
      this.handle("DescribeServiceRevisions", i, () => this.describeServiceRevisions(i)),
    );
    on(RunTaskCommand).callsFake((i: RunTaskCommandInput) => this.handle("RunTask", i, () => this.runTask(i)));
    on(DescribeTasksCommand).callsFake((i: DescribeTasksCommandInput) => this.handle("DescribeTasks", i, () => this.describeTasks(i)));
    on(ListTasksCommand).callsFake((i: ListTasksCommandInput) => this.handle("ListTasks", i, () => this.listTasks(i)));
    on(StopTaskCommand).callsFake((i: StopTaskCommandInput) => this.handle("StopTask", i, () => this.stopTask(i)));
    on(TagResourceCommand).callsFake((i: TagResourceCommandInput) => this.handle("TagResource", i, () => this.tagResource(i)));
    on(UntagResourceCommand).callsFake((i: UntagResourceCommandInput) => this.handle("UntagResource", i, () => this.untagResource(i)));
    on(ListTagsForResourceCommand).callsFake((i: ListTagsForResourceCommandInput) =>
      this.handle("ListTagsForResource", i, () => ({ tags: copy(this.tagsOf(i.resourceArn ?? "")) })),
    );
  }

  // --- scripting ---------------------------------------------------------------------------

  /** A service running `app:1` (plus a log-router sidecar) with one completed deployment behind it. */
  addService(overrides: Partial<Service> = {}, taskDefinition: Partial<TaskDefinition> = {}): Service {
    const td = this.register({
      family: "app",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      cpu: "256",
      memory: "512",
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/app-exec`,
      containerDefinitions: [
        { name: "app", image: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/api@sha256:${"00".repeat(32)}`, essential: true },
        { name: "log-router", image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", essential: false },
      ],
      ...taskDefinition,
    });
    const name = overrides.serviceName ?? SERVICE;
    const service: Service = {
      serviceArn: arnOf(`service/${CLUSTER}/${name}`),
      serviceName: name,
      clusterArn: arnOf(`cluster/${CLUSTER}`),
      status: "ACTIVE",
      desiredCount: 2,
      runningCount: 2,
      pendingCount: 0,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      taskDefinition: td.taskDefinitionArn,
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"], securityGroups: ["sg-1"], assignPublicIp: "DISABLED" } },
      deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100, strategy: "ROLLING" },
      deploymentController: { type: "ECS" },
      deployments: [],
      events: [],
      createdAt: new Date(),
      ...overrides,
    };
    this.services.set(`${CLUSTER}/${name}`, service);
    const first = this.startDeployment(service, td.taskDefinitionArn ?? "", { outcome: "healthy", afterMs: 0 });
    this.complete(first, Date.now());
    return copy(service);
  }

  nextDeployments(...scripts: DeploymentScript[]): void {
    this.deploymentScripts.push(...scripts);
  }

  nextTasks(...scripts: TaskScript[]): void {
    this.taskScripts.push(...scripts);
  }

  service(name = SERVICE): Service {
    const s = this.services.get(`${CLUSTER}/${name}`);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  }

  /** Puts a tag on a resource directly, as another tool or pipeline would. */
  setTag(arn: string, key: string, value: string): void {
    this.tags.set(arn, [...(this.tags.get(arn) ?? []).filter((t) => t.key !== key), { key, value }]);
  }

  restore(): void {
    this.mock.restore();
  }

  // --- plumbing ----------------------------------------------------------------------------

  protected throttlingError(): Error {
    return throttling();
  }

  protected accessDenied(command: string): Error {
    return new AccessDeniedException({
      message:
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci is not authorized to perform: ecs:${command} on resource: ` +
        `${arnOf(`service/${CLUSTER}/${SERVICE}`)} because no identity-based policy allows the ecs:${command} action`,
      $metadata: meta,
    });
  }

  private async handle<T>(command: string, input: unknown, fn: () => T): Promise<T> {
    this.tick();
    this.enter(command, input);
    const out = fn();
    this.afterCall.get(command)?.();
    this.leave(command);
    return out;
  }

  private id(): string {
    return (++this.seq).toString(16).padStart(12, "0");
  }

  private event(service: Service, message: string, at: number): void {
    service.events = [
      { id: this.id(), createdAt: new Date(at), message: `(service ${service.serviceName}) ${message}` },
      ...(service.events ?? []),
    ];
  }

  private findService(cluster: string | undefined, name: string | undefined): Service | undefined {
    if ((cluster ?? "default").split("/").pop() !== CLUSTER)
      throw new ClusterNotFoundException({ message: "Cluster not found.", $metadata: meta });
    return this.services.get(`${CLUSTER}/${(name ?? "").split("/").pop() ?? ""}`);
  }

  private resolveTaskDefinition(ref: string): TaskDefinition | undefined {
    const name = ref.startsWith("arn:") ? (ref.split("/").pop() ?? "") : ref;
    const [family, revision] = name.split(":");
    const candidates = [...this.taskDefinitions.values()].filter((t) => t.family === family);
    return revision === undefined ? candidates.at(-1) : candidates.find((t) => String(t.revision) === revision);
  }

  // --- task definitions --------------------------------------------------------------------

  /** Refuses keys RegisterTaskDefinition does not take, as the "Unexpected key" failure does. */
  private register(input: RegisterTaskDefinitionCommandInput): TaskDefinition {
    const unexpected = Object.keys(input).find((k) => !REGISTER_KEYS.has(k));
    if (unexpected) throw invalid(`Unexpected key '${unexpected}' found in params`);
    if (!input.family || !input.containerDefinitions?.length)
      throw new ClientException({ message: "Family and containerDefinitions are required.", $metadata: meta });
    if (input.tags?.some((t) => /^aws:/i.test(t.key ?? ""))) throw invalid("Tag keys starting with 'aws:' are reserved for AWS use.");
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === input.family).length + 1;
    const { tags, ...rest } = input;
    const td: TaskDefinition = {
      ...copy(rest),
      taskDefinitionArn: arnOf(`task-definition/${input.family}:${revision}`),
      revision,
      status: "ACTIVE",
      compatibilities: ["EC2", "FARGATE"],
      requiresAttributes: [{ name: "com.amazonaws.ecs.capability.docker-remote-api.1.18" }],
      registeredAt: new Date(),
      registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci`,
    };
    this.taskDefinitions.set(td.taskDefinitionArn ?? "", td);
    if (tags?.length) this.tags.set(td.taskDefinitionArn ?? "", copy(tags));
    return td;
  }

  private describeTaskDefinition(input: DescribeTaskDefinitionCommandInput) {
    const td = this.resolveTaskDefinition(input.taskDefinition ?? "");
    if (!td) throw new ClientException({ message: "Unable to describe task definition.", $metadata: meta });
    const tags = input.include?.includes("TAGS") ? { tags: copy(this.tagsOf(td.taskDefinitionArn ?? "")) } : {};
    return { taskDefinition: copy(td), ...tags };
  }

  // --- services and deployments --------------------------------------------------------------

  private describeServices(input: DescribeServicesCommandInput) {
    const names = input.services ?? [];
    const found = names.map((n) => this.findService(input.cluster, n));
    return {
      services: found.filter((s): s is Service => s !== undefined).map(copy),
      failures: names.filter((_, i) => !found[i]).map((n) => ({ arn: arnOf(`service/${CLUSTER}/${n}`), reason: "MISSING" })),
    };
  }

  /**
   * Every UpdateService starts a service deployment, a settings-only one included: the model says
   * "when you update any of these parameters [deployment configuration among them], Amazon ECS
   * starts new tasks with the new configuration" (UpdateService). A settings-only update of the
   * same revision does not take a scripted outcome: it is healthy, with whatever hooks the service
   * then has. forceNewDeployment ("start a new deployment with no service definition changes") takes
   * the next script, as any deploy by someone else would.
   */
  private updateService(input: UpdateServiceCommandInput) {
    const service = this.findService(input.cluster, input.service);
    if (!service) throw new ServiceNotFoundException({ message: "Service not found.", $metadata: meta });
    const td = this.resolveTaskDefinition(input.taskDefinition ?? service.taskDefinition ?? "");
    if (!td?.taskDefinitionArn) throw new ClientException({ message: "TaskDefinition not found.", $metadata: meta });
    if (input.deploymentConfiguration) {
      checkDeploymentConfiguration(service, input.deploymentConfiguration);
      service.deploymentConfiguration = keptByEcs(input.deploymentConfiguration);
    }
    const settingsOnly = input.taskDefinition === undefined && !input.forceNewDeployment;
    const script = settingsOnly ? { outcome: "healthy" as const, afterMs: 30_000 } : this.deploymentScripts.shift();
    this.startDeployment(service, td.taskDefinitionArn, script ?? { outcome: "healthy", afterMs: 60_000 });
    return { service: copy(service) };
  }

  private startDeployment(service: Service, to: string, script: DeploymentScript): FakeDeployment {
    const now = Date.now();
    for (const d of this.deployments.values()) {
      if (d.service === service && (d.sd.status === "IN_PROGRESS" || d.sd.status === "PENDING")) {
        // A request first: STOP_REQUESTED is an ongoing ServiceDeploymentStatus, STOPPED its end.
        Object.assign(d.sd, { status: "STOP_REQUESTED", statusReason: "superseded by a newer deployment", updatedAt: new Date(now) });
      }
    }
    const revision = arnOf(`service-revision/${CLUSTER}/${service.serviceName}/${this.id()}`);
    this.revisions.set(revision, { taskDefinition: to, serviceArn: service.serviceArn ?? "", createdAt: new Date(now) });
    const from = service.deployments?.find((d) => d.status === "PRIMARY")?.taskDefinition;
    const fromRevision = [...this.deployments.values()].reverse().find((d) => d.service === service && d.sd.status === "SUCCESSFUL");
    const sd: ServiceDeployment = {
      serviceDeploymentArn: arnOf(`service-deployment/${CLUSTER}/${service.serviceName}/${this.id()}`),
      serviceArn: service.serviceArn,
      clusterArn: service.clusterArn,
      createdAt: new Date(now),
      startedAt: new Date(now),
      updatedAt: new Date(now),
      sourceServiceRevisions: fromRevision?.sd.targetServiceRevision ? [{ arn: fromRevision.sd.targetServiceRevision.arn }] : [],
      targetServiceRevision: { arn: revision, requestedTaskCount: service.desiredCount },
      status: "IN_PROGRESS",
      lifecycleStage: "SCALE_UP",
      deploymentConfiguration: copy(service.deploymentConfiguration),
      deploymentCircuitBreaker: { status: "MONITORING", failureCount: 0, threshold: breakerThreshold(service) },
    };
    const desired = service.desiredCount ?? 1;
    const serviceConnect = service.deployments?.find((d) => d.status === "PRIMARY")?.serviceConnectConfiguration;
    service.deployments = [
      {
        id: `ecs-svc/${this.id()}`,
        status: "PRIMARY",
        taskDefinition: to,
        desiredCount: desired,
        pendingCount: desired,
        runningCount: 0,
        failedTasks: 0,
        rolloutState: "IN_PROGRESS",
        createdAt: new Date(now),
        ...(serviceConnect ? { serviceConnectConfiguration: serviceConnect } : {}),
      },
      ...(service.deployments ?? []).map((d) => ({ ...d, status: "ACTIVE" })),
    ];
    service.currentServiceDeployment = sd.serviceDeploymentArn;
    // The service's task definition is the one asked for, from the UpdateService on, not once it is reached.
    service.taskDefinition = to;
    this.event(service, `has started a deployment to ${to.split("/").pop() ?? to}.`, now);
    const d: FakeDeployment = { sd, service, script, to, startedAt: now, ...(from ? { from } : {}) };
    const config = service.deploymentConfiguration ?? {};
    // ROLLING walks stages too once it has hooks: PAUSE hooks apply to all four strategies (pause-lifecycle-hooks).
    const staged = PROGRESSIVE.has(config.strategy ?? "ROLLING") || (config.lifecycleHooks ?? []).length > 0;
    if (staged && from) {
      d.progressive = { phases: phasesOf(config, script), index: 0, since: now, entered: false };
      Object.assign(sd, { lifecycleStage: "RECONCILE_SERVICE", lifecycleHookDetails: [] });
      sd.targetServiceRevision = { ...sd.targetServiceRevision, requestedProductionTrafficWeight: 0, requestedTestTrafficWeight: 0 };
      for (const r of sd.sourceServiceRevisions ?? [])
        Object.assign(r, { requestedProductionTrafficWeight: 100, requestedTestTrafficWeight: 100 });
    }
    this.deployments.set(sd.serviceDeploymentArn ?? "", d);
    return d;
  }

  /** Applies every transition that is due by now, in time order. */
  private tick(): void {
    const now = Date.now();
    for (let changed = true; changed;) {
      changed = false;
      for (const d of this.deployments.values()) changed = this.advance(d, now) || changed;
    }
    for (const t of this.tasks.values()) this.advanceTask(t, now);
  }

  private advance(d: FakeDeployment, now: number): boolean {
    const { sd, script } = d;
    if (sd.status === "IN_PROGRESS" && d.progressive && this.advanceProgressive(d, now)) return true;
    if (sd.status === "IN_PROGRESS" && !d.progressive && script.outcome === "healthy" && now >= d.startedAt + (script.afterMs ?? 60_000)) {
      this.complete(d, d.startedAt + (script.afterMs ?? 60_000));
      return true;
    }
    if (sd.status === "IN_PROGRESS" && script.outcome === "unhealthy" && now >= d.startedAt + (script.failAfterMs ?? 120_000)) {
      const at = d.startedAt + (script.failAfterMs ?? 120_000);
      const threshold = sd.deploymentCircuitBreaker?.threshold ?? 3;
      sd.deploymentCircuitBreaker = { status: "TRIGGERED", failureCount: threshold, threshold };
      this.beginRollback(d, at, "Service deployment rolled back because the circuit breaker threshold was exceeded.");
      this.event(d.service, "deployment failed: tasks failed container health checks.", at);
      return true;
    }
    if (sd.status === "STOP_REQUESTED" && now >= (sd.updatedAt?.getTime() ?? now) + STOP_MS) {
      // Stopped where it was: tasks of both revisions keep running, no rollback (ECS leaves the service as it is).
      Object.assign(sd, { status: "STOPPED", stoppedAt: new Date((sd.updatedAt?.getTime() ?? now) + STOP_MS), finishedAt: new Date(now) });
      return true;
    }
    if (sd.status === "ROLLBACK_REQUESTED") {
      this.beginRollback(d, sd.updatedAt?.getTime() ?? now, "Service deployment rolled back because of a StopServiceDeployment request.");
      return true;
    }
    if (
      sd.status === "ROLLBACK_IN_PROGRESS" &&
      d.progressive &&
      d.rollbackAt !== undefined &&
      d.trafficBackAt === undefined &&
      now >= d.rollbackAt + SHIFT_MS
    ) {
      d.trafficBackAt = d.rollbackAt + SHIFT_MS;
      this.shiftTraffic(d, { stage: "CLEAN_UP", ms: 0, production: 0, test: 0 });
      return true;
    }
    const rollbackMs = script.outcome === "unhealthy" ? (script.rollbackMs ?? 60_000) : 60_000;
    if (sd.status === "ROLLBACK_IN_PROGRESS" && d.rollbackAt !== undefined && now >= d.rollbackAt + rollbackMs) {
      this.finishRollback(d, d.rollbackAt + rollbackMs);
      return true;
    }
    if (sd.status === "IN_PROGRESS") {
      // Visible progress while it runs: healthy tasks arrive, unhealthy ones keep failing.
      const primary = d.service.deployments?.[0];
      const desired = primary?.desiredCount ?? 0;
      if (primary && script.outcome === "healthy")
        primary.runningCount = Math.min(desired, Math.floor(((now - d.startedAt) / (script.afterMs || 1)) * desired));
      if (primary && script.outcome === "unhealthy") primary.failedTasks = Math.min(2, Math.floor((now - d.startedAt) / 40_000));
      if (primary) primary.pendingCount = desired - (primary.runningCount ?? 0);
    }
    return false;
  }

  /** One transition of a blue/green, linear or canary deployment, if one is due: a hook timing out, or a stage ending. */
  private advanceProgressive(d: FakeDeployment, now: number): boolean {
    const p = d.progressive;
    const phase = p?.phases[p.index];
    if (!p || !phase) return false;
    if (!p.entered) {
      p.entered = true;
      d.sd.lifecycleStage = phase.stage;
      this.openHooks(d, phase, p.since);
      return true;
    }
    const waiting = (d.sd.lifecycleHookDetails ?? []).filter((h) => h.status === "AWAITING_ACTION");
    const expired = waiting.find((h) => h.expiresAt && now >= h.expiresAt.getTime());
    if (expired) {
      const at = expired.expiresAt?.getTime() ?? now;
      expired.status = "TIMED_OUT";
      if (expired.timeoutAction !== "CONTINUE") {
        this.beginRollback(d, at, `Service deployment rolled back because lifecycle hook ${expired.hookId ?? "?"} timed out.`);
      } else if (waiting.length === 1) p.since = at;
      return true;
    }
    if (waiting.length > 0 || now < p.since + phase.ms) return false;
    const at = p.since + phase.ms;
    this.shiftTraffic(d, phase);
    p.index++;
    p.since = at;
    p.entered = false;
    if (p.index >= p.phases.length) this.complete(d, at);
    return true;
  }

  /** Lambda hooks succeed at once here; each PAUSE hook waits with a new hookId. */
  private openHooks(d: FakeDeployment, phase: Phase, at: number): void {
    if (!phase.hookStage) return;
    for (const hook of d.sd.deploymentConfiguration?.lifecycleHooks ?? []) {
      if (!hook.lifecycleStages?.includes(phase.hookStage)) continue;
      const pause = hook.targetType === "PAUSE";
      const detail: DeploymentLifecycleHookDetail = {
        hookId: `ecs-${pause ? "pause" : "lambda"}-${this.id()}${this.id()}`,
        targetType: pause ? "PAUSE" : "AWS_LAMBDA",
        ...(pause ? {} : { targetArn: hook.hookTargetArn }),
        status: pause ? "AWAITING_ACTION" : "SUCCEEDED",
        expiresAt: new Date(at + (hook.timeoutConfiguration?.timeoutInMinutes ?? 1440) * 60_000),
        timeoutAction: hook.timeoutConfiguration?.action ?? "ROLLBACK",
      };
      d.sd.lifecycleHookDetails = [...(d.sd.lifecycleHookDetails ?? []), detail];
    }
  }

  private shiftTraffic(d: FakeDeployment, phase: Phase): void {
    const target = d.sd.targetServiceRevision ?? {};
    if (phase.production !== undefined) target.requestedProductionTrafficWeight = phase.production;
    if (phase.test !== undefined) target.requestedTestTrafficWeight = phase.test;
    d.sd.targetServiceRevision = target;
    for (const r of d.sd.sourceServiceRevisions ?? [])
      Object.assign(r, {
        requestedProductionTrafficWeight: 100 - (target.requestedProductionTrafficWeight ?? 0),
        requestedTestTrafficWeight: 100 - (target.requestedTestTrafficWeight ?? 0),
      });
    const primary = d.service.deployments?.[0];
    if (primary && d.sd.lifecycleStage === "SCALE_UP") Object.assign(primary, { runningCount: primary.desiredCount, pendingCount: 0 });
  }

  /** As ContinueServiceDeployment checks: the deployment IN_PROGRESS, the hook AWAITING_ACTION. */
  private continueServiceDeployment(input: ContinueServiceDeploymentCommandInput) {
    const d = this.deployments.get(input.serviceDeploymentArn ?? "");
    if (!d) throw new ServiceDeploymentNotFoundException({ message: "Service deployment not found.", $metadata: meta });
    if (d.sd.status !== "IN_PROGRESS")
      throw invalid(`The service deployment is in ${d.sd.status} status. You can only continue a service deployment that is IN_PROGRESS.`);
    const hook = d.sd.lifecycleHookDetails?.find((h) => h.hookId === input.hookId);
    if (!hook) throw invalid(`The lifecycle hook ${input.hookId ?? ""} was not found in the service deployment.`);
    if (hook.status !== "AWAITING_ACTION")
      throw invalid(`The lifecycle hook ${input.hookId ?? ""} is in ${hook.status} status, not AWAITING_ACTION.`);
    const now = Date.now();
    hook.status = "SUCCEEDED";
    if (input.action === "ROLLBACK") {
      this.beginRollback(
        d,
        now,
        `Service deployment rolled back because of a ContinueServiceDeployment ROLLBACK action on hook ${hook.hookId}.`,
      );
    } else if (d.progressive && !d.sd.lifecycleHookDetails?.some((h) => h.status === "AWAITING_ACTION")) {
      d.progressive.since = now;
    }
    return { serviceDeploymentArn: d.sd.serviceDeploymentArn };
  }

  private complete(d: FakeDeployment, at: number): void {
    Object.assign(d.sd, { status: "SUCCESSFUL", lifecycleStage: "CLEAN_UP", finishedAt: new Date(at), updatedAt: new Date(at) });
    if (d.progressive) this.shiftTraffic(d, { stage: "CLEAN_UP", ms: 0, production: 100, test: 100 });
    const desired = d.service.desiredCount ?? 1;
    d.service.deployments = [
      {
        ...d.service.deployments?.[0],
        status: "PRIMARY",
        taskDefinition: d.to,
        runningCount: desired,
        pendingCount: 0,
        rolloutState: "COMPLETED",
      },
    ];
    Object.assign(d.service, { taskDefinition: d.to, runningCount: desired, pendingCount: 0 });
    this.event(d.service, "has reached a steady state.", at);
  }

  /**
   * Back to the source revision: the last deployment that completed successfully (circuit breaker:
   * "rolled back to the last deployment that completed successfully"), which is not necessarily
   * what the service ran when this one started (that one may never have finished).
   */
  private beginRollback(d: FakeDeployment, at: number, reason: string): void {
    const source = d.sd.sourceServiceRevisions?.[0]?.arn;
    d.from = (source ? this.revisions.get(source)?.taskDefinition : undefined) ?? d.from;
    d.service.taskDefinition = d.from;
    Object.assign(d.sd, {
      status: "ROLLBACK_IN_PROGRESS",
      statusReason: reason,
      updatedAt: new Date(at),
      rollback: { reason, startedAt: new Date(at), serviceRevisionArn: source },
    });
    d.rollbackAt = at;
    for (const h of d.sd.lifecycleHookDetails ?? []) if (h.status === "AWAITING_ACTION") h.status = "FAILED";
    // Re-weighting the listener back takes as long as any shift (advance() applies it).
    const desired = d.service.desiredCount ?? 1;
    // ECS rolls back with a fresh PRIMARY deployment of the old revision; the failed one drains.
    d.service.deployments = [
      {
        id: `ecs-svc/${this.id()}`,
        status: "PRIMARY",
        taskDefinition: d.from,
        desiredCount: desired,
        runningCount: 0,
        pendingCount: desired,
        rolloutState: "IN_PROGRESS",
        createdAt: new Date(at),
      },
      {
        ...d.service.deployments?.[0],
        status: "ACTIVE",
        rolloutState: "FAILED",
        rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
      },
    ];
    this.event(d.service, `is rolling back to ${d.from?.split("/").pop() ?? "?"}.`, at);
  }

  private finishRollback(d: FakeDeployment, at: number): void {
    Object.assign(d.sd, { status: "ROLLBACK_SUCCESSFUL", finishedAt: new Date(at), updatedAt: new Date(at) });
    const desired = d.service.desiredCount ?? 1;
    d.service.deployments = [
      { ...d.service.deployments?.[0], status: "PRIMARY", runningCount: desired, pendingCount: 0, rolloutState: "COMPLETED" },
    ];
    Object.assign(d.service, { taskDefinition: d.from, runningCount: desired, pendingCount: 0 });
    this.event(d.service, "has reached a steady state.", at);
  }

  private describeServiceDeployments(input: DescribeServiceDeploymentsCommandInput) {
    const arns = input.serviceDeploymentArns ?? [];
    const kept = (a: string) => {
      const d = this.deployments.get(a);
      return d && this.retained(d) ? d : undefined;
    };
    return {
      serviceDeployments: arns.flatMap((a) => {
        const d = kept(a);
        return d ? [copy(d.sd)] : [];
      }),
      failures: arns.filter((a) => !kept(a)).map((arn) => ({ arn, reason: "MISSING" })),
    };
  }

  private stopServiceDeployment(input: StopServiceDeploymentCommandInput) {
    const d = this.deployments.get(input.serviceDeploymentArn ?? "");
    if (!d) throw new ServiceDeploymentNotFoundException({ message: "Service deployment not found.", $metadata: meta });
    // "Stops an ongoing service deployment"; anything else is a conflict with its current state (ConflictException).
    if (d.sd.status !== "IN_PROGRESS" && d.sd.status !== "PENDING")
      throw new ConflictException({ message: `The service deployment is ${d.sd.status}, not in progress.`, $metadata: meta });
    const reason = "stopped by a StopServiceDeployment request";
    if (input.stopType === "ABORT") Object.assign(d.sd, { status: "STOP_REQUESTED", statusReason: reason, updatedAt: new Date() });
    else Object.assign(d.sd, { status: "ROLLBACK_REQUESTED", updatedAt: new Date() });
    return { serviceDeploymentArn: d.sd.serviceDeploymentArn };
  }

  /** ECS keeps a service's deployment history for 90 days (service-deployment docs); older ones are gone. */
  private retained(d: FakeDeployment): boolean {
    return (
      Date.now() - (d.sd.createdAt?.getTime() ?? 0) <= RETENTION_MS ||
      this.services.get(`${CLUSTER}/${d.service.serviceName}`)?.currentServiceDeployment === d.sd.serviceDeploymentArn
    );
  }

  /** Newest first, in pages: maxResults 1-100, 20 without it, and a nextToken while more remain (ListServiceDeployments). */
  private listServiceDeployments(input: ListServiceDeploymentsCommandInput) {
    const service = this.findService(input.cluster, input.service);
    const max = input.maxResults ?? 20;
    if (max < 1 || max > 100) throw invalid("maxResults must be between 1 and 100.");
    const all = [...this.deployments.values()]
      .filter(
        (d) => d.service === service && this.retained(d) && (!input.status?.length || input.status.includes(d.sd.status ?? "PENDING")),
      )
      .map(({ sd }) => ({
        serviceDeploymentArn: sd.serviceDeploymentArn,
        serviceArn: sd.serviceArn,
        clusterArn: sd.clusterArn,
        createdAt: sd.createdAt,
        startedAt: sd.startedAt,
        finishedAt: sd.finishedAt,
        targetServiceRevisionArn: sd.targetServiceRevision?.arn,
        status: sd.status,
        statusReason: sd.statusReason,
      }))
      .reverse();
    const from = input.nextToken ? Number(Buffer.from(input.nextToken, "base64").toString()) : 0;
    if (!Number.isInteger(from) || from < 0) throw invalid("The nextToken is not valid.");
    const page = all.slice(from, from + max);
    const more = from + max < all.length;
    return { serviceDeployments: copy(page), ...(more ? { nextToken: Buffer.from(String(from + max)).toString("base64") } : {}) };
  }

  private describeServiceRevisions(input: DescribeServiceRevisionsCommandInput) {
    const arns = input.serviceRevisionArns ?? [];
    return {
      serviceRevisions: arns.flatMap((a) => {
        const r = this.revisions.get(a);
        return r
          ? [
              {
                serviceRevisionArn: a,
                serviceArn: r.serviceArn,
                clusterArn: arnOf(`cluster/${CLUSTER}`),
                taskDefinition: r.taskDefinition,
                createdAt: r.createdAt,
              },
            ]
          : [];
      }),
      failures: arns.filter((a) => !this.revisions.has(a)).map((arn) => ({ arn, reason: "MISSING" })),
    };
  }

  // --- one-off tasks ---------------------------------------------------------------------------

  private runTask(input: RunTaskCommandInput) {
    const td = this.resolveTaskDefinition(input.taskDefinition ?? "");
    if (!td) throw new ClientException({ message: "TaskDefinition not found.", $metadata: meta });
    if (input.launchType && input.capacityProviderStrategy?.length)
      throw invalid("Specifying both a launchType and capacityProviderStrategy is not supported.");
    if (td.networkMode === "awsvpc" && !input.networkConfiguration)
      throw invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
    const names = (td.containerDefinitions ?? []).map((c) => c.name);
    const override = input.overrides?.containerOverrides?.find((o) => !names.includes(o.name));
    if (override) throw invalid(`Override for container named ${override.name} is not a container in the TaskDefinition.`);
    const known = input.clientToken ? this.clientTokens.get(input.clientToken) : undefined;
    if (known) return { tasks: [copy(this.tasks.get(known)?.task)], failures: [] };
    const script = this.taskScripts.shift() ?? {};
    if (script.startFailure) return { tasks: [], failures: [{ arn: td.taskDefinitionArn, reason: script.startFailure }] };
    const arn = arnOf(`task/${CLUSTER}/${this.id()}`);
    const container = input.overrides?.containerOverrides?.[0]?.name ?? names[0] ?? "";
    const task: Task = {
      taskArn: arn,
      clusterArn: arnOf(`cluster/${CLUSTER}`),
      taskDefinitionArn: td.taskDefinitionArn,
      lastStatus: "PROVISIONING",
      desiredStatus: "RUNNING",
      createdAt: new Date(),
      startedBy: input.startedBy,
      group: input.group,
      overrides: copy(input.overrides),
      containers: names.map((name): Container => ({ name, taskArn: arn, lastStatus: "PENDING" })),
    };
    this.tasks.set(arn, { task, script, container });
    if (input.clientToken) this.clientTokens.set(input.clientToken, arn);
    return { tasks: [copy(task)], failures: [] };
  }

  private advanceTask(t: FakeTask, now: number): void {
    const { task, script } = t;
    const created = task.createdAt?.getTime() ?? now;
    if (task.lastStatus === "STOPPED") return;
    if (script.exitCode === "none" && now >= created + 20_000) {
      const why = "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref";
      Object.assign(task, {
        lastStatus: "STOPPED",
        desiredStatus: "STOPPED",
        stopCode: "TaskFailedToStart",
        stoppedReason: why,
        stoppedAt: new Date(now),
      });
      for (const c of task.containers ?? []) Object.assign(c, { lastStatus: "STOPPED", reason: c.name === t.container ? why : undefined });
      return;
    }
    if (script.exitCode !== "none" && now >= created + 5_000 && task.lastStatus === "PROVISIONING") {
      Object.assign(task, { lastStatus: "RUNNING", startedAt: new Date(created + 5_000) });
      for (const c of task.containers ?? []) c.lastStatus = "RUNNING";
    }
    const runMs = script.runMs ?? 30_000;
    if (script.exitCode !== "none" && now >= created + runMs) {
      Object.assign(task, {
        lastStatus: "STOPPED",
        desiredStatus: "STOPPED",
        stopCode: "EssentialContainerExited",
        stoppedReason: "Essential container in task exited",
        stoppedAt: new Date(created + runMs),
      });
      // The sidecar is killed when the essential container exits: its 137 must not count.
      for (const c of task.containers ?? [])
        Object.assign(c, { lastStatus: "STOPPED", exitCode: c.name === t.container ? (script.exitCode ?? 0) : 137 });
    }
  }

  /**
   * ListTasks as the model says: desiredStatus defaults to RUNNING, a startedBy filter "must be the
   * only filter", no group filter at all, and stopped tasks stay listed for about an hour.
   */
  private listTasks(input: ListTasksCommandInput) {
    if (input.startedBy && (input.family || input.serviceName || input.desiredStatus || input.launchType))
      throw invalid("When you specify startedBy as the filter, it must be the only filter that you use.");
    const desired = input.desiredStatus ?? "RUNNING";
    const family = (arn: string | undefined) => (arn ?? "").split("/").pop()?.split(":")[0];
    const taskArns = [...this.tasks.values()]
      .map((t) => t.task)
      .filter((t) => (t.desiredStatus ?? "RUNNING") === desired)
      .filter((t) => t.desiredStatus !== "STOPPED" || Date.now() - (t.stoppedAt?.getTime() ?? 0) <= 3600_000)
      .filter((t) => !input.family || family(t.taskDefinitionArn) === input.family)
      .filter((t) => !input.startedBy || t.startedBy === input.startedBy)
      .map((t) => t.taskArn ?? "");
    return { taskArns };
  }

  private describeTasks(input: DescribeTasksCommandInput) {
    const arns = input.tasks ?? [];
    return {
      tasks: arns.flatMap((a) => {
        const t = this.tasks.get(a);
        return t ? [copy(t.task)] : [];
      }),
      failures: arns.filter((a) => !this.tasks.has(a)).map((arn) => ({ arn, reason: "MISSING" })),
    };
  }

  private stopTask(input: StopTaskCommandInput) {
    const t = this.tasks.get(input.task ?? "");
    if (!t) throw invalid("The referenced task was not found.");
    if (t.task.lastStatus !== "STOPPED") {
      Object.assign(t.task, {
        lastStatus: "STOPPED",
        desiredStatus: "STOPPED",
        stopCode: "UserInitiated",
        stoppedReason: input.reason ?? "Task stopped by user",
        stoppedAt: new Date(),
      });
      for (const c of t.task.containers ?? [])
        Object.assign(c, { lastStatus: "STOPPED", exitCode: c.lastStatus === "RUNNING" ? 137 : undefined });
    }
    return { task: copy(t.task) };
  }

  // --- tags ----------------------------------------------------------------------------------

  private tagsOf(arn: string): Tag[] {
    const known = [...this.services.values()].some((s) => s.serviceArn === arn) || this.taskDefinitions.has(arn) || this.tasks.has(arn);
    if (!known) throw new ResourceNotFoundException({ message: "The specified resource could not be found.", $metadata: meta });
    return this.tags.get(arn) ?? [];
  }

  private tagResource(input: TagResourceCommandInput) {
    const arn = input.resourceArn ?? "";
    if (/:service\/[^/]+$/.test(arn)) throw invalid("Long arn format must be used for tagging operations");
    const current = this.tagsOf(arn);
    for (const { key = "", value = "" } of input.tags ?? []) {
      if (!key || key.length > 128 || value.length > 256 || !TAG_TEXT.test(key) || !TAG_TEXT.test(value)) {
        throw invalid(`Tag ${key} has an invalid key or value: only letters, numbers, spaces and _ . : / = + - @ are allowed.`);
      }
    }
    const keys = new Set((input.tags ?? []).map((t) => t.key));
    const next = [...current.filter((t) => !keys.has(t.key)), ...copy(input.tags ?? [])];
    if (next.length > 50) throw invalid("A resource can have at most 50 tags.");
    this.tags.set(arn, next);
    return {};
  }

  private untagResource(input: UntagResourceCommandInput) {
    const arn = input.resourceArn ?? "";
    this.tags.set(
      arn,
      this.tagsOf(arn).filter((t) => !(input.tagKeys ?? []).includes(t.key ?? "")),
    );
    return {};
  }
}

/**
 * ECS's stage list for the strategy: every linear/canary step gets its own PRE_PRODUCTION_TRAFFIC_SHIFT.
 * ROLLING has no test traffic and no listener re-weighting: its tasks are replaced at SCALE_UP and
 * production traffic follows them. Which stages real ECS walks for ROLLING is only documented as
 * "pause hooks work with all strategies"; these are the ServiceDeploymentLifecycleStage members
 * that make sense without a second target group.
 */
function phasesOf(config: DeploymentConfiguration, script: DeploymentScript): Phase[] {
  const scaleUpMs = script.outcome === "healthy" ? (script.afterMs ?? 60_000) : Infinity; // unhealthy: the circuit breaker ends it
  if ((config.strategy ?? "ROLLING") === "ROLLING") {
    return [
      { stage: "PRE_SCALE_UP", hookStage: "PRE_SCALE_UP", ms: 0 },
      { stage: "SCALE_UP", ms: scaleUpMs, production: 100 },
      { stage: "POST_SCALE_UP", hookStage: "POST_SCALE_UP", ms: 0 },
      { stage: "POST_PRODUCTION_TRAFFIC_SHIFT", hookStage: "POST_PRODUCTION_TRAFFIC_SHIFT", ms: 0 },
      { stage: "CLEAN_UP", ms: 0 },
    ];
  }
  const weights =
    config.strategy === "LINEAR"
      ? linearWeights(config.linearConfiguration?.stepPercent ?? 10)
      : config.strategy === "CANARY"
        ? [config.canaryConfiguration?.canaryPercent ?? 5, 100]
        : [100];
  const stepBakeMs =
    (config.strategy === "LINEAR"
      ? (config.linearConfiguration?.stepBakeTimeInMinutes ?? 6)
      : (config.canaryConfiguration?.canaryBakeTimeInMinutes ?? 10)) * 60_000;
  const steps = weights.flatMap((w, i): Phase[] => [
    { stage: "PRODUCTION_TRAFFIC_SHIFT", hookStage: "PRE_PRODUCTION_TRAFFIC_SHIFT", ms: 0 },
    { stage: "PRODUCTION_TRAFFIC_SHIFT", hookStage: "PRODUCTION_TRAFFIC_SHIFT", ms: SHIFT_MS, production: w },
    ...(i < weights.length - 1 ? [{ stage: "PRODUCTION_TRAFFIC_SHIFT" as const, ms: stepBakeMs }] : []),
  ]);
  return [
    { stage: "RECONCILE_SERVICE", hookStage: "RECONCILE_SERVICE", ms: 0 },
    { stage: "PRE_SCALE_UP", hookStage: "PRE_SCALE_UP", ms: 0 },
    { stage: "SCALE_UP", ms: scaleUpMs },
    { stage: "POST_SCALE_UP", hookStage: "POST_SCALE_UP", ms: 0 },
    { stage: "TEST_TRAFFIC_SHIFT", hookStage: "TEST_TRAFFIC_SHIFT", ms: SHIFT_MS, test: 100 },
    { stage: "POST_TEST_TRAFFIC_SHIFT", hookStage: "POST_TEST_TRAFFIC_SHIFT", ms: 0 },
    ...steps,
    { stage: "POST_PRODUCTION_TRAFFIC_SHIFT", hookStage: "POST_PRODUCTION_TRAFFIC_SHIFT", ms: 0 },
    { stage: "BAKE_TIME", ms: (config.bakeTimeInMinutes ?? 0) * 60_000 },
    { stage: "CLEAN_UP", ms: SHIFT_MS },
  ];
}

function linearWeights(step: number): number[] {
  const weights: number[] = [];
  for (let w = step; w < 100 - 1e-9; w = Math.round((w + step) * 10) / 10) weights.push(Math.round(w * 10) / 10);
  return [...weights, 100];
}

/**
 * ThresholdConfiguration: BOUNDED_PERCENT (the default, value 50) is value% of the latest desired
 * count clamped to 3..200, UNBOUNDED_PERCENT the same without the clamp, COUNT the value itself.
 */
function breakerThreshold(service: Service): number {
  const t = service.deploymentConfiguration?.deploymentCircuitBreaker?.thresholdConfiguration;
  const value = t?.value ?? 50;
  const desired = service.desiredCount ?? 1;
  if (t?.type === "COUNT") return value;
  const n = Math.ceil((value / 100) * desired);
  return t?.type === "UNBOUNDED_PERCENT" ? n : Math.min(200, Math.max(3, n));
}

const isTenth = (n: number) => Math.abs(n * 10 - Math.round(n * 10)) < 1e-9;

/** What ECS stores: hookDetails "is not used for PAUSE hooks" (ecs.json DeploymentLifecycleHook), so it is not kept on them. */
function keptByEcs(c: DeploymentConfiguration): DeploymentConfiguration {
  const hooks = c.lifecycleHooks?.map((h) => {
    if (h.targetType !== "PAUSE") return copy(h);
    const { hookDetails: _unused, ...kept } = h;
    return copy(kept);
  });
  return { ...copy(c), ...(hooks ? { lifecycleHooks: hooks } : {}) };
}

/** What UpdateService refuses in a deploymentConfiguration, as ECS refuses it (InvalidParameterException). */
function checkDeploymentConfiguration(service: Service, c: DeploymentConfiguration): void {
  const strategy = c.strategy ?? "ROLLING";
  if (strategy === "BLUE_GREEN" && c.bakeTimeInMinutes === undefined)
    throw invalid("bakeTimeInMinutes is required when the deployment strategy is BLUE_GREEN.");
  if (c.bakeTimeInMinutes !== undefined && (c.bakeTimeInMinutes < 0 || c.bakeTimeInMinutes > 1440))
    throw invalid("bakeTimeInMinutes must be between 0 and 1440.");
  if (PROGRESSIVE.has(strategy)) {
    if ((service.loadBalancers ?? []).some((lb) => !lb.advancedConfiguration))
      throw invalid(`The ${strategy} deployment strategy requires advancedConfiguration for each load balancer.`);
    const serviceConnect = service.deployments?.some((d) => d.serviceConnectConfiguration?.enabled);
    if (strategy !== "BLUE_GREEN" && (service.loadBalancers ?? []).length === 0 && !serviceConnect)
      throw invalid(`The ${strategy} deployment strategy requires a load balancer or Service Connect.`);
  }
  const canary = c.canaryConfiguration;
  if (canary?.canaryPercent !== undefined && (canary.canaryPercent < 0.1 || canary.canaryPercent > 100 || !isTenth(canary.canaryPercent)))
    throw invalid("canaryPercent must be a multiple of 0.1 between 0.1 and 100.0.");
  const linear = c.linearConfiguration;
  if (linear?.stepPercent !== undefined && (linear.stepPercent < 3 || linear.stepPercent > 100 || !isTenth(linear.stepPercent)))
    throw invalid("stepPercent must be a multiple of 0.1 between 3.0 and 100.0.");
  for (const bake of [canary?.canaryBakeTimeInMinutes, linear?.stepBakeTimeInMinutes])
    if (bake !== undefined && (bake < 0 || bake > 1440)) throw invalid("The bake time must be between 0 and 1440 minutes.");
  const hooks = c.lifecycleHooks ?? [];
  for (const h of hooks) {
    const pause = h.targetType === "PAUSE";
    if (!h.lifecycleStages?.length) throw invalid("lifecycleStages must be specified for a deployment lifecycle hook.");
    if (pause && h.lifecycleStages.some((st) => st === "TEST_TRAFFIC_SHIFT" || st === "PRODUCTION_TRAFFIC_SHIFT"))
      throw invalid("PAUSE hooks cannot be configured at the TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT lifecycle stages.");
    if (!pause && !h.hookTargetArn) throw invalid("hookTargetArn must be specified for an AWS_LAMBDA lifecycle hook.");
    const minutes = h.timeoutConfiguration?.timeoutInMinutes;
    if (minutes !== undefined && (minutes < 1 || minutes > 20160)) throw invalid("timeoutInMinutes must be between 1 and 20160.");
  }
  if (hooks.filter((h) => h.targetType === "PAUSE").length > 10) throw invalid("A service can have at most 10 PAUSE lifecycle hooks.");
}

let fetchesInFlight = 0;

/**
 * Counts fetches in flight (until their body is read), so onFakeTime lets a real socket answer
 * instead of racing fake time past the request's timeout. Returns the restore function.
 */
export function trackFetches(): () => void {
  const real = globalThis.fetch;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    fetchesInFlight++;
    try {
      const res = await real(input, init);
      const body = [101, 204, 205, 304].includes(res.status) ? null : await res.arrayBuffer();
      return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
    } finally {
      fetchesInFlight--;
    }
  };
  return () => {
    globalThis.fetch = real;
  };
}

/** Real milliseconds onFakeTime waits for a tracked fetch before it moves fake time on anyway (a server that hangs by design). */
const REAL_IO_PATIENCE_MS = 2000;

/** Settles a promise on fake time: advances the clock in steps until it resolves or rejects. */
export async function onFakeTime<T>(promise: Promise<T>, stepMs = 1000, limitMs = 12 * 3600_000): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  tracked.catch(() => undefined); // observed below; keeps Node from reporting it early
  let waitingSince: number | undefined;
  for (let waited = 0; !settled && waited < limitMs;) {
    if (fetchesInFlight > 0) {
      waitingSince ??= performance.now();
      if (performance.now() - waitingSince < REAL_IO_PATIENCE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
    }
    waitingSince = undefined;
    waited += await clockTurn(stepMs);
  }
  return tracked;
}
