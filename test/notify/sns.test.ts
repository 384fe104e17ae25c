// SNS through notifyAll, on the real SDK client with its send mocked by a fake that refuses what
// the SNS API model says the service refuses (fake-sns.ts).
import * as snsSdkModule from "@aws-sdk/client-sns";
import type { PublishCommandInput } from "@aws-sdk/client-sns";
import { afterEach, describe, expect, it } from "vitest";
import { NotificationsConfigSchema } from "../../deploy/lib/notify/config.js";
import type { DeployEvent } from "../../deploy/lib/notify/event.js";
import { notifyAll, summarizeDeliveries, type NotifyOptions } from "../../deploy/lib/notify/notify.js";
import { MAX_SNS_BYTES, sdkPublisher, snsPublish, snsSubject, type SnsPublish, type SnsSdk } from "../../deploy/lib/notify/sns.js";
import { FakeSns } from "./fake-sns.js";
import { captureStderr, virtualClock } from "./receiver.js";

const ACCOUNT = "123456789012";
const TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:deploys`;
const FIFO = `arn:aws:sns:eu-west-1:${ACCOUNT}:deploys.fifo`;
// Built at run time: literals of this shape are what gitleaks reports.
const KEY_ID = "AKIA" + "Q".repeat(16);
const SECRET_KEY = "s".repeat(20) + "/" + "K".repeat(19);

// src/notify/sns.ts types its slice of the SDK locally (so the runtime's type-check skips the SDK):
// these fail to compile when the slice no longer matches the SDK.
const slice: SnsSdk = snsSdkModule;
const asInput = (p: SnsPublish): PublishCommandInput => p;

let fake: FakeSns;
afterEach(() => fake.mock.restore());

const failed: DeployEvent = {
  kind: "deploy",
  environment: "production",
  result: "failed",
  reason: "smoke check health answered 503",
  image: "ghcr.io/acme/api@sha256:" + "e".repeat(64),
  durationSeconds: 310,
};

const publisher: NotifyOptions["sns"] = (region) =>
  sdkPublisher(region, async () => ({ accessKeyId: KEY_ID, secretAccessKey: SECRET_KEY }));
const configFor = (topicArn: string, region?: string) =>
  NotificationsConfigSchema.parse({ attempts: 3, sns: { topicArn, ...(region ? { region } : {}) } });
const send = (event: DeployEvent, topicArn = TOPIC, region?: string) =>
  notifyAll(event, {}, { config: configFor(topicArn, region), sns: publisher, clock: virtualClock(0).clock, random: () => 0.5 });

describe("SNS", () => {
  it("publishes the outcome with kind and severity as message attributes, in the topic's region", async () => {
    expect([typeof slice.SNSClient, typeof slice.PublishCommand, typeof asInput]).toEqual(["function", "function", "function"]);
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    const results = await send(failed);
    expect(results).toEqual([{ target: "sns", endpoint: "sns://eu-west-1/deploys", delivered: true, attempts: 1 }]);
    const [published] = fake.delivered;
    expect(published!.region).toBe("eu-west-1");
    expect(published!.input).toMatchObject({
      TopicArn: TOPIC,
      Subject: "[shipshape] Deploy to production: failed",
      MessageAttributes: {
        kind: { DataType: "String", StringValue: "failure" },
        severity: { DataType: "String", StringValue: "critical" },
        environment: { DataType: "String", StringValue: "production" },
      },
    });
    expect(published!.input.Message).toContain("Why: smoke check health answered 503");
    expect(published!.input.MessageGroupId).toBeUndefined();
  });

  it("keeps the subject within what SNS accepts and cuts a message over 256 KB", async () => {
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    const event = { ...failed, environment: "prödüction-" + "x".repeat(120), reason: "é".repeat(200_000) };
    const [result] = await send(event);
    expect(result).toMatchObject({ delivered: true });
    const input = fake.delivered[0]!.input;
    expect(input.Subject!.length).toBeLessThan(100);
    expect(input.Subject).toMatch(/^\[shipshape\] Deploy to pr\?d\?ction-x+~$/);
    expect(Buffer.byteLength(input.Message!)).toBeLessThanOrEqual(MAX_SNS_BYTES);
    expect(input.Message).toMatch(/cut to fit the SNS message size limit\)\n$/);
    // The fake is no kinder than SNS: the raw subject and body are refused.
    const raw = { ...snsPublish(event, "x".repeat(MAX_SNS_BYTES), { topicArn: TOPIC }), Subject: `Deploy to ${event.environment}` };
    const sdk = await publisher!("eu-west-1");
    await expect(sdk.publish(raw, new AbortController().signal)).rejects.toMatchObject({ name: "InvalidParameterException" });
    expect(snsSubject("\n\tDeploy")).toBe("Deploy");
  });

  it("groups a FIFO topic's messages per environment and keeps one dedup id across retries", async () => {
    fake = new FakeSns([{ arn: FIFO, allowPublish: true }]);
    fake.failFirst = { count: 1, error: FakeSns.internal };
    const [result] = await send(failed, FIFO);
    expect(result).toMatchObject({ delivered: true, attempts: 2 });
    const [first, second] = fake.calls;
    expect(first!.MessageGroupId).toBe("shipshape-production");
    expect(second!.MessageDeduplicationId).toBe(first!.MessageDeduplicationId);
    expect(fake.delivered).toHaveLength(1);
  });

  it("retries throttling and 5xx within the attempts, then gives up with one line", async () => {
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    fake.failFirst = { count: 5, error: FakeSns.throttling };
    const v = virtualClock(0);
    const [result] = await notifyAll(failed, {}, { config: configFor(TOPIC), sns: publisher, clock: v.clock, random: () => 0.5 });
    expect(result).toMatchObject({ target: "sns", delivered: false, attempts: 3 });
    expect(result!.error).toBe("sns://eu-west-1/deploys: Publish failed (Throttling: Rate exceeded) (after 3 attempts)");
    expect(v.sleeps).toEqual([1000, 2000]);
  });

  it("explains a denied publish, a missing topic and a wrong region in one line each, without retrying", async () => {
    fake = new FakeSns([{ arn: TOPIC, allowPublish: false }]);
    const {
      value: [denied],
      output,
    } = await captureStderr(() => send(failed));
    expect(denied).toMatchObject({ delivered: false, attempts: 1 });
    expect(denied!.error).toMatch(
      /^sns:\/\/eu-west-1\/deploys: the AWS identity may not publish to the topic \(.*not authorized to perform: SNS:Publish.*\); allow sns:Publish on arn:aws:sns:eu-west-1:123456789012:deploys to the withAws role \(after 1 attempt\)$/,
    );
    fake.mock.restore();
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    const [missing] = await send(failed, `arn:aws:sns:eu-west-1:${ACCOUNT}:deploy`);
    expect(missing!.error).toMatch(/the topic does not exist \(Topic does not exist\); check notifications\.sns\.topicArn and region/);
    const [elsewhere] = await send(failed, TOPIC, "us-east-1");
    expect(elsewhere).toMatchObject({
      endpoint: "sns://us-east-1/deploys",
      attempts: 1,
      error: expect.stringMatching(/the topic does not exist/),
    });
    expect(output + JSON.stringify([denied, missing, elsewhere]) + summarizeDeliveries([denied!]).join("")).not.toMatch(
      new RegExp(`${KEY_ID}|${SECRET_KEY}`),
    );
  });

  it("says when there is no AWS identity, and cuts a hung Publish at the timeout", async () => {
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    const [noIdentity] = await notifyAll(failed, {}, { config: configFor(TOPIC), clock: virtualClock(0).clock });
    expect(noIdentity).toMatchObject({ target: "sns", delivered: false, attempts: 0 });
    expect(noIdentity!.error).toMatch(/no AWS identity was given for SNS; chain withAws/);
    fake.hang = true;
    const config = NotificationsConfigSchema.parse({ attempts: 1, timeoutSeconds: 1, sns: { topicArn: TOPIC } });
    const [hung] = await notifyAll(failed, {}, { config, sns: publisher, clock: virtualClock(0).clock });
    expect(hung).toMatchObject({
      delivered: false,
      attempts: 1,
      error: "sns://eu-west-1/deploys did not answer within 1000 ms (after 1 attempt)",
    });
  });

  it("cuts an identity slow to come (an STS exchange) like a slow Publish and tries again; a refused one is not retried", async () => {
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    let asked = 0;
    const slowFirst: NotifyOptions["sns"] = (region) => (++asked === 1 ? new Promise(() => undefined) : publisher!(region));
    const config = NotificationsConfigSchema.parse({ attempts: 2, timeoutSeconds: 1, sns: { topicArn: TOPIC } });
    const [late] = await notifyAll(failed, {}, { config, sns: slowFirst, clock: virtualClock(0).clock });
    expect(late).toMatchObject({ delivered: true, attempts: 2 });
    expect(asked).toBe(2);
    const refusing: NotifyOptions["sns"] = () =>
      Promise.reject(Object.assign(new Error("no AWS credentials were given"), { name: "CredentialsProviderError" }));
    const [refused] = await notifyAll(failed, {}, { config, sns: refusing, clock: virtualClock(0).clock });
    expect(refused).toMatchObject({ delivered: false, attempts: 1 });
    expect(refused!.error).toMatch(/Publish failed \(CredentialsProviderError: no AWS credentials were given\); see the AWS message/);
  });
});
