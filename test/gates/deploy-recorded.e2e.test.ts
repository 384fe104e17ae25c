/**
 * deploy, rollback, promote and abort as recorded runs, each one a `dagger call` through the SDK's
 * invocation path (a fresh module per call, the returned Deployment read back from its JSON
 * state, its audit trail handed to the next call by File ID): the stub engine answers cosign, the stateful ECS (and ELB, STS) fakes play AWS on fake time, the audit
 * trail goes to a fresh database on the real Postgres, and notifications to local HTTP
 * receivers playing Slack and a JSON webhook. What is checked is what a team would look at
 * afterwards: the rows, the JSON Lines handed back, the messages received, the Deployment.
 */
import { ECRClient } from "@aws-sdk/client-ecr";
import type { ECSClient, UpdateServiceCommandInput } from "@aws-sdk/client-ecs";
import { dag, type Secret } from "@dagger.io/dagger";
import { mockClient } from "aws-sdk-client-mock";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { verifySignature, type WebhookPayloadV1 } from "../../deploy/lib/notify/webhook.js";
import type { SlackMessage } from "../../deploy/lib/notify/slack.js";
import type { Deployment } from "../../deploy/src/report/deployment.js";
import { parseJsonl, type AuditRecord } from "../../deploy/lib/trail/record.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { ALB_WITH_ADVANCED_CONFIG, DIGEST, FakeEcs, IMAGE, arnOf } from "../deploy/fake-ecs.js";
import { FakeElb, tgArnOf } from "../deploy/fake-elb.js";
import { closeAll, receiver, type Receiver } from "../notify/receiver.js";
import { admin, closedPort, freshDatabase, type FreshDb } from "../trail/db.js";
import { drive, type Driven } from "../helpers/drive.js";
import { allowEcrLogin, VERIFIED } from "../helpers/signed-image.js";
import { FakeSts, ROLE } from "../helpers/fake-sts.js";
import { settle, trackRealIo, type SettleOptions } from "../helpers/fake-time-io.js";
import {
  auditTrailOf,
  callAbort,
  callDeploy,
  callPromote,
  callRollback,
  filesOf,
  markdownOf,
  onFakeClock,
  type DeployArgs,
} from "../helpers/ship-calls.js";
import type { Handle } from "../harness/invoke.js";

const START = new Date("2026-11-20T10:00:00Z");
const RUN_URL = "https://github.com/acme/api/actions/runs/123";
const REPO_URL = "https://github.com/acme/api";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const APP1 = arnOf("task-definition/app:1");
const APP2 = arnOf("task-definition/app:2");
const STAGING = "{ cluster: main, service: api, region: us-east-1, containerName: app, progressDeadlineMinutes: 10 }";

const AKID = "AKIAFAKEFAKE0EXAMPLE";
const SAK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzRECORDED";
const WEBHOOK_SECRET = "whsec-fake-000000-signing";
const DB_PASSWORD = "pgS3cret-Audit-Passw0rd";
/** The path of every receiver's URL: the webhook's credential. */
const WEBHOOK_PATH = "/services/T0TEST/B0TEST/s3cr3tWebhookToken0123";
const SECRETS = [AKID, SAK, WEBHOOK_SECRET, DB_PASSWORD, WEBHOOK_PATH, "s3cr3tWebhookToken0123"];

const verified = VERIFIED;

let current: Driven;
let fake: FakeEcs;
// Reading signatures from ECR needs a registry login, as with the real registry.
const ecr = mockClient(ECRClient);
let untrack: () => void;
let stderr: string[];
const databases: FreshDb[] = [];
const servers: Server[] = [];

const envNames = new Set<string>();

/** A Secret whose plaintext is `value`, as `env://NAME` resolves in the engine. */
function secret(name: string, value: string): Secret {
  process.env[`SHIPSHAPE_REC_${name}`] = value;
  envNames.add(`SHIPSHAPE_REC_${name}`);
  return dag.secret(`env://SHIPSHAPE_REC_${name}`);
}

const staticKeys = () => ({ awsAccessKeyId: secret("AKID", AKID), awsSecretAccessKey: secret("SAK", SAK) });

const base = (over: DeployArgs = {}): DeployArgs => ({
  ...staticKeys(),
  cosignPublicKey: dag.secret("env://PUB"),
  insecureIgnoreTlog: true,
  actor: "ada",
  runUrl: RUN_URL,
  ...over,
});

const yaml = (env = STAGING, extra = "") => `environments:\n  staging: ${env}\n${extra}`;

async function use(text: string): Promise<void> {
  current.engine.uninstall();
  current = await drive({ files: { "shipshape.yaml": text } });
}

const signed = () => current.engine.onExec((a) => a[0] === "cosign" && a[1] === "verify", { exitCode: 0, stdout: verified });
const unsigned = () => current.engine.onExec((a) => a[1] === "verify", { exitCode: 10, stderr: "Error: no signatures found" });

async function database(): Promise<FreshDb> {
  const db = await freshDatabase("shipshape_recorded");
  databases.push(db);
  return db;
}

const dbSecret = (db: FreshDb) => secret("AUDIT_DB", db.url({ password: DB_PASSWORD }));

interface Row {
  kind: string;
  phase: string;
  outcome: string;
  environment: string;
  actor: string;
  digest: string | null;
  image: string | null;
  run_url: string | null;
  from_revision: string | null;
  to_revision: string | null;
  run_id: string;
}

const rowsOf = async (db: FreshDb): Promise<Row[]> =>
  (
    await admin(db.name, (c) =>
      c.query<Row>(
        "SELECT kind, phase, outcome, environment, actor, digest, image, run_url, from_revision, to_revision, run_id FROM deployment_audit ORDER BY id",
      ),
    )
  ).rows;

async function recordsOf(db: FreshDb): Promise<AuditRecord[]> {
  const trail = await PostgresTrail.open(db.url());
  try {
    return await trail.read();
  } finally {
    await trail.close();
  }
}

const jsonlOf = async (d: Handle<Deployment>) => parseJsonl(await (await auditTrailOf(d)).contents(), "audit.jsonl");

/** A call settled on fake time, the clock held while its fresh module loads (see onFakeClock). */
const settled = <T>(call: Promise<T>, opts?: SettleOptions): Promise<T> => onFakeClock(call, (p) => settle(p, opts));

/** The error a call ends with (it must end with one). */
async function failureOf(p: Promise<unknown>): Promise<Error> {
  const e = await settled(p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof Error) return e;
  throw new Error("expected the call to fail");
}

function expectNoSecrets(text: string, extra: readonly string[] = []): void {
  for (const s of [...SECRETS, ...extra]) expect(text).not.toContain(s);
}

/** Everything a Deployment hands back as text, files included. */
async function allTextOf(d: Handle<Deployment>): Promise<string> {
  const files = await filesOf(d);
  const contents = await Promise.all((await files.entries()).map((name) => files.file(name).contents()));
  return [await markdownOf(d), d.json.reason, ...d.json.timeline, ...d.json.warnings, ...d.json.notifications, ...contents].join("\n");
}

beforeEach(async () => {
  untrack = trackRealIo();
  current = await drive({ files: { "shipshape.yaml": yaml() } });
  vi.useFakeTimers({ now: START, toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
  allowEcrLogin(ecr);
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
});

afterEach(async () => {
  vi.restoreAllMocks();
  fake.restore();
  ecr.reset();
  vi.useRealTimers();
  current.engine.uninstall();
  untrack();
  await closeAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
  for (const name of envNames) delete process.env[name];
  // Nothing secret was ever written to the progress log.
  expectNoSecrets(stderr.join(""));
});

/** An HTTP server answering every request with `answer()`'s status and JSON. */
async function httpServer(answer: (path: string, host: string) => { status: number; body: string }): Promise<string> {
  const server = createServer((req, res) => {
    const out = answer(req.url ?? "/", req.headers.host ?? "");
    res.writeHead(out.status, { "content-type": "application/json", connection: "close" }).end(out.body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return String((server.address() as AddressInfo).port);
}

describe("a successful rolling deploy", () => {
  it("records started and completed in Postgres, hands the same records back, and announces it signed to Slack and the webhook", async () => {
    const db = await database();
    const [slack, hook] = [await receiver(), await receiver()];
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 120_000 });
    // What Postgres held when ECS was first asked to change something.
    let atFirstChange: Promise<Row[]> | undefined;
    for (const write of ["TagResource", "RegisterTaskDefinition", "UpdateService"])
      fake.afterCall.set(write, () => void (atFirstChange ??= rowsOf(db)));
    const d = await settled(
      callDeploy(
        current,
        "staging",
        IMAGE,
        base({
          auditDatabaseUrl: dbSecret(db),
          slackWebhook: secret("SLACK", slack.url),
          webhookUrl: secret("HOOK", hook.url),
          webhookSecret: secret("HOOK_SECRET", WEBHOOK_SECRET),
          version: "1.4.0",
          commitSha: COMMIT,
          repoUrl: REPO_URL,
        }),
      ),
    );

    expect(d.json.result).toBe("succeeded");
    expect(d.json.auditStorage).toBe("postgres");
    expect(d.json.warnings).toEqual([]);

    // Postgres: exactly one run, started before the rollout and completed after it.
    const rows = await rowsOf(db);
    expect(rows.map((r) => [r.kind, r.phase, r.outcome])).toEqual([
      ["deploy", "started", "unknown"],
      ["deploy", "completed", "succeeded"],
    ]);
    expect(new Set(rows.map((r) => r.run_id)).size).toBe(1);
    for (const r of rows) expect(r).toMatchObject({ environment: "staging", actor: "ada", digest: DIGEST, image: IMAGE, run_url: RUN_URL });
    expect(rows[1]).toMatchObject({ from_revision: APP1, to_revision: APP2 });
    expect((await atFirstChange)?.map((r) => r.phase)).toEqual(["started"]);
    const records = await recordsOf(db);
    // The rollout took two fake minutes between the records.
    expect(Date.parse(records[1]?.endedAt ?? "") - Date.parse(records[0]?.startedAt ?? "")).toBeGreaterThanOrEqual(120_000);
    expect(records[1]).toMatchObject({ version: "1.4.0", commitSha: COMMIT, strategy: "rolling" });

    // The JSON Lines handed back are those very records.
    expect(await jsonlOf(d)).toEqual(records);
    expect(await (await filesOf(d)).file("audit.jsonl").contents()).toBe(await (await auditTrailOf(d)).contents());
    expect(await (await filesOf(d)).entries()).toEqual(["audit.jsonl", "deployment.json", "summary.md"]);

    // Slack: one Block Kit message.
    expect(slack.received).toHaveLength(1);
    expect(slack.received[0]?.path).toBe(WEBHOOK_PATH);
    const message = JSON.parse(slack.received[0]?.body ?? "") as SlackMessage;
    expect(message.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: ":white_check_mark: Deploy to staging: succeeded", emoji: true },
    });
    const fields = message.blocks.flatMap((b) => ("fields" in b ? b.fields.map((f) => f.text) : []));
    expect(fields).toContain(`*Commit*\n<${REPO_URL}/commit/${COMMIT}|0123456>`);
    expect(fields).toContain("*Version*\n1.4.0");
    expect(JSON.stringify(message.blocks.at(-1))).toContain(`<${RUN_URL}|Workflow run>`);

    // The webhook: a signed body whose HMAC verifies with the shared secret (and not with another).
    expect(hook.received).toHaveLength(1);
    const body = hook.received[0]?.body ?? "";
    const signature = String(hook.received[0]?.headers["x-shipshape-signature"]);
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(body, WEBHOOK_SECRET, signature)).toBe(true);
    expect(verifySignature(body, "another-secret", signature)).toBe(false);
    expect(JSON.parse(body) as WebhookPayloadV1).toMatchObject({
      schema: "shipshape.deploy/v1",
      kind: "deploy",
      environment: "staging",
      result: "succeeded",
      image: IMAGE,
      version: "1.4.0",
      author: "ada",
      runUrl: RUN_URL,
      strategy: "rolling",
      commit: { sha: COMMIT, url: `${REPO_URL}/commit/${COMMIT}` },
    });

    const host = (r: Receiver) => new URL(r.url).origin;
    expect(d.json.notifications).toEqual([
      `slack: delivered to ${host(slack)} (1 attempt)`,
      `webhook: delivered to ${host(hook)} (1 attempt)`,
    ]);
    // Each delivery is logged once, as it happened.
    expect(stderr.filter((l) => l.startsWith("[shipshape] notify: slack: delivered"))).toEqual([
      `[shipshape] notify: slack: delivered to ${host(slack)} (attempt 1)\n`,
    ]);
    expectNoSecrets(await allTextOf(d));
    expect(stderr.join("")).toContain("[shipshape] audit: recording to postgres://postgres@");
  });
});

describe("a deploy refused before any change", () => {
  it("fails with the one-line cause and hint, records started and failed, and tells the failures channel", async () => {
    const db = await database();
    const [slack, failures] = [await receiver(), await receiver()];
    unsigned();
    const outlets = () => ({
      auditDatabaseUrl: dbSecret(db),
      slackWebhook: secret("SLACK", slack.url),
      slackFailuresWebhook: secret("FAILURES", failures.url),
    });

    const err = await failureOf(callDeploy(current, "staging", IMAGE, base(outlets())));
    expect(err.message).toMatch(
      /^refusing to deploy \S+@sha256:[0-9a-f]{64}: no signatures found for sha256:[0-9a-f]{64}\nhint: deploy the digest `release` signed, with the matching public key or identity$/,
    );

    const d = await settled(callDeploy(current, "staging", IMAGE, base({ ...outlets(), failOnError: false })));
    expect(d.json.result).toBe("failed");
    expect(d.json.reason).toBe(err.message.split("\n")[0]);
    // Stamped by the fake clock (the test's 10:00, not the wall clock); how far it got depends on how
    // long the two calls' real work took, which a loaded machine stretches, so the minute is not judged.
    expect(d.json.timeline).toEqual([expect.stringMatching(/^2026-11-20T10:0\d:\d\d\.000Z failed before any change: refusing to deploy /)]);
    expect(fake.calls).toEqual([]);

    // Both runs are in Postgres; the second one's records also came back as JSON Lines.
    expect((await rowsOf(db)).map((r) => [r.phase, r.outcome])).toEqual([
      ["started", "unknown"],
      ["completed", "failed"],
      ["started", "unknown"],
      ["completed", "failed"],
    ]);
    const records = await jsonlOf(d);
    expect(records.map((r) => [r.kind, r.phase, r.outcome, r.digest])).toEqual([
      ["deploy", "started", "unknown", DIGEST],
      ["deploy", "completed", "failed", DIGEST],
    ]);
    expect(records[1]?.reason).toBe(d.json.reason);
    expect((await recordsOf(db)).slice(2)).toEqual(records);

    // Every failure went to both channels.
    expect(failures.received).toHaveLength(2);
    expect(slack.received).toHaveLength(2);
    const headline = (JSON.parse(failures.received[1]?.body ?? "") as SlackMessage).blocks[0];
    expect(JSON.stringify(headline)).toContain(":x: Deploy to staging: failed");
    expect(d.json.notifications).toEqual([
      `slack: delivered to ${new URL(slack.url).origin} (1 attempt)`,
      `slack-failures: delivered to ${new URL(failures.url).origin} (1 attempt)`,
    ]);
    expectNoSecrets(await allTextOf(d));
  });

  it("an unknown environment: the call names the known ones; with failOnError=false the Deployment and records say failed", async () => {
    const failures = await receiver();
    const outlets = { slackFailuresWebhook: secret("FAILURES", failures.url) };
    const err = await failureOf(callDeploy(current, "prod", IMAGE, base(outlets)));
    expect(err.message).toBe(
      'unknown environment "prod" (known: staging)\nhint: add it under environments: in shipshape.yaml, or pass one of the known names',
    );

    const d = await settled(callDeploy(current, "prod", IMAGE, base({ ...outlets, failOnError: false })));
    expect(d.json).toMatchObject({
      environment: "prod",
      result: "failed",
      reason: 'unknown environment "prod" (known: staging)',
      auditStorage: "jsonl",
    });
    const records = await jsonlOf(d);
    expect(records.map((r) => [r.environment, r.phase, r.outcome])).toEqual([
      ["prod", "started", "unknown"],
      ["prod", "completed", "failed"],
    ]);
    expect(current.engine.execs).toEqual([]); // nothing verified, nothing deployed
    expect(fake.calls).toEqual([]);
    expect(failures.received).toHaveLength(2);
    expect(d.json.notifications).toEqual([`slack-failures: delivered to ${new URL(failures.url).origin} (1 attempt)`]);
  });
});

describe("a deploy that rolls back", () => {
  it("smoke checks fail: the call fails, the trail says rolled back with the numbers, the failures channel hears of it", async () => {
    const port = await httpServer(() => ({ status: 503, body: '"down"' }));
    await use(
      yaml(
        `{ cluster: main, service: api, region: us-east-1, containerName: app, smoke: { baseUrl: "http://127.0.0.1:${port}", checks: [{ name: health, path: /healthz, retries: 2 }] } }`,
      ),
    );
    signed();
    const db = await database();
    const [slack, failures] = [await receiver(), await receiver()];
    const err = await failureOf(
      callDeploy(
        current,
        "staging",
        IMAGE,
        base({
          auditDatabaseUrl: dbSecret(db),
          slackWebhook: secret("SLACK", slack.url),
          slackFailuresWebhook: secret("FAILURES", failures.url),
        }),
      ),
    );
    expect(err.message).toMatch(
      /^deploy to staging rolled back: smoke checks failed: GET \/healthz answered 503 after 2 attempts; rolled back to .*app:1\n/,
    );
    expect(fake.service().taskDefinition).toBe(APP1);

    const records = await recordsOf(db);
    expect(records.map((r) => [r.kind, r.phase, r.outcome])).toEqual([
      ["deploy", "started", "unknown"],
      ["deploy", "completed", "rolled back"],
    ]);
    const done = records[1];
    expect(done?.rollbackReason).toMatch(/^smoke checks failed: GET \/healthz answered 503 after 2 attempts; rolled back to /);
    expect(done).toMatchObject({ fromRevision: APP1, toRevision: APP2 });
    expect(done?.decisions).toEqual([
      {
        at: expect.any(String),
        gate: "smoke",
        stage: "POST_PRODUCTION_TRAFFIC_SHIFT", // rolling judges inside ECS's deployment, at its PAUSE hook
        step: 0,
        verdict: "failed",
        reason: expect.stringMatching(/^production: GET \/healthz answered 503 after 2 attempts/),
        values: { "health status": 503, "health attempts": 2 },
      },
    ]);
    for (const r of [slack, failures]) {
      expect(r.received).toHaveLength(1);
      const m = JSON.parse(r.received[0]?.body ?? "") as SlackMessage;
      expect(m.text).toMatch(/^Deploy to staging: rolled back: smoke checks failed/);
      expect(JSON.stringify(m.blocks)).toContain(":x: *smoke* failed: production: GET /healthz answered 503");
    }
    expectNoSecrets(err.message);
  });
});

describe("the audit database is unreachable", () => {
  const unreachable = async () => secret("AUDIT_DB", `postgres://postgres:${DB_PASSWORD}@127.0.0.1:${await closedPort()}/audit`);

  it("not required: the deploy goes on, records stay in the JSON Lines, and a warning says why", async () => {
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 60_000 });
    const d = await settled(callDeploy(current, "staging", IMAGE, base({ auditDatabaseUrl: await unreachable() })));
    expect(d.json.result).toBe("succeeded");
    expect(d.json.auditStorage).toBe("jsonl");
    expect(d.json.warnings).toHaveLength(1);
    expect(d.json.warnings[0]).toMatch(/^audit records go to the JSON Lines trail only: .*postgres:\/\/postgres@127\.0\.0\.1:\d+\/audit/);
    expect((await jsonlOf(d)).map((r) => [r.phase, r.outcome])).toEqual([
      ["started", "unknown"],
      ["completed", "succeeded"],
    ]);
    expect(await (await filesOf(d)).file("summary.md").contents()).toContain(`### Warnings\n\n- ${d.json.warnings[0]}`);
    // Said once in the progress log, as it happened.
    expect(stderr.join("").split(`[shipshape] audit: warning: ${d.json.warnings[0]}\n`)).toHaveLength(2);
    expectNoSecrets(await allTextOf(d));
  });

  it("required: refused before any ECS call, with the database's reason; failOnError=false still hands back the records", async () => {
    await use(yaml(STAGING, "auditTrail: { required: true, connectTimeoutSeconds: 2 }\n"));
    signed();
    const failures = await receiver();
    const args = async (over: DeployArgs = {}) =>
      base({ auditDatabaseUrl: await unreachable(), slackFailuresWebhook: secret("FAILURES", failures.url), ...over });
    const err = await failureOf(callDeploy(current, "staging", IMAGE, await args()));
    expect(err.message).toMatch(/^the audit trail is required and Postgres is unavailable: .*\nhint: \S.*$/);
    expect(err.message.split("\n")).toHaveLength(2);
    expect(fake.calls).toEqual([]);
    expect(current.engine.execs).toEqual([]); // not even the signature was checked

    const d = await settled(callDeploy(current, "staging", IMAGE, await args({ failOnError: false })));
    expect(d.json).toMatchObject({ result: "failed", auditStorage: "jsonl" });
    expect(d.json.reason).toMatch(/^the audit trail is required and Postgres is unavailable: /);
    expect((await jsonlOf(d)).map((r) => [r.phase, r.outcome, r.reason ?? ""])).toEqual([
      ["started", "unknown", ""],
      ["completed", "failed", d.json.reason],
    ]);
    expect(fake.calls).toEqual([]);
    expect(failures.received).toHaveLength(2);
    expectNoSecrets(`${err.message}\n${await allTextOf(d)}`);
  });
});

describe("a Slack webhook that never answers", () => {
  it("costs its bounded retries, not the deploy: the result comes back and says what was not delivered", async () => {
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 60_000 });
    const [slack, hook] = [await receiver(() => ({ hang: true })), await receiver()];
    const real = performance.now();
    const d = await settled(
      callDeploy(current, "staging", IMAGE, base({ slackWebhook: secret("SLACK", slack.url), webhookUrl: secret("HOOK", hook.url) })),
    );
    expect(performance.now() - real).toBeLessThan(15_000);
    expect(d.json.result).toBe("succeeded");
    // Three attempts of 10 s (the defaults), within the 60 s deadline after the first one.
    expect(slack.received).toHaveLength(3);
    expect(Date.now() - (slack.received[0]?.at ?? 0)).toBeLessThanOrEqual(60_000);
    expect(d.json.notifications).toEqual([
      `slack: not delivered, ${new URL(slack.url).origin} did not answer within 10000 ms (after 3 attempts)`,
      `webhook: delivered to ${new URL(hook.url).origin} (1 attempt)`,
    ]);
    expect(hook.received).toHaveLength(1);
    expect((await jsonlOf(d)).at(-1)?.outcome).toBe("succeeded");
  });
});

describe("AWS credentials from GitHub OIDC", () => {
  let sts: FakeSts;
  beforeEach(() => {
    sts = new FakeSts();
    sts.roles.set(ROLE, "repo:acme/api:environment:staging");
  });
  afterEach(() => sts.restore());

  const oidc = (token = sts.issue("repo:acme/api:environment:staging")) => ({
    awsWebIdentityToken: secret("OIDC", token),
    awsRoleArn: ROLE,
  });
  const withoutKeys = (over: DeployArgs) => ({ ...base(over), awsAccessKeyId: undefined, awsSecretAccessKey: undefined });

  it("assumes the role with the token, names the session after the run, and every AWS client signs with that session", async () => {
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 60_000 });
    const token = sts.issue("repo:acme/api:environment:staging");
    const d = await settled(callDeploy(current, "staging", IMAGE, withoutKeys(oidc(token))));
    expect(d.json.result).toBe("succeeded");
    expect(sts.calls).toEqual([{ RoleArn: ROLE, RoleSessionName: "shipshape-api-123", WebIdentityToken: token, DurationSeconds: 3600 }]);
    const session = sts.sessions[0];
    // ECS calls and the ECR login (to read the signatures) went out with the assumed session.
    const ecsClient = fake.mock.calls()[0]?.thisValue as ECSClient;
    expect(await ecsClient.config.credentials()).toMatchObject({ accessKeyId: session?.accessKeyId, sessionToken: session?.sessionToken });
    const ecrClient = ecr.calls()[0]?.thisValue as ECRClient;
    expect(await ecrClient.config.credentials()).toMatchObject({ accessKeyId: session?.accessKeyId, sessionToken: session?.sessionToken });
    expect(fake.count("UpdateService")).toBe(1);
    expect(stderr.join("")).toContain("aws: assumed arn:aws:sts::123456789012:assumed-role/deployer/shipshape-api-123 until ");
    expectNoSecrets(`${await allTextOf(d)}\n${stderr.join("")}`, sts.secrets);
  });

  it("refuses both static keys and a web identity, and no credentials at all, with a Problem saying what to pass", async () => {
    signed();
    const both = await failureOf(callDeploy(current, "staging", IMAGE, base(oidc())));
    expect(both.message).toBe(
      "both static AWS keys and a web identity token/role were given; which one to use is ambiguous\n" +
        "hint: chain with-aws with either --role-arn and a web identity token (GitHub OIDC) or the --access-key-id/--secret-access-key pair, not both",
    );
    const none = await failureOf(callDeploy(current, "staging", IMAGE, withoutKeys({})));
    expect(none.message).toMatch(
      /^no AWS credentials were given\nhint: chain with-aws --role-arn=arn:aws:iam::<account>:role\/<role> --id-token-request-url=env:\/\/ACTIONS_ID_TOKEN_REQUEST_URL /,
    );
    expect(sts.calls).toEqual([]);
    expect(fake.calls).toEqual([]);
    expectNoSecrets(`${both.message}\n${none.message}`, sts.secrets);
  });

  it("refuses GitHub's token request URL without its token, as the ECR login does, before any AWS call", async () => {
    signed();
    const half = { awsRoleArn: ROLE, awsIdTokenRequestUrl: secret("REQ_URL", "http://127.0.0.1:9/token?audience=sts") };
    const err = await failureOf(callDeploy(current, "staging", IMAGE, withoutKeys(half)));
    expect(err.message).toBe(
      "with-aws was given only one of --id-token-request-url and --id-token-request-token\n" +
        "hint: pass both: --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    );
    expect(sts.calls).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it("a role whose trust policy does not allow this workflow: refused before any change, with the sub it expects", async () => {
    signed();
    const token = sts.issue("repo:acme/api:ref:refs/heads/main");
    const err = await failureOf(callDeploy(current, "staging", IMAGE, withoutKeys(oidc(token))));
    expect(err.message).toMatch(/^not allowed to assume arn:aws:iam::123456789012:role\/deployer: .*Not authorized/);
    expect(err.message).toContain("token.actions.githubusercontent.com:sub = repo:acme/api:environment:staging");
    expect(fake.calls).toEqual([]);
    expectNoSecrets(err.message, sts.secrets);
  });
});

describe("stepped canary through deploy", () => {
  const STABLE = tgArnOf("api-stable");
  const CANARY = tgArnOf("api-canary");
  let elb: FakeElb;
  let rule: string;
  /** The canary weight from which the canary's error rate jumps to 5%. */
  let breaksAt = Infinity;
  let queries = 0;

  beforeEach(() => {
    breaksAt = Infinity;
    queries = 0;
    fake.service().loadBalancers = [{ targetGroupArn: STABLE, containerName: "app", containerPort: 8080 }];
    fake.addService(
      {
        serviceName: "api-canary",
        desiredCount: 0,
        runningCount: 0,
        loadBalancers: [{ targetGroupArn: CANARY, containerName: "app", containerPort: 8080 }],
      },
      { family: "app-canary" },
    );
    elb = new FakeElb(fake);
    elb.addTargetGroup("api-stable", "api");
    elb.addTargetGroup("api-canary", "api-canary");
    rule = elb.addRule([
      [STABLE, 100],
      [CANARY, 0],
    ]);
  });
  afterEach(() => elb.restore());
  const mainUpdates = () => fake.inputs<UpdateServiceCommandInput>("UpdateService").filter((i) => i.service?.split("/").pop() === "api");

  /** A Prometheus query API whose error rate follows the canary's current weight on the fake ALB. */
  const prometheus = () =>
    httpServer(() => {
      queries++;
      const canary = elb.weightsOf(rule).find((w) => w.arn === CANARY)?.weight ?? 0;
      const rate = canary >= breaksAt ? "0.05" : "0.001";
      const body = { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [Date.now() / 1000, rate] }] } };
      return { status: 200, body: JSON.stringify(body) };
    });

  const steppedYaml = (port: string) =>
    yaml(`
    cluster: main
    service: api
    region: us-east-1
    containerName: app
    progressDeadlineMinutes: 10
    steppedCanary:
      listenerRuleArn: "${rule}"
      stableTargetGroupArn: "${STABLE}"
      canaryTargetGroupArn: "${CANARY}"
      canaryService: api-canary
      steps: [{ weight: 10, pauseMinutes: 2 }, { weight: 50, pauseMinutes: 2 }, { weight: 100, pauseMinutes: 2 }]
    analysis:
      metrics:
        - name: error-rate
          provider: { prometheus: { address: "http://127.0.0.1:${port}", query: "sum(rate(errors[1m]))" } }
          successCondition: { op: "<=", threshold: 0.01 }
          interval: 10s
          count: 2
`);

  it("walks the weights with the analysis passing at each step, and records the decisions", async () => {
    await use(steppedYaml(await prometheus()));
    signed();
    const d = await settled(callDeploy(current, "staging", IMAGE, base()), { stepMs: 5000 });
    expect(d.json.result).toBe("succeeded");
    expect(d.json.strategy).toBe("stepped-canary");
    expect(elb.history(rule, STABLE, CANARY)).toEqual(["100/0", "90/10", "50/50", "0/100", "100/0"]);
    expect(fake.service().taskDefinition).toBe(APP2);
    expect(mainUpdates()).toHaveLength(1); // promoted once, while the canary carried everything
    expect(queries).toBe(6);
    expect(d.json.decisions.map((x) => [x.gate, x.stage, x.step, x.verdict, x.values.join(",")])).toEqual([
      ["analysis", "canary 10% (step 1/3)", 1, "passed", "error-rate=0.001"],
      ["analysis", "canary 50% (step 2/3)", 2, "passed", "error-rate=0.001"],
      ["analysis", "canary 100% (step 3/3)", 3, "passed", "error-rate=0.001"],
    ]);
    expect(d.json.timeline.some((l) => l.endsWith("traffic: stable 90% / canary 10% (step 1/3)"))).toBe(true);
    const [started, completed] = await jsonlOf(d);
    expect(started).toMatchObject({ phase: "started", strategy: "stepped-canary" });
    expect(completed).toMatchObject({ phase: "completed", outcome: "succeeded", fromRevision: APP1, toRevision: APP2 });
    expect(completed?.decisions.map((x) => [x.step, x.verdict, x.values])).toEqual([
      [1, "passed", { "error-rate": 0.001 }],
      [2, "passed", { "error-rate": 0.001 }],
      [3, "passed", { "error-rate": 0.001 }],
    ]);
  });

  it("a failing step rolls back: traffic returns to stable, the main service keeps its revision, the numbers are in the records", async () => {
    breaksAt = 50;
    await use(steppedYaml(await prometheus()));
    signed();
    const d = await settled(callDeploy(current, "staging", IMAGE, base({ failOnError: false })), { stepMs: 5000 });
    expect(d.json.result).toBe("rolled back");
    expect(d.json.reason).toMatch(/^analysis at step 2 \(50%\) called for a rollback: failed: /);
    expect(elb.history(rule, STABLE, CANARY)).toEqual(["100/0", "90/10", "50/50", "100/0"]);
    expect(fake.service().taskDefinition).toBe(APP1);
    expect(fake.service("api-canary").desiredCount).toBe(0);
    expect(mainUpdates()).toEqual([]);
    expect(d.json.decisions.map((x) => [x.step, x.verdict, x.values.join(",")])).toEqual([
      [1, "passed", "error-rate=0.001"],
      [2, "failed", "error-rate=0.05"],
    ]);
    const completed = (await jsonlOf(d)).at(-1);
    expect(completed).toMatchObject({ outcome: "rolled back", rollbackReason: d.json.reason });
    expect(completed?.decisions.at(-1)).toMatchObject({
      stage: "canary 50% (step 2/3)",
      step: 2,
      verdict: "failed",
      values: { "error-rate": 0.05 },
    });
  });
});

describe("rollback, promote and abort are recorded runs too", () => {
  it("each writes its own started and completed records with its kind, into the database and the continued JSON Lines", async () => {
    const port = await httpServer((path, host) => ({
      status: path === "/healthz" ? 200 : 404,
      body: host.startsWith("localhost") ? '"test"' : '"prod"',
    }));
    await use(
      yaml(`
    cluster: main
    service: api
    region: us-east-1
    containerName: app
    strategy: blue-green
    bakeTimeMinutes: 1
    promotion: manual
    smoke: { baseUrl: "http://127.0.0.1:${port}", testUrl: "http://localhost:${port}", checks: [{ name: health, path: /healthz }] }
`),
    );
    signed();
    fake.service().loadBalancers = [ALB_WITH_ADVANCED_CONFIG];
    const db = await database();
    const hook = await receiver();
    const outlets = () => ({
      ...staticKeys(),
      auditDatabaseUrl: dbSecret(db),
      webhookUrl: secret("HOOK", hook.url),
      actor: "grace",
      runUrl: RUN_URL,
    });

    const paused = await settled(callDeploy(current, "staging", IMAGE, base(outlets())));
    expect(paused.json.result).toBe("paused");
    const promoted = await settled(callPromote(current, "staging", { ...outlets(), auditTrail: await auditTrailOf(paused) }));
    expect(promoted.json.result).toBe("succeeded");
    expect(fake.service().taskDefinition).toBe(APP2);
    const again = await settled(callDeploy(current, "staging", IMAGE, base({ ...outlets(), auditTrail: await auditTrailOf(promoted) })));
    expect(again.json.result).toBe("paused");
    const aborted = await settled(callAbort(current, "staging", { ...outlets(), auditTrail: await auditTrailOf(again) }));
    expect(aborted.json.result).toBe("rolled back");
    const rolledBack = await settled(callRollback(current, "staging", "1", { ...outlets(), auditTrail: await auditTrailOf(aborted) }));
    expect(rolledBack.json.result).toBe("succeeded");
    expect(fake.service().taskDefinition).toBe(APP1);

    const expected = [
      ["deploy", "paused"],
      ["promote", "succeeded"],
      ["deploy", "paused"],
      ["abort", "rolled back"],
      ["rollback", "succeeded"],
    ].flatMap(([kind, outcome]) => [
      [kind, "started", "unknown"],
      [kind, "completed", outcome],
    ]);
    const rows = await rowsOf(db);
    expect(rows.map((r) => [r.kind, r.phase, r.outcome])).toEqual(expected);
    expect(rows.every((r) => r.actor === "grace" && r.run_url === RUN_URL)).toBe(true);
    expect(rows.filter((r) => r.kind !== "deploy").every((r) => r.image === null)).toBe(true);
    expect(rows.at(-1)).toMatchObject({ from_revision: APP2, to_revision: APP1 });
    // The trail handed from run to run holds every record, exactly as the database does.
    expect(await jsonlOf(rolledBack)).toEqual(await recordsOf(db));

    // Each Deployment says what kind of run it was.
    const summaries = await Promise.all(
      [paused, promoted, again, aborted, rolledBack].map(async (d) => (await markdownOf(d)).split("\n")[0]),
    );
    expect(summaries).toEqual([
      "## ⏸️ Deploy to staging: paused",
      "## ✅ Promotion of staging: succeeded",
      "## ⏸️ Deploy to staging: paused",
      "## ↩️ Abort of staging: rolled back",
      "## ✅ Rollback of staging: succeeded",
    ]);
    expect(JSON.parse(await (await filesOf(aborted)).file("deployment.json").contents())).toMatchObject({
      kind: "abort",
      result: "rolled back",
    });

    const kinds = hook.received.map((r) => JSON.parse(r.body) as WebhookPayloadV1).map((p) => [p.kind, p.result]);
    expect(kinds).toEqual([
      ["deploy", "paused"],
      ["promote", "succeeded"],
      ["deploy", "paused"],
      ["abort", "rolled back"],
      ["rollback", "succeeded"],
    ]);
  });

  it("a rollback to a revision that does not exist fails the call with the reason, recorded as failed", async () => {
    const db = await database();
    const err = await failureOf(callRollback(current, "staging", "7", { ...staticKeys(), auditDatabaseUrl: dbSecret(db), actor: "ada" }));
    expect(err.message).toBe(
      "task definition app:7 could not be read: Unable to describe task definition.\nhint: check it exists in this region",
    );
    const rows = await rowsOf(db);
    expect(rows.map((r) => [r.kind, r.phase, r.outcome])).toEqual([
      ["rollback", "started", "unknown"],
      ["rollback", "completed", "failed"],
    ]);
    expect(fake.count("UpdateService")).toBe(0);
    expect(fake.service().taskDefinition).toBe(APP1);
  });
});
