/**
 * The chained settings an Environment carries, and how the deploy code reads them (settings.ts has
 * the setting types both modules use; this file's types reach into the deploy code).
 */
import type { AwsCredentials } from "./gates/aws-auth.js";
import type { Outlets, RunContext } from "./gates/deploy-run.js";
import type { AwsSettings, OutletSettings, RegistrySettings, RunSettings, VerifierSettings } from "./settings.js";

/** Everything a deploy needs (an Environment holds exactly this, besides its name). */
export type DeploySettings = AwsSettings & RegistrySettings & VerifierSettings & OutletSettings & RunSettings;

/** The keys an Environment copies from the root object: every deploy setting, not the signer. */
export const DEPLOY_SETTING_KEYS = [
  "awsAccessKeyId",
  "awsSecretAccessKey",
  "awsSessionToken",
  "awsRoleArn",
  "awsWebIdentityToken",
  "awsIdTokenRequestUrl",
  "awsIdTokenRequestToken",
  "registryAddress",
  "registryUsername",
  "registryPassword",
  "registryPlainHttp",
  "cosignPublicKey",
  "certificateIdentity",
  "certificateOidcIssuer",
  "insecureIgnoreTlog",
  "auditDatabaseUrl",
  "auditTrail",
  "slackWebhook",
  "slackFailuresWebhook",
  "webhookUrl",
  "webhookSecret",
  "teamsWebhook",
  "pagerdutyRoutingKey",
  "smtpPassword",
  "actor",
  "runUrl",
  "commitSha",
  "branch",
  "defaultBranch",
  "runVersion",
  "repoUrl",
  "approver",
] as const satisfies readonly (keyof DeploySettings)[];

/** Copies the deploy settings (only those set) from one chained object onto another. */
export function copyDeploySettings(from: DeploySettings, to: DeploySettings): void {
  const src = from as Record<string, unknown>;
  const dst = to as Record<string, unknown>;
  for (const key of DEPLOY_SETTING_KEYS) if (src[key] !== undefined) dst[key] = src[key];
}

/** The AWS credentials for the SDK clients; the run URL names the role session. */
export const awsOf = (s: DeploySettings): AwsCredentials => ({
  awsAccessKeyId: s.awsAccessKeyId,
  awsSecretAccessKey: s.awsSecretAccessKey,
  awsSessionToken: s.awsSessionToken,
  awsWebIdentityToken: s.awsWebIdentityToken,
  awsRoleArn: s.awsRoleArn ?? "",
  awsIdTokenRequestUrl: s.awsIdTokenRequestUrl,
  awsIdTokenRequestToken: s.awsIdTokenRequestToken,
  runUrl: s.runUrl ?? "",
});

/** Where the audit records and notifications go; SNS publishes with the deploy's AWS identity. */
export const outletsOf = (s: DeploySettings): Outlets => ({
  auditDatabaseUrl: s.auditDatabaseUrl,
  auditTrail: s.auditTrail,
  slackWebhook: s.slackWebhook,
  slackFailuresWebhook: s.slackFailuresWebhook,
  webhookUrl: s.webhookUrl,
  webhookSecret: s.webhookSecret,
  teamsWebhook: s.teamsWebhook,
  pagerdutyRoutingKey: s.pagerdutyRoutingKey,
  smtpPassword: s.smtpPassword,
  aws: awsOf(s),
});

/** The run context of the audit record; the approver only counts when the call approved. */
export const runContextOf = (s: RunSettings, approved: boolean): RunContext => ({
  actor: s.actor ?? "",
  approver: approved ? (s.approver ?? "") : "",
  runUrl: s.runUrl ?? "",
  version: s.runVersion ?? "",
  commitSha: s.commitSha ?? "",
  repoUrl: s.repoUrl ?? "",
});
