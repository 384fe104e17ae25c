// notifications.routes: results by name and least severity to channels, against real local
// receivers. Without routes nothing changes (notify.test.ts and pagerduty-teams.test.ts pin that).
import { afterEach, describe, expect, it } from "vitest";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { NotificationsConfigSchema, type NotificationsConfigInput } from "../../deploy/lib/notify/config.js";
import type { DeployEvent, EventResult } from "../../deploy/lib/notify/event.js";
import { notifyAll } from "../../deploy/lib/notify/notify.js";
import type { PagerDutyEvent } from "../../deploy/lib/notify/pagerduty.js";
import { routed, severityOf } from "../../deploy/lib/notify/routes.js";
import { sdkPublisher } from "../../deploy/lib/notify/sns.js";
import { FakeSns } from "./fake-sns.js";
import { closeAll, receiver, virtualClock } from "./receiver.js";

afterEach(closeAll);

const base: DeployEvent = {
  kind: "deploy",
  environment: "production",
  result: "failed",
  reason: "smoke check failed",
  image: "ghcr.io/acme/api@sha256:" + "e".repeat(64),
  durationSeconds: 60,
};
const as = (result: EventResult): DeployEvent => ({ ...base, result });
const KEY = ["R0UT1NG", "KEY0123456789", "abcdefabcdef"].join("");

const parse = (input: NotificationsConfigInput) => NotificationsConfigSchema.parse(input);
const issues = (input: unknown) => {
  const r = NotificationsConfigSchema.safeParse(input, { error: configErrorMap, reportInput: true });
  return r.success ? [] : formatZodIssues(r.error, NotificationsConfigSchema);
};

async function world(routes: NotificationsConfigInput["routes"]) {
  const [slack, failures, teams, pd] = [
    await receiver(),
    await receiver(),
    await receiver(() => ({ status: 202 })),
    await receiver(() => ({ status: 202 })),
  ];
  const config = parse({ routes, pagerduty: { url: pd.url.replace(/\/services\/.*/, "/v2/enqueue") } });
  const targets = { slack: slack.url, slackFailures: failures.url, teams: teams.url, pagerdutyRoutingKey: KEY };
  const send = (result: EventResult) => notifyAll(as(result), targets, { config, clock: virtualClock(0).clock });
  return { slack, failures, teams, pd, send };
}

const byTarget = (results: { target: string; delivered: boolean; skipped?: string; error?: string }[]) =>
  Object.fromEntries(results.map((r) => [r.target, r.delivered ? "delivered" : (r.skipped ?? r.error)]));

describe("severity", () => {
  it("follows PagerDuty's words: success info, paused warning, rollback error, failure critical", () => {
    expect((["succeeded", "paused", "rolled back", "failed"] as const).map((r) => severityOf({ result: r }))).toEqual([
      "info",
      "warning",
      "error",
      "critical",
    ]);
  });

  it("without routes, every channel gets everything and the failures channel only failures and rollbacks", () => {
    expect(routed(undefined, "teams", { result: "succeeded" })).toBe(true);
    expect(routed(undefined, "slackFailures", { result: "succeeded" })).toBe("only failures and rollbacks go to the failures channel");
    expect(routed(undefined, "slackFailures", { result: "rolled back" })).toBe(true);
  });
});

describe("notifications.routes", () => {
  it("sends failures and rollbacks to on-call and everything to the team channel", async () => {
    const w = await world([{ on: ["failure", "rollback"], to: ["pagerduty", "slackFailures"] }, { to: ["slack"] }]);
    expect(byTarget(await w.send("failed"))).toEqual({
      slack: "delivered",
      "slack-failures": "delivered",
      teams: "no route in notifications.routes sends a failure (critical) here",
      pagerduty: "delivered",
    });
    expect(byTarget(await w.send("succeeded"))).toEqual({
      slack: "delivered",
      "slack-failures": "no route in notifications.routes sends a success (info) here",
      teams: "no route in notifications.routes sends a success (info) here",
      // the alert the failure opened is closed, though successes are not routed to PagerDuty
      pagerduty: "delivered",
    });
    expect(w.pd.received.map((r) => (JSON.parse(r.body) as PagerDutyEvent).event_action)).toEqual(["trigger", "resolve"]);
    expect([w.slack.received.length, w.failures.received.length, w.teams.received.length]).toEqual([2, 1, 0]);
  });

  it("routes by least severity: error and worse to Teams", async () => {
    const w = await world([{ severity: "error", to: ["teams"] }]);
    expect(byTarget(await w.send("rolled back")).teams).toBe("delivered");
    expect(byTarget(await w.send("paused")).teams).toBe("no route in notifications.routes sends a paused (warning) here");
    expect(byTarget(await w.send("failed"))).toMatchObject({
      teams: "delivered",
      pagerduty: "no route in notifications.routes sends a failure (critical) here",
    });
    expect(byTarget(await w.send("succeeded")).pagerduty).toBe("no route in notifications.routes sends to pagerduty");
    expect(w.teams.received).toHaveLength(2);
    expect(w.pd.received).toHaveLength(0);
  });

  it("says when a route sends to a channel whose credential was not given, and still delivers the rest", async () => {
    const slack = await receiver();
    const config = parse({ routes: [{ on: ["failure"], to: ["slack", "pagerduty", "teams"] }] });
    const results = await notifyAll(base, { slack: slack.url }, { config, clock: virtualClock(0).clock });
    expect(byTarget(results)).toEqual({
      slack: "delivered",
      pagerduty:
        "notifications.routes[0] sends a failure to pagerduty, but no pagerduty credential was given; pass withNotifications --pagerduty-routing-key or drop pagerduty from the route",
      teams:
        "notifications.routes[0] sends a failure to teams, but no teams credential was given; pass withNotifications --teams-webhook or drop teams from the route",
    });
  });

  it("routes SNS like the rest, and no message carries a secret even when the reason quotes one", async () => {
    const fake = new FakeSns([{ arn: "arn:aws:sns:eu-west-1:123456789012:deploys", allowPublish: true }]);
    try {
      const slack = await receiver();
      const config = parse({ sns: { topicArn: "arn:aws:sns:eu-west-1:123456789012:deploys" }, routes: [{ on: ["failure"], to: ["sns"] }] });
      const sns = (region: string) =>
        sdkPublisher(region, async () => ({ accessKeyId: "AKIA" + "Z".repeat(16), secretAccessKey: "k".repeat(40) }));
      const leaky = { ...base, reason: `POST ${slack.url} failed` };
      const results = await notifyAll(leaky, { slack: slack.url }, { config, sns, clock: virtualClock(0).clock });
      expect(byTarget(results)).toEqual({ slack: "no route in notifications.routes sends a failure (critical) here", sns: "delivered" });
      const message = fake.delivered[0]!.input.Message!;
      expect(message).toContain("Why: POST *** failed");
      expect(message).not.toContain("s3cr3tWebhookToken0123");
      const quiet = await notifyAll(as("succeeded"), {}, { config, sns, clock: virtualClock(0).clock });
      expect(byTarget(quiet)).toEqual({ sns: "no route in notifications.routes sends a success (info) here" });
      expect(fake.calls).toHaveLength(1);
    } finally {
      fake.mock.restore();
    }
  });

  it("refuses an unknown channel, a route to an email or SNS that is not set up, and a wrong severity, each in one line", () => {
    expect(issues({ routes: [{ to: ["sms"] }] })).toEqual([
      'routes[0].to[0]: expected one of slack, slackFailures, webhook, teams, pagerduty, email, sns, got "sms"',
    ]);
    expect(issues({ routes: [{ on: ["failure"], to: ["slack", "email"] }] })).toEqual([
      "routes[0].to[1]: routes to email, but notifications.email is not set; add it (host, from, to) or drop email from this route",
    ]);
    expect(issues({ routes: [{ to: ["sns"] }] })[0]).toMatch(
      /^routes\[0\]\.to\[0\]: routes to sns, but notifications\.sns is not set; add it \(topicArn\)/,
    );
    expect(issues({ routes: [{ severity: "fatal", to: ["slack"] }] })).toEqual([
      'routes[0].severity: expected one of info, warning, error, critical, got "fatal"',
    ]);
    expect(issues({ routes: [{ on: [], to: ["slack"] }] })[0]).toMatch(
      /^routes\[0\]\.on: expected a list of success, failure, rollback, paused/,
    );
    expect(issues({ routes: [{ on: ["failure"] }] })[0]).toMatch(/^routes\[0\]\.to: required/);
    expect(issues({ sns: { topicArn: "arn:aws:sqs:eu-west-1:123456789012:q" } })[0]).toMatch(/^sns\.topicArn: expected a topic ARN like/);
    expect(issues({ email: { host: "smtp.acme.test", from: "ops", to: ["a@acme.test"] } })[0]).toMatch(
      /^email\.from: expected an email address/,
    );
  });
});
