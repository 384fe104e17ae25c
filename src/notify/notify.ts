/**
 * Sends one deploy event to every configured target. Targets are independent and sent in parallel;
 * one that cannot be reached is reported in its result and never fails or hides the deploy's own
 * outcome, so this function does not throw.
 */
import { systemClock } from "../deploy/aws.js";
import { progress } from "../gates/progress.js";
import { NotificationsConfigSchema, policyFrom, type NotificationsConfig } from "./config.js";
import { deliver, type DeliveryOptions, type DeliveryResult, type DeliveryTarget } from "./deliver.js";
import { categoryOf, needsAttention, type DeployEvent } from "./event.js";
import { redactUrl, scrub } from "./redact.js";
import { slackHint, slackMessage } from "./slack.js";
import { webhookPayload, webhookRequest } from "./webhook.js";
import { pagerDutyEvent, pagerDutyHint } from "./pagerduty.js";
import { teamsMessage } from "./teams.js";

/** Plain strings, unwrapped from Dagger Secrets by the caller; empty means not set. */
export interface NotifyTargets {
  slack?: string;
  /** A second Slack webhook that also gets failures and rollbacks. */
  slackFailures?: string;
  webhook?: string;
  /** Signs the webhook body (X-Shipshape-Signature: sha256=...). */
  webhookSecret?: string;
  /** A Microsoft Teams incoming webhook (Workflows or connector). */
  teams?: string;
  /** A PagerDuty Events API v2 integration (routing) key: failures and rollbacks page, a success resolves. */
  pagerdutyRoutingKey?: string;
}

export interface NotifyOptions extends Omit<DeliveryOptions, "policy"> {
  config?: NotificationsConfig;
}

const set = (s: string | undefined): s is string => s !== undefined && s !== "";

function skipped(name: string, url: string, why: string): DeliveryResult {
  return { target: name, endpoint: redactUrl(url), delivered: false, attempts: 0, skipped: why };
}

/** Secrets read from files usually end with a newline; a URL or signing key never does. */
function trimmed(targets: NotifyTargets): NotifyTargets {
  return Object.fromEntries(Object.entries(targets).map(([k, v]) => [k, typeof v === "string" ? v.trim() : v]));
}

export async function notifyAll(event: DeployEvent, given: NotifyTargets, opts: NotifyOptions = {}): Promise<DeliveryResult[]> {
  const targets = trimmed(given);
  const config = opts.config ?? NotificationsConfigSchema.parse({});
  const clock = opts.clock ?? systemClock;
  const delivery: DeliveryOptions = { policy: policyFrom(config), clock, ...(opts.random === undefined ? {} : { random: opts.random }) };
  const allSecrets = [
    targets.slack,
    targets.slackFailures,
    targets.webhook,
    targets.webhookSecret,
    targets.teams,
    targets.pagerdutyRoutingKey,
  ];
  const category = categoryOf(event);
  const wanted = config.on.includes(category);
  const notWanted = `${category} is not in notifications.on`;

  const jobs: (DeliveryTarget | DeliveryResult)[] = [];
  if (set(targets.slack) || set(targets.slackFailures)) {
    const message = JSON.stringify(slackMessage(event));
    const slack = (name: string, url: string): DeliveryTarget => ({
      name,
      url,
      body: message,
      headers: { "Content-Type": "application/json" },
      explain: slackHint,
      secrets: allSecrets.filter(set),
    });
    if (set(targets.slack)) jobs.push(wanted ? slack("slack", targets.slack) : skipped("slack", targets.slack, notWanted));
    if (set(targets.slackFailures)) {
      const url = targets.slackFailures;
      if (!needsAttention(event)) jobs.push(skipped("slack-failures", url, "only failures and rollbacks go to the failures channel"));
      else if (!wanted) jobs.push(skipped("slack-failures", url, notWanted));
      else if (url === targets.slack) jobs.push(skipped("slack-failures", url, "same webhook as slack; sent once"));
      else jobs.push(slack("slack-failures", url));
    }
  }
  if (set(targets.webhook)) {
    const url = targets.webhook;
    if (!wanted) jobs.push(skipped("webhook", url, notWanted));
    else {
      const secret = set(targets.webhookSecret) ? targets.webhookSecret : undefined;
      const { body, headers } = webhookRequest(webhookPayload(event, new Date(clock.now())), secret);
      jobs.push({ name: "webhook", url, body, headers, secrets: allSecrets.filter(set) });
    }
  } else if (set(targets.webhookSecret)) {
    jobs.push({
      target: "webhook",
      endpoint: "(none)",
      delivered: false,
      attempts: 0,
      error: "a webhook signing secret was given but no webhook URL",
    });
  }

  if (set(targets.teams)) {
    const url = targets.teams;
    const body = JSON.stringify(teamsMessage(event));
    const teams = { name: "teams", url, body, headers: { "Content-Type": "application/json" }, secrets: allSecrets.filter(set) };
    jobs.push(wanted ? teams : skipped("teams", url, notWanted));
  }
  if (set(targets.pagerdutyRoutingKey)) {
    const url = config.pagerduty.url;
    const pd = pagerDutyEvent(event, targets.pagerdutyRoutingKey);
    // A resolve goes out whatever notifications.on says: an alert Shipshape opened must be closed by it.
    if (!pd) jobs.push(skipped("pagerduty", url, `a ${category} does not page`));
    else if (pd.event_action === "trigger" && !wanted) jobs.push(skipped("pagerduty", url, notWanted));
    else {
      const headers = { "Content-Type": "application/json" };
      jobs.push({ name: "pagerduty", url, body: JSON.stringify(pd), headers, explain: pagerDutyHint, secrets: allSecrets.filter(set) });
    }
  }

  for (const job of jobs) if ("skipped" in job && job.skipped !== undefined) progress("notify", `${job.target}: skipped, ${job.skipped}`);
  return Promise.all(
    jobs.map(async (job): Promise<DeliveryResult> => {
      if (!("url" in job)) return job;
      try {
        return await deliver(job, delivery);
      } catch (e) {
        // deliver() reports its own failures; this only guards against a bug turning into a failed deploy.
        const message = scrub(e instanceof Error ? e.message : String(e), allSecrets);
        return {
          target: job.name,
          endpoint: redactUrl(job.url),
          delivered: false,
          attempts: 0,
          error: `internal error: ${message.split("\n")[0]}`,
        };
      }
    }),
  );
}

/** One line per target for logs and reports: "slack: delivered (1 attempt)". */
export function summarizeDeliveries(results: readonly DeliveryResult[]): string[] {
  return results.map((r) => {
    if (r.delivered) return `${r.target}: delivered to ${r.endpoint} (${r.attempts} attempt${r.attempts === 1 ? "" : "s"})`;
    if (r.skipped !== undefined) return `${r.target}: skipped, ${r.skipped}`;
    return `${r.target}: not delivered, ${r.error ?? "unknown error"}`;
  });
}
