/**
 * The chained settings an Environment carries (settings.ts has the setting types both modules use;
 * how the deploy code reads them is deploy/lib/gates/settings-of.ts, outside the scanned src/).
 */
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
