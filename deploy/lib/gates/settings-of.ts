/** How the deploy code reads an Environment's chained settings: AWS credentials, outlets and the run context. */
import type { DeploySettings } from "../../src/deploy-settings.js";
import type { RunSettings } from "../../src/settings.js";
import type { AwsCredentials } from "./aws-auth.js";
import type { Outlets, RunContext } from "./deploy-run.js";

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
