/**
 * The notifications an incident sends: one when it opens (a failure: PagerDuty triggers, the
 * failures channel hears it) and one when it closes (a success: PagerDuty resolves), through the
 * same notifyAll as every deploy. The event kinds are the deploy's (notify/event.ts has no
 * "monitor" kind yet), so the reason says what happened in words of its own.
 */
import type { IncidentResult } from "../github/incident.js";
import type { NotificationsConfig } from "../notify/config.js";
import { formatDuration, type DeployEvent } from "../notify/event.js";
import { notifyAll, summarizeDeliveries, type NotifyTargets } from "../notify/notify.js";

export interface Announcement {
  environment: string;
  /** What the event is about: the running image by digest, or the service. */
  image: string;
  /** "production is unhealthy" / "blocking vulnerabilities in what production runs". */
  what: string;
  cause: string;
  runUrl?: string;
}

const anyTarget = (t: NotifyTargets) => Object.values(t).some((v) => typeof v === "string" && v.trim() !== "");

/** The event for an incident that opened, got new findings, or closed; undefined when nothing changed that is news. */
export function incidentEvent(a: Announcement, incident: IncidentResult): DeployEvent | undefined {
  const issue = incident.issueNumber === undefined ? "" : ` (incident #${incident.issueNumber}${incident.url ? ` ${incident.url}` : ""})`;
  const base = { kind: "deploy" as const, environment: a.environment, image: a.image, ...(a.runUrl ? { runUrl: a.runUrl } : {}) };
  if (incident.action === "opened")
    return { ...base, result: "failed", reason: `monitor: ${a.what}: ${a.cause}${issue}`, durationSeconds: 0 };
  if (incident.action === "commented" && incident.newFindings.length > 0)
    return { ...base, result: "failed", reason: `monitor: ${a.what}: new ${incident.newFindings.join(", ")}${issue}`, durationSeconds: 0 };
  if (incident.action === "closed") {
    const lasted = incident.durationSeconds ?? 0;
    return {
      ...base,
      result: "succeeded",
      reason: `monitor: resolved after ${formatDuration(lasted)}: ${a.cause}${issue}`,
      durationSeconds: lasted,
    };
  }
  return undefined;
}

/** Sends the incident's news; one line per target, never a throw (notifyAll reports its own failures). */
export async function announceIncident(
  a: Announcement,
  incident: IncidentResult,
  targets: NotifyTargets,
  config: NotificationsConfig,
): Promise<string[]> {
  const event = incidentEvent(a, incident);
  if (!event || !anyTarget(targets)) return [];
  return summarizeDeliveries(await notifyAll(event, targets, { config }));
}
