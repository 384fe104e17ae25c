/**
 * ONE open GitHub issue per environment and kind of incident: opened by the first failing run,
 * commented on by the next ones, closed (with how long it lasted) by the first healthy one. The
 * issue is found by its label and hidden marker (incident-marker.ts). Nothing here throws: a
 * GitHub failure is a result, so the caller can report it next to what it observed.
 */
import { systemClock, type Clock } from "../deploy/aws.js";
import { progress } from "../gates/progress.js";
import { formatDuration } from "../notify/event.js";
import { backoffMs } from "../notify/deliver.js";
import { scrub } from "../notify/redact.js";
import { DEFAULT_API_URL, type GithubApi } from "./api.js";
import {
  INCIDENT_LABEL,
  isIncidentOf,
  markerLine,
  readMarker,
  withMarker,
  type IncidentKind,
  type IncidentMarker,
} from "./incident-marker.js";
import { IssuesApi, type Issue, type Step } from "./issues.js";
import { truncateMarkdown } from "./markdown.js";

export interface IncidentRequest {
  /** owner/name, as in GITHUB_REPOSITORY. */
  repository: string;
  /** Unwrapped from a Dagger Secret; used in the Authorization header only. */
  token: string;
  apiUrl?: string;
  environment: string;
  kind: IncidentKind;
  /** What this run saw: failing opens or comments, healthy closes. */
  failing: boolean;
  /** The title of a new issue. */
  title: string;
  /** Markdown: what this run saw (the issue's body when it opens, else the comment). */
  report: string;
  /** Vulnerability incidents: the blocking findings now ("CVE-… pkg"); only new ones are commented. */
  findings?: string[];
}

export interface IncidentResult {
  ok: boolean;
  action?: "opened" | "commented" | "closed" | "unchanged" | "none";
  issueNumber?: number;
  url?: string;
  /** Closed: how long the incident lasted. */
  durationSeconds?: number;
  /** Findings this run reported for the first time. */
  newFindings: string[];
  warnings: string[];
  attempts: number;
  /** GitHub's HTTP status of the failing call. */
  status?: number;
  error?: string;
  hint?: string;
}

export interface IncidentOptions {
  timeoutMs?: number;
  attempts?: number;
  clock?: Clock;
  random?: () => number;
}

/** GitHub's body limit (the 422 "body is too long (maximum is 65536 characters)"), the marker line included. */
const BODY_LIMIT = 65536 - 400;
const NOTE = "> **Note:** cut to GitHub's limit; the full report is in the run's files.";
const fit = (text: string) => truncateMarkdown(text, BODY_LIMIT, NOTE).text;

type Outcome = Omit<IncidentResult, "ok" | "attempts" | "warnings"> & { warnings?: string[] };

function invalid(req: IncidentRequest, apiUrl: string): { error: string; hint: string } | undefined {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(req.repository))
    return { error: `"${req.repository}" is not a repository name`, hint: "pass --repository=owner/name, as in GITHUB_REPOSITORY" };
  if (!URL.canParse(apiUrl) || !/^https?:$/.test(new URL(apiUrl).protocol))
    return {
      error: `the GitHub API URL "${apiUrl}" is not an http(s) URL`,
      hint: "set notifications.github.apiUrl to https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
    };
  if (req.token.trim() === "") return { error: "the GitHub token is empty", hint: "pass --github-token with issues: write" };
  return undefined;
}

async function reconcileOnce(issues: IssuesApi, req: IncidentRequest, now: Date): Promise<Step<Outcome>> {
  const listed = await issues.openWithLabel(INCIDENT_LABEL);
  if (!listed.ok) return listed;
  const open = listed.value.find((i) => isIncidentOf(readMarker(i.body), req.environment, req.kind));
  const findings = [...new Set(req.findings ?? [])];
  if (!req.failing) return open ? close(issues, open, req, now) : { ok: true, value: { action: "none", newFindings: [] } };
  if (!open) {
    const marker: IncidentMarker = { v: 1, environment: req.environment, kind: req.kind, since: now.toISOString(), findings };
    const created = await issues.create(req.title.slice(0, 256), fit(`${markerLine(marker)}\n${req.report}`), [INCIDENT_LABEL]);
    if (!created.ok) return created;
    const issue = created.value;
    if (!issue.labels.includes(INCIDENT_LABEL))
      return {
        ok: false,
        failure: {
          error: `GitHub dropped the label ${INCIDENT_LABEL} from the new issue #${issue.number}, so the next run cannot find it`,
          hint: "only a token with push access sets labels: use the workflow's GITHUB_TOKEN with issues: write, or a GitHub App token",
          retryable: false,
        },
      };
    return { ok: true, value: { action: "opened", issueNumber: issue.number, url: issue.html_url, newFindings: findings } };
  }
  const marker = readMarker(open.body)!;
  const fresh = findings.filter((f) => !marker.findings.includes(f));
  const at = { issueNumber: open.number, url: open.html_url };
  if (req.kind === "vulnerability" && fresh.length === 0) return { ok: true, value: { action: "unchanged", ...at, newFindings: [] } };
  if (fresh.length > 0) {
    // The marker first: a comment that fails after it only loses words, never makes a finding "new" again.
    const updated = await issues.update(open.number, {
      body: fit(withMarker(open.body, { ...marker, findings: [...marker.findings, ...fresh] })),
    });
    if (!updated.ok) return updated;
  }
  const commented = await issues.comment(open.number, fit(req.report));
  if (!commented.ok) return commented;
  return { ok: true, value: { action: "commented", ...at, newFindings: fresh } };
}

/** Closed first, then the comment: a retry after a lost answer finds nothing open instead of a second close. */
async function close(issues: IssuesApi, open: Issue, req: IncidentRequest, now: Date): Promise<Step<Outcome>> {
  const marker = readMarker(open.body);
  const since = Date.parse(marker?.since ?? open.created_at);
  const durationSeconds = Number.isFinite(since) ? Math.max(0, Math.round((now.getTime() - since) / 1000)) : 0;
  const closed = await issues.update(open.number, { state: "closed", state_reason: "completed" });
  if (!closed.ok) return closed;
  const note = `**Resolved** after ${formatDuration(durationSeconds)} (since ${new Date(since).toISOString()}).\n\n${req.report}`;
  const commented = await issues.comment(open.number, fit(note));
  const warnings = commented.ok
    ? []
    : [`issue #${open.number} closed, but its closing comment was not written: ${commented.failure.error}`];
  return {
    ok: true,
    value: { action: "closed", issueNumber: open.number, url: open.html_url, durationSeconds, newFindings: [], warnings },
  };
}

export async function reconcileIncident(given: IncidentRequest, opts: IncidentOptions = {}): Promise<IncidentResult> {
  // A token read from a file ends with a newline, which would make the Authorization header invalid.
  const req = { ...given, token: given.token.trim() };
  const clock = opts.clock ?? systemClock;
  const apiUrl = req.apiUrl ?? DEFAULT_API_URL;
  const bad = invalid(req, apiUrl);
  if (bad) return { ok: false, attempts: 0, newFindings: [], warnings: [], error: scrub(bad.error, [req.token]), hint: bad.hint };
  const api: GithubApi = { apiUrl, token: req.token, timeoutMs: opts.timeoutMs ?? 10_000, now: () => clock.now() };
  const issues = new IssuesApi(api, req.repository);
  const allowed = opts.attempts ?? 3;
  for (let attempts = 1; ; attempts++) {
    // The whole reconcile is retried: a POST that timed out may have landed, and listing again finds it.
    const res = await reconcileOnce(issues, req, new Date(clock.now()));
    if (res.ok) {
      const { warnings = [], ...value } = res.value;
      if (value.action !== "none")
        progress("incident", `${req.environment} ${req.kind}: issue #${value.issueNumber ?? "?"} ${value.action}`);
      return { ok: true, attempts, warnings, ...value };
    }
    const { failure } = res;
    const wait = failure.retryAfterMs ?? backoffMs(attempts, { initialMs: 1000, maxMs: 10_000 }, opts.random ?? Math.random);
    if (!failure.retryable || attempts >= allowed || wait > 60_000) {
      progress("incident", `not updated: ${failure.error}`);
      const status = failure.status === undefined ? {} : { status: failure.status };
      return { ok: false, attempts, newFindings: [], warnings: [], ...status, error: failure.error, hint: failure.hint };
    }
    progress("incident", `${failure.error}; retrying in ${(wait / 1000).toFixed(1)} s`);
    await clock.sleep(wait);
  }
}
