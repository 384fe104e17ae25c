/**
 * PagerDuty Events API v2 (PagerDuty/developer-docs docs/events-API-v2/02-Trigger-Events.md): a
 * failed or rolled-back deploy triggers an alert, a later success in the same environment resolves
 * it. One dedup_key per environment, so repeated failures append to the open alert rather than page
 * again, and a resolve finds it (it must come through the same routing key). An incident has a key
 * of its own per environment and kind (shipshape/<env>/health, .../vulnerability): it triggers on
 * open and on new findings, resolves on close, and neither a deploy's success nor another kind of
 * incident closing can resolve it (nor it theirs). The endpoint answers
 * 202; 400 is a bad event (not retried), 429 and 5xx are retried (01-Overview.md "Response Codes &
 * Retry Logic"), which deliver() already does.
 */
import { formatDuration, headline, needsAttention, type IncidentEvent, type IncidentKind, type Notification } from "./event.js";
import { severityOf } from "./routes.js";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

/** payload.summary: at most 1024 characters; dedup_key: at most 255. */
const MAX_SUMMARY = 1024;
const MAX_DEDUP = 255;

export interface PagerDutyEvent {
  routing_key: string;
  event_action: "trigger" | "resolve";
  dedup_key: string;
  payload?: {
    summary: string;
    source: string;
    severity: "critical" | "error" | "warning" | "info";
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, string | number>;
  };
  /** Shown with the alert: the incident's GitHub issue. */
  links?: { href: string; text: string }[];
  client: string;
  client_url?: string;
}

/** The alert key of one environment's deploys (all share one alert), or of one kind of its incidents. */
export const pagerDutyDedupKey = (environment: string, incident?: IncidentKind): string =>
  `shipshape/${environment}${incident === undefined ? "" : `/${incident}`}`.slice(0, MAX_DEDUP);

const cut = (summary: string) => (summary.length > MAX_SUMMARY ? `${summary.slice(0, MAX_SUMMARY - 1)}…` : summary);

/** An incident: open and new findings trigger (again on its own key, so the alert gets the news), close resolves. */
function incidentAlert(event: IncidentEvent, routingKey: string): PagerDutyEvent {
  const base = { routing_key: routingKey, dedup_key: pagerDutyDedupKey(event.environment, event.incident), client: "Shipshape" };
  const link = event.issueUrl ?? event.runUrl;
  const context = {
    ...(link ? { client_url: link } : {}),
    ...(event.issueUrl
      ? { links: [{ href: event.issueUrl, text: `GitHub issue${event.issueNumber ? ` #${event.issueNumber}` : ""}` }] }
      : {}),
  };
  if (event.action === "closed") return { ...base, ...context, event_action: "resolve" };
  const severity = severityOf(event);
  return {
    ...base,
    ...context,
    event_action: "trigger",
    payload: {
      summary: cut(`${headline(event)}: ${event.reason}`),
      source: event.environment,
      severity: severity === "info" ? "warning" : severity,
      component: event.image.split("@")[0] ?? event.image,
      group: event.environment,
      class: `${event.incident} incident`,
      custom_details: {
        incident: event.incident,
        action: event.action,
        watched: event.image,
        reason: event.reason,
        ...(event.issueUrl ? { issue: event.issueUrl } : {}),
        ...(event.newFindings?.length ? { new_findings: event.newFindings.join(", ") } : {}),
        ...(event.runUrl ? { run: event.runUrl } : {}),
      },
    },
  };
}

/**
 * The event for a deploy result, or undefined when there is nothing to say to on-call: a failure
 * or rollback triggers (a rollback left production healthy: error; a failure may not have: critical),
 * a success resolves, a pause says nothing (its timeout ends as one of the others).
 */
export function pagerDutyEvent(event: Notification, routingKey: string): PagerDutyEvent | undefined {
  if (event.kind === "incident") return incidentAlert(event, routingKey);
  const base = { routing_key: routingKey, dedup_key: pagerDutyDedupKey(event.environment), client: "Shipshape" };
  const link = event.runUrl ? { client_url: event.runUrl } : {};
  if (event.result === "succeeded") return { ...base, ...link, event_action: "resolve" };
  if (!needsAttention(event)) return undefined;
  const summary = `${headline(event)}: ${event.reason}`;
  return {
    ...base,
    ...link,
    event_action: "trigger",
    payload: {
      summary: cut(summary),
      source: event.environment,
      severity: event.result === "failed" ? "critical" : "error",
      component: event.image.split("@")[0] ?? event.image,
      group: event.environment,
      class: event.kind,
      custom_details: {
        image: event.image,
        result: event.result,
        reason: event.reason,
        duration: formatDuration(event.durationSeconds),
        ...(event.version ? { version: event.version } : {}),
        ...(event.commitSha ? { commit: event.commitSha } : {}),
        ...(event.author ? { author: event.author } : {}),
      },
    },
  };
}

/** What a refused event means, for the delivery report. */
export function pagerDutyHint(status: number, body: string): string | undefined {
  if (status === 400)
    return `PagerDuty refused the event (${body.trim().slice(0, 200)}); check the routing key is an Events API v2 integration key`;
  if (status === 404) return "the Events API URL is wrong; use https://events.pagerduty.com/v2/enqueue (or events.eu.pagerduty.com)";
  return undefined;
}
