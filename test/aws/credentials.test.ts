// AWS credentials: static keys, and GitHub OIDC web identity exchanged with STS. STS, GitHub's
// token endpoint and an ECS endpoint are real HTTP servers on 127.0.0.1 driven by the real SDK
// clients, so the wire is real: the STS call goes out unsigned, errors come back as STS's XML and
// the SDK turns them into its own exception classes, and the ECS request carries a SigV4
// signature made with the assumed session. Time is fake (Date), so sessions expire on demand.
import { ECSClient, ListClustersCommand } from "@aws-sdk/client-ecs";
import {
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  IDPCommunicationErrorException,
  InvalidIdentityTokenException,
  STSClient,
} from "@aws-sdk/client-sts";
import type { Server } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { awsCredentials, githubOidcTokenSource, sessionNameFor, type AwsCredentialOptions } from "../../deploy/lib/aws/credentials.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { ACCOUNT, FakeGithub, FakeSts, listen, REQUEST_TOKEN, ROLE } from "./fake-sts.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");
const REGION = "eu-west-1";
const RUN = { repository: "acme/shop", runId: "4242", runAttempt: "2", environment: "production" };
const STATIC = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN",
};

/** Everything secret that went into or came out of a test; none of it may appear in any message. */
const secrets = new Set<string>([STATIC.secretAccessKey, STATIC.sessionToken, STATIC.accessKeyId, REQUEST_TOKEN]);

// --- the world ---------------------------------------------------------------------------------------

let github: FakeGithub;
let sts: FakeSts;
const ecsRequests: { authorization: string; token: string | undefined; date: string | undefined }[] = [];
const servers: Server[] = [];
let urls: { sts: string; ecs: string; github: string };
let stderr: string[];

beforeAll(async () => {
  const s = await listen((req, body) => sts.handle(req, body));
  const e = await listen((req) => {
    ecsRequests.push({
      authorization: req.headers.authorization ?? "",
      token: req.headers["x-amz-security-token"] as string | undefined,
      date: req.headers["x-amz-date"] as string | undefined,
    });
    return { status: 200, type: "application/x-amz-json-1.1", body: '{"clusterArns":[]}' };
  });
  const g = await listen((req) => github.handle(req));
  servers.push(s.server, e.server, g.server);
  urls = { sts: s.url, ecs: e.url, github: `${g.url}/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/idtoken?api-version=2.0` };
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"], now: T0 });
  github = new FakeGithub(secrets);
  sts = new FakeSts(github, secrets);
  ecsRequests.length = 0;
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const stsClient = () => new STSClient({ region: REGION, endpoint: urls.sts, maxAttempts: 1 });
const sleeps: number[] = [];
const web = (over: Partial<AwsCredentialOptions> = {}) =>
  awsCredentials({
    region: REGION,
    roleArn: ROLE,
    webIdentityToken: github.issue(),
    run: RUN,
    sts: stsClient(),
    retry: { sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    ...over,
  });
const ecsWith = (credentials: ReturnType<typeof awsCredentials>) =>
  new ECSClient({ region: REGION, endpoint: urls.ecs, credentials, maxAttempts: 1 });
const keyIdOf = (authorization: string | undefined) => /Credential=([A-Z0-9]+)\//.exec(authorization ?? "")?.[1];
const at = (minutes: number) => vi.setSystemTime(T0 + minutes * 60_000);

/** The error a promise or a call ends with, its whole text checked for secrets on the way. */
async function failure(p: Promise<unknown> | (() => unknown)): Promise<Problem> {
  let error: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Problem);
  const text = `${String(error)}\n${(error as Problem).hint}\n${JSON.stringify(error)}`;
  for (const s of secrets) expect(text).not.toContain(s);
  return error as Problem;
}

afterEach(() => {
  // Nothing secret was ever written to the progress log either.
  const log = stderr.join("");
  for (const s of secrets) expect(log).not.toContain(s);
});

describe("the fakes speak STS's wire format", () => {
  it("yields the SDK's own exception classes for STS's error codes", async () => {
    const send = (token: string) =>
      stsClient().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE, RoleSessionName: "s1", WebIdentityToken: token }));
    await expect(send(github.issue("https://github.com/acme"))).rejects.toBeInstanceOf(InvalidIdentityTokenException);
    const old = github.issue();
    at(6);
    await expect(send(old)).rejects.toBeInstanceOf(ExpiredTokenException);
    sts.fail(1, "IDPCommunicationError", "Couldn't reach the identity provider");
    await expect(send(github.issue())).rejects.toBeInstanceOf(IDPCommunicationErrorException);
    await expect(send(github.issue(undefined, "repo:acme/shop:ref:refs/heads/main"))).rejects.toMatchObject({
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe("static keys", () => {
  it("sign ECS requests with the given key and session token", async () => {
    const creds = awsCredentials({ region: REGION, ...STATIC });
    await ecsWith(creds).send(new ListClustersCommand({}));
    expect(keyIdOf(ecsRequests[0]?.authorization)).toBe(STATIC.accessKeyId);
    expect(ecsRequests[0]?.token).toBe(STATIC.sessionToken);
    const plain = awsCredentials({ region: REGION, accessKeyId: ` ${STATIC.accessKeyId}\n`, secretAccessKey: STATIC.secretAccessKey });
    expect(await plain()).toEqual({ accessKeyId: STATIC.accessKeyId, secretAccessKey: STATIC.secretAccessKey });
  });

  it("refuse ambiguous, missing and half-given credentials, without quoting them", async () => {
    const both = await failure(() => awsCredentials({ region: REGION, ...STATIC, webIdentityToken: github.issue(), roleArn: ROLE }));
    expect(both.cause_).toMatch(/both static AWS keys and a web identity token\/role were given/);
    expect((await failure(() => awsCredentials({ region: REGION }))).cause_).toBe("no AWS credentials were given");
    expect((await failure(() => awsCredentials({ region: REGION, accessKeyId: STATIC.accessKeyId }))).cause_).toBe(
      "the AWS secret access key is missing",
    );
    const temp = await failure(() =>
      awsCredentials({ region: REGION, accessKeyId: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: STATIC.secretAccessKey }),
    );
    expect(temp.hint).toBe("pass with-aws --session-token too");
    expect((await failure(() => awsCredentials({ region: REGION, roleArn: ROLE }))).cause_).toMatch(/no web identity token/);
    expect((await failure(() => awsCredentials({ region: REGION, webIdentityToken: github.issue() }))).cause_).toMatch(/no role to assume/);
    expect((await failure(() => awsCredentials({ region: REGION, webIdentityToken: " \n", roleArn: ROLE }))).hint).toContain(
      "id-token: write",
    );
    expect((await failure(() => awsCredentials({ region: REGION, webIdentityToken: "t", roleArn: "deployer" }))).cause_).toBe(
      '"deployer" is not an IAM role ARN',
    );
    expect((await failure(() => web({ sessionDurationSeconds: 60 }))).cause_).toBe("a role session lasts 900 to 43200 seconds, not 60");
  });
});

describe("GitHub OIDC web identity", () => {
  it("exchanges the token with an unsigned STS call, and ECS requests carry the assumed session", async () => {
    const creds = web();
    await ecsWith(creds).send(new ListClustersCommand({}));
    expect(sts.calls).toHaveLength(1);
    const call = sts.calls[0];
    expect(call?.authorization).toBeUndefined(); // the token is the proof; nothing signs the call
    expect(Object.fromEntries(call?.params ?? [])).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      RoleArn: ROLE,
      RoleSessionName: "shipshape-shop-4242-2",
      DurationSeconds: "3600",
    });
    expect(keyIdOf(ecsRequests[0]?.authorization)).toBe("ASIAQQQQQQQQQQQQQQQ1");
    expect(ecsRequests[0]?.authorization).toContain(`/${REGION}/ecs/aws4_request`);
    expect(ecsRequests[0]?.token).toBe("IQoJb3JpZ2luX2VjEXAMPLESESSION1");
    expect(ecsRequests[0]?.date).toBe("20261123T100000Z");
    expect(stderr.join("")).toContain(
      `[shipshape] aws: assumed arn:aws:sts::${ACCOUNT}:assumed-role/deployer/shipshape-shop-4242-2 until 2026-11-23T11:00:00.000Z`,
    );
  });

  it("renews before expiry with fresh GitHub tokens, so a deploy outlives the one-hour session", async () => {
    const creds = web({ webIdentityToken: githubOidcTokenSource({ requestUrl: urls.github, requestToken: REQUEST_TOKEN }) });
    const ecs = ecsWith(creds);
    const keyAt = async (minutes: number) => {
      at(minutes);
      await ecs.send(new ListClustersCommand({}));
      return keyIdOf(ecsRequests.at(-1)?.authorization);
    };
    expect(await keyAt(0)).toBe("ASIAQQQQQQQQQQQQQQQ1");
    expect(await keyAt(40)).toBe("ASIAQQQQQQQQQQQQQQQ1");
    expect(sts.calls).toHaveLength(1);
    // 56 minutes in, 4 minutes before expiry: renewed with a token fetched just now (the first one died at minute 5).
    expect(await keyAt(56)).toBe("ASIAQQQQQQQQQQQQQQQ2");
    expect(github.requests).toBe(2);
    // Many requests at once after the next expiry share one STS call.
    at(130);
    await Promise.all(Array.from({ length: 5 }, () => ecs.send(new ListClustersCommand({}))));
    expect(sts.calls).toHaveLength(3);
    expect(ecsRequests.slice(-5).map((r) => keyIdOf(r.authorization))).toEqual(Array(5).fill("ASIAQQQQQQQQQQQQQQQ3"));
    const renewals = stderr.filter((l) => l.includes("aws: renewed")).map((l) => l.replace(/^.* until /, "").trim());
    expect(renewals).toEqual(["2026-11-23T11:56:00.000Z", "2026-11-23T13:10:00.000Z"]);
  });

  it("keeps the old session while a fixed token cannot renew it, then explains", async () => {
    const ecs = ecsWith(web());
    await ecs.send(new ListClustersCommand({}));
    at(56);
    await ecs.send(new ListClustersCommand({})); // renewal refused (the token died at minute 5); the session has 4 minutes left
    expect(keyIdOf(ecsRequests.at(-1)?.authorization)).toBe("ASIAQQQQQQQQQQQQQQQ1");
    expect(stderr.join("")).toContain(
      "could not renew the role session (the role session could not be renewed: the web identity token has expired",
    );
    vi.setSystemTime(T0 + 56 * 60_000 + 10_000);
    await ecs.send(new ListClustersCommand({}));
    expect(sts.calls).toHaveLength(2); // no STS call per request while backing off
    at(59.5);
    const dead = await failure(ecs.send(new ListClustersCommand({})));
    expect(dead.cause_).toMatch(
      /^the role session could not be renewed: the web identity token has expired \(Token expired: current date\/time \d+ must be before the expiration date\/time\d+\)$/,
    );
    expect(dead.hint).toContain("GitHub's OIDC tokens last 5 minutes");
  });

  it("never repeats the token, even when an error message quotes it", async () => {
    const token = github.issue();
    sts.fail(1, "InvalidIdentityToken", `The token ${token} could not be parsed`);
    const e = await failure(web({ webIdentityToken: token })());
    expect(e.cause_).toBe("STS rejected the web identity token: The token *** could not be parsed");
  });

  it("explains a token with the wrong audience", async () => {
    const e = await failure(web({ webIdentityToken: github.issue("https://github.com/acme") })());
    expect(e.cause_).toBe("STS rejected the web identity token: Incorrect token audience");
    expect(e.hint).toContain("permissions: id-token: write");
    expect(e.hint).toContain("audience=sts.amazonaws.com");
  });

  it("points at the trust policy's sub condition when the role refuses this workflow", async () => {
    const e = await failure(web({ webIdentityToken: github.issue(undefined, "repo:acme/shop:ref:refs/heads/main") })());
    expect(e.cause_).toBe(`not allowed to assume ${ROLE}: Not authorized to perform sts:AssumeRoleWithWebIdentity`);
    expect(e.hint).toContain("token.actions.githubusercontent.com:sub = repo:acme/shop:environment:production");
    const unknownRun = await failure(web({ run: undefined, webIdentityToken: github.issue(undefined, "repo:x/y:pull_request") })());
    expect(unknownRun.hint).toContain("repo:<owner>/<repo>:environment:<environment>");
  });

  it("explains an expired token and a session longer than the role allows", async () => {
    const token = github.issue();
    at(6);
    const e = await failure(web({ webIdentityToken: token })());
    expect(e.cause_).toMatch(/^the web identity token has expired \(Token expired: /);
    const long = await failure(web({ sessionDurationSeconds: 7200 })());
    expect(long.hint).toBe("lower the session duration or raise the role's MaximumSessionDuration");
  });

  it("retries IDPCommunicationError and throttling, then gives up in plain words", async () => {
    sleeps.length = 0;
    sts.fail(2, "IDPCommunicationError", "The identity provider could not be reached");
    const creds = web();
    expect((await creds()).accessKeyId).toBe("ASIAQQQQQQQQQQQQQQQ1");
    expect(sts.calls).toHaveLength(3);
    expect(sleeps).toEqual([250, 500]);
    sts.fail(4, "Throttling", "Rate exceeded");
    const e = await failure(web()());
    expect(e.cause_).toBe("STS kept failing AssumeRoleWithWebIdentity (Throttling) after 4 attempts");
  });

  it("says why GitHub would not hand out a token, without quoting the request token", async () => {
    const bad = githubOidcTokenSource({ requestUrl: urls.github, requestToken: "ghs_wrong_requesttoken_0000000000" });
    secrets.add("ghs_wrong_requesttoken_0000000000");
    const e = await failure(web({ webIdentityToken: bad })());
    expect(e.cause_).toBe("GitHub's OIDC token endpoint answered 401");
    expect(e.hint).toContain("id-token: write");
  });

  it("derives a valid session name from the run", () => {
    expect(sessionNameFor(RUN, T0)).toBe("shipshape-shop-4242-2");
    expect(sessionNameFor(undefined, T0)).toBe("shipshape-1795428000");
    expect(sessionNameFor({ repository: "acme/a repo with spaces and ümlauts".padEnd(90, "x"), runId: "1" }, T0)).toMatch(
      /^[\w+=,.@-]{2,64}$/,
    );
  });
});
