/**
 * deploy / rollback / promote / abort with named arguments, mapped onto the functions'
 * positional parameters (as `dagger call` maps its flags), so a test names what it passes.
 */
import type { File, Secret } from "@dagger.io/dagger";
import type { Shipshape } from "../../src/index.js";
import type { Deployment } from "../../src/report/deployment.js";

export interface AwsArgs {
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
  awsWebIdentityToken?: Secret;
  awsRoleArn?: string;
  awsIdTokenRequestUrl?: Secret;
  awsIdTokenRequestToken?: Secret;
}

export interface RunArgs {
  auditDatabaseUrl?: Secret;
  auditTrail?: File;
  slackWebhook?: Secret;
  slackFailuresWebhook?: Secret;
  webhookUrl?: Secret;
  webhookSecret?: Secret;
  actor?: string;
  runUrl?: string;
  failOnError?: boolean;
}

export interface DeployArgs extends AwsArgs, RunArgs {
  approve?: boolean;
  cosignPublicKey?: Secret;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  insecureIgnoreTlog?: boolean;
  registryUsername?: string;
  registryPassword?: Secret;
  approver?: string;
  version?: string;
  commitSha?: string;
  repoUrl?: string;
}

const aws = (a: AwsArgs) =>
  [
    a.awsAccessKeyId,
    a.awsSecretAccessKey,
    a.awsSessionToken,
    a.awsWebIdentityToken,
    a.awsRoleArn ?? "",
    a.awsIdTokenRequestUrl,
    a.awsIdTokenRequestToken,
  ] as const;

const run = (a: RunArgs) =>
  [
    a.auditDatabaseUrl,
    a.auditTrail,
    a.slackWebhook,
    a.slackFailuresWebhook,
    a.webhookUrl,
    a.webhookSecret,
    a.actor ?? "",
    a.runUrl ?? "",
    a.failOnError ?? true,
  ] as const;

export const callDeploy = (ship: Shipshape, env: string, image: string, a: DeployArgs): Promise<Deployment> =>
  ship.deploy(
    env,
    image,
    a.approve ?? false,
    ...aws(a),
    a.cosignPublicKey,
    a.certificateIdentity ?? "",
    a.certificateOidcIssuer ?? "",
    a.insecureIgnoreTlog ?? false,
    a.registryUsername ?? "",
    a.registryPassword,
    ...run(a),
    a.approver ?? "",
    a.version ?? "",
    a.commitSha ?? "",
    a.repoUrl ?? "",
  );

export const callRollback = (ship: Shipshape, env: string, to: string, a: AwsArgs & RunArgs): Promise<Deployment> =>
  ship.rollback(env, to, ...aws(a), ...run(a));

export const callPromote = (ship: Shipshape, env: string, a: AwsArgs & RunArgs): Promise<Deployment> =>
  ship.promote(env, ...aws(a), ...run(a));

export const callAbort = (ship: Shipshape, env: string, a: AwsArgs & RunArgs): Promise<Deployment> => ship.abort(env, ...aws(a), ...run(a));
