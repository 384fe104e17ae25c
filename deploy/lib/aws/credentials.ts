/**
 * AWS credentials for the SDK clients: static keys, or a web identity token (GitHub Actions' OIDC
 * token) exchanged for a role session with STS AssumeRoleWithWebIdentity. That call is unsigned:
 * the token is the proof, so no other AWS credential is needed to make it.
 *
 * The web identity provider caches the session and renews it before it expires, because a deploy
 * (rollout, analysis, watch window, maybe a rollback) can outlive a one-hour session. Renewal
 * needs a token that is still valid, and GitHub's last five minutes: hand in a TokenSource that
 * asks GitHub for a fresh one (githubOidcTokenSource) for deploys longer than the session.
 *
 * Keys, tokens and session credentials never reach a message, a log line or a report.
 *
 * The CI module's ECR login loads this file (lazily, with the ECR SDK), so it imports no other
 * AWS client, not even a type: only STS.
 */
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { systemClock, type Clock } from "../project/clock.js";
import { progress } from "../gates/progress.js";
import { checkCredential } from "../gates/secret-text.js";
import { describeError, Problem } from "../../src/project/problem.js";
import { asAws, errorName, isRetryable, saidBy, type RetryOptions } from "./retry.js";
import { githubIdTokens, type GithubIdTokenOptions, type TokenSource } from "../github/oidc.js";

export type { TokenSource };

/** What SDK clients sign with; a `() => Promise<AwsIdentity>` is an SDK credential provider. */
export interface AwsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type CredentialProvider = () => Promise<AwsIdentity>;

/** The workflow run, for the role session's name and for trust-policy hints (GITHUB_REPOSITORY, GITHUB_RUN_ID...). */
export interface RunIdentity {
  /** owner/repo */
  repository?: string;
  runId?: string;
  runAttempt?: string;
  /** The GitHub environment of the deploy job; it becomes the token's `sub`. */
  environment?: string;
}

export interface AwsCredentialOptions {
  region: string;
  /** Static keys, already read from their Secrets. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** GitHub's OIDC token (audience sts.amazonaws.com), or a source of fresh ones. */
  webIdentityToken?: string | TokenSource;
  roleArn?: string;
  /** 900 to 43200 and at most the role's MaxSessionDuration; default 3600. */
  sessionDurationSeconds?: number;
  /** Defaults to one derived from the run: shipshape-<repo>-<run id>-<attempt>. */
  sessionName?: string;
  run?: RunIdentity;
  /** Renew this long before the session expires; default 10 minutes. */
  refreshBeforeMs?: number;
  /** Injected for tests; defaults to an unsigned client for `region` with the SDK's retries off (ours back off). */
  sts?: STSClient;
  clock?: Clock;
  retry?: RetryOptions;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const AUDIENCE = "sts.amazonaws.com";
const TOKEN_HINT =
  "give the job `permissions: id-token: write` and request the token with audience=sts.amazonaws.com " +
  "(the IAM OIDC provider for token.actions.githubusercontent.com must list that audience)";
// A renewal that failed is not retried on every request while the old session still works.
const RENEW_BACKOFF_MS = 30_000;
// Too close to expiry to sign with: a request signed now could arrive after it.
const LAST_USABLE_MS = 60_000;

const clean = (v: string | undefined) => (v === undefined ? undefined : v.trim() === "" ? undefined : v.trim());
/** A credential trimmed, and refused when a line break or control character sits inside it (it goes into headers). */
const credential = (name: string, v: string | undefined) => {
  const c = clean(v);
  return c === undefined ? undefined : checkCredential(name, c);
};

/** Credentials from whichever source was given; both or neither is a Problem. */
export function awsCredentials(o: AwsCredentialOptions): CredentialProvider {
  const [accessKeyId, secretAccessKey, sessionToken] = (
    [
      [o.accessKeyId, "AWS access key id"],
      [o.secretAccessKey, "AWS secret access key"],
      [o.sessionToken, "AWS session token"],
    ] as const
  ).map(([v, name]) => credential(name, v));
  const roleArn = clean(o.roleArn);
  const hasStatic = accessKeyId !== undefined || secretAccessKey !== undefined || sessionToken !== undefined;
  const hasWeb = o.webIdentityToken !== undefined || roleArn !== undefined;
  if (!REGION.test(o.region)) throw new Problem(`"${o.region.slice(0, 40)}" is not an AWS region`, 'use a region like "eu-west-1"');
  if (hasStatic && hasWeb)
    throw new Problem(
      "both static AWS keys and a web identity token/role were given; which one to use is ambiguous",
      "chain with-aws with either --role-arn and a web identity token (GitHub OIDC) or the --access-key-id/--secret-access-key pair, not both",
    );
  if (!hasStatic && !hasWeb)
    throw new Problem(
      "no AWS credentials were given",
      "chain with-aws --role-arn=arn:aws:iam::<account>:role/<role> --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL " +
        "--id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN (GitHub OIDC), or with-aws --access-key-id --secret-access-key",
    );
  if (hasStatic) return staticCredentials(accessKeyId, secretAccessKey, sessionToken);
  return webIdentityCredentials(o, roleArn);
}

function staticCredentials(accessKeyId?: string, secretAccessKey?: string, sessionToken?: string): CredentialProvider {
  if (accessKeyId === undefined || secretAccessKey === undefined)
    throw new Problem(
      `the AWS ${accessKeyId === undefined ? "access key id" : "secret access key"} is missing`,
      "pass both with-aws --access-key-id and --secret-access-key",
    );
  // Temporary keys (ASIA...) are useless without their session token; AWS would only say "invalid token".
  if (accessKeyId.startsWith("ASIA") && sessionToken === undefined)
    throw new Problem("the access key is a temporary one (ASIA...) but no session token was given", "pass with-aws --session-token too");
  const identity: AwsIdentity = { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
  return async () => identity;
}

/**
 * owner/repo, run id and attempt from https://github.com/<owner>/<repo>/actions/runs/<id>[/attempts/<n>]
 * (withRun's runUrl), and the GitHub environment of the job when there is one.
 */
export function runIdentityOf(runUrl: string | undefined, environment?: string): RunIdentity {
  const m = /github\.com\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)(?:\/attempts\/(\d+))?/.exec(runUrl ?? "");
  return {
    ...(environment ? { environment } : {}),
    ...(m ? { repository: m[1], runId: m[2], ...(m[3] ? { runAttempt: m[3] } : {}) } : {}),
  };
}

/** shipshape-<repo>-<run id>-<attempt>, in RoleSessionName's alphabet; CloudTrail shows it as the session. */
export function sessionNameFor(run: RunIdentity | undefined, now: number): string {
  const repo = run?.repository?.split("/").pop();
  const parts = ["shipshape", repo, run?.runId ?? String(Math.floor(now / 1000)), run?.runId === undefined ? undefined : run.runAttempt];
  return parts
    .filter((p): p is string => p !== undefined && p !== "")
    .join("-")
    .replace(/[^\w+=,.@-]/g, "-")
    .slice(0, 64);
}

interface WebIdentity {
  region: string;
  roleArn: string;
  token: string | TokenSource;
  sessionName: string;
  duration: number;
  refreshBeforeMs: number;
  run: RunIdentity | undefined;
  sts: STSClient;
  clock: Clock;
  retry: RetryOptions;
}

function webIdentityCredentials(o: AwsCredentialOptions, roleArn: string | undefined): CredentialProvider {
  if (o.webIdentityToken === undefined)
    throw new Problem(
      "a role ARN was given but no web identity token",
      `pass with-aws --web-identity-token (or --id-token-request-url and --id-token-request-token) too; ${TOKEN_HINT}`,
    );
  if (roleArn === undefined)
    throw new Problem(
      "a web identity token was given but no role to assume",
      "pass with-aws --role-arn=arn:aws:iam::<account>:role/<role>",
    );
  if (!ROLE_ARN.test(roleArn))
    throw new Problem(`"${roleArn.slice(0, 120)}" is not an IAM role ARN`, "pass one like arn:aws:iam::123456789012:role/deployer");
  if (typeof o.webIdentityToken === "string" && o.webIdentityToken.trim() === "")
    throw new Problem("the web identity token is empty", TOKEN_HINT);
  if (typeof o.webIdentityToken === "string") checkCredential("web identity token", o.webIdentityToken.trim());
  const duration = o.sessionDurationSeconds ?? 3600;
  if (!Number.isInteger(duration) || duration < 900 || duration > 43_200)
    throw new Problem(`a role session lasts 900 to 43200 seconds, not ${duration}`, "pick a duration within the role's MaxSessionDuration");
  const clock = o.clock ?? systemClock;
  const sessionName = o.sessionName ?? sessionNameFor(o.run, clock.now());
  if (!SESSION_NAME.test(sessionName))
    throw new Problem(`"${sessionName.slice(0, 80)}" is not a role session name`, "use 2 to 64 of letters, digits and + = , . @ _ -");
  const token = typeof o.webIdentityToken === "string" ? o.webIdentityToken.trim() : o.webIdentityToken;
  return cachedSession({
    region: o.region,
    roleArn,
    token,
    sessionName,
    duration,
    refreshBeforeMs: o.refreshBeforeMs ?? 600_000,
    run: o.run,
    sts: o.sts ?? new STSClient({ region: o.region, maxAttempts: 1 }),
    clock,
    retry: o.retry ?? {},
  });
}

/** The session, renewed ahead of expiry by one STS call however many requests ask at once. */
function cachedSession(w: WebIdentity): CredentialProvider {
  let current: (AwsIdentity & { expiration: Date }) | undefined;
  let renewing: Promise<AwsIdentity & { expiration: Date }> | undefined;
  let retryAfter = 0;
  return async () => {
    const now = w.clock.now();
    if (current !== undefined && now < current.expiration.getTime() - w.refreshBeforeMs) return current;
    const usable = current !== undefined && now < current.expiration.getTime() - LAST_USABLE_MS;
    if (usable && now < retryAfter && current !== undefined) return current;
    renewing ??= assumeRole(w, current !== undefined).finally(() => (renewing = undefined));
    try {
      current = await renewing;
      return current;
    } catch (e) {
      // The old session still works for a while: keep deploying on it and try again later.
      if (usable && current !== undefined) {
        retryAfter = w.clock.now() + RENEW_BACKOFF_MS;
        progress("aws", `could not renew the role session (${describeError(e).cause}); using it until ${current.expiration.toISOString()}`);
        return current;
      }
      throw e;
    }
  };
}

/** AWS does not echo tokens, but a message is checked anyway: the token itself and anything JWT-shaped go. */
const redactor = (token: string) => (text: string) =>
  text
    .split(token)
    .join("***")
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, "***");

async function assumeRole(w: WebIdentity, renewal: boolean): Promise<AwsIdentity & { expiration: Date }> {
  const { attempts = 4, baseMs = 500, maxMs = 8000, random = Math.random } = w.retry;
  const sleep = w.retry.sleep ?? ((ms: number) => w.clock.sleep(ms));
  for (let attempt = 1; ; attempt++) {
    const token = typeof w.token === "string" ? w.token : (await w.token()).trim();
    if (token === "") throw new Problem("the web identity token source returned an empty token", TOKEN_HINT);
    checkCredential("web identity token", token);
    try {
      const out = await w.sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: w.roleArn,
          RoleSessionName: w.sessionName,
          WebIdentityToken: token,
          DurationSeconds: w.duration,
        }),
      );
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
        throw new Problem(`STS assumed ${w.roleArn} but sent no credentials`, "rerun; if it persists, AWS STS is misbehaving");
      progress("aws", `${renewal ? "renewed" : "assumed"} ${out.AssumedRoleUser?.Arn ?? w.roleArn} until ${c.Expiration.toISOString()}`);
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    } catch (e) {
      if (e instanceof Problem) throw e;
      const name = errorName(e);
      const transient = isRetryable(e) || name === "Throttling" || name.startsWith("IDPCommunicationError");
      if (!transient) throw problemFrom(e, w, renewal, redactor(token));
      if (attempt >= attempts)
        throw new Problem(
          name.startsWith("IDPCommunicationError")
            ? `STS could not reach GitHub's OIDC provider to check the token (${name}) after ${attempts} attempts`
            : `STS kept failing AssumeRoleWithWebIdentity (${name}) after ${attempts} attempts`,
          "usually transient: rerun the deploy",
        );
      await sleep(Math.floor(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1))));
    }
  }
}

/** `repo:acme/shop:environment:production`, or its shape when the run is unknown. */
function expectedSub(run: RunIdentity | undefined): string {
  return `repo:${run?.repository ?? "<owner>/<repo>"}:environment:${run?.environment ?? "<environment>"}`;
}

function problemFrom(e: unknown, w: WebIdentity, renewal: boolean, redact: (s: string) => string): Problem {
  const name = errorName(e);
  // Before saidBy's scrubbing, which would cut a token into pieces no longer recognisable.
  const said = saidBy({ message: redact(asAws(e).message ?? "") });
  const during = renewal ? "the role session could not be renewed: " : "";
  if (name.startsWith("InvalidIdentityToken")) {
    const noProvider = /OpenIDConnect provider/i.test(said);
    return new Problem(
      `${during}STS rejected the web identity token: ${said}`,
      noProvider
        ? "add the IAM OIDC identity provider https://token.actions.githubusercontent.com with audience sts.amazonaws.com to the account"
        : TOKEN_HINT,
    );
  }
  if (name.startsWith("ExpiredToken"))
    return new Problem(
      `${during}the web identity token has expired (${said})`,
      typeof w.token === "string"
        ? "GitHub's OIDC tokens last 5 minutes: fetch it in the step right before `dagger call`, and for deploys longer than the " +
            "session pass the token request URL and token so Shipshape fetches fresh ones"
        : "the token source handed out an expired token: check the runner's clock",
    );
  if (/AccessDenied/.test(name) || name.startsWith("IDPRejectedClaim"))
    return new Problem(
      `${during}not allowed to assume ${w.roleArn}: ${said}`,
      `the role's trust policy must allow this workflow's token: token.actions.githubusercontent.com:sub = ${expectedSub(w.run)} ` +
        `and :aud = ${AUDIENCE} (a job without environment: has a sub with :ref:refs/heads/<branch> instead)`,
    );
  if (/DurationSeconds|MaxSessionDuration/.test(said))
    return new Problem(
      `${during}STS refused a ${w.duration}-second session: ${said}`,
      "lower the session duration or raise the role's MaximumSessionDuration",
    );
  if (name.startsWith("RegionDisabled"))
    return new Problem(
      `${during}STS is not activated in ${w.region}: ${said}`,
      "activate the region's STS endpoint in the account's IAM settings",
    );
  return new Problem(`${during}AssumeRoleWithWebIdentity failed: ${name}: ${said}`, "see the AWS message; rerun if it was transient");
}

/** Fresh GitHub OIDC tokens for STS (audience sts.amazonaws.com unless told otherwise). */
export const githubOidcTokenSource = (o: Omit<GithubIdTokenOptions, "audience"> & { audience?: string }): TokenSource =>
  githubIdTokens({ ...o, audience: o.audience ?? AUDIENCE });
