/**
 * Email and SNS through the stub engine: `dagger call with-aws ... with-notifications
 * --smtp-password env://... environment --name prod deploy --fail-on-error=false`, a fresh module
 * per call. The run is refused before it starts (an environment shipshape.yaml does not define), so
 * no AWS deploy is needed, yet it is announced like any run: routes send the failure to email (a
 * real SMTP server with STARTTLS and AUTH) and SNS (the SDK's client, its send answered by the SNS
 * fake), and the Deployment lists every delivery. A channel that fails changes nothing else.
 */
import { dag, type Secret } from "@dagger.io/dagger";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { drive, type Driven } from "../helpers/drive.js";
import { callDeploy } from "../helpers/ship-calls.js";
import { IMAGE } from "../deploy/fake-ecs.js";
import { FakeSns } from "./fake-sns.js";
import { closeSmtp, decoded, makeCert, smtpServer } from "./smtp.js";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:deploys";
const USER = "deploy-bot";
// Built at run time: no committed literal looks like a credential.
const PASSWORD = ["e2e", "mail", "sesame", String(7 * 6)].join("-");
const AKID = "AKIA" + "E".repeat(16);
const SAK = "e".repeat(24) + "/" + "E".repeat(15);
const SECRETS = [PASSWORD, AKID, SAK, Buffer.from(`\u0000${USER}\u0000${PASSWORD}`).toString("base64")];

let tls: { key: string; cert: string };
let current: Driven | undefined;
let fake: FakeSns;
let stderr: string[];
const envNames = new Set<string>();

function secret(name: string, value: string): Secret {
  process.env[`SHIPSHAPE_CH_${name}`] = value;
  envNames.add(`SHIPSHAPE_CH_${name}`);
  return dag.secret(`env://SHIPSHAPE_CH_${name}`);
}

const yaml = (port: number) =>
  [
    "environments:",
    "  staging: { cluster: main, service: api, region: us-east-1, containerName: app }",
    "notifications:",
    "  email:",
    "    host: 127.0.0.1",
    `    port: ${port}`,
    "    from: shipshape@acme.test",
    "    to: [oncall@acme.test]",
    `    username: ${USER}`,
    "    ca: |",
    ...tls.cert
      .trim()
      .split("\n")
      .map((l) => `      ${l}`),
    "  sns:",
    `    topicArn: ${TOPIC}`,
    "  routes:",
    "    - { on: [failure, rollback], to: [email, sns] }",
    "",
  ].join("\n");

beforeAll(() => {
  tls = makeCert();
});

beforeEach(() => {
  fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
});

afterEach(async () => {
  vi.restoreAllMocks();
  fake.mock.restore();
  current?.engine.uninstall();
  current = undefined;
  await closeSmtp();
  for (const name of envNames) delete process.env[name];
  for (const s of SECRETS) expect(stderr.join("")).not.toContain(s);
});

const deploy = (d: Driven, password: string) =>
  callDeploy(d, "prod", IMAGE, {
    awsAccessKeyId: secret("AKID", AKID),
    awsSecretAccessKey: secret("SAK", SAK),
    smtpPassword: secret("SMTP", `${password}\n`),
    actor: "ada",
    runUrl: "https://github.com/acme/api/actions/runs/5",
    failOnError: false,
  });

describe("email and SNS through a recorded run", () => {
  it("a refused run reaches on-call by email and SNS, each listed in the Deployment", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    current = await drive({ files: { "shipshape.yaml": yaml(smtp.port) } });
    const d = await deploy(current, PASSWORD);
    expect(d.json).toMatchObject({ environment: "prod", result: "failed", reason: 'unknown environment "prod" (known: staging)' });
    expect(d.json.notifications).toEqual([
      `email: delivered to smtp://127.0.0.1:${smtp.port} (1 attempt)`,
      "sns: delivered to sns://us-east-1/deploys (1 attempt)",
    ]);
    const mail = decoded(smtp.mails[0]!.raw);
    expect(smtp.mails[0]).toMatchObject({ secure: true, user: USER, to: ["oncall@acme.test"] });
    expect(mail).toMatch(/^Subject: \[shipshape\] Deploy to prod: failed\r?$/m);
    expect(mail).toContain('Why: unknown environment "prod" (known: staging)');
    expect(fake.delivered[0]!.input).toMatchObject({
      Subject: "[shipshape] Deploy to prod: failed",
      MessageAttributes: { kind: { StringValue: "failure" }, severity: { StringValue: "critical" } },
    });
    for (const s of SECRETS) expect(JSON.stringify(d.json) + mail + fake.delivered[0]!.input.Message).not.toContain(s);
  });

  it("a refused SMTP login is one line in the Deployment; SNS still delivers and the result is untouched", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    current = await drive({ files: { "shipshape.yaml": yaml(smtp.port) } });
    const d = await deploy(current, `${PASSWORD}-rotated`);
    expect(d.json).toMatchObject({ result: "failed", reason: 'unknown environment "prod" (known: staging)' });
    expect(d.json.notifications[0]).toMatch(
      /^email: not delivered, smtp:\/\/127\.0\.0\.1:\d+: the SMTP server refused the login for deploy-bot \(535 [^)]*\); check notifications\.email\.username and the smtpPassword secret/,
    );
    expect(d.json.notifications[1]).toBe("sns: delivered to sns://us-east-1/deploys (1 attempt)");
    expect(smtp.mails).toEqual([]);
    expect(JSON.stringify(d.json)).not.toContain(`${PASSWORD}-rotated`);
  });
});
