/**
 * Sends one deploy or incident event to every configured target its routes pick
 * (notifications.routes; by default every target, the failures channel only for failures,
 * rollbacks and open incidents). Targets are
 * independent and sent in parallel; one that cannot be reached is reported in its result and never
 * fails or hides the deploy's own outcome, so this function does not throw.
 */
import { systemClock } from "../deploy/aws.js";
import { progress } from "../gates/progress.js";
import { NotificationsConfigSchema, policyFrom, type NotificationsConfig } from "./config.js";
import { refused, skipped, withRetries } from "./attempts.js";
import { deliver, type DeliveryOptions, type DeliveryResult, type DeliveryTarget } from "./deliver.js";
import { smtpSecrets } from "./email.js";
import { mailAndSns, type Job } from "./mail-sns.js";
import { categoryOf, type Notification } from "./event.js";
import { anyRouteTo, routed, routesTo, targetName, type Channel } from "./routes.js";
import type { SnsPublisher } from "./sns.js";
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
  /** A PagerDuty Events API v2 integration (routing) key: failures, rollbacks and incidents page; a success or a closed incident resolves. */
  pagerdutyRoutingKey?: string;
  /** The login password for notifications.email. */
  smtpPassword?: string;
}

export interface NotifyOptions extends Omit<DeliveryOptions, "policy"> {
  config?: NotificationsConfig;
  /** SNS with the withAws identity, for the topic's region; without it SNS is reported as having no identity. */
  sns?: (region: string) => Promise<SnsPublisher>;
}

const set = (s: string | undefined): s is string => s !== undefined && s !== "";

/** Secrets read from files usually end with a newline; a URL or signing key never does. */
function trimmed(targets: NotifyTargets): NotifyTargets {
  return Object.fromEntries(Object.entries(targets).map(([k, v]) => [k, typeof v === "string" ? v.trim() : v]));
}

/** How to set up each channel that carries its own credential, for "a route sends here but it is not set up". */
const SETUP: Partial<Record<Channel, [keyof NotifyTargets, string]>> = {
  slack: ["slack", "--slack-webhook"],
  slackFailures: ["slackFailures", "--slack-failures-webhook"],
  webhook: ["webhook", "--webhook-url"],
  teams: ["teams", "--teams-webhook"],
  pagerduty: ["pagerdutyRoutingKey", "--pagerduty-routing-key"],
};

export async function notifyAll(event: Notification, given: NotifyTargets, opts: NotifyOptions = {}): Promise<DeliveryResult[]> {
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
    ...smtpSecrets(config.email?.username, targets.smtpPassword),
  ].filter(set);
  const category = categoryOf(event);
  const wanted = config.on.includes(category);
  const notWanted = `${category} is not in notifications.on`;
  /** Undefined when the channel gets this event, else why not. */
  const why = (channel: Channel): string | undefined => {
    const r = routed(config.routes, channel, event);
    return r !== true ? r : wanted ? undefined : notWanted;
  };

  const jobs: Job[] = [];
  const json = { "Content-Type": "application/json" };
  if (set(targets.slack) || set(targets.slackFailures)) {
    const message = JSON.stringify(slackMessage(event));
    const slack = (name: string, url: string): DeliveryTarget => ({
      name,
      url,
      body: message,
      headers: json,
      explain: slackHint,
      secrets: allSecrets,
    });
    if (set(targets.slack)) {
      const no = why("slack");
      jobs.push(no === undefined ? slack("slack", targets.slack) : skipped("slack", redactUrl(targets.slack), no));
    }
    if (set(targets.slackFailures)) {
      const url = targets.slackFailures;
      const no = why("slackFailures");
      if (no !== undefined) jobs.push(skipped("slack-failures", redactUrl(url), no));
      else if (url === targets.slack && why("slack") === undefined)
        jobs.push(skipped("slack-failures", redactUrl(url), "same webhook as slack; sent once"));
      else jobs.push(slack("slack-failures", url));
    }
  }
  if (set(targets.webhook)) {
    const url = targets.webhook;
    const no = why("webhook");
    if (no !== undefined) jobs.push(skipped("webhook", redactUrl(url), no));
    else {
      const secret = set(targets.webhookSecret) ? targets.webhookSecret : undefined;
      const { body, headers } = webhookRequest(webhookPayload(event, new Date(clock.now())), secret);
      jobs.push({ name: "webhook", url, body, headers, secrets: allSecrets });
    }
  } else if (set(targets.webhookSecret)) {
    jobs.push(refused("webhook", "(none)", "a webhook signing secret was given but no webhook URL"));
  }

  if (set(targets.teams)) {
    const url = targets.teams;
    const no = why("teams");
    const teams = { name: "teams", url, body: JSON.stringify(teamsMessage(event)), headers: json, secrets: allSecrets };
    jobs.push(no === undefined ? teams : skipped("teams", redactUrl(url), no));
  }
  if (set(targets.pagerdutyRoutingKey)) {
    const url = config.pagerduty.url;
    const pd = pagerDutyEvent(event, targets.pagerdutyRoutingKey);
    const no = why("pagerduty");
    // A resolve goes out whatever notifications.on says: an alert Shipshape opened must be closed by it.
    if (!pd) jobs.push(skipped("pagerduty", redactUrl(url), `a ${category} does not page`));
    else if (pd.event_action === "trigger" && no !== undefined) jobs.push(skipped("pagerduty", redactUrl(url), no));
    else if (pd.event_action === "resolve" && !anyRouteTo(config.routes, "pagerduty"))
      jobs.push(skipped("pagerduty", redactUrl(url), "no route in notifications.routes sends to pagerduty"));
    else jobs.push({ name: "pagerduty", url, body: JSON.stringify(pd), headers: json, explain: pagerDutyHint, secrets: allSecrets });
  }
  jobs.push(...mailAndSns(event, config, targets, allSecrets, why, opts));

  // A route that would carry this event to a channel with no credential is a setup mistake: say so.
  for (const [channel, [key, flag]] of Object.entries(SETUP) as [Channel, [keyof NotifyTargets, string]][]) {
    const via = routesTo(config.routes, channel, event);
    if (via.length > 0 && !set(targets[key]) && wanted)
      jobs.push(
        refused(
          targetName(channel),
          "(none)",
          `notifications.routes[${via[0]}] sends ${category === "incident" ? "an" : "a"} ${category} to ${channel}, but no ${channel} credential was given; pass withNotifications ${flag} or drop ${channel} from the route`,
        ),
      );
  }

  for (const job of jobs) if ("skipped" in job && job.skipped !== undefined) progress("notify", `${job.target}: skipped, ${job.skipped}`);
  return Promise.all(jobs.map((job) => run(job, delivery, allSecrets)));
}

async function run(job: Job, delivery: DeliveryOptions, secrets: readonly string[]): Promise<DeliveryResult> {
  if ("delivered" in job) return job;
  const endpoint = "url" in job ? redactUrl(job.url) : job.endpoint;
  try {
    return "url" in job ? await deliver(job, delivery) : await withRetries(job, delivery);
  } catch (e) {
    // deliver() reports its own failures; this only guards against a bug turning into a failed deploy.
    const message = scrub(e instanceof Error ? e.message : String(e), secrets);
    return refused(job.name, endpoint, `internal error: ${message.split("\n")[0]}`);
  }
}

/** One line per target for logs and reports: "slack: delivered (1 attempt)". */
export function summarizeDeliveries(results: readonly DeliveryResult[]): string[] {
  return results.map((r) => {
    if (r.delivered) return `${r.target}: delivered to ${r.endpoint} (${r.attempts} attempt${r.attempts === 1 ? "" : "s"})`;
    if (r.skipped !== undefined) return `${r.target}: skipped, ${r.skipped}`;
    return `${r.target}: not delivered, ${r.error ?? "unknown error"}`;
  });
}
