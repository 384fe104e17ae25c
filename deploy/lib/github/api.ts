/**
 * The little of the GitHub REST API Shipshape calls: authenticated JSON requests with a timeout,
 * `Link` pagination, and errors turned into one line of cause and one of hint. The token goes in
 * one header and nowhere else; everything returned is scrubbed of it anyway.
 */
import { fetchFailure } from "../deploy/fetch-error.js";
import { scrub } from "../notify/redact.js";

export const GITHUB_API_VERSION = "2022-11-28";
export const DEFAULT_API_URL = "https://api.github.com";

export interface GithubApi {
  /** https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  token: string;
  timeoutMs: number;
  /** For rate-limit reset times; injected so tests run on fake time. */
  now?: () => number;
}

export interface GithubFailure {
  status?: number;
  error: string;
  hint: string;
  /** Worth trying again soon: 5xx, timeouts, dropped connections, a short secondary rate limit. */
  retryable: boolean;
  /** How long GitHub asked us to wait, when it said. */
  retryAfterMs?: number;
}

export type ApiResponse = { ok: true; status: number; data: unknown; headers: Headers } | { ok: false; failure: GithubFailure };

/** What the failing request was about, for messages that name it. */
export interface RequestContext {
  repository: string;
  pullNumber?: number;
  /** An incident issue (monitor, rescan): the messages then name issues and the issues permission. */
  issueNumber?: number;
  purpose?: "pr-comment" | "incident";
}

export const apiBase = (apiUrl: string): string => apiUrl.replace(/\/+$/, "");

/** The URL of rel="next" in a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(",")) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /\brel="?[^"]*\bnext\b/.test(match[2] ?? "")) return match[1];
  }
  return undefined;
}

export async function githubRequest(
  api: GithubApi,
  method: "GET" | "POST" | "PATCH",
  url: string,
  ctx: RequestContext,
  body?: unknown,
): Promise<ApiResponse> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), api.timeoutMs); // global timer: fake-timer friendly
  try {
    const res = await fetch(url, {
      method,
      headers: {
        Authorization: `Bearer ${api.token}`,
        Accept: "application/vnd.github+json",
        "X-GitHub-Api-Version": GITHUB_API_VERSION,
        "User-Agent": "shipshape",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: abort.signal,
      redirect: "manual", // never carry the token to wherever a redirect points
    });
    const text = await res.text();
    let data: unknown = undefined;
    try {
      data = text === "" ? undefined : JSON.parse(text);
    } catch {
      data = undefined;
    }
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, data, headers: res.headers };
    return { ok: false, failure: scrubbed(explainFailure(res.status, res.headers, data, ctx, (api.now ?? Date.now)()), api.token) };
  } catch (e) {
    const failure: GithubFailure = abort.signal.aborted
      ? {
          error: `GitHub did not answer within ${api.timeoutMs} ms`,
          hint: "GitHub may be having an incident; see githubstatus.com",
          retryable: true,
        }
      : {
          error: `GitHub could not be reached: ${fetchFailure(e)}`,
          hint: `check the API URL ${apiBase(api.apiUrl)} and the network`,
          retryable: true,
        };
    return { ok: false, failure: scrubbed(failure, api.token) };
  } finally {
    clearTimeout(timer);
  }
}

function scrubbed(f: GithubFailure, token: string): GithubFailure {
  return { ...f, error: scrub(f.error, [token]), hint: scrub(f.hint, [token]) };
}

/** GitHub's own words: `{"message": "...", "errors": [{"message": "..."}]}`. */
function saidBy(data: unknown): string {
  const d = data as { message?: unknown; errors?: { message?: unknown }[] } | undefined;
  const message = typeof d?.message === "string" ? d.message : "";
  const details = Array.isArray(d?.errors)
    ? d.errors.map((e) => (typeof e?.message === "string" ? e.message : "")).filter((m) => m !== "")
    : [];
  return (
    [message, ...details]
      .filter((m) => m !== "")
      .join(": ")
      .split("\n")[0]
      ?.slice(0, 300) ?? ""
  );
}

export function explainFailure(status: number, headers: Headers, data: unknown, ctx: RequestContext, now: number): GithubFailure {
  const said = saidBy(data);
  const statusSaid = (code: number) => (said === "" ? `(${code})` : `(${code}: ${said})`);
  const number = ctx.pullNumber ?? ctx.issueNumber;
  const target = number === undefined ? ctx.repository : `${ctx.repository}#${number}`;
  const incident = ctx.purpose === "incident";
  const retryAfter = headers.get("retry-after");
  const retryAfterMs = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) * 1000 : undefined;
  const remaining = headers.get("x-ratelimit-remaining");
  const reset = Number(headers.get("x-ratelimit-reset"));

  if ((status === 403 || status === 429) && remaining === "0") {
    const when = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : "the top of the hour";
    const minutes = Number.isFinite(reset) && reset > 0 ? Math.max(1, Math.ceil((reset * 1000 - now) / 60_000)) : undefined;
    return {
      status,
      error: `GitHub API rate limit exhausted for this token until ${when}${minutes === undefined ? "" : ` (about ${minutes} min)`}`,
      hint: "wait for the reset, or use a token with a higher rate limit (a GitHub App installation token)",
      retryable: false,
    };
  }
  if (
    status === 429 ||
    ((status === 403 || status === 429) && /secondary rate limit/i.test(said)) ||
    (status === 403 && retryAfterMs !== undefined)
  ) {
    return {
      status,
      error: `GitHub secondary rate limit hit${retryAfterMs === undefined ? "" : `; retry after ${retryAfterMs / 1000} s`} ${statusSaid(status)}`,
      hint: "too many requests in a short time; it clears within minutes",
      retryable: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  switch (status) {
    case 401:
      return {
        status,
        error: `GitHub rejected the token ${statusSaid(status)}`,
        hint: "check the GitHub token secret; it may be mistyped, expired or revoked",
        retryable: false,
      };
    case 403:
      return incident
        ? {
            status,
            error: `the GitHub token may not write incident issues on ${target} ${statusSaid(status)}`,
            hint: "give the job `permissions: issues: write` (a fine-grained token: Issues read and write)",
            retryable: false,
          }
        : {
            status,
            error: `the GitHub token may not comment on ${target} ${statusSaid(status)}`,
            hint: "give the job `permissions: pull-requests: write`; pull requests from forks get a read-only GITHUB_TOKEN",
            retryable: false,
          };
    case 404:
      return {
        status,
        error: `${target} was not found, or the token cannot see it (404)`,
        hint: incident
          ? "check --repository (owner/name); a token for a private repository needs access to it, and issues: read"
          : "check the repository and pull request number; a token for a private repository needs access to it",
        retryable: false,
      };
    case 410:
      return {
        status,
        error: `issues are disabled on ${ctx.repository} ${statusSaid(status)}`,
        hint: incident
          ? "enable Issues in the repository's settings (General → Features): incidents are issues"
          : "enable issues, or turn off the PR comment",
        retryable: false,
      };
    case 422:
      return {
        status,
        error: `GitHub refused the ${incident ? "incident issue" : "comment"} ${statusSaid(status)}`,
        hint: "this is likely a Shipshape bug; please report it",
        retryable: false,
      };
    default:
      return status >= 500
        ? {
            status,
            error: `GitHub answered ${status}${said === "" ? "" : `: ${said}`}`,
            hint: "GitHub may be having an incident; see githubstatus.com",
            retryable: true,
          }
        : {
            status,
            error: `GitHub answered ${status}${said === "" ? "" : `: ${said}`}`,
            hint: "see the GitHub REST API documentation for this status",
            retryable: false,
          };
  }
}
