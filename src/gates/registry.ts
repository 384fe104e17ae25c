/**
 * Registry credentials, from Dagger Secrets only: Amazon ECR through the AWS SDK (a short-lived
 * token, the repository created when missing), any other registry by username and password.
 */
import { scryptSync } from "node:crypto";
import { dag, type Secret } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../config/schema.js";
import { Problem } from "../project/problem.js";
import { ecrClient, ecrLogin, ecrRepositoryName, ensureRepository, isEcrRegistry, tagsRefusedBy } from "../supply/publish/ecr.js";
import { floatingTagFilters } from "../supply/publish/tags.js";
import { progress } from "./progress.js";
import { checkCredential, credentialText } from "./secret-text.js";

export interface RegistryCredentials {
  username: string;
  password?: Secret;
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
}

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
    if (!creds.awsAccessKeyId || !creds.awsSecretAccessKey) {
      throw new Problem(
        `${host} is Amazon ECR, but no AWS credentials were given`,
        "chain with-aws --access-key-id=env://AWS_ACCESS_KEY_ID --secret-access-key=env://AWS_SECRET_ACCESS_KEY (and --session-token for temporary keys)",
      );
    }
    // Plaintext only in this process, for the SDK call; never logged, never in a container env.
    // Checked first: a line break inside one would reach the SDK's headers as a TypeError.
    const client = ecrClient({
      region: ecr.region,
      accessKeyId: (await credentialText("AWS access key id", creds.awsAccessKeyId)) ?? "",
      secretAccessKey: (await credentialText("AWS secret access key", creds.awsSecretAccessKey)) ?? "",
      sessionToken: await credentialText("AWS session token", creds.awsSessionToken),
    });
    if (push) {
      const name = ecrRepositoryName(ecr, push.repository);
      const repo = await ensureRepository(client, name, {
        ...config.publish.ecr,
        registry: ecr,
        mutableTagFilters: floatingTagFilters(config.publish.tags),
      });
      for (const w of repo.warnings) progress("publish", `warning: ${w}`);
      const refused = tagsRefusedBy(push.tags, repo);
      if (refused.length) {
        throw new Problem(
          `the repository ${name} has immutable tags and would refuse ${refused.join(", ")}`,
          "turn those tags off in publish.tags, or exclude them from tag immutability in ECR",
        );
      }
    }
    const login = await ecrLogin(client, ecr);
    // The engine needs the token as a Secret; setSecret keeps it out of logs and caches.
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
