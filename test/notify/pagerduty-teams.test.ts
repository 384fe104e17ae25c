// PagerDuty and Microsoft Teams through notifyAll, against real local receivers. The PagerDuty
// receiver (fake-pagerduty.ts) keeps alerts the way the Events API v2 documents them.
import { afterEach, describe, expect, it } from "vitest";
import { NotificationsConfigSchema } from "../../deploy/lib/notify/config.js";
import type { DeployEvent } from "../../deploy/lib/notify/event.js";
import { notifyAll, summarizeDeliveries } from "../../deploy/lib/notify/notify.js";
import type { PagerDutyEvent } from "../../deploy/lib/notify/pagerduty.js";
import { pagerDuty } from "./fake-pagerduty.js";
import { closeAll, receiver, virtualClock } from "./receiver.js";

afterEach(closeAll);

// Built at run time: a literal of this shape is what gitleaks (rightly) reports as a key.
const KEY = ["R0UT1NG", "KEY0123456789", "abcdefabcdef"].join("");
const failed: DeployEvent = {
  kind: "deploy",
  environment: "production",
  result: "failed",
  reason: "smoke check health answered 503",
  image: "ghcr.io/acme/api@sha256:" + "e".repeat(64),
  durationSeconds: 310,
  version: "1.4.0",
  runUrl: "https://github.com/acme/api/actions/runs/9",
};
const rolledBack: DeployEvent = { ...failed, result: "rolled back", reason: "error rate 4% > 1%; back on app:41" };
const succeeded: DeployEvent = { ...failed, result: "succeeded", reason: "app:43 serves" };
const paused: DeployEvent = { ...failed, result: "paused", reason: "waiting for promotion" };

const configFor = (url: string, on?: string[]) =>
  NotificationsConfigSchema.parse({ pagerduty: { url }, ...(on ? { on } : {}), attempts: 3 });

describe("PagerDuty", () => {
  it("a failure opens one alert for the environment, a later success resolves it", async () => {
    const pd = await pagerDuty();
    const config = configFor(pd.url);
    const clock = virtualClock(0).clock;
    await notifyAll(failed, { pagerdutyRoutingKey: KEY }, { config, clock });
    await notifyAll(rolledBack, { pagerdutyRoutingKey: KEY }, { config, clock });
    expect([...pd.alerts.entries()]).toEqual([[`${KEY}/shipshape/production`, { open: true, triggers: 2, severity: "error" }]]);
    const first = JSON.parse(pd.received[0]!.body) as PagerDutyEvent;
    expect(first).toMatchObject({
      event_action: "trigger",
      dedup_key: "shipshape/production",
      client_url: failed.runUrl,
      payload: { severity: "critical", source: "production", summary: "Deploy to production: failed: smoke check health answered 503" },
    });
    const [resolved] = await notifyAll(succeeded, { pagerdutyRoutingKey: KEY }, { config, clock });
    expect(resolved).toMatchObject({ target: "pagerduty", delivered: true, status: 202 });
    expect(pd.alerts.get(`${KEY}/shipshape/production`)!.open).toBe(false);
  });

  it("resolves even when notifications.on leaves success out, and never pages for a pause", async () => {
    const pd = await pagerDuty();
    const config = configFor(pd.url, ["failure", "rollback"]);
    await notifyAll(failed, { pagerdutyRoutingKey: KEY }, { config, clock: virtualClock(0).clock });
    const [onPause] = await notifyAll(paused, { pagerdutyRoutingKey: KEY }, { config, clock: virtualClock(0).clock });
    expect(onPause).toMatchObject({ target: "pagerduty", delivered: false, attempts: 0, skipped: "a paused does not page" });
    await notifyAll(succeeded, { pagerdutyRoutingKey: KEY }, { config, clock: virtualClock(0).clock });
    expect(pd.received.map((r) => (JSON.parse(r.body) as PagerDutyEvent).event_action)).toEqual(["trigger", "resolve"]);
    expect(pd.alerts.get(`${KEY}/shipshape/production`)!.open).toBe(false);
  });

  it("retries a 429 and reports a 400 with a hint, never the routing key", async () => {
    const limited = await pagerDuty((n) => (n === 1 ? { status: 429, body: '{"status":"throttle event"}' } : undefined));
    const { value, clockDone } = await (async () => {
      const v = virtualClock(0);
      const p = notifyAll(failed, { pagerdutyRoutingKey: KEY }, { config: configFor(limited.url), clock: v.clock });
      return { value: await p, clockDone: v };
    })();
    expect(clockDone).toBeDefined();
    expect(value[0]).toMatchObject({ target: "pagerduty", delivered: true, attempts: 2, status: 202 });

    const refusing = await receiver(() => ({ status: 400, body: '{"status":"invalid event","message":"Event object is invalid"}' }));
    const url = refusing.url.replace(/\/services\/.*/, "/v2/enqueue");
    const [refused] = await notifyAll(failed, { pagerdutyRoutingKey: KEY }, { config: configFor(url), clock: virtualClock(0).clock });
    expect(refused).toMatchObject({ target: "pagerduty", delivered: false, attempts: 1 });
    expect(refused!.error).toMatch(/check the routing key is an Events API v2 integration key/);
    expect(JSON.stringify([value, refused, summarizeDeliveries([refused!])])).not.toContain(KEY);
  });
});

describe("Microsoft Teams", () => {
  it("posts an Adaptive Card with the headline, the facts and the run link", async () => {
    const teams = await receiver(() => ({ status: 202, body: "" }));
    const [result] = await notifyAll(rolledBack, { teams: teams.url }, { clock: virtualClock(0).clock });
    expect(result).toMatchObject({ target: "teams", delivered: true, status: 202 });
    const message = JSON.parse(teams.received[0]!.body) as { attachments: { contentType: string; content: Record<string, unknown> }[] };
    expect(message.attachments[0]!.contentType).toBe("application/vnd.microsoft.card.adaptive");
    const card = message.attachments[0]!.content as {
      version: string;
      body: { text?: string; color?: string; facts?: { title: string; value: string }[] }[];
      actions: { url: string }[];
    };
    expect(card.version).toBe("1.4");
    expect(card.body[0]).toMatchObject({ text: "Deploy to production: rolled back", color: "warning" });
    expect(card.body[1]!.facts).toContainEqual({ title: "Why", value: rolledBack.reason });
    expect(card.actions[0]!.url).toBe(rolledBack.runUrl);
    expect(result!.endpoint).not.toContain("s3cr3tWebhookToken0123");
  });

  it("follows notifications.on like every channel", async () => {
    const teams = await receiver();
    const config = NotificationsConfigSchema.parse({ on: ["failure"] });
    const [result] = await notifyAll(succeeded, { teams: teams.url }, { config, clock: virtualClock(0).clock });
    expect(result).toMatchObject({ target: "teams", delivered: false, skipped: "success is not in notifications.on" });
    expect(teams.received).toEqual([]);
  });
});
