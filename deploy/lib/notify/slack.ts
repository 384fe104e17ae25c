/**
 * Slack incoming-webhook messages in Block Kit. Every piece of text comes from the event, so every
 * piece is escaped for mrkdwn and cut to Slack's limits (a block over a limit makes Slack answer
 * 400 invalid_blocks and drop the whole message): header ≤ 150, section text ≤ 3000, field ≤ 2000,
 * ≤ 10 fields, ≤ 50 blocks.
 */
import {
  formatDuration,
  headline,
  resultOf,
  shortSha,
  type DeployEvent,
  type EventResult,
  type GateDecision,
  type IncidentEvent,
  type Notification,
  verdictTone,
} from "./event.js";

export const SLACK_LIMITS = { header: 150, sectionText: 3000, field: 2000, fields: 10, blocks: 50, fallbackText: 3000 } as const;

interface PlainText {
  type: "plain_text";
  text: string;
  emoji: true;
}
interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}
export type SlackBlock =
  | { type: "header"; text: PlainText }
  | { type: "section"; text: Mrkdwn }
  | { type: "section"; fields: Mrkdwn[] }
  | { type: "context"; elements: Mrkdwn[] };

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: SlackBlock[];
}

const STATUS: Record<EventResult, string> = {
  succeeded: ":white_check_mark:",
  "rolled back": ":leftwards_arrow_with_hook:",
  failed: ":x:",
  paused: ":double_vertical_bar:",
};

const ELLIPSIS = "…";

/** Cuts to `max` UTF-16 units without splitting a surrogate pair (Slack counts characters, never more than JS does). */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = max - ELLIPSIS.length;
  const last = text.charCodeAt(cut - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut--;
  return text.slice(0, Math.max(0, cut)) + ELLIPSIS;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** mrkdwn-escapes and cuts to `max`, never inside an entity like &amp; or a surrogate pair. */
export function escapeMrkdwn(text: string, max = Number.POSITIVE_INFINITY): string {
  let out = "";
  for (const ch of text) {
    const piece = ESCAPES[ch] ?? ch;
    if (out.length + piece.length > max) return truncateEscaped(out, max);
    out += piece;
  }
  return out;
}

function truncateEscaped(escaped: string, max: number): string {
  let cut = escaped.slice(0, max - ELLIPSIS.length);
  const amp = cut.lastIndexOf("&");
  if (amp !== -1 && !cut.slice(amp).includes(";")) cut = cut.slice(0, amp);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}

/** `<url|label>`, or just the label when the URL is not a plain http(s) link (a `|` or `>` would break the syntax). */
export function link(url: string | undefined, label: string): string {
  const text = escapeMrkdwn(label, 200).replace(/\|/g, "¦");
  if (url === undefined) return text;
  let href: string;
  try {
    href = new URL(url).href;
  } catch {
    return text;
  }
  if (!/^https?:/.test(href) || /[|<>\s]/.test(href)) return text;
  return `<${href.replace(/&/g, "&amp;")}|${text}>`;
}

const code = (text: string, max: number) => `\`${escapeMrkdwn(text.replace(/`/g, "'"), max - 2)}\``;
const mrkdwn = (text: string): Mrkdwn => ({ type: "mrkdwn", text });
const field = (name: string, value: string): Mrkdwn => mrkdwn(truncate(`*${name}*\n${value}`, SLACK_LIMITS.field));

function fields(event: DeployEvent): Mrkdwn[] {
  const out = [
    field("Environment", escapeMrkdwn(event.environment, 200)),
    field("Result", `${STATUS[event.result]} ${event.result}`),
    field("Image", code(event.image, 1500)),
  ];
  if (event.version !== undefined) out.push(field("Version", escapeMrkdwn(event.version, 200)));
  if (event.commitSha !== undefined) out.push(field("Commit", link(event.commitUrl, shortSha(event.commitSha))));
  if (event.author !== undefined) out.push(field("Author", escapeMrkdwn(event.author, 200)));
  out.push(field("Duration", formatDuration(event.durationSeconds)));
  if (event.strategy !== undefined) out.push(field("Strategy", escapeMrkdwn(event.strategy, 200)));
  return out.slice(0, SLACK_LIMITS.fields);
}

const VERDICT_ICON = { pass: ":white_check_mark:", fail: ":x:", other: ":grey_question:" } as const;

function decisionLine(d: GateDecision): string {
  const icon = VERDICT_ICON[verdictTone(d.verdict)];
  return `${icon} *${escapeMrkdwn(d.gate, 100)}* ${escapeMrkdwn(d.verdict, 50)}: ${escapeMrkdwn(d.reason, 400)}`;
}

/** Decision lines packed into as few sections as fit, within `budget` blocks; the rest are counted, not dropped silently. */
function decisionBlocks(decisions: readonly GateDecision[], budget: number): SlackBlock[] {
  if (decisions.length === 0 || budget < 1) return [];
  const sections: string[] = [];
  let current = "*Gate decisions*";
  let shown = 0;
  for (const d of decisions) {
    const line = decisionLine(d);
    if (current.length + 1 + line.length <= SLACK_LIMITS.sectionText) {
      current += `\n${line}`;
      shown++;
      continue;
    }
    if (sections.length + 2 >= budget) break; // keep one block for the overflow note
    sections.push(current);
    current = line;
    shown++;
  }
  sections.push(current);
  const blocks: SlackBlock[] = sections.map((text) => ({ type: "section", text: mrkdwn(text) }));
  const hidden = decisions.length - shown;
  if (hidden > 0) blocks.push({ type: "context", elements: [mrkdwn(`…and ${hidden} more gate decision${hidden === 1 ? "" : "s"}`)] });
  return blocks;
}

const INCIDENT_ICON = { opened: ":rotating_light:", updated: ":rotating_light:", closed: ":white_check_mark:" } as const;

/** An incident's facts: what is watched, its GitHub issue, how long it lasted, what is new. */
function incidentFields(event: IncidentEvent): Mrkdwn[] {
  const issue = event.issueNumber === undefined ? undefined : link(event.issueUrl, `#${event.issueNumber}`);
  const out = [
    field("Environment", escapeMrkdwn(event.environment, 200)),
    field("Incident", `${INCIDENT_ICON[event.action]} ${event.incident}, ${event.action}`),
    field("Watched", code(event.image, 1500)),
  ];
  if (issue !== undefined) out.push(field("Issue", issue));
  if (event.durationSeconds !== undefined) out.push(field("Lasted", formatDuration(event.durationSeconds)));
  if (event.newFindings?.length) out.push(field("New", escapeMrkdwn(event.newFindings.join(", "), 1500)));
  return out;
}

export function slackMessage(event: Notification): SlackMessage {
  const icon = event.kind === "incident" ? INCIDENT_ICON[event.action] : STATUS[resultOf(event)];
  const title = `${icon} ${headline(event)}`;
  const head: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: truncate(title, SLACK_LIMITS.header), emoji: true } },
    { type: "section", text: mrkdwn(escapeMrkdwn(event.reason, SLACK_LIMITS.sectionText)) },
    { type: "section", fields: event.kind === "incident" ? incidentFields(event) : fields(event) },
  ];
  const footer = [event.runUrl === undefined ? undefined : link(event.runUrl, "Workflow run"), "Shipshape"].filter((s) => s !== undefined);
  const tail: SlackBlock[] = [{ type: "context", elements: [mrkdwn(footer.join(" · "))] }];
  const budget = SLACK_LIMITS.blocks - head.length - tail.length;
  return {
    text: escapeMrkdwn(`${headline(event)}: ${event.reason}`, SLACK_LIMITS.fallbackText),
    blocks: [...head, ...decisionBlocks(event.kind === "incident" ? [] : (event.decisions ?? []), budget), ...tail],
  };
}

/** What Slack's error string (the whole body of a non-200 answer) means for the user. */
const SLACK_HINTS: [RegExp, string][] = [
  [
    /^(invalid_payload|invalid_blocks|invalid_blocks_format|too_many_attachments|missing_text_or_fallback_or_attachments)$/,
    "Slack rejected the message itself; please report this as a Shipshape bug",
  ],
  [
    /^(invalid_token|no_service|no_team|no_active_hooks|team_disabled|no_service_id)$/,
    "the webhook URL is revoked or mistyped; create a new incoming webhook and update the secret",
  ],
  [
    /^(channel_not_found|channel_is_archived)$/,
    "the webhook's channel is archived or deleted; unarchive it or create a webhook for another channel",
  ],
  [
    /^(action_prohibited|posting_to_general_channel_denied|user_not_found)$/,
    "the workspace does not let this webhook post there; ask a Slack admin",
  ],
];

export function slackHint(status: number, body: string): string | undefined {
  const code = body.trim();
  const hint = SLACK_HINTS.find(([pattern]) => pattern.test(code))?.[1];
  if (hint !== undefined) return hint;
  if (status === 404 || status === 410 || status === 403)
    return "the webhook URL no longer works; create a new incoming webhook and update the secret";
  return undefined;
}
