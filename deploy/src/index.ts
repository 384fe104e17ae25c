/**
 * Shipshape's deploy module: an image digest to AWS ECS, with smoke checks, metric analysis,
 * automatic rollback, an audit trail, notifications and delivery metrics.
 *
 * A module of its own (deploy/ in the Shipshape repository) so that the CI module's gate calls
 * never load the AWS SDK, pg or the deploy code: the TypeScript runtime imports and type-checks
 * every file under a module's src/ on every call. Credentials and run context are chained state
 * set once with `with*` (src/settings.ts), as on the CI module; `environment(name)` returns the
 * Environment to deploy, roll back, promote, abort, watch and measure. Settings come from the same
 * shipshape.yaml at the repository root.
 */
import { argument, func, object, type Directory, type File, type Secret } from "@dagger.io/dagger";
import { copyDeploySettings, type DeploySettings } from "./deploy-settings.js";
import { auditSettings, awsSettings, registrySettings, runSettings, verifierSettings } from "./settings.js";
import { calls } from "./calls.js";
import { Environment } from "./environment.js";
import type { DeliveryReport } from "./report/delivery.js";
import { make } from "./report/fields.js";

// Cache policy (README "Function caching"): `with*` and `environment` only copy state, so they keep
// the default; `metrics` reads the live audit trail, so "never". The Environment's verbs say their own.

/** Deploys to AWS ECS that cannot leave production worse than they found it, with an audit trail and metrics. */
@object()
export class ShipshapeDeploy implements DeploySettings {
  /** The service's source directory (shipshape.yaml, task definition files, .git for the commit). */
  @func() source: Directory;
  /** Path of the Shipshape config file, relative to the source. */
  @func() configPath: string;
  // Chained settings (src/settings.ts): plain fields, so they travel with the object but are not API fields.
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

  constructor(
    /** The service's source directory (default: the repository root, without node_modules and .git). */
    @argument({ defaultPath: "/", ignore: ["**/node_modules", "**/.turbo", ".shipshape", ".git"] }) source: Directory,
    /** Path of the Shipshape config file, relative to the source. */
    configPath: string = "shipshape.yaml",
  ) {
    this.source = source;
    this.configPath = configPath;
  }

  /**
   * AWS credentials for ECS, ELB, CloudWatch, SNS and ECR: static keys, or a role assumed with GitHub's OIDC token (replaces an earlier withAws).
   * @param accessKeyId Access key id (static keys).
   * @param secretAccessKey Secret access key (static keys).
   * @param sessionToken Session token, for temporary keys.
   * @param roleArn Role to assume with the web identity token (GitHub OIDC).
   * @param webIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for the role's session.
   * @param idTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long deploy fetch fresh OIDC tokens.
   * @param idTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with idTokenRequestUrl.
   */
  @func()
  withAws(
    accessKeyId?: Secret,
    secretAccessKey?: Secret,
    sessionToken?: Secret,
    roleArn: string = "",
    webIdentityToken?: Secret,
    idTokenRequestUrl?: Secret,
    idTokenRequestToken?: Secret,
  ): ShipshapeDeploy {
    return Object.assign(
      this,
      awsSettings(accessKeyId, secretAccessKey, sessionToken, roleArn, webIdentityToken, idTokenRequestUrl, idTokenRequestToken),
    );
  }

  /**
   * A login for one registry that is not ECR (only ever sent to that registry), or plain HTTP to a local one.
   * @param address Registry host (and namespace), e.g. ghcr.io/acme.
   * @param username Username (empty for a registry open to this engine).
   * @param password Password or token.
   * @param plainHttp Talk plain HTTP to it (a local test registry only).
   */
  @func()
  withRegistry(address: string, username: string = "", password?: Secret, plainHttp: boolean = false): ShipshapeDeploy {
    return Object.assign(this, registrySettings(address, username, password, plainHttp));
  }

  /**
   * Who an image must be signed by, for verify and deploy: a cosign public key, or a keyless identity.
   * @param publicKey cosign public key (contents of cosign.pub).
   * @param certificateIdentity Keyless: the signer's identity, e.g. https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main.
   * @param certificateOidcIssuer Keyless: the identity's issuer, e.g. https://token.actions.githubusercontent.com.
   * @param insecureIgnoreTlog Accept signatures without a transparency-log entry (key-based signing on private infrastructure).
   */
  @func()
  withVerifier(
    publicKey?: Secret,
    certificateIdentity: string = "",
    certificateOidcIssuer: string = "",
    insecureIgnoreTlog: boolean = false,
  ): ShipshapeDeploy {
    return Object.assign(this, verifierSettings(publicKey, certificateIdentity, certificateOidcIssuer, insecureIgnoreTlog));
  }

  /**
   * Where deploys are recorded, and metrics read from (the CI module records ci runs there too): Postgres, or a JSON Lines trail.
   * @param databaseUrl Postgres URL (table deployment_audit); without it records come back as JSON Lines.
   * @param trail An earlier JSON Lines trail to continue (e.g. the previous run's artifact).
   */
  @func()
  withAuditTrail(databaseUrl?: Secret, trail?: File): ShipshapeDeploy {
    return Object.assign(this, auditSettings(databaseUrl, trail));
  }

  /**
   * Where deploy news goes (which results: notifications.on in shipshape.yaml); replaces an earlier withNotifications.
   * @param slackWebhook Slack incoming webhook URL.
   * @param slackFailuresWebhook Slack webhook that also gets failures and rollbacks.
   * @param webhookUrl Generic JSON webhook URL.
   * @param webhookSecret Signs the JSON webhook body (X-Shipshape-Signature: sha256=HMAC).
   * @param teamsWebhook Microsoft Teams incoming webhook URL (Workflows or connector).
   * @param pagerdutyRoutingKey PagerDuty Events API v2 integration key: failures and rollbacks page, a success resolves.
   * @param smtpPassword Password of notifications.email.username on the SMTP server (email goes where notifications.email says).
   */
  @func()
  withNotifications(
    slackWebhook?: Secret,
    slackFailuresWebhook?: Secret,
    webhookUrl?: Secret,
    webhookSecret?: Secret,
    teamsWebhook?: Secret,
    pagerdutyRoutingKey?: Secret,
    smtpPassword?: Secret,
  ): ShipshapeDeploy {
    Object.assign(this, { slackWebhook, slackFailuresWebhook, webhookUrl, webhookSecret, teamsWebhook, pagerdutyRoutingKey, smtpPassword });
    return this;
  }

  /**
   * Who runs what from where, for tags, provenance, the audit trail and notifications (a module cannot see CI's env).
   * @param actor Who ran it (GITHUB_ACTOR in Actions).
   * @param runUrl Link to the CI run; also the provenance's invocation ID and the AWS role session's name.
   * @param commitSha Commit built or deployed (default: HEAD of .git).
   * @param branch Branch being built (default: the checked-out branch); latest is only tagged from defaultBranch.
   * @param defaultBranch The repository's default branch.
   * @param version Release version, for semver tags and the audit trail (e.g. from the version function).
   * @param repoUrl Repository URL for commit links, e.g. https://github.com/acme/api.
   * @param approver Who approved a deploy (the protected environment's reviewer), recorded when deploy --approve.
   */
  @func()
  withRun(
    actor: string = "",
    runUrl: string = "",
    commitSha: string = "",
    branch: string = "",
    defaultBranch: string = "main",
    version: string = "",
    repoUrl: string = "",
    approver: string = "",
  ): ShipshapeDeploy {
    return Object.assign(this, runSettings({ actor, runUrl, commitSha, branch, defaultBranch, version, repoUrl, approver }));
  }

  /**
   * A deploy target from shipshape.yaml (environments:), with this chain's AWS, verifier, audit, notification and run settings.
   * @param name Environment name, e.g. staging or production.
   */
  @func()
  async environment(name: string): Promise<Environment> {
    // The name is judged by each verb, not here: a deploy to a mistyped environment is then still
    // refused with the known names, recorded in the audit trail and sent to the failures channel.
    const env = make(Environment, { name, source: this.source, configPath: this.configPath });
    copyDeploySettings(this, env);
    return env;
  }

  /**
   * Delivery metrics from the audit trail (withAuditTrail): DORA figures, and build success, gate durations, coverage and findings of ci runs.
   * @param environment Environment to report on; empty for all of them (environment(name).metrics reads one).
   * @param period Bucket size: day, week or month.
   * @param from Start of the window (ISO date or time, inclusive); empty for the last 12 periods.
   * @param to End of the window (exclusive); empty for now.
   */
  @func({ cache: "never" })
  async metrics(environment: string = "", period: string = "week", from: string = "", to: string = ""): Promise<DeliveryReport> {
    return (await calls("metrics")).metrics(this, environment, { period, from, to });
  }
}
