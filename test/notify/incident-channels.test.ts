// Incidents in every channel's own words: no channel may call an outage "Deploy to production:
// failed". Builders are pure, so most of this is on their output; SNS goes through the SDK fake
// (fake-sns.ts), which refuses a Subject the SNS API model refuses.
import { afterEach, describe, expect, it } from "vitest";
import { NotificationsConfigSchema } from "../../deploy/lib/notify/config.js";
import { emailMessage } from "../../deploy/lib/notify/email.js";
import { headline, type DeployEvent, type IncidentEvent } from "../../deploy/lib/notify/event.js";
import { notifyAll } from "../../deploy/lib/notify/notify.js";
import { slackMessage } from "../../deploy/lib/notify/slack.js";
import { sdkPublisher, snsPublish } from "../../deploy/lib/notify/sns.js";
import { teamsMessage } from "../../deploy/lib/notify/teams.js";
import { INCIDENT_SCHEMA, WEBHOOK_SCHEMA, webhookPayload, webhookRequest } from "../../deploy/lib/notify/webhook.js";
import { FakeSns } from "./fake-sns.js";
import { virtualClock } from "./receiver.js";

const ISSUE = "https://github.com/acme/shop/issues/12";
const opened: IncidentEvent = {
  kind: "incident",
  incident: "health",
  action: "opened",
  environment: "production",
  image: "service shop (prod-cluster, eu-west-1)",
  reason: "smoke checks failed: GET /healthz answered 503 after 1 attempt",
  issueNumber: 12,
  issueUrl: ISSUE,
  runUrl: "https://github.com/acme/shop/actions/runs/5",
};
const closed: IncidentEvent = { ...opened, action: "closed", reason: "smoke passed", durationSeconds: 42 * 60 };
const vulnerable: IncidentEvent = {
  ...opened,
  incident: "vulnerability",
  image: "ghcr.io/acme/api@sha256:" + "a".repeat(64),
  reason: "2 blocking findings (2 critical)",
};
const newFindings: IncidentEvent = { ...vulnerable, action: "updated", newFindings: ["CVE-2019-18224 libidn2-0"] };
const deploy: DeployEvent = {
  kind: "deploy",
  environment: "production",
  result: "failed",
  reason: "smoke check failed",
  image: "r@sha256:" + "c".repeat(64),
  durationSeconds: 60,
};

describe("headlines", () => {
  it("say what happened to the environment, with the issue number, never 'Deploy'", () => {
    expect(headline(opened)).toBe("production is unhealthy (incident #12 opened)");
    expect(headline(closed)).toBe("production healthy again after 42m (incident #12 closed)");
    expect(headline(vulnerable)).toBe("blocking vulnerabilities in what production runs (incident #12 opened)");
    expect(headline(newFindings)).toBe("new blocking vulnerabilities in what production runs (incident #12 updated)");
    expect(headline({ ...vulnerable, action: "closed", durationSeconds: 50 * 3600 })).toBe(
      "no blocking vulnerabilities left in what production runs after 2d 2h (incident #12 closed)",
    );
    const { issueNumber: _n, ...noIssue } = opened;
    expect(headline(noIssue)).toBe("production is unhealthy (incident opened)");
    expect(headline(deploy)).toBe("Deploy to production: failed");
  });
});

describe("Slack", () => {
  it("heads with the incident, links the issue, and shows how long it lasted", () => {
    const open = slackMessage(opened);
    expect(open.text).toBe(`production is unhealthy (incident #12 opened): ${opened.reason}`);
    expect(open.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: ":rotating_light: production is unhealthy (incident #12 opened)", emoji: true },
    });
    const fields = JSON.stringify(open.blocks[2]);
    expect(fields).toContain(`<${ISSUE}|#12>`);
    expect(fields).toContain("health, opened");
    expect(fields).not.toContain("Duration");
    const close = JSON.stringify(slackMessage(closed));
    expect(close).toContain(":white_check_mark: production healthy again after 42m");
    expect(close).toContain("*Lasted*\\n42m 00s");
    expect(JSON.stringify(slackMessage(newFindings))).toContain("*New*\\nCVE-2019-18224 libidn2-0");
  });
});

describe("Teams", () => {
  it("colours by state and opens the incident before the run", () => {
    const card = (e: IncidentEvent) =>
      (
        teamsMessage(e) as {
          attachments: { content: { body: { text?: string; color?: string }[]; actions: { title: string; url: string }[] } }[];
        }
      ).attachments[0]!.content;
    expect(card(opened).body[0]).toMatchObject({ text: "production is unhealthy (incident #12 opened)", color: "attention" });
    expect(card(closed).body[0]).toMatchObject({ color: "good" });
    expect(card(opened).actions.map((a) => [a.title, a.url])).toEqual([
      ["Open the incident", ISSUE],
      ["Open the run", opened.runUrl],
    ]);
    expect(JSON.stringify(card(closed))).toContain('{"title":"Lasted","value":"42m 00s"}');
  });
});

describe("webhook", () => {
  it("sends incidents as shipshape.incident/v1 with every key, and leaves deploys as shipshape.deploy/v1", () => {
    const at = new Date("2026-12-03T10:00:00Z");
    expect(webhookPayload(closed, at, "d-1")).toEqual({
      schema: INCIDENT_SCHEMA,
      id: "d-1",
      sentAt: "2026-12-03T10:00:00.000Z",
      kind: "incident",
      environment: "production",
      result: "succeeded",
      severity: "info",
      headline: "production healthy again after 42m (incident #12 closed)",
      reason: "smoke passed",
      image: opened.image,
      incident: { kind: "health", action: "closed", issue: { number: 12, url: ISSUE }, durationSeconds: 2520, newFindings: [] },
      runUrl: opened.runUrl,
    });
    expect(webhookPayload(newFindings, at, "d-2")).toMatchObject({
      result: "failed",
      severity: "error",
      incident: { kind: "vulnerability", action: "updated", durationSeconds: null, newFindings: ["CVE-2019-18224 libidn2-0"] },
    });
    expect(webhookRequest(webhookPayload(opened, at)).headers["X-Shipshape-Event"]).toBe("incident");
    const old = webhookPayload(deploy, at, "d-3");
    expect(old.schema).toBe(WEBHOOK_SCHEMA);
    expect(Object.keys(old)).not.toContain("incident");
    expect(webhookRequest(old).headers["X-Shipshape-Event"]).toBe("deploy");
  });
});

describe("email", () => {
  it("puts the incident in the subject and its facts in the body", () => {
    const m = emailMessage(closed);
    expect(m.subject).toBe("[shipshape] production healthy again after 42m (incident #12 closed)");
    expect(m.kind).toBe("incident");
    expect(m.text).toContain(`Issue: #12 (${ISSUE})`);
    expect(m.text).toContain("Lasted: 42m 00s");
    expect(m.text).not.toMatch(/Took:|Deploy to/);
    expect(emailMessage(deploy).kind).toBe("deploy");
  });
});

describe("SNS", () => {
  let fake: FakeSns | undefined;
  afterEach(() => fake?.mock.restore());
  const TOPIC = "arn:aws:sns:eu-west-1:123456789012:alerts";

  it("keeps the subject under 100 ASCII characters and tags the incident for filter policies", () => {
    const long: IncidentEvent = { ...vulnerable, environment: "production-eu-west-1-" + "é".repeat(60) };
    const input = snsPublish(long, "body", { topicArn: TOPIC });
    expect(input.Subject.length).toBeLessThan(100);
    expect(input.Subject).toMatch(/^\[shipshape\] blocking vulnerabilities in what production-eu-west-1-\?+~$/);
    expect(input.Subject).toMatch(/^[\x20-\x7e]+$/);
    expect(input.MessageAttributes).toMatchObject({
      kind: { StringValue: "incident" },
      severity: { StringValue: "error" },
      incident: { StringValue: "vulnerability" },
      action: { StringValue: "opened" },
      run: { StringValue: "incident" },
    });
    expect(snsPublish(deploy, "body", { topicArn: TOPIC }).MessageAttributes).not.toHaveProperty("incident");
  });

  it("publishes through the SDK, which accepts the subject", async () => {
    fake = new FakeSns([{ arn: TOPIC, allowPublish: true }]);
    const config = NotificationsConfigSchema.parse({ sns: { topicArn: TOPIC } });
    const sns = (region: string) =>
      sdkPublisher(region, async () => ({ accessKeyId: "AKIA" + "W".repeat(16), secretAccessKey: "k".repeat(40) }));
    const [result] = await notifyAll(opened, {}, { config, sns, clock: virtualClock(0).clock });
    expect(result).toMatchObject({ target: "sns", delivered: true });
    expect(fake.delivered[0]!.input.Subject).toBe("[shipshape] production is unhealthy (incident #12 opened)");
    expect(fake.delivered[0]!.input.Message).toContain("Incident: health, opened");
  });
});
