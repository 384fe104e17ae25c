/**
 * One deploy target from shipshape.yaml's environments:, with the credentials and run context the
 * root object's `with*` calls set. Every verb here is a side effect or a live read, so none is cached.
 * Each verb loads what it does from deploy/lib/calls/ when called (src/calls.ts).
 */
import { argument, func, object, type Directory, type File, type Secret } from "@dagger.io/dagger";
import { calls } from "./calls.js";
import type { DeploySettings } from "./deploy-settings.js";
import type { DeliveryReport } from "./report/delivery.js";
import type { Deployment } from "./report/deployment.js";
import type { HealthReport } from "./report/health-report.js";

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
    return (await calls("environment")).deploy(this, image, approve, failOnError, gitDir, freezeOverride);
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
    return (await calls("environment")).rollback(this, to, failOnError, gitDir);
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
    return (await calls("environment")).promote(this, failOnError, gitDir);
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
    return (await calls("environment")).abort(this, failOnError, gitDir);
  }

  /** What runs here now: revision, task counts and rollout state. */
  @func({ cache: "never" })
  async status(): Promise<string> {
    return (await calls("environment")).status(this);
  }

  /**
   * Delivery metrics (DORA) for this environment from the audit trail (withAuditTrail).
   * @param period Bucket size: day, week or month.
   * @param from Start of the window (ISO date or time, inclusive); empty for the last 12 periods.
   * @param to End of the window (exclusive); empty for now.
   */
  @func({ cache: "never" })
  async metrics(period: string = "week", from: string = "", to: string = ""): Promise<DeliveryReport> {
    return (await calls("metrics")).metrics(this, this.name, { period, from, to });
  }

  /**
   * Smoke checks and one analysis now; opens, comments on or closes this environment's GitHub incident, and notifies.
   * @param githubToken Token with issues: write (GITHUB_TOKEN in Actions).
   * @param repository owner/name whose issues hold the incident, as in GITHUB_REPOSITORY.
   */
  // cache never: it reads live state and writes issues and notifications; meant for a schedule (every 15 minutes).
  @func({ cache: "never" })
  async monitor(githubToken: Secret, repository: string): Promise<HealthReport> {
    return (await calls("environment")).monitor(this, githubToken, repository);
  }

  /**
   * Scan the digests running here with today's vulnerability DB; a new blocking finding opens or joins its incident.
   * @param githubToken Token with issues: write (GITHUB_TOKEN in Actions).
   * @param repository owner/name whose issues hold the incident, as in GITHUB_REPOSITORY.
   */
  // cache never: it reads what ECS runs now and writes issues; the Trivy DB step itself is refreshed once a day.
  @func({ cache: "never" })
  async rescan(githubToken: Secret, repository: string): Promise<HealthReport> {
    return (await calls("environment")).rescan(this, githubToken, repository);
  }
}
