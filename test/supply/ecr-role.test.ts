/**
 * The CI module's ECR login with role-only credentials (GitHub OIDC): registryAuth, as publish,
 * sign and release call it, with `with-aws --role-arn --web-identity-token` (or the token request
 * URL and token) and no keys. STS and GitHub's token endpoint are real HTTP servers on 127.0.0.1
 * (test/aws/fake-sts.ts) reached by the real STS client through the SDK's own endpoint setting
 * (AWS_ENDPOINT_URL_STS), so the code under test builds its clients as it does in production.
 * ECR is the real ECRClient behind aws-sdk-client-mock, as in ecr.test.ts, and as strict as ECR
 * about who signs: it reads the identity each client signs with and accepts only a session STS
 * issued and that has not expired, or the one IAM user key it knows. Secrets travel as the stub
 * engine's Secrets (env://); none may appear in a message or the progress log.
 */
import { dag } from "@dagger.io/dagger";
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  RepositoryNotFoundException,
  type CreateRepositoryCommandInput,
  type DescribeRepositoriesCommandInput,
  type Repository,
} from "@aws-sdk/client-ecr";
import { mockClient } from "aws-sdk-client-mock";
import type { Server } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_CONFIG } from "../../deploy/lib/config/schema.js";
import { registryAuth, type RegistryCredentials } from "../../deploy/lib/gates/registry.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { ecrPushAuth, isEcrRegistry } from "../../deploy/lib/supply/publish/ecr.js";
import { StubEngine } from "../harness/stub-engine.js";
import { drive, type Driven } from "../helpers/drive.js";
import { callWith } from "../helpers/ship-calls.js";
import { ACCOUNT, FakeGithub, FakeSts, listen, REQUEST_TOKEN } from "../aws/fake-sts.js";

const T0 = Date.parse("2026-11-23T10:00:00Z");
const HOST = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`;
/** The publishing role, trusting the main branch's CI job (no GitHub environment: the sub names the ref). */
const PUBLISHER = `arn:aws:iam::${ACCOUNT}:role/publisher`;
const MAIN_SUB = "repo:acme/shop:ref:refs/heads/main";
const RUN_URL = "https://github.com/acme/shop/actions/runs/4242/attempts/2";
const PUSH = { repository: "orders", tags: ["sha-0123456", "branch-main"] };
/** Built, not written out: a literal password-shaped string is what the repository's own secret scan refuses. */
const ECR_PASSWORD = ["ecr", "password", "x".repeat(24)].join("-");
/** An IAM user's key pair ECR knows (the static path). */
const USER_KEY = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };

const secrets = new Set<string>([USER_KEY.accessKeyId, USER_KEY.secretAccessKey, REQUEST_TOKEN, ECR_PASSWORD]);
let github: FakeGithub;
let sts: FakeSts;
let engine: StubEngine;
const servers: Server[] = [];
let urls: { sts: string; github: string };
let stderr: string[];

// --- ECR, strict about the identity a request is signed with ---------------------------------------

interface Signed {
  command: string;
  accessKeyId: string;
  sessionToken: string | undefined;
}

const denied = (name: string, message: string) =>
  new ECRServiceException({ name, $fault: "client", $metadata: { httpStatusCode: 400 }, message });

class StrictEcr {
  readonly signed: Signed[] = [];
  readonly repos = new Map<string, Repository>();
  readonly mock = mockClient(ECRClient);

  constructor() {
    this.mock.on(DescribeRepositoriesCommand).callsFake(async (input: DescribeRepositoriesCommandInput, getClient) => {
      await this.authenticate("DescribeRepositories", getClient);
      const name = input.repositoryNames?.[0] ?? "";
      const repo = this.repos.get(name);
      if (!repo)
        throw new RepositoryNotFoundException({
          message: `The repository with name '${name}' does not exist in the registry with id '${input.registryId ?? ACCOUNT}'`,
          $metadata: { httpStatusCode: 400 },
        });
      return { repositories: [repo] };
    });
    this.mock.on(CreateRepositoryCommand).callsFake(async (input: CreateRepositoryCommandInput, getClient) => {
      await this.authenticate("CreateRepository", getClient);
      const name = input.repositoryName ?? "";
      const repo: Repository = {
        registryId: input.registryId ?? ACCOUNT,
        repositoryName: name,
        repositoryUri: `${HOST}/${name}`,
        imageTagMutability: input.imageTagMutability,
        imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters,
        imageScanningConfiguration: input.imageScanningConfiguration,
      };
      this.repos.set(name, repo);
      return { repository: repo };
    });
    this.mock.on(GetAuthorizationTokenCommand).callsFake(async (_input: unknown, getClient) => {
      await this.authenticate("GetAuthorizationToken", getClient);
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${ECR_PASSWORD}`).toString("base64"),
            proxyEndpoint: `https://${HOST}`,
            expiresAt: new Date(Date.now() + 12 * 3600_000),
          },
        ],
      };
    });
  }

  /** What SigV4 proves to ECR: a key it knows, signed with its secret, with the session's token, unexpired. */
  private async authenticate(command: string, getClient: () => ECRClient): Promise<void> {
    const id = await getClient().config.credentials();
    this.signed.push({ command, accessKeyId: id.accessKeyId, sessionToken: id.sessionToken });
    const session = sts.sessions.get(id.accessKeyId);
    if (session) {
      if (id.secretAccessKey !== session.secretAccessKey)
        throw denied("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
      if (id.sessionToken !== session.sessionToken)
        throw denied("UnrecognizedClientException", "The security token included in the request is invalid.");
      if (Date.now() >= session.expiration.getTime())
        throw denied("ExpiredTokenException", "The security token included in the request is expired");
      return;
    }
    if (id.accessKeyId === USER_KEY.accessKeyId) {
      if (id.secretAccessKey !== USER_KEY.secretAccessKey)
        throw denied("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.");
      return;
    }
    throw denied("UnrecognizedClientException", "The security token included in the request is invalid.");
  }
}

let ecr: StrictEcr;

// --- the world ---------------------------------------------------------------------------------------

beforeAll(async () => {
  const s = await listen((req, body) => sts.handle(req, body));
  const g = await listen((req) => github.handle(req));
  servers.push(s.server, g.server);
  urls = { sts: s.url, github: `${g.url}/_apis/distributedtask/hubs/build/plans/p1/jobs/j1/idtoken?api-version=2.0` };
  // The SDK's own per-service endpoint setting: the STS client is built as in production, and sent here.
  process.env.AWS_ENDPOINT_URL_STS = urls.sts;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_STS;
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});
beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["Date"], now: T0 });
  github = new FakeGithub(secrets);
  github.sub = MAIN_SUB;
  sts = new FakeSts(github, secrets);
  sts.roles.set(PUBLISHER, { sub: MAIN_SUB, maxSessionSeconds: 3600 });
  ecr = new StrictEcr();
  engine = await new StubEngine().install();
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
});
let current: Driven | undefined;
afterEach(() => {
  // Nothing secret was ever written to the progress log.
  const log = stderr.join("");
  for (const s of secrets) expect(log).not.toContain(s);
  current?.engine.uninstall();
  current = undefined;
  engine.uninstall();
  ecr.mock.restore();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

let envSeq = 0;
/** A Secret as `env://NAME` passes it: the value lives in the environment, the Secret is only its URI. */
const secretOf = (value: string) => {
  const name = `SHIPSHAPE_T_ECR_ROLE_${++envSeq}`;
  process.env[name] = value;
  return dag.secret(`env://${name}`);
};

/** with-aws --role-arn --web-identity-token, with-run --run-url: what registryCredsFor hands over. */
const roleCreds = (over: Partial<RegistryCredentials> = {}): RegistryCredentials => ({
  username: "",
  awsRoleArn: PUBLISHER,
  awsWebIdentityToken: secretOf(github.issue()),
  runUrl: RUN_URL,
  ...over,
});

const at = (minutes: number) => vi.setSystemTime(T0 + minutes * 60_000);

/** The Problem a call ends with, its whole text checked for secrets and for being one line. */
async function problemOf(p: Promise<unknown>): Promise<Problem> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Problem);
  const problem = error as Problem;
  expect(problem.cause_).not.toContain("\n");
  const text = `${String(problem)}\n${problem.hint}\n${JSON.stringify(problem)}`;
  for (const s of secrets) expect(text).not.toContain(s);
  return problem;
}

describe("the strict ECR fake", () => {
  it("refuses keys STS never issued and a session past its expiry (it is not kinder than ECR)", async () => {
    const made = await problemOf(
      ecrPushAuth(DEFAULT_CONFIG, isEcrRegistry(HOST)!, {
        username: "",
        awsAccessKeyId: secretOf("ASIAQQQQQQQQQQQQQQQ9"),
        awsSecretAccessKey: secretOf("made-up-secret-made-up-secret-made-up-000"),
        awsSessionToken: secretOf("IQoJb3JpZ2luX2VjMADEUP"),
      }),
    );
    expect(made.cause_).toBe("AWS does not recognise the access key (invalid or deleted key, or a missing session token)");
    // A real session, handed in as keys after it expired.
    await registryAuth(DEFAULT_CONFIG, HOST, roleCreds());
    const session = [...sts.sessions.values()][0]!;
    at(61);
    const expired = await problemOf(
      registryAuth(DEFAULT_CONFIG, HOST, {
        username: "",
        awsAccessKeyId: secretOf(session.accessKeyId),
        awsSecretAccessKey: secretOf(session.secretAccessKey),
        awsSessionToken: secretOf(session.sessionToken),
      }),
    );
    expect(expired.cause_).toBe("the AWS credentials have expired");
  });
});

describe("ECR with role-only credentials (GitHub OIDC)", () => {
  it("assumes the role with the web identity token and logs in with the session's keys", async () => {
    const auth = await registryAuth(DEFAULT_CONFIG, HOST, roleCreds(), PUSH);
    expect(auth).toMatchObject({ host: HOST, username: "AWS" });
    // The ECR password reaches the engine as a Secret, never as anything else.
    expect(await auth!.secret.plaintext()).toBe(ECR_PASSWORD);
    // One unsigned STS call (the token is the proof), the session named after the run as the deploy module names it.
    expect(sts.calls).toHaveLength(1);
    expect(sts.calls[0]?.authorization).toBeUndefined();
    expect(Object.fromEntries(sts.calls[0]?.params ?? [])).toMatchObject({
      Action: "AssumeRoleWithWebIdentity",
      RoleArn: PUBLISHER,
      RoleSessionName: "shipshape-shop-4242-2",
      DurationSeconds: "3600",
    });
    // Every ECR call, the repository's creation included, signed by that session and nothing else.
    const [session] = [...sts.sessions.values()];
    expect(ecr.signed.map((s) => s.command)).toEqual(["DescribeRepositories", "CreateRepository", "GetAuthorizationToken"]);
    expect(ecr.signed.every((s) => s.accessKeyId === session?.accessKeyId && s.sessionToken === session.sessionToken)).toBe(true);
    expect(ecr.repos.get("orders")?.imageTagMutability).toBe("IMMUTABLE_WITH_EXCLUSION");
    expect(stderr.join("")).toContain(`aws: assumed arn:aws:sts::${ACCOUNT}:assumed-role/publisher/shipshape-shop-4242-2 until`);
  });

  it("fetches a fresh token from GitHub with the token request URL and token", async () => {
    const creds = roleCreds({
      awsWebIdentityToken: undefined,
      awsIdTokenRequestUrl: secretOf(urls.github),
      awsIdTokenRequestToken: secretOf(REQUEST_TOKEN),
      runUrl: "https://github.com/acme/shop/actions/runs/5151",
    });
    const auth = await registryAuth(DEFAULT_CONFIG, HOST, creds, PUSH);
    expect(await auth!.secret.plaintext()).toBe(ECR_PASSWORD);
    expect(github.requests).toBe(1);
    expect(sts.calls.map((c) => c.params.get("RoleSessionName"))).toEqual(["shipshape-shop-5151"]);
    expect(github.issued.has(sts.calls[0]?.params.get("WebIdentityToken") ?? "")).toBe(true);
    expect(new Set(ecr.signed.map((s) => s.accessKeyId))).toEqual(new Set(sts.sessions.keys()));
  });

  it("logs in again later in the same call (release: publish, then sign) on the session, after the token itself expired", async () => {
    const creds = roleCreds({ runUrl: "https://github.com/acme/shop/actions/runs/6161" });
    await registryAuth(DEFAULT_CONFIG, HOST, creds, PUSH);
    at(20); // the 5-minute token is long dead; the one-hour session is not
    const again = await registryAuth(DEFAULT_CONFIG, HOST, creds);
    expect(await again!.secret.plaintext()).toBe(ECR_PASSWORD);
    expect(sts.calls).toHaveLength(1);
    expect(new Set(ecr.signed.map((s) => s.accessKeyId)).size).toBe(1);
    // Past the session, the dead token cannot buy another: said so, and ECR is not asked with a dead session.
    at(61);
    const signedBefore = ecr.signed.length;
    const dead = await problemOf(registryAuth(DEFAULT_CONFIG, HOST, creds));
    expect(dead.cause_).toMatch(/^the role session could not be renewed: the web identity token has expired \(Token expired: /);
    expect(dead.hint).toContain("pass the token request URL and token");
    expect(ecr.signed).toHaveLength(signedBefore);
  });

  it("turns an STS refusal into one line with a hint, before any ECR call", async () => {
    // A pull request's token: the publisher role trusts the main branch only.
    const pr = await problemOf(
      registryAuth(
        DEFAULT_CONFIG,
        HOST,
        roleCreds({ awsWebIdentityToken: secretOf(github.issue(undefined, "repo:acme/shop:pull_request")) }),
        PUSH,
      ),
    );
    expect(pr.cause_).toBe(`not allowed to assume ${PUBLISHER}: Not authorized to perform sts:AssumeRoleWithWebIdentity`);
    expect(pr.hint).toContain("the role's trust policy must allow this workflow's token: token.actions.githubusercontent.com:sub = ");
    expect(pr.hint).toContain(":aud = sts.amazonaws.com");
    // A token GitHub did not issue (or for another audience).
    const forged = await problemOf(
      registryAuth(DEFAULT_CONFIG, HOST, roleCreds({ awsWebIdentityToken: secretOf(github.issue("sigstore")) })),
    );
    expect(forged.cause_).toBe("STS rejected the web identity token: Incorrect token audience");
    expect(forged.hint).toContain("permissions: id-token: write");
    expect(ecr.signed).toEqual([]);
    expect(sts.sessions.size).toBe(0);
  });

  it("refuses a half-given role before calling STS", async () => {
    const noToken = await problemOf(registryAuth(DEFAULT_CONFIG, HOST, roleCreds({ awsWebIdentityToken: undefined })));
    expect(noToken.cause_).toBe("a role ARN was given but no web identity token");
    const noRole = await problemOf(registryAuth(DEFAULT_CONFIG, HOST, roleCreds({ awsRoleArn: "" })));
    expect(noRole.cause_).toBe("a web identity token was given but no role to assume");
    const halfRequest = await problemOf(
      registryAuth(DEFAULT_CONFIG, HOST, roleCreds({ awsWebIdentityToken: undefined, awsIdTokenRequestUrl: secretOf(urls.github) })),
    );
    expect(halfRequest.cause_).toBe("with-aws was given only one of --id-token-request-url and --id-token-request-token");
    expect([sts.calls, ecr.signed]).toEqual([[], []]);
  });

  it("still refuses ECR with neither keys nor a role, naming both ways", async () => {
    const none = await problemOf(registryAuth(DEFAULT_CONFIG, HOST, { username: "", runUrl: RUN_URL }, PUSH));
    expect(none.cause_).toBe(`${HOST} is Amazon ECR, but no AWS credentials were given`);
    for (const flag of [
      "--access-key-id",
      "--secret-access-key",
      "--role-arn",
      "--web-identity-token",
      "--id-token-request-url",
      "--id-token-request-token",
    ])
      expect(none.hint).toContain(flag);
    expect([sts.calls, ecr.signed]).toEqual([[], []]);
  });

  it("uses keys when they are given (the deploy module hands its role session over as keys), without calling STS", async () => {
    const auth = await registryAuth(
      DEFAULT_CONFIG,
      HOST,
      roleCreds({ awsAccessKeyId: secretOf(USER_KEY.accessKeyId), awsSecretAccessKey: secretOf(USER_KEY.secretAccessKey) }),
      PUSH,
    );
    expect(await auth!.secret.plaintext()).toBe(ECR_PASSWORD);
    expect(sts.calls).toEqual([]);
    expect(new Set(ecr.signed.map((s) => s.accessKeyId))).toEqual(new Set([USER_KEY.accessKeyId]));
  });
});

describe("dagger call shipshape with-aws --role-arn --web-identity-token with-run --run-url publish", () => {
  it("publishes to ECR with the role's session: the chain's role settings reach the login", async () => {
    vi.useRealTimers(); // the call's own module graph loads on real time; tokens are issued at the real now
    current = await drive();
    const ref = (
      await callWith<string>(
        current,
        "publish",
        { registry: HOST, repository: "orders" },
        {
          sha: "0123456789abcdef0123456789abcdef01234567",
          branch: "main",
          awsRoleArn: PUBLISHER,
          awsWebIdentityToken: secretOf(github.issue()),
          runUrl: RUN_URL,
        },
      )
    ).json;
    expect(ref).toMatch(new RegExp(`^${HOST}/orders@sha256:[0-9a-f]{64}$`));
    expect(sts.calls.map((c) => c.params.get("RoleSessionName"))).toEqual(["shipshape-shop-4242-2"]);
    const [session] = [...sts.sessions.values()];
    expect(new Set(ecr.signed.map((s) => s.accessKeyId))).toEqual(new Set([session?.accessKeyId]));
    expect(current.engine.published.map((p) => p.auth[HOST])).toEqual(
      current.engine.published.map(() => ({ username: "AWS", secret: ECR_PASSWORD })),
    );
    // The ECR password and the session reach the engine only in the one setSecret that hands the password over.
    const withPassword = current.engine.queries.filter((q) => q.text.includes(ECR_PASSWORD));
    expect(withPassword.map((q) => q.calls[0]!.field)).toEqual(["setSecret"]);
    for (const q of current.engine.queries)
      for (const v of [session!.secretAccessKey, session!.sessionToken]) expect(q.text).not.toContain(v);
  });
});
