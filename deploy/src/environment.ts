/**
 * One deploy target from shipshape.yaml's environments:, with the credentials and run context the
 * root object's `with*` calls set. Every verb here is a side effect or a live read, so none is cached.
 */
import { argument, dag, func, object, type Directory, type File, type Secret } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "./config/schema.js";
import type { DeployReport } from "./deploy/deploy.js";
import { abortDeployment, deployImage, promoteDeployment, rollbackService, serviceStatus } from "./gates/deploy.js";
import { recordedRun } from "./gates/deploy-run.js";
import { readTrail, deliveryReport } from "./gates/delivery.js";
import { secretText } from "./gates/secret-text.js";
import type { EventKind } from "./notify/event.js";
import { monitorVerb, rescanVerb } from "./monitor/verbs.js";
import { loadConfig } from "./project/load.js";
import { DeliveryReport } from "./report/delivery.js";
import type { HealthReport } from "./report/health-report.js";
import { deploymentOf, type Deployment } from "./report/deployment.js";
import { make } from "./report/fields.js";
import { registryCredsFor } from "./gates/registry.js";
import { awsOf, outletsOf, runContextOf, type DeploySettings } from "./deploy-settings.js";

/** How each kind of run ends when it did its job ("paused" waits at a gate for promote or abort by design). */
const EXPECTED: Record<EventKind, DeployReport["result"][]> = {
  deploy: ["succeeded", "paused"],
  promote: ["succeeded", "paused"],
  abort: ["rolled back"],
  rollback: ["succeeded"],
};

// Built from its fields (src/report/fields.ts), never through a constructor.
/** A deploy target: deploy, promote, abort, roll back, and read its status and delivery metrics. */
@object()
export class Environment implements DeploySettings {
  /** Environment name from shipshape.yaml (environments:). */
  @func() name!: string;
  /** The service's source directory (for shipshape.yaml). */
  source!: Directory;
  configPath!: string;
  // Deploy settings copied from the root object's with* calls (see src/settings.ts; plain fields on purpose).
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
  awsRoleArn?: string;
  awsWebIdentityToken?: Secret;
  awsIdTokenRequestUrl?: Secret;
  awsIdTokenRequestToken?: Secret;
  registryAddress?: string;
  registryUsername?: string;
  registryPassword?: Secret;
  registryPlainHttp?: boolean;
  cosignPublicKey?: Secret;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  insecureIgnoreTlog?: boolean;
  auditDatabaseUrl?: Secret;
  auditTrail?: File;
  slackWebhook?: Secret;
  slackFailuresWebhook?: Secret;
  webhookUrl?: Secret;
  webhookSecret?: Secret;
  teamsWebhook?: Secret;
  pagerdutyRoutingKey?: Secret;
  smtpPassword?: Secret;
  actor?: string;
  runUrl?: string;
  commitSha?: string;
  branch?: string;
  defaultBranch?: string;
  runVersion?: string;
  repoUrl?: string;
  approver?: string;

  /**
   * Deploy a signed image by digest; succeeds only when the new revision serves its checks, else rolls back.
   * @param image Image by digest (repo@sha256:...), e.g. what release returned.
   * @param approve Approval for environments that require one (the GitHub wrapper sets it from a protected environment).
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment (and its audit records) either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for the audit record's commit.
   * @param freezeOverride Deploy inside a freeze window anyway, for this reason (kept in the audit record and the notification).
   */
  @func({ cache: "never" })
  async deploy(
    image: string,
    approve: boolean = false,
    failOnError: boolean = true,
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir?: Directory,
    freezeOverride: string = "",
  ): Promise<Deployment> {
    const verify = {
      publicKey: this.cosignPublicKey,
      identity: this.certificateIdentity ?? "",
      issuer: this.certificateOidcIssuer ?? "",
      insecureIgnoreTlog: this.insecureIgnoreTlog ?? false,
      creds: registryCredsFor(this, image),
    };
    return this.recorded("deploy", image, { approved: approve, failOnError, gitDir }, (config) =>
      deployImage(config, this.name, image, { approve, aws: awsOf(this), verify, freezeOverride, actor: this.actor ?? "" }),
    );
  }

  /**
   * Roll back to the last revision that passed Shipshape's checks (or --to), and wait until it serves.
   * @param to Revision number or task definition ARN to return to; empty for the last one that passed.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for the audit record's commit.
   */
  @func({ cache: "never" })
  async rollback(
    to: string = "",
    failOnError: boolean = true,
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir?: Directory,
  ): Promise<Deployment> {
    return this.recorded("rollback", "", { approved: false, failOnError, gitDir }, (config) =>
      rollbackService(config, this.name, to, awsOf(this)),
    );
  }

  /**
   * Continue a deployment paused at a Shipshape gate (manual promotion) and watch it to the next gate or the end.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for the audit record's commit.
   */
  @func({ cache: "never" })
  async promote(
    failOnError: boolean = true,
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir?: Directory,
  ): Promise<Deployment> {
    return this.recorded("promote", "", { approved: false, failOnError, gitDir }, (config) =>
      promoteDeployment(config, this.name, awsOf(this)),
    );
  }

  /**
   * Roll back a paused or in-progress deployment and wait until the previous revision serves.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for the audit record's commit.
   */
  @func({ cache: "never" })
  async abort(
    failOnError: boolean = true,
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir?: Directory,
  ): Promise<Deployment> {
    return this.recorded("abort", "", { approved: false, failOnError, gitDir }, (config) =>
      abortDeployment(config, this.name, awsOf(this)),
    );
  }

  /** What runs here now: revision, task counts and rollout state. */
  @func({ cache: "never" })
  async status(): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    return serviceStatus(config, this.name, awsOf(this));
  }

  /**
   * Delivery metrics (DORA) for this environment from the audit trail (withAuditTrail).
   * @param period Bucket size: day, week or month.
   * @param from Start of the window (ISO date or time, inclusive); empty for the last 12 periods.
   * @param to End of the window (exclusive); empty for now.
   */
  @func({ cache: "never" })
  async metrics(period: string = "week", from: string = "", to: string = ""): Promise<DeliveryReport> {
    return deliveryMetrics(this, this.name, { period, from, to });
  }

  /**
   * Smoke checks and one analysis now; opens, comments on or closes this environment's GitHub incident, and notifies.
   * @param githubToken Token with issues: write (GITHUB_TOKEN in Actions).
   * @param repository owner/name whose issues hold the incident, as in GITHUB_REPOSITORY.
   */
  // cache never: it reads live state and writes issues and notifications; meant for a schedule (every 15 minutes).
  @func({ cache: "never" })
  async monitor(githubToken: Secret, repository: string): Promise<HealthReport> {
    return monitorVerb(this, githubToken, repository);
  }

  /**
   * Scan the digests running here with today's vulnerability DB; a new blocking finding opens or joins its incident.
   * @param githubToken Token with issues: write (GITHUB_TOKEN in Actions).
   * @param repository owner/name whose issues hold the incident, as in GITHUB_REPOSITORY.
   */
  // cache never: it reads what ECS runs now and writes issues; the Trivy DB step itself is refreshed once a day.
  @func({ cache: "never" })
  async rescan(githubToken: Secret, repository: string): Promise<HealthReport> {
    return rescanVerb(this, githubToken, repository);
  }

  /** A run with its audit records and notifications; fails the call unless it ended as this kind of run should. */
  private async recorded(
    kind: EventKind,
    image: string,
    opts: { approved: boolean; failOnError: boolean; gitDir?: Directory },
    work: (config: ShipshapeConfig) => Promise<DeployReport>,
  ): Promise<Deployment> {
    const { config } = await loadConfig(this.source, this.configPath);
    const env = config.environments[this.name];
    const strategy = env?.steppedCanary ? ("stepped-canary" as const) : (env?.strategy ?? "rolling");
    const gitDir = opts.gitDir ?? dag.directory();
    const context = runContextOf(this, opts.approved);
    const run = { kind, environment: this.name, image, strategy, context, outlets: outletsOf(this), gitDir };
    const done = await recordedRun(config, run, () => work(config));
    const deployment = deploymentOf(done.report, done);
    if (opts.failOnError && !EXPECTED[kind].includes(done.report.result)) {
      if (done.problem) throw new Error(`${done.problem.cause}\nhint: ${done.problem.hint}`);
      const verb = kind === "deploy" ? "to" : "of";
      throw new Error(`${kind} ${verb} ${this.name} ${done.report.result}: ${done.report.reason}\n${deployment.timeline.join("\n")}`);
    }
    return deployment;
  }
}

/** The DORA report for one environment ("" for all) from the configured audit trail. */
export async function deliveryMetrics(
  s: DeploySettings & { source: Directory; configPath: string },
  environment: string,
  window: { period: string; from: string; to: string },
): Promise<DeliveryReport> {
  const { config } = await loadConfig(s.source, s.configPath);
  const trail = { databaseUrl: await secretText(s.auditDatabaseUrl), jsonl: s.auditTrail ? await s.auditTrail.contents() : undefined };
  const { records, pipelineRuns } = await readTrail(config, trail, environment);
  const report = deliveryReport(records, { environment, ...window }, pipelineRuns);
  const files = Object.entries(report.files).reduce((dir, [name, content]) => dir.withNewFile(name, content), dag.directory());
  return make(DeliveryReport, { markdown: report.markdown, text: report.text, files });
}
