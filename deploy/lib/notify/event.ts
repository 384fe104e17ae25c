/**
 * What notifications and GitHub reports are about, as plain data: a deploy-like event (a deploy,
 * rollback, promotion or abort), or an incident that monitor/rescan opened, updated or closed. It
 * does not depend on Dagger or on the deploy core, so the builders stay pure and testable.
 */

export const EVENT_KINDS = ["deploy", "rollback", "promote", "abort"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const EVENT_RESULTS = ["succeeded", "rolled back", "failed", "paused"] as const;
export type EventResult = (typeof EVENT_RESULTS)[number];

/** One gate's say on the deploy: approval, smoke checks, metric analysis, image verification... */
export interface GateDecision {
  gate: string;
  /** e.g. pass, fail, inconclusive, approved. */
  verdict: string;
  reason: string;
}

export interface DeployEvent {
  kind: EventKind;
  environment: string;
  result: EventResult;
  /** One line: why it ended this way. */
  reason: string;
  /** The image by digest: registry/repo@sha256:... */
  image: string;
  version?: string;
  commitSha?: string;
  commitUrl?: string;
  author?: string;
  durationSeconds: number;
  /** The CI run, e.g. https://github.com/o/r/actions/runs/1. */
  runUrl?: string;
  strategy?: string;
  decisions?: GateDecision[];
}

export const INCIDENT_KINDS = ["health", "vulnerability"] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
/** Opened; updated (new findings on the open one); closed (healthy or clean again). */
export type IncidentAction = "opened" | "updated" | "closed";

/** One incident's news: a kind of its own, so no channel calls an outage a deploy. */
export interface IncidentEvent {
  kind: "incident";
  incident: IncidentKind;
  action: IncidentAction;
  environment: string;
  /** What is watched: the running image(s) by digest, or the service. */
  image: string;
  /** One line: what fails (or, on close, what passes again). */
  reason: string;
  /** The GitHub issue that tracks the incident. */
  issueNumber?: number;
  issueUrl?: string;
  /** On close: how long the incident was open. */
  durationSeconds?: number;
  /** On update: findings reported for the first time. */
  newFindings?: string[];
  runUrl?: string;
}

/** Anything notifyAll sends. */
export type Notification = DeployEvent | IncidentEvent;

export const isIncident = (e: Notification): e is IncidentEvent => e.kind === "incident";

/** A deploy's result, or just enough of one (routing and severity are asked about results alone). */
export type Classifiable = Notification | Pick<DeployEvent, "result">;

/**
 * An incident in the words of a deploy result: failed while open, succeeded once closed. The
 * webhook carries it as `result`, and icons and colours follow it.
 */
export const resultOf = (e: Classifiable): EventResult =>
  "kind" in e && e.kind === "incident" ? (e.action === "closed" ? "succeeded" : "failed") : (e as Pick<DeployEvent, "result">).result;

/** The words users pick notifications by (`notifications.on`): one per deploy result, and incidents. */
export const NOTIFY_ON = ["success", "failure", "rollback", "paused", "incident"] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

const CATEGORY: Record<EventResult, NotifyOn> = { succeeded: "success", failed: "failure", "rolled back": "rollback", paused: "paused" };

export const categoryOf = (event: Classifiable): NotifyOn =>
  "kind" in event && event.kind === "incident" ? "incident" : CATEGORY[resultOf(event)];

/**
 * Failures, rollbacks and open incidents are what someone must look at; they may also go to a
 * separate channel. A closed incident is good news, like a success.
 */
export const needsAttention = (event: Classifiable): boolean => {
  const result = resultOf(event);
  return result === "failed" || result === "rolled back";
};

export type EventContext = Omit<DeployEvent, "kind" | "environment" | "result" | "reason" | "image" | "durationSeconds">;

/**
 * What a finished deploy's report says, structurally (deploy/deploy.ts's DeployReport fits it): the
 * notifications and the PR summary, which the CI module loads too, stay clear of the deploy code.
 */
export interface FinishedDeploy {
  environment: string;
  image: string;
  result: EventResult;
  reason: string;
  timeline: readonly { at: string; message?: string }[];
}

/** The event for a finished deploy; the duration is the span of its timeline. */
export function eventFromDeploy(report: FinishedDeploy, ctx: EventContext = {}): DeployEvent {
  const times = report.timeline.map((e) => Date.parse(e.at)).filter((t) => Number.isFinite(t));
  const durationSeconds = times.length < 2 ? 0 : Math.round((Math.max(...times) - Math.min(...times)) / 1000);
  return {
    kind: "deploy",
    environment: report.environment,
    result: report.result,
    reason: report.reason,
    image: report.image,
    durationSeconds,
    ...ctx,
  };
}

/** "4m 05s", "1h 02m", "12s": short enough for a Slack field. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
}

const KIND_WORD: Record<EventKind, string> = { deploy: "Deploy", rollback: "Rollback", promote: "Promotion", abort: "Abort" };

/** "42m", "3h 05m", "2d 2h": how long an incident lasted, for a headline. */
export function roughDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** "production is unhealthy (incident #12 opened)", "production healthy again after 42m (incident #12 closed)". */
function incidentHeadline(e: IncidentEvent): string {
  const issue = `incident${e.issueNumber === undefined ? "" : ` #${e.issueNumber}`} ${e.action}`;
  const after = e.durationSeconds === undefined ? "" : ` after ${roughDuration(e.durationSeconds)}`;
  const env = e.environment;
  const words =
    e.incident === "health"
      ? { opened: `${env} is unhealthy`, updated: `${env} is still unhealthy`, closed: `${env} healthy again${after}` }
      : {
          opened: `blocking vulnerabilities in what ${env} runs`,
          updated: `new blocking vulnerabilities in what ${env} runs`,
          closed: `no blocking vulnerabilities left in what ${env} runs${after}`,
        };
  return `${words[e.action]} (${issue})`;
}

/** "Deploy to staging: rolled back", or an incident's own words — the one-line headline every channel uses. */
export const headline = (event: IncidentEvent | Pick<DeployEvent, "kind" | "environment" | "result">): string =>
  event.kind === "incident" ? incidentHeadline(event) : `${KIND_WORD[event.kind]} to ${event.environment}: ${event.result}`;

const PASSING = /^(pass(ed)?|ok|approved|succeeded|healthy)$/i;
const FAILING = /^(fail(ed)?|breach(ed)?|rejected|error|unhealthy)$/i;

/** Verdicts are free text from many gates; channels only need to know good, bad or neither. */
export const verdictTone = (verdict: string): "pass" | "fail" | "other" =>
  PASSING.test(verdict) ? "pass" : FAILING.test(verdict) ? "fail" : "other";

/** The first 7 characters, as git and GitHub show a commit. */
export const shortSha = (sha: string): string => sha.slice(0, 7);
