/**
 * Which channels hear about which results (`notifications.routes`). A result has a severity, so a
 * team can say "errors and worse to on-call" once rather than list results. Without routes every
 * channel that is set up gets every result in notifications.on and the failures channel only
 * failures, rollbacks and open incidents: the behaviour from before routes existed, unchanged.
 */
import { z } from "zod";
import { expecting } from "../config/errors.js";
import { categoryOf, needsAttention, NOTIFY_ON, type Classifiable, type NotifyOn } from "./event.js";

export const SEVERITIES = ["info", "warning", "error", "critical"] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * The severity of a deploy result, the scale PagerDuty uses (pagerduty.ts pages with the same
 * words): a failure may have left the service broken (critical); a rollback left it healthy on the
 * old version (error); a pause waits for someone (warning); a success is news (info).
 */
export const SEVERITY_OF: Record<Exclude<NotifyOn, "incident">, Severity> = {
  success: "info",
  paused: "warning",
  rollback: "error",
  failure: "critical",
};

/**
 * An incident's severity: an unhealthy environment is an outage (critical); a blocking finding in
 * what runs is serious but not down (error); a closed incident is news (info).
 */
export function severityOf(event: Classifiable): Severity {
  if ("kind" in event && event.kind === "incident")
    return event.action === "closed" ? "info" : event.incident === "health" ? "critical" : "error";
  return SEVERITY_OF[categoryOf(event) as Exclude<NotifyOn, "incident">];
}

const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** The channel names routes use; results name slackFailures "slack-failures". */
export const CHANNELS = ["slack", "slackFailures", "webhook", "teams", "pagerduty", "email", "sns"] as const;
export type Channel = (typeof CHANNELS)[number];

export const targetName = (c: Channel): string => (c === "slackFailures" ? "slack-failures" : c);

export const RouteSchema = z
  .strictObject({
    on: expecting(
      z
        .array(z.enum(NOTIFY_ON).describe("A deploy result, or incident (monitor and rescan opening, updating, closing one)."))
        .min(1)
        .describe("Results this route carries (default: all of them, incidents included)."),
      `a list of ${NOTIFY_ON.join(", ")}`,
    ).optional(),
    severity: expecting(
      z
        .enum(SEVERITIES)
        .describe(
          "The least severity this route carries: success is info, paused warning, rollback error, failure critical; an open health incident critical, an open vulnerability incident error, a closed incident info.",
        ),
      `one of ${SEVERITIES.join(", ")}`,
    ).optional(),
    to: expecting(
      z.array(z.enum(CHANNELS).describe("A channel.")).min(1).describe("Channels that get what this route carries."),
      `a list of ${CHANNELS.join(", ")}`,
    ),
  })
  .describe("Results (by name and/or least severity) and the channels they go to.");

export type Route = z.output<typeof RouteSchema>;

const matches = (route: Route, event: Classifiable): boolean =>
  (route.on === undefined || route.on.includes(categoryOf(event))) &&
  (route.severity === undefined || rank(severityOf(event)) >= rank(route.severity));

/**
 * Whether `channel` gets this event: true, or why not (a skip reason for the delivery summary).
 * notifications.on is checked apart, by the caller, so its message stays the one users know.
 */
export function routed(routes: readonly Route[] | undefined, channel: Channel, event: Classifiable): true | string {
  if (routes === undefined) {
    if (channel === "slackFailures" && !needsAttention(event))
      return "kind" in event && event.kind === "incident"
        ? "a closed incident is good news; only open ones go to the failures channel"
        : "only failures and rollbacks go to the failures channel";
    return true;
  }
  if (routes.some((r) => r.to.includes(channel) && matches(r, event))) return true;
  const what =
    "kind" in event && event.kind === "incident" ? `${event.action === "closed" ? "closed" : "open"} incident` : categoryOf(event);
  return `no route in notifications.routes sends ${/^[aeiou]/.test(what) ? "an" : "a"} ${what} (${severityOf(event)}) here`;
}

/** Whether any route names the channel at all (a PagerDuty alert it may have opened must be resolvable). */
export const anyRouteTo = (routes: readonly Route[] | undefined, channel: Channel): boolean =>
  routes === undefined || routes.some((r) => r.to.includes(channel));

/** The routes that name `channel` and would carry this event: for "routed here, but not set up" lines. */
export function routesTo(routes: readonly Route[] | undefined, channel: Channel, event: Classifiable): number[] {
  if (routes === undefined) return [];
  return routes.flatMap((r, i) => (r.to.includes(channel) && matches(r, event) ? [i] : []));
}
