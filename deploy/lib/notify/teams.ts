/**
 * Microsoft Teams, through an incoming webhook (a Workflows "Post to a channel when a webhook
 * request is received" trigger, or a legacy connector): both take a message whose attachment is an
 * Adaptive Card (contentType application/vnd.microsoft.card.adaptive; Adaptive Cards schema 1.4,
 * which Teams renders). The card is plain facts and links: no secret and no markup from a user.
 */
import { formatDuration, headline, resultOf, shortSha, type DeployEvent, type IncidentEvent, type Notification } from "./event.js";

const TONE: Record<DeployEvent["result"], "good" | "attention" | "warning"> = {
  succeeded: "good",
  "rolled back": "warning",
  failed: "attention",
  paused: "warning",
};

/** An incident's facts; the card links to its GitHub issue first. */
function incidentFacts(event: IncidentEvent): { title: string; value: string }[] {
  return [
    { title: "Incident", value: `${event.incident}, ${event.action}${event.issueNumber === undefined ? "" : ` (#${event.issueNumber})`}` },
    { title: "Watched", value: event.image },
    { title: "Why", value: event.reason },
    ...(event.durationSeconds !== undefined ? [{ title: "Lasted", value: formatDuration(event.durationSeconds) }] : []),
    ...(event.newFindings?.length ? [{ title: "New", value: event.newFindings.join(", ") }] : []),
  ];
}

const deployFacts = (event: DeployEvent) => [
  { title: "Image", value: event.image },
  { title: "Why", value: event.reason },
  { title: "Took", value: formatDuration(event.durationSeconds) },
  ...(event.version ? [{ title: "Version", value: event.version }] : []),
  ...(event.commitSha ? [{ title: "Commit", value: shortSha(event.commitSha) }] : []),
  ...(event.author ? [{ title: "By", value: event.author }] : []),
];

export function teamsMessage(event: Notification): object {
  const facts = event.kind === "incident" ? incidentFacts(event) : deployFacts(event);
  const links = [
    ...(event.kind === "incident" && event.issueUrl ? [{ type: "Action.OpenUrl", title: "Open the incident", url: event.issueUrl }] : []),
    ...(event.runUrl ? [{ type: "Action.OpenUrl", title: "Open the run", url: event.runUrl }] : []),
  ];
  const card = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    body: [
      { type: "TextBlock", text: headline(event), weight: "Bolder", size: "Medium", color: TONE[resultOf(event)], wrap: true },
      { type: "FactSet", facts },
    ],
    ...(links.length > 0 ? { actions: links } : {}),
  };
  return { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }] };
}
