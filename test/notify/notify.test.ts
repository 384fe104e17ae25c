// notifyAll against real local receivers: routing by result, the failures channel, signing, and
// the promise that a broken target never breaks the others or throws.
import { afterEach, describe, expect, it } from "vitest";
import { NotificationsConfigSchema } from "../../deploy/lib/notify/config.js";
import { eventFromDeploy, type DeployEvent } from "../../deploy/lib/notify/event.js";
import { notifyAll, summarizeDeliveries } from "../../deploy/lib/notify/notify.js";
import type { SlackMessage } from "../../deploy/lib/notify/slack.js";
import { verifySignature, type WebhookPayloadV1 } from "../../deploy/lib/notify/webhook.js";
import { captureStderr, closeAll, receiver, virtualClock } from "./receiver.js";

afterEach(closeAll);

const T0 = Date.parse("2026-11-20T10:00:00Z");
const failed: DeployEvent = {
  kind: "deploy",
  environment: "prod",
  result: "failed",
  reason: "migration exited 1",
  image: "r@sha256:" + "d".repeat(64),
  durationSeconds: 95,
  commitSha: "0123456789abcdef",
  runUrl: "https://github.com/acme/shop/actions/runs/7",
};
const succeeded: DeployEvent = { ...failed, result: "succeeded", reason: "service steady on app:42" };

async function world() {
  const slack = await receiver();
  const failures = await receiver();
  const hook = await receiver(() => ({ status: 204 }));
  return {
    slack,
    failures,
    hook,
    targets: { slack: slack.url, slackFailures: failures.url, webhook: hook.url, webhookSecret: "whsec_123" },
  };
}

describe("notifyAll", () => {
  it("sends a failure to Slack, the failures channel and the signed webhook", async () => {
    const { slack, failures, hook, targets } = await world();
    const results = await notifyAll(failed, targets, { clock: virtualClock(T0).clock });
    expect(results.map((r) => [r.target, r.delivered, r.attempts, r.status])).toEqual([
      ["slack", true, 1, 200],
      ["slack-failures", true, 1, 200],
      ["webhook", true, 1, 204],
    ]);
    const message = JSON.parse(slack.received[0]!.body) as SlackMessage;
    expect(message.blocks[0]).toMatchObject({ type: "header", text: { text: ":x: Deploy to prod: failed" } });
    expect(failures.received[0]!.body).toBe(slack.received[0]!.body);

    const delivered = hook.received[0]!;
    const payload = JSON.parse(delivered.body) as WebhookPayloadV1;
    expect(payload).toMatchObject({
      schema: "shipshape.deploy/v1",
      result: "failed",
      sentAt: "2026-11-20T10:00:00.000Z",
      commit: { sha: "0123456789abcdef" },
    });
    expect(delivered.headers["x-shipshape-delivery"]).toBe(payload.id);
    expect(verifySignature(delivered.body, "whsec_123", delivered.headers["x-shipshape-signature"] as string)).toBe(true);
  });

  it("keeps successes out of the failures channel", async () => {
    const { slack, failures, hook, targets } = await world();
    const results = await notifyAll(succeeded, targets, { clock: virtualClock(T0).clock });
    expect(results.find((r) => r.target === "slack-failures")).toMatchObject({
      delivered: false,
      attempts: 0,
      skipped: "only failures and rollbacks go to the failures channel",
    });
    expect([slack.received.length, failures.received.length, hook.received.length]).toEqual([1, 0, 1]);
  });

  it("sends only the results listed in notifications.on", async () => {
    const { slack, failures, hook, targets } = await world();
    const config = NotificationsConfigSchema.parse({ on: ["failure", "rollback"] });
    const quiet = await notifyAll(succeeded, targets, { config, clock: virtualClock(T0).clock });
    expect(quiet.filter((r) => r.skipped === "success is not in notifications.on").map((r) => r.target)).toEqual(["slack", "webhook"]);
    const rolledBack = await notifyAll({ ...failed, result: "rolled back" }, targets, { config, clock: virtualClock(T0).clock });
    expect(rolledBack.every((r) => r.delivered)).toBe(true);
    expect([slack.received.length, failures.received.length, hook.received.length]).toEqual([1, 1, 1]);
  });

  it("reports a dead target without holding back the others, and never throws", async () => {
    const { hook } = await world();
    const gone = await receiver(() => ({ status: 404, body: "no_service" }));
    const results = await notifyAll(
      failed,
      { slack: gone.url, slackFailures: "not a url at all/services/T0/B0/zzzsecret", webhook: hook.url },
      { clock: virtualClock(T0).clock },
    );
    expect(results.map((r) => [r.target, r.delivered])).toEqual([
      ["slack", false],
      ["slack-failures", false],
      ["webhook", true],
    ]);
    expect(results[0]?.error).toMatch(/^http:\/\/127\.0\.0\.1:\d+ answered 404 no_service: the webhook URL is revoked or mistyped/);
    expect(JSON.stringify(results)).not.toMatch(/s3cr3tWebhookToken|zzzsecret|\/services\//);
    expect(summarizeDeliveries(results)[2]).toMatch(/^webhook: delivered to http:\/\/127\.0\.0\.1:\d+ \(1 attempt\)$/);
  });

  it("retries the webhook with the same delivery id and signature, and trims secrets read from files", async () => {
    const hook = await receiver((n) => (n === 1 ? { status: 503 } : { status: 202 }));
    const results = await notifyAll(
      failed,
      { webhook: `${hook.url}\n`, webhookSecret: "whsec_123\n" },
      { clock: virtualClock(T0).clock, random: () => 0.5 },
    );
    expect(results).toEqual([expect.objectContaining({ target: "webhook", delivered: true, attempts: 2, status: 202 })]);
    const [first, second] = hook.received;
    expect(second?.body).toBe(first?.body);
    expect(second?.headers["x-shipshape-delivery"]).toBe(first?.headers["x-shipshape-delivery"]);
    expect(verifySignature(second!.body, "whsec_123", second!.headers["x-shipshape-signature"] as string)).toBe(true);
  });

  it("sends once when the failures channel is the same webhook", async () => {
    const slack = await receiver();
    const results = await notifyAll(failed, { slack: slack.url, slackFailures: slack.url }, { clock: virtualClock(T0).clock });
    expect(results[1]).toMatchObject({ target: "slack-failures", skipped: "same webhook as slack; sent once" });
    expect(slack.received).toHaveLength(1);
  });

  it("does nothing without targets, and flags a signing secret with no webhook", async () => {
    expect(await notifyAll(failed, {}, { clock: virtualClock(T0).clock })).toEqual([]);
    expect(await notifyAll(failed, { slack: "  ", webhookSecret: "whsec" }, { clock: virtualClock(T0).clock })).toEqual([
      {
        target: "webhook",
        endpoint: "(none)",
        delivered: false,
        attempts: 0,
        error: "a webhook signing secret was given but no webhook URL",
      },
    ]);
  });

  it("logs progress per target with redacted endpoints only", async () => {
    const { targets } = await world();
    const { output } = await captureStderr(() => notifyAll(succeeded, targets, { clock: virtualClock(T0).clock }));
    expect(output).toMatch(/\[shipshape\] notify: slack: delivered to http:\/\/127\.0\.0\.1:\d+ \(attempt 1\)/);
    expect(output).toContain("[shipshape] notify: slack-failures: skipped, only failures and rollbacks go to the failures channel");
    expect(output).not.toContain("/services/");
    expect(output).not.toContain("whsec_123");
  });
});

describe("eventFromDeploy", () => {
  it("takes the duration from the deploy's timeline", () => {
    const e = eventFromDeploy(
      {
        environment: "staging",
        image: "r@sha256:" + "e".repeat(64),
        result: "rolled back",
        reason: "smoke check failed",
        timeline: [
          { at: "2026-11-20T10:00:00.000Z", message: "started" },
          { at: "2026-11-20T10:04:05.400Z", message: "rolled back" },
        ],
      },
      { author: "ada", strategy: "rolling" },
    );
    expect(e).toEqual({
      kind: "deploy",
      environment: "staging",
      image: "r@sha256:" + "e".repeat(64),
      result: "rolled back",
      reason: "smoke check failed",
      durationSeconds: 245,
      author: "ada",
      strategy: "rolling",
    });
  });
});
