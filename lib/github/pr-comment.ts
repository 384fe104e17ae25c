/**
 * Keeps ONE Shipshape comment per pull request: found by a hidden marker at the start of its body,
 * edited in place on every run instead of piling up a comment per push. A comment that cannot be
 * written is reported in the result, never thrown: it must not fail or hide the pipeline's outcome.
 */
import { systemClock, type Clock } from "../../deploy/lib/project/clock.js";
import { progress } from "../../deploy/lib/gates/progress.js";
import { backoffMs } from "../../deploy/lib/notify/deliver.js";
import { scrub } from "../../deploy/lib/notify/redact.js";
import {
  apiBase,
  DEFAULT_API_URL,
  githubRequest,
  nextLink,
  type GithubApi,
  type GithubFailure,
  type RequestContext,
} from "../../deploy/lib/github/api.js";
import { truncateMarkdown } from "../../deploy/lib/github/markdown.js";

export const COMMENT_MARKER = "<!-- shipshape:ci -->";
/** GitHub answers 422 "body is too long (maximum is 65536 characters)" past this. */
export const COMMENT_LIMIT = 65536;

export interface PrCommentRequest {
  /** owner/name, as in GITHUB_REPOSITORY. */
  repository: string;
  pullNumber: number;
  /** Markdown; the marker is added in front. */
  body: string;
  /** Unwrapped from a Dagger Secret; used in the Authorization header only. */
  token: string;
  /** Defaults to https://api.github.com; https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl?: string;
  marker?: string;
}

export interface PrCommentOptions {
  /** Per request. */
  timeoutMs?: number;
  /** Whole upserts, the first included; only 5xx, timeouts and short secondary rate limits are retried. */
  attempts?: number;
  /** Comments per page while looking for ours (GitHub's maximum is 100). */
  perPage?: number;
  /** Pages read at most, so a PR with thousands of comments cannot stall the pipeline. */
  maxPages?: number;
  clock?: Clock;
  random?: () => number;
}

export interface PrCommentResult {
  ok: boolean;
  action?: "created" | "updated" | "unchanged";
  commentId?: number;
  /** The comment's html_url. */
  url?: string;
  /** The body was cut to GitHub's limit. */
  truncated: boolean;
  attempts: number;
  status?: number;
  error?: string;
  hint?: string;
}

interface Comment {
  id: number;
  body: string;
  html_url?: string;
}

const TRUNCATION_NOTE =
  "> **Note:** this comment was cut to GitHub's 65536-character limit; the full report is in the workflow run's summary.";

/** The body as posted: marker first (how we find it again), cut to the limit. */
export function commentBody(body: string, marker = COMMENT_MARKER): { body: string; truncated: boolean } {
  const { text, truncated } = truncateMarkdown(body, COMMENT_LIMIT - marker.length - 1, TRUNCATION_NOTE);
  return { body: `${marker}\n${text}`, truncated };
}

/** The PR number in a pull_request run's GITHUB_REF: refs/pull/123/merge. */
export function pullNumberFromRef(ref: string | undefined): number | undefined {
  const match = /^refs\/pull\/(\d+)\/(?:merge|head)$/.exec(ref ?? "");
  return match ? Number(match[1]) : undefined;
}

const isComment = (c: unknown): c is Comment =>
  typeof c === "object" && c !== null && typeof (c as Comment).id === "number" && typeof (c as Comment).body === "string";

type Step<T> = { ok: true; value: T } | { ok: false; failure: GithubFailure };

async function findComment(
  api: GithubApi,
  first: string,
  ctx: RequestContext,
  marker: string,
  maxPages: number,
): Promise<Step<Comment | undefined>> {
  const origin = new URL(first).origin;
  let url: string | undefined = first;
  for (let page = 1; url !== undefined && page <= maxPages; page++) {
    const res = await githubRequest(api, "GET", url, ctx);
    if (!res.ok) return res;
    const mine = Array.isArray(res.data) ? res.data.filter(isComment).find((c) => c.body.startsWith(marker)) : undefined;
    if (mine) return { ok: true, value: mine };
    url = nextLink(res.headers.get("link"));
    if (url !== undefined && (!URL.canParse(url) || new URL(url).origin !== origin)) {
      return {
        ok: false,
        failure: {
          error: "GitHub's pagination link points to another host; the token is not sent there",
          hint: "check the API URL",
          retryable: false,
        },
      };
    }
  }
  return { ok: true, value: undefined };
}

async function upsertOnce(api: GithubApi, req: PrCommentRequest, body: string, marker: string, perPage: number, maxPages: number) {
  const [owner, repo] = req.repository.split("/").map(encodeURIComponent);
  const repoUrl = `${apiBase(api.apiUrl)}/repos/${owner}/${repo}`;
  const ctx = { repository: req.repository, pullNumber: req.pullNumber };
  const found = await findComment(api, `${repoUrl}/issues/${req.pullNumber}/comments?per_page=${perPage}`, ctx, marker, maxPages);
  if (!found.ok) return found;
  const existing = found.value;
  if (existing?.body === body) return { ok: true as const, value: { action: "unchanged" as const, comment: existing } };
  const create = () => githubRequest(api, "POST", `${repoUrl}/issues/${req.pullNumber}/comments`, ctx, { body });
  let action: "created" | "updated" = existing === undefined ? "created" : "updated";
  let res =
    existing === undefined ? await create() : await githubRequest(api, "PATCH", `${repoUrl}/issues/comments/${existing.id}`, ctx, { body });
  if (!res.ok && existing !== undefined && res.failure.status === 404) {
    // Deleted between listing and editing: write a fresh one.
    action = "created";
    res = await create();
  }
  if (!res.ok) return res;
  return { ok: true as const, value: { action, comment: isComment(res.data) ? res.data : existing } };
}

function invalid(req: PrCommentRequest, apiUrl: string): { error: string; hint: string } | undefined {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(req.repository))
    return { error: `"${req.repository}" is not a repository name`, hint: "pass owner/name, as in GITHUB_REPOSITORY" };
  if (!Number.isInteger(req.pullNumber) || req.pullNumber < 1)
    return { error: `${req.pullNumber} is not a pull request number`, hint: "pass the number from refs/pull/<number>/merge" };
  if (!URL.canParse(apiUrl) || !/^https?:$/.test(new URL(apiUrl).protocol))
    return {
      error: `the GitHub API URL "${apiUrl}" is not an http(s) URL`,
      hint: "use https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server",
    };
  if (req.token.trim() === "") return { error: "the GitHub token is empty", hint: "pass a token with pull-requests: write" };
  return undefined;
}

export async function upsertPrComment(given: PrCommentRequest, opts: PrCommentOptions = {}): Promise<PrCommentResult> {
  // A token read from a file ends with a newline, which would make the Authorization header invalid.
  const req = { ...given, token: given.token.trim() };
  const clock = opts.clock ?? systemClock;
  const apiUrl = req.apiUrl ?? DEFAULT_API_URL;
  const marker = req.marker ?? COMMENT_MARKER;
  const attemptsAllowed = opts.attempts ?? 3;
  const { body, truncated } = commentBody(req.body, marker);
  const bad = invalid(req, apiUrl);
  if (bad) return { ok: false, truncated, attempts: 0, error: scrub(bad.error, [req.token]), hint: bad.hint };

  const api: GithubApi = { apiUrl, token: req.token, timeoutMs: opts.timeoutMs ?? 10_000, now: () => clock.now() };
  let attempts = 0;
  for (;;) {
    attempts++;
    // The whole upsert is retried, not the failed call: a POST that timed out may have landed, and
    // listing again finds it by the marker instead of posting a second comment.
    const res = await upsertOnce(api, req, body, marker, opts.perPage ?? 100, opts.maxPages ?? 30);
    if (res.ok) {
      const { action, comment } = res.value;
      progress("github", `PR comment ${action} on ${req.repository}#${req.pullNumber}`);
      return {
        ok: true,
        action,
        truncated,
        attempts,
        ...(comment === undefined ? {} : { commentId: comment.id }),
        ...(comment?.html_url === undefined ? {} : { url: comment.html_url }),
      };
    }
    const { failure } = res;
    const wait = failure.retryAfterMs ?? backoffMs(attempts, { initialMs: 1000, maxMs: 10_000 }, opts.random ?? Math.random);
    if (!failure.retryable || attempts >= attemptsAllowed || wait > 60_000) {
      progress("github", `PR comment not written: ${failure.error}`);
      return {
        ok: false,
        truncated,
        attempts,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        error: failure.error,
        hint: failure.hint,
      };
    }
    progress("github", `${failure.error}; retrying in ${(wait / 1000).toFixed(1)} s`);
    await clock.sleep(wait);
  }
}
