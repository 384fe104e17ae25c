/**
 * The notifications an incident sends, as an event of its own kind (notify/event.ts IncidentEvent):
 * one when it opens and when new findings arrive (PagerDuty triggers the incident's own alert, the
 * failures channel hears it), one when it closes (PagerDuty resolves that alert, never a deploy's),
 * through the same notifyAll as every deploy.
 */
import type { IncidentResult } from "../github/incident.js";
import type { NotificationsConfig } from "../notify/config.js";
import type { IncidentEvent, IncidentKind } from "../notify/event.js";
import { notifyAll, summarizeDeliveries, type NotifyTargets } from "../notify/notify.js";

export interface Announcement {
  environment: string;
  /** What the event is about: the running image by digest, or the service. */
  image: string;
  /** "production is unhealthy" / "blocking vulnerabilities in what production runs". */
  what: string;
  cause: string;
  runUrl?: string;
  /** The incident's kind: its own PagerDuty alert, GitHub issue and headline. */
  kind: IncidentKind;
}

const anyTarget = (t: NotifyTargets) => Object.values(t).some((v) => typeof v === "string" && v.trim() !== "");

/** The event for an incident that opened, got new findings, or closed; undefined when nothing changed that is news. */
export function incidentEvent(a: Announcement, incident: IncidentResult): IncidentEvent | undefined {
  const action =
    incident.action === "opened"
      ? "opened"
      : incident.action === "closed"
        ? "closed"
        : incident.action === "commented" && incident.newFindings.length > 0
          ? "updated"
          : undefined;
  if (action === undefined) return undefined;
  return {
    kind: "incident",
    incident: a.kind,
    action,
    environment: a.environment,
    image: a.image,
    reason: action === "updated" ? `new ${incident.newFindings.join(", ")}; ${a.cause}` : a.cause,
    ...(incident.issueNumber === undefined ? {} : { issueNumber: incident.issueNumber }),
    ...(incident.url ? { issueUrl: incident.url } : {}),
    ...(action === "closed" ? { durationSeconds: incident.durationSeconds ?? 0 } : {}),
    ...(action === "updated" ? { newFindings: [...incident.newFindings] } : {}),
    ...(a.runUrl ? { runUrl: a.runUrl } : {}),
  };
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
