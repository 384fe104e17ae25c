/**
 * Amazon ECR before a push: registry login and the repository the image goes to, signed with static
 * keys or with the session of a role assumed with GitHub's OIDC token (aws/credentials.ts). Every
 * AWS failure leaves as a one-line Problem whose text has the credentials scrubbed out, because AWS
 * messages (signature errors) can quote the access key id.
 */
import { createHash } from "node:crypto";
import { awsCredentials, runIdentityOf, type AwsIdentity, type CredentialProvider } from "../../aws/credentials.js";
import { webIdentityOf } from "../../aws/web-identity.js";
import { asAws, isRetryable, scrub as scrubAws, type RetryOptions } from "../../aws/retry.js";
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  type ImageTagMutability,
  type Repository,
} from "@aws-sdk/client-ecr";
import { Problem } from "../../../src/project/problem.js";
import { floatingTagFilters, isExactTag } from "./tags.js";
import { REGION, ecrRepositoryName, type EcrRegistry } from "./ecr-registry.js";
import type { EcrPushAuth, RegistryCredentials } from "../../gates/registry.js";
import { progress } from "../../gates/progress.js";
import { credentialText } from "../../gates/secret-text.js";

// The host rules live in ecr-registry.ts (no SDK); re-exported for the callers that also use the SDK.
export { ecrRepositoryName, isEcrRegistry, type EcrRegistry } from "./ecr-registry.js";

/** Calls to one region cannot see or create repositories of another: ECR would report "not found" and create a stray one. */
export function checkRegion(registry: EcrRegistry, clientRegion: string): void {
  if (registry.region !== clientRegion) {
    throw new Problem(
      `the registry ${registry.host} is in ${registry.region}, but AWS calls go to ${clientRegion}`,
      `build the ECR client for ${registry.region} (the region in the registry host)`,
    );
  }
}

// --- client and scrubbing ------------------------------------------------------------------

export interface EcrCredentials {
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Per client, the values never to print; kept off the client so nothing that inspects it finds them. */
const secretsOf = new WeakMap<ECRClient, string[]>();

export function ecrClient(c: EcrCredentials): ECRClient {
  const region = c.region.trim();
  // Secret files often end in a newline, which AWS would reject as a bad key.
  const [accessKeyId, secretAccessKey, sessionToken] = [c.accessKeyId, c.secretAccessKey, c.sessionToken].map((v) => v?.trim());
  if (!REGION.test(region)) throw new Problem(`"${region.slice(0, 40)}" is not an AWS region`, 'use a region like "us-east-1"');
  if (!accessKeyId || !secretAccessKey) {
    throw new Problem("the AWS access key id or secret access key is empty", "check the secrets passed as AWS credentials");
  }
  if (accessKeyId.startsWith("ASIA") && !sessionToken) {
    throw new Problem("the AWS access key is temporary but no session token was given", "pass the session token too (AWS_SESSION_TOKEN)");
  }
  // One retry policy, ours (below), instead of the SDK's 3 attempts times ours.
  const client = new ECRClient({ region, credentials: { accessKeyId, secretAccessKey, sessionToken }, maxAttempts: 1 });
  const values = [c.accessKeyId, c.secretAccessKey, c.sessionToken, accessKeyId, secretAccessKey, sessionToken];
  secretsOf.set(client, [...new Set(values.filter((v): v is string => v !== undefined && v.length >= 4))]);
  return client;
}

function scrub(text: string, client: ECRClient): string {
  let out = text;
  for (const secret of secretsOf.get(client) ?? []) out = out.split(secret).join("***");
  return scrubAws(out);
}

// --- errors and retries --------------------------------------------------------------------

export type { RetryOptions };

interface Call {
  client: ECRClient;
  action: string;
  region: string;
  retry: RetryOptions;
}

/** Bounded exponential backoff with full jitter, so parallel pipelines throttled together do not retry together. */
async function withRetry<T>(call: Call, fn: () => Promise<T>): Promise<T> {
  const { attempts = 5, baseMs = 500, maxMs = 8000, random = Math.random } = call.retry;
  const sleep = call.retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isRetryable(e)) throw e;
      if (attempt >= attempts) {
        throw new Problem(
          `ECR kept failing ${call.action} (${asAws(e).name ?? "error"}) after ${attempts} attempts`,
          "AWS is throttling or unavailable: rerun later; pipelines sharing the account share ECR's rate limits",
        );
      }
      await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))));
    }
  }
}

/** The cause and fix for an AWS error, with the credentials scrubbed from anything AWS said. */
function problemFrom(e: unknown, { client, action, region }: Call): Problem {
  if (e instanceof Problem) return e;
  const { name = "Error", code, message = "" } = asAws(e);
  const said = scrub(message.split("\n")[0] ?? "", client).slice(0, 240);
  switch (name) {
    case "AccessDeniedException":
    case "AccessDenied":
      return new Problem(
        `the AWS role lacks ${action}: ${said}`,
        action === "ecr:CreateRepository" ? "add it or pre-create the repository" : `add ${action} to the role's policy`,
      );
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
      return new Problem(
        "AWS does not recognise the access key (invalid or deleted key, or a missing session token)",
        `check the AWS credential secrets; if ${region} is an opt-in region, enable it for the account`,
      );
    case "ExpiredTokenException":
    case "ExpiredToken":
    case "RequestExpired":
      return new Problem(
        "the AWS credentials have expired",
        "refresh them (rerun the credentials step, or lengthen the role session) and retry",
      );
    case "InvalidSignatureException":
    case "SignatureDoesNotMatch":
      return /region|scope/i.test(said)
        ? new Problem(`AWS rejected the request for region ${region}: ${said}`, "use the region of the registry host")
        : new Problem(
            "AWS rejected the request signature",
            "check that the secret access key belongs to the access key id (no quotes or spaces)",
          );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || name === "UnknownEndpoint") {
    return new Problem(`no ECR endpoint answered for region ${region}`, "check the region (the one in the registry host) and the network");
  }
  return new Problem(`ECR ${action} failed: ${name}: ${said}`, "see the AWS error; rerun if it was transient");
}

async function regionOf(client: ECRClient): Promise<string> {
  const region: unknown = await client.config.region();
  return typeof region === "string" ? region : "";
}

// --- login ---------------------------------------------------------------------------------

/** Registry credentials; the password is not an own property, so logging or spreading the object never shows it. */
export class EcrLogin {
  readonly #password: string;
  constructor(
    readonly username: string,
    password: string,
    readonly endpoint: string,
    readonly expiresAt: Date,
  ) {
    this.#password = password;
  }
  get password(): string {
    return this.#password;
  }
  toJSON(): Record<string, string> {
    return { username: this.username, password: "***", endpoint: this.endpoint, expiresAt: this.expiresAt.toISOString() };
  }
}

/** The token is base64 of `AWS:<password>` and lasts 12 hours; it works for every registry in the region the role can reach. */
export async function ecrLogin(client: ECRClient, registry?: EcrRegistry, retry: RetryOptions = {}): Promise<EcrLogin> {
  const call: Call = { client, action: "ecr:GetAuthorizationToken", region: await regionOf(client), retry };
  if (registry) checkRegion(registry, call.region);
  try {
    const out = await withRetry(call, () => client.send(new GetAuthorizationTokenCommand({})));
    const data = out.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0 || colon === decoded.length - 1) {
      throw new Problem("ECR returned no usable authorization token", "rerun; if it persists, check the ECR service health for the region");
    }
    const endpoint = registry?.host ?? (data?.proxyEndpoint ?? "").replace(/^https?:\/\//, "").replace(/\/+$/, "");
    const expiresAt = data?.expiresAt ?? new Date(Date.now() + 12 * 3600 * 1000);
    return new EcrLogin(decoded.slice(0, colon), decoded.slice(colon + 1), endpoint, expiresAt);
  } catch (e) {
    throw problemFrom(e, call);
  }
}

// --- repository ----------------------------------------------------------------------------

export interface RepositorySettings {
  createRepository: boolean;
  immutableTags: boolean;
  scanOnPush: boolean;
  /** Checks the region and targets the registry's account (cross-account pushes). */
  registry?: EcrRegistry;
  /** Wildcards of floating tags left movable in an immutable repository (tags.ts floatingTagFilters; ECR allows 5). */
  mutableTagFilters?: string[];
}

export interface RepositoryState {
  name: string;
  uri: string;
  tagMutability: ImageTagMutability;
  /** The exclusion wildcards: movable tags when immutable, fixed ones when mutable. */
  tagFilters: string[];
  scanOnPush: boolean;
  created: boolean;
  /** Settings that differ from the config; reported, never changed behind the user's back. */
  warnings: string[];
}

function stateOf(repo: Repository | undefined, name: string, created: boolean, cfg: RepositorySettings): RepositoryState {
  const tagMutability = repo?.imageTagMutability ?? "MUTABLE";
  const scanOnPush = repo?.imageScanningConfiguration?.scanOnPush ?? false;
  const warnings: string[] = [];
  if (cfg.immutableTags && tagMutability.startsWith("MUTABLE")) {
    warnings.push(
      `ECR repository ${name} has mutable tags though publish.ecr.immutableTags is true: a pushed tag can be overwritten; ` +
        "Shipshape leaves existing repositories alone (aws ecr put-image-tag-mutability changes it)",
    );
  }
  if (cfg.scanOnPush && !scanOnPush) {
    warnings.push(`ECR repository ${name} does not scan on push (fine if registry-level scanning is on)`);
  }
  return {
    name,
    uri: repo?.repositoryUri ?? name,
    tagMutability,
    tagFilters: (repo?.imageTagMutabilityExclusionFilters ?? []).flatMap((f) => (f.filter ? [f.filter] : [])),
    scanOnPush,
    created,
    warnings,
  };
}

/** Finds the repository, or creates it with immutable tags and scan on push; a concurrent create is not an error. */
export async function ensureRepository(
  client: ECRClient,
  name: string,
  cfg: RepositorySettings,
  retry: RetryOptions = {},
): Promise<RepositoryState> {
  const region = await regionOf(client);
  if (cfg.registry) checkRegion(cfg.registry, region);
  const registryId = cfg.registry?.accountId;
  const describe: Call = { client, action: "ecr:DescribeRepositories", region, retry };
  const find = () =>
    withRetry(describe, () => client.send(new DescribeRepositoriesCommand({ repositoryNames: [name], registryId }))).then(
      (out) => out.repositories?.[0],
    );
  try {
    return stateOf(await find(), name, false, cfg);
  } catch (e) {
    if (asAws(e).name !== "RepositoryNotFoundException") throw problemFrom(e, describe);
  }
  if (!cfg.createRepository) {
    throw new Problem(
      `ECR repository ${name} does not exist in ${cfg.registry?.host ?? region}`,
      "create it, or set publish.ecr.createRepository: true",
    );
  }
  const filters = cfg.immutableTags ? (cfg.mutableTagFilters ?? []) : [];
  const create: Call = { client, action: "ecr:CreateRepository", region, retry };
  try {
    const out = await withRetry(create, () =>
      client.send(
        new CreateRepositoryCommand({
          repositoryName: name,
          registryId,
          imageTagMutability: !cfg.immutableTags ? "MUTABLE" : filters.length > 0 ? "IMMUTABLE_WITH_EXCLUSION" : "IMMUTABLE",
          ...(filters.length > 0
            ? { imageTagMutabilityExclusionFilters: filters.map((filter) => ({ filter, filterType: "WILDCARD" })) }
            : {}),
          imageScanningConfiguration: { scanOnPush: cfg.scanOnPush },
        }),
      ),
    );
    return stateOf(out.repository, name, true, cfg);
  } catch (e) {
    if (asAws(e).name !== "RepositoryAlreadyExistsException") throw problemFrom(e, create);
  }
  try {
    return stateOf(await find(), name, false, cfg); // another pipeline created it between our describe and create
  } catch (e) {
    throw problemFrom(e, describe);
  }
}

const wildcard = (filter: string) =>
  new RegExp(
    `^${filter
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
      .join(".*")}$`,
  );

/**
 * Floating tags the repository will refuse to move once they exist (ImageTagAlreadyExistsException on
 * the second push). Check before pushing anything, so a publish does not stop half-way.
 */
export function tagsRefusedBy(tags: string[], repo: Pick<RepositoryState, "tagMutability" | "tagFilters">): string[] {
  const matches = (tag: string) => repo.tagFilters.some((f) => wildcard(f).test(tag));
  const fixed = (tag: string) =>
    repo.tagMutability === "IMMUTABLE" ||
    (repo.tagMutability === "IMMUTABLE_WITH_EXCLUSION" && !matches(tag)) ||
    (repo.tagMutability === "MUTABLE_WITH_EXCLUSION" && matches(tag));
  return tags.filter((tag) => !isExactTag(tag) && fixed(tag));
}

// --- the identity ---------------------------------------------------------------------------

/**
 * Role sessions of this process, per role, session name and token source: a release logs in to
 * publish and again to sign and attest, and by then a token given as is (GitHub's last 5 minutes)
 * may have expired, while the session it bought lasts an hour (and is renewed like a deploy's).
 * Keyed by a hash, so no token sits in the key.
 */
const sessions = new Map<string, CredentialProvider>();

async function roleSession(key: string, make: () => CredentialProvider): Promise<AwsIdentity> {
  const provider = sessions.get(key) ?? make();
  try {
    const identity = await provider();
    sessions.set(key, provider);
    return identity;
  } catch (e) {
    sessions.delete(key); // a session that can no longer be renewed starts over next time
    throw e;
  }
}

/** The keys to sign ECR calls with: the static ones given, or (none given) the session of the role assumed with GitHub's OIDC token. */
async function identityFor(region: string, creds: RegistryCredentials): Promise<Omit<EcrCredentials, "region">> {
  // Plaintext only in this process, for the SDK calls; never logged, never in a container env.
  // Checked first: a line break inside one would reach the SDK's headers as a TypeError.
  // Keys, when given, are used (ecrClient refuses blank or half-given ones): the deploy module
  // passes its own role session as keys.
  if (creds.awsAccessKeyId || creds.awsSecretAccessKey || creds.awsSessionToken) {
    return {
      accessKeyId: (await credentialText("AWS access key id", creds.awsAccessKeyId)) ?? "",
      secretAccessKey: (await credentialText("AWS secret access key", creds.awsSecretAccessKey)) ?? "",
      sessionToken: await credentialText("AWS session token", creds.awsSessionToken),
    };
  }
  const { webIdentityToken, requestUrl, requestToken } = await webIdentityOf(creds);
  const roleArn = creds.awsRoleArn?.trim() || undefined;
  const run = runIdentityOf(creds.runUrl);
  // What the session depends on: the same role and run with the same token (or token source) reuse it.
  const key = createHash("sha256")
    .update(JSON.stringify([region, roleArn, run, requestUrl, requestToken, typeof webIdentityToken === "string" ? webIdentityToken : ""]))
    .digest("hex");
  // awsCredentials refuses a role without a token and a token without a role, naming the flag to add.
  const id = await roleSession(key, () => awsCredentials({ region, roleArn, webIdentityToken, run }));
  return {
    accessKeyId: id.accessKeyId,
    secretAccessKey: id.secretAccessKey,
    ...(id.sessionToken ? { sessionToken: id.sessionToken } : {}),
  };
}

/** registryAuth's ECR half (gates/registry.ts): the repository made ready for the push, then a login. */
export const ecrPushAuth: EcrPushAuth = async (config, ecr, creds, push) => {
  const client = ecrClient({ region: ecr.region, ...(await identityFor(ecr.region, creds)) });
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
  return ecrLogin(client, ecr);
};
