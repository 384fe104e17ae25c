/**
 * What notifications and GitHub reports are about: one deploy-like event, as plain data. It does not
 * depend on Dagger or on the deploy core, so a rollback, a promotion or an abort can be described
 * the same way, and the builders stay pure and testable.
 */
import type { DeployReport } from "../deploy/deploy.js";

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

/** The words users pick notifications by (`notifications.on`), one per result. */
export const NOTIFY_ON = ["success", "failure", "rollback", "paused"] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

const CATEGORY: Record<EventResult, NotifyOn> = { succeeded: "success", failed: "failure", "rolled back": "rollback", paused: "paused" };

export const categoryOf = (event: Pick<DeployEvent, "result">): NotifyOn => CATEGORY[event.result];

/** Failures and rollbacks are what someone must look at; they may also go to a separate channel. */
export const needsAttention = (event: Pick<DeployEvent, "result">): boolean => event.result === "failed" || event.result === "rolled back";

export type EventContext = Omit<DeployEvent, "kind" | "environment" | "result" | "reason" | "image" | "durationSeconds">;

/** The event for a finished deploy; the duration is the span of its timeline. */
export function eventFromDeploy(
  report: Pick<DeployReport, "environment" | "image" | "result" | "reason" | "timeline">,
  ctx: EventContext = {},
): DeployEvent {
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

/** "Deploy to staging: rolled back" — the one-line headline every channel uses. */
export const headline = (event: Pick<DeployEvent, "kind" | "environment" | "result">): string =>
  `${KIND_WORD[event.kind]} to ${event.environment}: ${event.result}`;

const PASSING = /^(pass(ed)?|ok|approved|succeeded|healthy)$/i;
const FAILING = /^(fail(ed)?|breach(ed)?|rejected|error|unhealthy)$/i;

/** Verdicts are free text from many gates; channels only need to know good, bad or neither. */
export const verdictTone = (verdict: string): "pass" | "fail" | "other" =>
  PASSING.test(verdict) ? "pass" : FAILING.test(verdict) ? "fail" : "other";

/** The first 7 characters, as git and GitHub show a commit. */
export const shortSha = (sha: string): string => sha.slice(0, 7);
