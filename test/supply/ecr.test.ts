/**
 * ECR login and repository set-up against a small stateful fake of the ECR API (aws-sdk-client-mock
 * behind the real SDK client and its real error classes). No AWS account is needed or touched.
 */
import {
  CreateRepositoryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ECRServiceException,
  GetAuthorizationTokenCommand,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  ServerException,
  type CreateRepositoryCommandInput,
  type DescribeRepositoriesCommandInput,
  type Repository,
} from "@aws-sdk/client-ecr";
import { mockClient } from "aws-sdk-client-mock";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import {
  EcrLogin,
  checkRegion,
  ecrClient,
  ecrLogin,
  ecrRepositoryName,
  ensureRepository,
  isEcrRegistry,
  tagsRefusedBy,
  type RepositorySettings,
} from "../../deploy/lib/supply/publish/ecr.js";
import { floatingTagFilters, imageTags } from "../../deploy/lib/supply/publish/tags.js";

const ACCOUNT = "123456789012";
const HOST = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const CREDS = {
  region: "us-east-1",
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: "FwoGZXIvYXdzEJr//////////wEaDEXAMPLESESSIONTOKENvalue",
};
const WANT: RepositorySettings = { createRepository: true, immutableTags: true, scanOnPush: true, registry: isEcrRegistry(HOST) };

const awsError = (name: string, message: string, status = 400) =>
  new ECRServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: { httpStatusCode: status }, message });
const throttled = () => awsError("ThrottlingException", "Rate exceeded");

/** ECR as a Map of repositories, with scripted failures per command and a hook to simulate another pipeline. */
class FakeEcr {
  readonly repos = new Map<string, Repository>();
  readonly calls: string[] = [];
  readonly failures: Record<string, Error[]> = {};
  beforeCreate?: () => void;
  readonly mock = mockClient(ECRClient);

  constructor() {
    this.mock.on(DescribeRepositoriesCommand).callsFake((input: DescribeRepositoriesCommandInput) => {
      this.step("DescribeRepositories");
      const name = input.repositoryNames?.[0] ?? "";
      const repo = this.repos.get(`${input.registryId ?? ACCOUNT}/${name}`);
      if (!repo) {
        throw new RepositoryNotFoundException({
          message: `The repository with name '${name}' does not exist in the registry with id '${input.registryId ?? ACCOUNT}'`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      return { repositories: [repo] };
    });
    this.mock.on(CreateRepositoryCommand).callsFake((input: CreateRepositoryCommandInput) => {
      this.beforeCreate?.();
      this.step("CreateRepository");
      const registryId = input.registryId ?? ACCOUNT;
      const name = input.repositoryName ?? "";
      if (this.repos.has(`${registryId}/${name}`)) {
        throw new RepositoryAlreadyExistsException({
          message: `The repository with name '${name}' already exists in the registry with id '${registryId}'`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      return { repository: this.add(name, input, registryId) };
    });
    this.mock.on(GetAuthorizationTokenCommand).callsFake(() => {
      this.step("GetAuthorizationToken");
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from("AWS:eyJwYXlsb2FkIjoiZWNyLXBhc3N3b3JkIn0=").toString("base64"),
            proxyEndpoint: `https://${HOST}`,
            expiresAt: new Date("2030-01-01T12:00:00Z"),
          },
        ],
      };
    });
  }

  add(name: string, settings: Partial<CreateRepositoryCommandInput> = {}, registryId = ACCOUNT): Repository {
    const repo: Repository = {
      registryId,
      repositoryName: name,
      repositoryArn: `arn:aws:ecr:us-east-1:${registryId}:repository/${name}`,
      repositoryUri: `${registryId}.dkr.ecr.us-east-1.amazonaws.com/${name}`,
      imageTagMutability: settings.imageTagMutability ?? "MUTABLE",
      imageTagMutabilityExclusionFilters: settings.imageTagMutabilityExclusionFilters,
      imageScanningConfiguration: settings.imageScanningConfiguration ?? { scanOnPush: false },
    };
    this.repos.set(`${registryId}/${name}`, repo);
    return repo;
  }

  fail(command: string, ...errors: Error[]): void {
    (this.failures[command] ??= []).push(...errors);
  }

  private step(command: string): void {
    this.calls.push(command);
    const next = this.failures[command]?.shift();
    if (next) throw next;
  }
}

let ecr: FakeEcr;
let client: ECRClient;
const delays: number[] = [];
const fast = { sleep: async (ms: number) => void delays.push(ms), random: () => 0.5 };

beforeEach(() => {
  ecr = new FakeEcr();
  client = ecrClient(CREDS);
  delays.length = 0;
});
afterEach(() => {
  ecr.mock.restore();
  vi.useRealTimers();
});

async function problemOf(p: Promise<unknown>): Promise<Problem> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Problem) return e;
    throw new Error(`expected a Problem, got ${String(e)}`, { cause: e });
  }
  throw new Error("expected a Problem, got success");
}

describe("isEcrRegistry", () => {
  it.each([
    [HOST, { accountId: ACCOUNT, region: "us-east-1", fips: false }],
    [`${ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com`, { region: "us-gov-west-1", fips: true }],
    [`${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn`, { region: "cn-north-1", fips: false }],
    [`${ACCOUNT}.dkr-ecr.eu-central-2.on.aws`, { region: "eu-central-2" }],
    [`${ACCOUNT}.dkr-ecr-fips.us-east-2.on.aws`, { region: "us-east-2", fips: true }],
    [`https://${HOST.toUpperCase()}/team/`, { host: HOST, namespace: "team" }],
  ])("reads %s", (host, expected) => {
    expect(isEcrRegistry(host)).toMatchObject(expected);
  });

  it.each([
    "ghcr.io/org",
    "public.ecr.aws/acme",
    "docker.io",
    `1234.dkr.ecr.us-east-1.amazonaws.com`,
    `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.cn`, // .cn is for cn- regions only
    `${ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com`,
    `${ACCOUNT}.dkr-ecr.us-east-1.amazonaws.com`,
    `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.evil.example`,
  ])("is not ECR: %s", (host) => {
    expect(isEcrRegistry(host)).toBeUndefined();
  });

  it("prefixes the registry's namespace to the repository", () => {
    expect(ecrRepositoryName(isEcrRegistry(`${HOST}/team`)!, "api")).toBe("team/api");
    expect(ecrRepositoryName(isEcrRegistry(HOST)!, "api")).toBe("api");
  });

  it("refuses a client in another region than the registry", () => {
    expect(() => checkRegion(isEcrRegistry(HOST)!, "eu-west-1")).toThrow(
      `the registry ${HOST} is in us-east-1, but AWS calls go to eu-west-1`,
    );
  });
});

describe("ecrClient", () => {
  it.each([
    [{ ...CREDS, region: "us-east-1\nx" }, /is not an AWS region/],
    [{ ...CREDS, secretAccessKey: " \n" }, /access key id or secret access key is empty/],
    [{ ...CREDS, accessKeyId: "ASIAIOSFODNN7EXAMPLE", sessionToken: undefined }, /temporary but no session token/],
  ])("refuses unusable credentials without echoing them (%#)", (creds, message) => {
    const run = () => ecrClient(creds);
    expect(run).toThrow(message);
    expect(run).toThrow(Problem);
    try {
      run();
    } catch (e) {
      for (const v of [CREDS.secretAccessKey, CREDS.sessionToken, "ASIAIOSFODNN7EXAMPLE"]) expect(String(e)).not.toContain(v);
    }
  });

  it("trims secret files' trailing newlines and does not show credentials when inspected", async () => {
    const c = ecrClient({ ...CREDS, accessKeyId: `${CREDS.accessKeyId}\n`, secretAccessKey: `${CREDS.secretAccessKey}\n` });
    const identity = await c.config.credentials();
    expect(identity.accessKeyId).toBe(CREDS.accessKeyId);
    expect(identity.secretAccessKey).toBe(CREDS.secretAccessKey);
    expect(await c.config.region()).toBe("us-east-1");
    const shown = inspect(c, { depth: 8 });
    for (const v of Object.values(CREDS).slice(1)) expect(shown).not.toContain(v);
  });
});

describe("ecrLogin", () => {
  it("decodes AWS:<password> and keeps the password out of logs", async () => {
    const login = await ecrLogin(client, isEcrRegistry(HOST), fast);
    expect(login).toBeInstanceOf(EcrLogin);
    expect([login.username, login.password, login.endpoint]).toEqual(["AWS", "eyJwYXlsb2FkIjoiZWNyLXBhc3N3b3JkIn0=", HOST]);
    expect(login.expiresAt.toISOString()).toBe("2030-01-01T12:00:00.000Z");
    for (const shown of [JSON.stringify(login), inspect(login), `${String(login)}`, JSON.stringify({ ...login })]) {
      expect(shown).not.toContain(login.password);
    }
    expect(JSON.parse(JSON.stringify(login))).toMatchObject({ username: "AWS", password: "***", endpoint: HOST });
  });

  it("uses the proxy endpoint when no registry is given", async () => {
    expect((await ecrLogin(client, undefined, fast)).endpoint).toBe(HOST);
  });

  it("stops before calling AWS when the registry is in another region", async () => {
    const p = await problemOf(ecrLogin(client, isEcrRegistry(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`), fast));
    expect(p.cause_).toMatch(/is in eu-west-1, but AWS calls go to us-east-1/);
    expect(ecr.calls).toEqual([]);
  });

  it("refuses a malformed token without printing it", async () => {
    ecr.mock
      .on(GetAuthorizationTokenCommand)
      .resolves({ authorizationData: [{ authorizationToken: Buffer.from("no-colon-token").toString("base64") }] });
    const p = await problemOf(ecrLogin(client, undefined, fast));
    expect(p.cause_).toBe("ECR returned no usable authorization token");
    expect(p.message).not.toContain("no-colon-token");
  });

  it("explains expired credentials", async () => {
    ecr.fail("GetAuthorizationToken", awsError("ExpiredTokenException", "The security token included in the request is expired"));
    const p = await problemOf(ecrLogin(client, undefined, fast));
    expect([p.cause_, p.hint]).toEqual([
      "the AWS credentials have expired",
      "refresh them (rerun the credentials step, or lengthen the role session) and retry",
    ]);
  });
});

describe("ensureRepository", () => {
  it("creates a missing repository immutable and scanned, then finds it", async () => {
    const created = await ensureRepository(client, "api", WANT, fast);
    expect(created).toMatchObject({
      name: "api",
      uri: `${HOST}/api`,
      tagMutability: "IMMUTABLE",
      scanOnPush: true,
      created: true,
      warnings: [],
    });
    expect(ecr.mock.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toEqual({
      repositoryName: "api",
      registryId: ACCOUNT,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
    });
    const again = await ensureRepository(client, "api", WANT, fast);
    expect(again).toMatchObject({ created: false, tagMutability: "IMMUTABLE", warnings: [] });
    expect(ecr.calls).toEqual(["DescribeRepositories", "CreateRepository", "DescribeRepositories"]);
  });

  it("leaves the floating tags movable with exclusion filters", async () => {
    const strategy = { sha: true, branch: true, semver: true, latest: true };
    const repo = await ensureRepository(client, "api", { ...WANT, mutableTagFilters: floatingTagFilters(strategy) }, fast);
    expect(repo).toMatchObject({ tagMutability: "IMMUTABLE_WITH_EXCLUSION", tagFilters: ["latest", "branch-*"] });
    const tags = imageTags({
      sha: "0123456789abcdef0123456789abcdef01234567",
      branch: "main",
      defaultBranch: "main",
      version: "1.4.0",
      strategy,
    });
    // 1.4 and 1 cannot be told from 1.4.0 by a wildcard: the caller learns before pushing anything.
    expect(tagsRefusedBy(tags, repo)).toEqual(["1.4", "1"]);
  });

  it("creates mutable when asked, and in the registry's account", async () => {
    const other = isEcrRegistry(`210987654321.dkr.ecr.us-east-1.amazonaws.com`);
    const repo = await ensureRepository(client, "api", { ...WANT, immutableTags: false, scanOnPush: false, registry: other }, fast);
    expect(repo).toMatchObject({ tagMutability: "MUTABLE", scanOnPush: false, uri: "210987654321.dkr.ecr.us-east-1.amazonaws.com/api" });
    expect(ecr.repos.has("210987654321/api")).toBe(true);
  });

  it("reports an existing mutable, unscanned repository instead of changing it", async () => {
    ecr.add("legacy");
    const repo = await ensureRepository(client, "legacy", WANT, fast);
    expect(repo.created).toBe(false);
    expect(repo.warnings).toEqual([
      "ECR repository legacy has mutable tags though publish.ecr.immutableTags is true: a pushed tag can be overwritten; Shipshape leaves existing repositories alone (aws ecr put-image-tag-mutability changes it)",
      "ECR repository legacy does not scan on push (fine if registry-level scanning is on)",
    ]);
    expect(ecr.calls).toEqual(["DescribeRepositories"]);
    expect(ecr.repos.get(`${ACCOUNT}/legacy`)?.imageTagMutability).toBe("MUTABLE");
  });

  it("treats a concurrent create as success and reads the winner's settings", async () => {
    ecr.beforeCreate = () => {
      ecr.beforeCreate = undefined;
      ecr.add("api", { imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    };
    const repo = await ensureRepository(client, "api", WANT, fast);
    expect(repo).toMatchObject({ created: false, tagMutability: "IMMUTABLE", warnings: [] });
    expect(ecr.calls).toEqual(["DescribeRepositories", "CreateRepository", "DescribeRepositories"]);
  });

  it("retries throttling with jittered backoff, then succeeds", async () => {
    ecr.fail("DescribeRepositories", throttled(), throttled());
    ecr.fail("CreateRepository", new ServerException({ message: "internal", $metadata: { httpStatusCode: 500 } }));
    const repo = await ensureRepository(client, "api", WANT, fast);
    expect(repo.created).toBe(true);
    expect(delays).toEqual([250, 500, 250]); // random 0.5 of 500, 1000; then the create's own first backoff
    expect(ecr.calls).toEqual([
      "DescribeRepositories",
      "DescribeRepositories",
      "DescribeRepositories",
      "CreateRepository",
      "CreateRepository",
    ]);
  });

  it("gives up after a bounded number of attempts, with capped waits", async () => {
    ecr.fail("DescribeRepositories", ...Array.from({ length: 10 }, throttled));
    const p = await problemOf(ensureRepository(client, "api", WANT, { ...fast, random: () => 0.999, attempts: 6, maxMs: 3000 }));
    expect(p.cause_).toBe("ECR kept failing ecr:DescribeRepositories (ThrottlingException) after 6 attempts");
    expect(delays).toEqual([499, 999, 1998, 2997, 2997]); // 500·2^n, capped at maxMs
    expect(ecr.calls).toHaveLength(6);
  });

  it("waits on real timers by default (driven by fake time here)", async () => {
    vi.useFakeTimers();
    ecr.fail("DescribeRepositories", throttled());
    const pending = ensureRepository(client, "api", WANT);
    await vi.runAllTimersAsync();
    expect((await pending).created).toBe(true);
  });

  it("does not retry what a retry cannot fix", async () => {
    ecr.fail(
      "CreateRepository",
      awsError(
        "AccessDeniedException",
        "User: arn:aws:sts::123456789012:assumed-role/ci/gh is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:123456789012:repository/api because no identity-based policy allows the ecr:CreateRepository action",
      ),
    );
    const p = await problemOf(ensureRepository(client, "api", WANT, fast));
    expect(p.cause_).toMatch(
      /^the AWS role lacks ecr:CreateRepository: User: arn:aws:sts::123456789012:assumed-role\/ci\/gh is not authorized/,
    );
    expect(p.hint).toBe("add it or pre-create the repository");
    expect(delays).toEqual([]);
    expect(ecr.repos.size).toBe(0);
  });

  it("names the missing permission for describe too", async () => {
    ecr.fail("DescribeRepositories", awsError("AccessDeniedException", "not authorized to perform: ecr:DescribeRepositories"));
    expect((await problemOf(ensureRepository(client, "api", WANT, fast))).hint).toBe("add ecr:DescribeRepositories to the role's policy");
  });

  it("does not create when told not to", async () => {
    const p = await problemOf(ensureRepository(client, "api", { ...WANT, createRepository: false }, fast));
    expect([p.cause_, p.hint]).toEqual([
      `ECR repository api does not exist in ${HOST}`,
      "create it, or set publish.ecr.createRepository: true",
    ]);
    expect(ecr.calls).toEqual(["DescribeRepositories"]);
  });

  it("refuses the wrong region before it could create a stray repository", async () => {
    const p = await problemOf(
      ensureRepository(client, "api", { ...WANT, registry: isEcrRegistry(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`) }, fast),
    );
    expect(p.hint).toBe("build the ECR client for eu-west-1 (the region in the registry host)");
    expect(ecr.calls).toEqual([]);
  });

  it.each([
    [
      "an unknown key",
      awsError("UnrecognizedClientException", "The security token included in the request is invalid."),
      /does not recognise the access key/,
    ],
    [
      "a wrong secret",
      awsError("InvalidSignatureException", "The request signature we calculated does not match the signature you provided."),
      /rejected the request signature/,
    ],
    [
      "a wrongly scoped region",
      awsError("InvalidSignatureException", "Credential should be scoped to a valid region."),
      /rejected the request for region us-east-1/,
    ],
    [
      "an unreachable endpoint",
      Object.assign(new Error("getaddrinfo ENOTFOUND api.ecr.us-east-1.amazonaws.com"), { code: "ENOTFOUND" }),
      /no ECR endpoint answered for region us-east-1/,
    ],
    [
      "anything else",
      awsError("KmsException", "kms key disabled"),
      /^ECR ecr:DescribeRepositories failed: KmsException: kms key disabled$/,
    ],
  ])("explains %s in one line", async (_name, error, cause) => {
    ecr.fail("DescribeRepositories", error);
    const p = await problemOf(ensureRepository(client, "api", WANT, fast));
    expect(p.cause_).toMatch(cause);
    expect(p.cause_).not.toContain("\n");
  });

  it("never puts a credential value in a Problem, whatever AWS said", async () => {
    const leaky = [
      awsError(
        "InvalidSignatureException",
        `Signature mismatch. Credential=${CREDS.accessKeyId}/20260101/us-east-1/ecr/aws4_request secret ${CREDS.secretAccessKey}`,
      ),
      awsError("UnrecognizedClientException", `bad token ${CREDS.sessionToken}`),
      awsError("AccessDeniedException", `key ${CREDS.accessKeyId} with ${CREDS.secretAccessKey} denied`),
      awsError("SomethingNew", `echo ${CREDS.sessionToken} ${CREDS.secretAccessKey} ASIAZZZZZZZZZZZZZZZZ`),
    ];
    for (const error of leaky) {
      ecr.fail("DescribeRepositories", error);
      const p = await problemOf(ensureRepository(client, "api", WANT, fast));
      for (const value of [CREDS.accessKeyId, CREDS.secretAccessKey, CREDS.sessionToken, "ASIAZZZZZZZZZZZZZZZZ"]) {
        expect(p.message).not.toContain(value);
        expect(inspect(p)).not.toContain(value);
      }
    }
  });
});

describe("tagsRefusedBy", () => {
  const tags = ["1.4.0", "1.4", "1", "sha-0123456", "branch-main", "latest"];
  it.each([
    ["MUTABLE", [], []],
    ["IMMUTABLE", [], ["1.4", "1", "branch-main", "latest"]],
    ["IMMUTABLE_WITH_EXCLUSION", ["latest", "branch-*", "1*"], []],
    ["MUTABLE_WITH_EXCLUSION", ["latest"], ["latest"]],
  ] as const)("%s with filters %j refuses %j", (tagMutability, tagFilters, refused) => {
    expect(tagsRefusedBy(tags, { tagMutability, tagFilters: [...tagFilters] })).toEqual(refused);
  });
});
