/**
 * Microsoft Teams, through an incoming webhook (a Workflows "Post to a channel when a webhook
 * request is received" trigger, or a legacy connector): both take a message whose attachment is an
 * Adaptive Card (contentType application/vnd.microsoft.card.adaptive; Adaptive Cards schema 1.4,
 * which Teams renders). The card is plain facts and one link: no secret and no markup from a user.
 */
import { formatDuration, headline, shortSha, type DeployEvent } from "./event.js";

const TONE: Record<DeployEvent["result"], "good" | "attention" | "warning"> = {
  succeeded: "good",
  "rolled back": "warning",
  failed: "attention",
  paused: "warning",
};

export function teamsMessage(event: DeployEvent): object {
  const facts = [
    { title: "Image", value: event.image },
    { title: "Why", value: event.reason },
    { title: "Took", value: formatDuration(event.durationSeconds) },
    ...(event.version ? [{ title: "Version", value: event.version }] : []),
    ...(event.commitSha ? [{ title: "Commit", value: shortSha(event.commitSha) }] : []),
    ...(event.author ? [{ title: "By", value: event.author }] : []),
  ];
  const card = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    body: [
      { type: "TextBlock", text: headline(event), weight: "Bolder", size: "Medium", color: TONE[event.result], wrap: true },
      { type: "FactSet", facts },
    ],
    ...(event.runUrl ? { actions: [{ type: "Action.OpenUrl", title: "Open the run", url: event.runUrl }] } : {}),
  };
  return { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card }] };
}
