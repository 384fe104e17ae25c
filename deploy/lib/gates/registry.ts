/**
 * Registry credentials, from Dagger Secrets only: Amazon ECR through the AWS SDK (a short-lived
 * token, the repository created when missing) with static keys or a role assumed with GitHub's
 * OIDC token, any other registry by username and password.
 */
import { scryptSync } from "node:crypto";
import { dag, type Secret } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../config/schema.js";
import { Problem } from "../../src/project/problem.js";
import { isEcrRegistry, type EcrRegistry } from "../supply/publish/ecr-registry.js";
import { checkCredential, credentialText } from "./secret-text.js";
import type { AwsSettings, RegistrySettings, RunSettings } from "../../src/settings.js";

/**
 * A registry's login: a username and password, or for ECR withAws's settings. Without keys, ECR's
 * login assumes the role with GitHub's OIDC token (a fresh one per session with the request URL and
 * token); the deploy module passes its own role session as the keys, so keys, when given, are used.
 */
export interface RegistryCredentials extends AwsSettings {
  username: string;
  password?: Secret;
  /** withRun's runUrl: names the role session (shipshape-<repo>-<run id>-<attempt>) so CloudTrail shows the run. */
  runUrl?: string;
}

/** Whether ECR can be logged in to: keys, or a role with a way to get an OIDC token (ecr.ts refuses what is half-given). */
const hasAwsKeys = (c: RegistryCredentials) => Boolean(c.awsAccessKeyId || c.awsSecretAccessKey || c.awsSessionToken);
const hasAwsRole = (c: RegistryCredentials) =>
  Boolean(c.awsRoleArn?.trim() || c.awsWebIdentityToken || c.awsIdTokenRequestUrl || c.awsIdTokenRequestToken);

/**
 * ECR's side of registryAuth, in supply/publish/ecr.ts with the AWS SDK. That file is imported by a
 * computed specifier, so neither the runtime's scan nor a call that never meets ECR loads or
 * type-checks the SDK (src/ is imported and type-checked on every call); tsc checks ecr.ts against this.
 */
export type EcrPushAuth = (
  config: ShipshapeConfig,
  registry: EcrRegistry,
  creds: RegistryCredentials,
  push?: { repository: string; tags: string[] },
) => Promise<{ username: string; password: string }>;
const ECR_SDK = ["..", "supply", "publish", "ecr.js"].join("/");

export interface RegistryAuth {
  host: string;
  username: string;
  secret: Secret;
}

/** The registry host of `registry/namespace` (ghcr.io/org -> ghcr.io). */
export const registryHost = (registry: string) => registry.split("/")[0]!;

/**
 * Auth for `registry`, or undefined when no credential was given (a registry open to this
 * engine). For ECR, also makes sure the repository exists and accepts the tags about to be pushed.
 */
export async function registryAuth(
  config: ShipshapeConfig,
  registry: string,
  creds: RegistryCredentials,
  push?: { repository: string; tags: string[] },
): Promise<RegistryAuth | undefined> {
  const host = registryHost(registry);
  const ecr = isEcrRegistry(registry);
  if (ecr) {
    if (!hasAwsKeys(creds) && !hasAwsRole(creds)) {
      throw new Problem(
        `${host} is Amazon ECR, but no AWS credentials were given`,
        "chain with-aws --role-arn=arn:aws:iam::<account>:role/<role> with --web-identity-token or " +
          "--id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN " +
          "(GitHub OIDC), or with-aws --access-key-id=env://AWS_ACCESS_KEY_ID --secret-access-key=env://AWS_SECRET_ACCESS_KEY " +
          "(and --session-token for temporary keys)",
      );
    }
    const { ecrPushAuth } = (await import(/* @vite-ignore */ ECR_SDK)) as { ecrPushAuth: EcrPushAuth };
    const login = await ecrPushAuth(config, ecr, creds, push);
    return { host, username: login.username, secret: secretOf("ecr-token", login.password) };
  }
  if (creds.password) {
    if (!creds.username)
      throw new Problem(
        `a registry password was given for ${host} without a username`,
        "chain with-registry --address=<host> --username=<user> --password=<secret>",
      );
    // The engine sends the Secret as given; a line break inside it would be a login that cannot work.
    await credentialText("registry password", creds.password);
    checkCredential("registry username", creds.username);
    return { host, username: creds.username, secret: creds.password };
  }
  return undefined;
}

/** A docker config.json holding the auth, for tools (cosign) that read registry credentials from it. */
export async function dockerConfig(auth: RegistryAuth): Promise<Secret> {
  const token = Buffer.from(`${auth.username}:${await auth.secret.plaintext()}`).toString("base64");
  return secretOf("docker-config", JSON.stringify({ auths: { [auth.host]: { auth: token } } }));
}

/**
 * A Secret for a value made in this process, named after its content. The engine keys a setSecret
 * by its name alone: the call's cache key has the plaintext replaced by "***" and the session
 * handle is hash(name, accessor) (core/schema/secret.go setSecret, core/secret.go SetSecretHandle,
 * v0.21.8), so two credentials under one name in a session would be one secret. The name shows
 * in traces, hence a slow, salted hash rather than a bare SHA-256 of what may be a weak password.
 */
export function secretOf(kind: string, plaintext: string): Secret {
  const tag = scryptSync(plaintext, `shipshape-secret-name:${kind}`, 12).toString("hex");
  return dag.setSecret(`${kind}-${tag}`, plaintext);
}

/**
 * Credentials for the registry an image lives in: the `withRegistry` login only for the registry it
 * was given for (a password never goes to another host), the `withAws` identity for ECR (keys, or a
 * role and GitHub's OIDC token, the session named after withRun's runUrl).
 */
export function registryCredsFor(s: AwsSettings & RegistrySettings & Pick<RunSettings, "runUrl">, image: string): RegistryCredentials {
  const mine = isRegistryOf(s, image);
  return {
    username: mine ? (s.registryUsername ?? "") : "",
    password: mine ? s.registryPassword : undefined,
    awsAccessKeyId: s.awsAccessKeyId,
    awsSecretAccessKey: s.awsSecretAccessKey,
    awsSessionToken: s.awsSessionToken,
    awsRoleArn: s.awsRoleArn,
    awsWebIdentityToken: s.awsWebIdentityToken,
    awsIdTokenRequestUrl: s.awsIdTokenRequestUrl,
    awsIdTokenRequestToken: s.awsIdTokenRequestToken,
    runUrl: s.runUrl,
  };
}

/** Host names compare without a scheme and case-insensitively (DNS names are; a pasted https:// is not part of it). */
const hostOf = (ref: string) => registryHost(ref.replace(/^[a-z]+:\/\//i, "")).toLowerCase();

/** Whether `image` lives in the registry withRegistry was given for. */
export function isRegistryOf(s: RegistrySettings, image: string): boolean {
  return Boolean(s.registryAddress) && hostOf(image) === hostOf(s.registryAddress ?? "");
}
