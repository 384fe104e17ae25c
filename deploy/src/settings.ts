/**
 * The chained state `with*` sets on the root object (and an Environment copies): credentials and run
 * context, set once per `dagger call` chain instead of repeated on every function.
 *
 * These live in plain (undecorated) class fields: the v0.21.8 TypeScript SDK serializes every
 * property declaration of an object (introspector object.js collects each PropertyDeclaration;
 * entrypoint/load.js loadResult writes them, loadParentState reads them back by their declared
 * type), and the engine carries fields that are not in the typedef as the object's private fields
 * (core/object.go moduleObjectFieldsToSDKInput, "convert private field"). So they survive a chain
 * without becoming API fields: the table of contents stays small, and a Secret is only ever an ID.
 * Each field must be a core type or a primitive: a nested module object is rebuilt shallowly
 * (Executor.buildClass), and a Secret inside it would come back as a bare ID string.
 */
import type { File, Secret } from "@dagger.io/dagger";

/** What `withAws` sets: static keys, or a role assumed with GitHub's OIDC token (renewed on long runs). */
export interface AwsSettings {
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
  awsRoleArn?: string;
  awsWebIdentityToken?: Secret;
  awsIdTokenRequestUrl?: Secret;
  awsIdTokenRequestToken?: Secret;
}

/** What `withRegistry` sets: credentials for one registry that is not ECR. */
export interface RegistrySettings {
  registryAddress?: string;
  registryUsername?: string;
  registryPassword?: Secret;
  registryPlainHttp?: boolean;
}

/** What `withSigner` sets: a cosign key, or keyless with GitHub's OIDC token. */
export interface SignerSettings {
  cosignKey?: Secret;
  cosignPassword?: Secret;
  sigstoreIdToken?: Secret;
  sigstoreIdTokenRequestUrl?: Secret;
  sigstoreIdTokenRequestToken?: Secret;
}

/** What `withVerifier` sets: the key or keyless identity an image must be signed by. */
export interface VerifierSettings {
  cosignPublicKey?: Secret;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  insecureIgnoreTlog?: boolean;
}

/** What `withAuditTrail` and `withNotifications` set: where records and news go (SNS signs with the withAws identity). */
export interface OutletSettings {
  auditDatabaseUrl?: Secret;
  /** An earlier JSON Lines trail to continue (e.g. the artifact of the previous run). */
  auditTrail?: File;
  slackWebhook?: Secret;
  slackFailuresWebhook?: Secret;
  webhookUrl?: Secret;
  webhookSecret?: Secret;
  teamsWebhook?: Secret;
  pagerdutyRoutingKey?: Secret;
  smtpPassword?: Secret;
}

/** What `withNotifications` sets (the deploy module only: the CI module notifies nobody). */
export type NotificationSettings = Omit<OutletSettings, "auditDatabaseUrl" | "auditTrail">;

/** What `withRun` sets: who runs what from where (a module cannot see the CI runner's environment). */
export interface RunSettings {
  actor?: string;
  runUrl?: string;
  commitSha?: string;
  branch?: string;
  defaultBranch?: string;
  /** The release version (withRun's version; `version` is the root's function computing the next one). */
  runVersion?: string;
  repoUrl?: string;
  approver?: string;
}

/*
 * What each `with*` sets, from its arguments: one place for both modules' roots, whose methods must
 * each declare their own signature and docs (the engine registers every module's functions itself).
 */
export const awsSettings = (
  accessKeyId?: Secret,
  secretAccessKey?: Secret,
  sessionToken?: Secret,
  roleArn: string = "",
  webIdentityToken?: Secret,
  idTokenRequestUrl?: Secret,
  idTokenRequestToken?: Secret,
): AwsSettings => ({
  awsAccessKeyId: accessKeyId,
  awsSecretAccessKey: secretAccessKey,
  awsSessionToken: sessionToken,
  awsRoleArn: roleArn,
  awsWebIdentityToken: webIdentityToken,
  awsIdTokenRequestUrl: idTokenRequestUrl,
  awsIdTokenRequestToken: idTokenRequestToken,
});

export const registrySettings = (
  address: string,
  username: string,
  password: Secret | undefined,
  plainHttp: boolean,
): RegistrySettings => ({
  registryAddress: address,
  registryUsername: username,
  registryPassword: password,
  registryPlainHttp: plainHttp,
});

export const verifierSettings = (
  publicKey: Secret | undefined,
  certificateIdentity: string,
  certificateOidcIssuer: string,
  insecureIgnoreTlog: boolean,
): VerifierSettings => ({ cosignPublicKey: publicKey, certificateIdentity, certificateOidcIssuer, insecureIgnoreTlog });

export const auditSettings = (databaseUrl?: Secret, trail?: File): Pick<OutletSettings, "auditDatabaseUrl" | "auditTrail"> => ({
  auditDatabaseUrl: databaseUrl,
  auditTrail: trail,
});

/** withRun's arguments by name: `version` is stored as runVersion (`version` is the CI module's function). */
export const runSettings = ({ version, ...rest }: Omit<RunSettings, "runVersion"> & { version: string }): RunSettings => ({
  ...rest,
  runVersion: version,
});

/** Every chained setting: the CI module's root uses all but the notifications, the deploy module's all but the signer. */
export type Settings = AwsSettings & RegistrySettings & SignerSettings & VerifierSettings & OutletSettings & RunSettings;
