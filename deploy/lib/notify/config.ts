/**
 * The `notifications:` section of shipshape.yaml (to be added to ShipshapeConfigSchema as an
 * optional key with `.prefault({})`): which deploy results and incidents to announce, how hard to try, and the
 * GitHub pull-request comment. Webhook URLs, the signing secret and the GitHub token are Dagger
 * Secrets and never appear here.
 */
import { z } from "zod";
import { expecting } from "../config/errors.js";
import { NOTIFY_ON } from "./event.js";
import type { DeliveryPolicy } from "./deliver.js";
import { PAGERDUTY_EVENTS_URL } from "./pagerduty.js";
import { EmailConfigSchema, SnsConfigSchema } from "./channel-config.js";
import { RouteSchema } from "./routes.js";

const seconds = (min: number, max: number, description: string) =>
  expecting(z.int().min(min).max(max).describe(description), `a whole number of seconds from ${min} to ${max}`);

export const GithubReportingSchema = z
  .strictObject({
    prComment: z
      .boolean()
      .default(true)
      .describe("On pull requests, keep one comment with the gate results up to date (needs a GitHub token with pull-requests: write)."),
    apiUrl: expecting(
      z.url({ protocol: /^https?$/ }).describe("GitHub REST API base URL; for GitHub Enterprise Server, https://HOST/api/v3."),
      "an http(s) URL like https://api.github.com or https://github.example.com/api/v3",
    ).default("https://api.github.com"),
  })
  .describe("GitHub reporting: the step summary is always written; the pull-request comment is optional.");

export const NotificationsConfigSchema = z
  .strictObject({
    on: expecting(
      z
        .array(z.enum(NOTIFY_ON).describe("A deploy result, or incident (monitor and rescan opening, updating, closing one)."))
        .min(1)
        .describe(
          "Deploy results and incidents that send a notification (default: all); failures, rollbacks and open incidents also go to the failures channel when one is set.",
        ),
      `a list of ${NOTIFY_ON.join(", ")}`,
    ).default([...NOTIFY_ON]),
    timeoutSeconds: seconds(1, 60, "Seconds one delivery attempt may take before it is abandoned.").default(10),
    attempts: expecting(
      z.int().min(1).max(10).describe("Delivery attempts per target, the first included; only timeouts, 429 and 5xx are retried."),
      "a whole number from 1 to 10",
    ).default(3),
    deadlineSeconds: seconds(5, 600, "Seconds all attempts to one target may take together, waits included.").default(60),
    maxRetryAfterSeconds: seconds(0, 300, "Longest Retry-After (from a 429 or 503) to wait for; a longer one is cut to this.").default(30),
    github: GithubReportingSchema.prefault({}).describe("GitHub step summary and pull-request comment."),
    pagerduty: z
      .strictObject({
        url: expecting(
          z.url({ protocol: /^https?$/ }).describe("Events API v2 endpoint; https://events.eu.pagerduty.com/v2/enqueue for an EU account."),
          "an http(s) URL like https://events.pagerduty.com/v2/enqueue",
        ).default(PAGERDUTY_EVENTS_URL),
      })
      .prefault({})
      .describe(
        "PagerDuty (routing key from withNotifications): failures and rollbacks trigger one alert per environment, a success resolves it; each kind of incident has its own alert per environment, triggered on open, resolved on close.",
      ),
    email: EmailConfigSchema.optional(),
    sns: SnsConfigSchema.optional(),
    routes: expecting(
      z
        .array(RouteSchema)
        .min(1)
        .max(50)
        .describe("Which results go to which channels; without routes every channel set up gets every result in `on`."),
      "a list of routes like { on: [failure, rollback], to: [pagerduty, slackFailures] }",
    ).optional(),
  })
  .superRefine((c, ctx) => {
    // email and sns are set up here, so a route to one that is not is a config error; the
    // secret-only channels can only be checked when the secrets arrive (notifyAll reports those).
    (c.routes ?? []).forEach((route, i) =>
      route.to.forEach((channel, j) => {
        if ((channel === "email" || channel === "sns") && c[channel] === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["routes", i, "to", j],
            message: `routes to ${channel}, but notifications.${channel} is not set; add it (${channel === "email" ? "host, from, to" : "topicArn"}) or drop ${channel} from this route`,
          });
      }),
    );
  })
  .describe(
    "Deploy and incident notifications (Slack, a JSON webhook, Teams, PagerDuty, email, SNS) and GitHub reporting. A notification that fails never fails the deploy.",
  );

export type NotificationsConfig = z.output<typeof NotificationsConfigSchema>;
export type NotificationsConfigInput = z.input<typeof NotificationsConfigSchema>;

/** The delivery policy the config describes (backoff is fixed: 1 s doubling to 15 s, jittered). */
export function policyFrom(config: NotificationsConfig): Partial<DeliveryPolicy> {
  return {
    timeoutMs: config.timeoutSeconds * 1000,
    attempts: config.attempts,
    deadlineMs: config.deadlineSeconds * 1000,
    maxRetryAfterMs: config.maxRetryAfterSeconds * 1000,
  };
}
