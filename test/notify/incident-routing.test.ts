// Incidents through notifyAll: their own PagerDuty alert per environment and kind, against the
// stateful Events API v2 fake (fake-pagerduty.ts: a resolve of an unknown or closed key is accepted
// and does nothing), and how notifications.on and notifications.routes carry them.
import { afterEach, describe, expect, it } from "vitest";
import { NotificationsConfigSchema, type NotificationsConfigInput } from "../../deploy/lib/notify/config.js";
import type { DeployEvent, IncidentEvent, Notification } from "../../deploy/lib/notify/event.js";
import { notifyAll } from "../../deploy/lib/notify/notify.js";
import type { PagerDutyEvent } from "../../deploy/lib/notify/pagerduty.js";
import { routed, severityOf } from "../../deploy/lib/notify/routes.js";
import { pagerDuty } from "./fake-pagerduty.js";
import { closeAll, receiver, virtualClock } from "./receiver.js";

afterEach(closeAll);

const KEY = ["R0UT1NG", "KEY0123456789", "abcdefabcdef"].join("");
const deployFailed: DeployEvent = {
  kind: "deploy",
  environment: "production",
  result: "failed",
  reason: "smoke check failed",
  image: "ghcr.io/acme/api@sha256:" + "e".repeat(64),
  durationSeconds: 60,
};
const deployOk: DeployEvent = { ...deployFailed, result: "succeeded", reason: "app:43 serves" };
const health: IncidentEvent = {
  kind: "incident",
  incident: "health",
  action: "opened",
  environment: "production",
  image: "service shop (prod, eu-west-1)",
  reason: "smoke checks failed: GET /healthz answered 503",
  issueNumber: 12,
  issueUrl: "https://github.com/acme/shop/issues/12",
};
const healthClosed: IncidentEvent = { ...health, action: "closed", reason: "smoke passed", durationSeconds: 2520 };
const vuln: IncidentEvent = { ...health, incident: "vulnerability", issueNumber: 13, reason: "2 blocking findings" };
const vulnNews: IncidentEvent = { ...vuln, action: "updated", newFindings: ["CVE-2019-18224 libidn2-0"] };
const vulnClosed: IncidentEvent = { ...vuln, action: "closed", reason: "no blocking finding", durationSeconds: 60 };

describe("PagerDuty: deploys and each kind of incident have alerts of their own", () => {
  it("a deploy success resolves only the deploy's alert, an incident's close only its own", async () => {
    const pd = await pagerDuty();
    const config = NotificationsConfigSchema.parse({ pagerduty: { url: pd.url } });
    const send = (e: Notification) => notifyAll(e, { pagerdutyRoutingKey: KEY }, { config, clock: virtualClock(0).clock });
    await send(deployFailed);
    await send(health);
    await send(vuln);
    expect(pd.open()).toEqual(["shipshape/production", "shipshape/production/health", "shipshape/production/vulnerability"]);
    expect(pd.alerts.get(`${KEY}/shipshape/production/health`)!.severity).toBe("critical");
    expect(pd.alerts.get(`${KEY}/shipshape/production/vulnerability`)!.severity).toBe("error");

    await send(deployOk);
    expect(pd.open()).toEqual(["shipshape/production/health", "shipshape/production/vulnerability"]);

    await send(vulnNews); // new findings trigger again on the open alert: on-call hears of them
    expect(pd.alerts.get(`${KEY}/shipshape/production/vulnerability`)).toMatchObject({ open: true, triggers: 2 });
    await send(vulnClosed);
    expect(pd.open()).toEqual(["shipshape/production/health"]);

    await send(deployFailed);
    await send(healthClosed);
    expect(pd.open()).toEqual(["shipshape/production"]);
    const sent = pd.received.map((r) => JSON.parse(r.body) as PagerDutyEvent);
    expect(sent.map((e) => `${e.event_action} ${e.dedup_key}`)).toEqual([
      "trigger shipshape/production",
      "trigger shipshape/production/health",
      "trigger shipshape/production/vulnerability",
      "resolve shipshape/production",
      "trigger shipshape/production/vulnerability",
      "resolve shipshape/production/vulnerability",
      "trigger shipshape/production",
      "resolve shipshape/production/health",
    ]);
    expect(sent[1]).toMatchObject({
      client_url: health.issueUrl,
      links: [{ href: health.issueUrl, text: "GitHub issue #12" }],
      payload: { summary: `production is unhealthy (incident #12 opened): ${health.reason}`, class: "health incident" },
    });
  });
});

async function world(input: NotificationsConfigInput) {
  const [slack, failures, pd] = [await receiver(), await receiver(), await pagerDuty()];
  const config = NotificationsConfigSchema.parse({ ...input, pagerduty: { url: pd.url } });
  const targets = { slack: slack.url, slackFailures: failures.url, pagerdutyRoutingKey: KEY };
  const send = async (e: Notification) =>
    Object.fromEntries(
      (await notifyAll(e, targets, { config, clock: virtualClock(0).clock })).map((r) => [
        r.target,
        r.delivered ? "delivered" : (r.skipped ?? r.error),
      ]),
    );
  return { pd, send };
}

describe("routing incidents", () => {
  it("scores an open health incident critical, an open vulnerability error, a close info", () => {
    expect([health, vuln, vulnNews, healthClosed, vulnClosed].map(severityOf)).toEqual(["critical", "error", "error", "info", "info"]);
  });

  it("by default goes where failures go when it opens, and where successes go when it closes", async () => {
    const w = await world({});
    expect(await w.send(health)).toEqual({ slack: "delivered", "slack-failures": "delivered", pagerduty: "delivered" });
    expect(await w.send(healthClosed)).toEqual({
      slack: "delivered",
      "slack-failures": "a closed incident is good news; only open ones go to the failures channel",
      pagerduty: "delivered",
    });
    expect(w.pd.open()).toEqual([]);
    expect(routed(undefined, "slackFailures", deployOk)).toBe("only failures and rollbacks go to the failures channel");
  });

  it("follows routes by the word incident and by severity", async () => {
    const w = await world({
      routes: [
        { on: ["failure", "incident"], severity: "critical", to: ["pagerduty"] },
        { on: ["incident"], severity: "error", to: ["slackFailures"] },
        { on: ["failure", "rollback"], to: ["slack"] },
      ],
    });
    expect(await w.send(health)).toEqual({
      slack: "no route in notifications.routes sends an open incident (critical) here",
      "slack-failures": "delivered",
      pagerduty: "delivered",
    });
    expect(await w.send(vuln)).toMatchObject({
      "slack-failures": "delivered",
      pagerduty: "no route in notifications.routes sends an open incident (error) here",
    });
    // the close resolves the alert the open triggered, though info is below the route's least severity
    expect(await w.send(healthClosed)).toEqual({
      slack: "no route in notifications.routes sends a closed incident (info) here",
      "slack-failures": "no route in notifications.routes sends a closed incident (info) here",
      pagerduty: "delivered",
    });
    expect(w.pd.open()).toEqual([]);
  });

  it("is left out when notifications.on leaves incident out, but an alert it opened is still resolved", async () => {
    const w = await world({ on: ["failure", "rollback"] });
    expect(await w.send(health)).toEqual({
      slack: "incident is not in notifications.on",
      "slack-failures": "incident is not in notifications.on",
      pagerduty: "incident is not in notifications.on",
    });
    expect(await w.send(healthClosed)).toMatchObject({ pagerduty: "delivered" });
    expect(w.pd.received.map((r) => (JSON.parse(r.body) as PagerDutyEvent).event_action)).toEqual(["resolve"]);
  });

  it("says a route to an absent channel carries an incident", async () => {
    const config = NotificationsConfigSchema.parse({ routes: [{ on: ["incident"], to: ["teams"] }] });
    const [r] = await notifyAll(health, {}, { config, clock: virtualClock(0).clock });
    expect(r!.error).toMatch(/^notifications\.routes\[0\] sends an incident to teams, but no teams credential was given/);
  });
});
