/**
 * The issue endpoints an incident needs, as GitHub's REST API documents them
 * (https://docs.github.com/rest/issues/issues, https://docs.github.com/rest/issues/comments):
 * - GET /repos/{o}/{r}/issues lists OPEN issues by default (`state` open|closed|all), `labels` is a
 *   comma-separated list an issue must carry all of, `per_page` tops out at 100, and the answer
 *   pages with a Link header. "GitHub's REST API considers every pull request an issue": items with
 *   a `pull_request` key are pull requests and are dropped here.
 * - POST /repos/{o}/{r}/issues answers 201; "Only users with push access can set labels for new
 *   issues. Labels are silently dropped otherwise", and 410 Gone when issues are disabled.
 * - PATCH /repos/{o}/{r}/issues/{n} takes `state` open|closed and `state_reason` completed|not_planned|reopened.
 * - POST /repos/{o}/{r}/issues/{n}/comments answers 201.
 */
import { apiBase, githubRequest, nextLink, type GithubApi, type GithubFailure, type RequestContext } from "./api.js";

export interface Issue {
  number: number;
  title: string;
  body: string;
  state: string;
  created_at: string;
  html_url: string;
  labels: string[];
}

export type Step<T> = { ok: true; value: T } | { ok: false; failure: GithubFailure };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/** An issue as GitHub sends it (labels as names or label objects); undefined for a pull request or anything else. */
export function issueOf(v: unknown): Issue | undefined {
  if (!isObject(v) || typeof v.number !== "number" || "pull_request" in v) return undefined;
  const labels = Array.isArray(v.labels)
    ? v.labels.flatMap((l) => (typeof l === "string" ? [l] : isObject(l) && typeof l.name === "string" ? [l.name] : []))
    : [];
  return {
    number: v.number,
    title: typeof v.title === "string" ? v.title : "",
    body: typeof v.body === "string" ? v.body : "", // null for an issue without a body
    state: typeof v.state === "string" ? v.state : "",
    created_at: typeof v.created_at === "string" ? v.created_at : "",
    html_url: typeof v.html_url === "string" ? v.html_url : "",
    labels,
  };
}

export class IssuesApi {
  private readonly repoUrl: string;

  constructor(
    private readonly api: GithubApi,
    private readonly repository: string,
  ) {
    const [owner = "", repo = ""] = repository.split("/").map(encodeURIComponent);
    this.repoUrl = `${apiBase(api.apiUrl)}/repos/${owner}/${repo}`;
  }

  private ctx(issueNumber?: number): RequestContext {
    return { repository: this.repository, purpose: "incident", ...(issueNumber === undefined ? {} : { issueNumber }) };
  }

  /** Every open issue carrying `label`, oldest first, reading at most `maxPages` pages of 100. */
  async openWithLabel(label: string, maxPages = 10): Promise<Step<Issue[]>> {
    const first = `${this.repoUrl}/issues?state=open&labels=${encodeURIComponent(label)}&sort=created&direction=asc&per_page=100`;
    const origin = new URL(first).origin;
    const found: Issue[] = [];
    let url: string | undefined = first;
    for (let page = 1; url !== undefined && page <= maxPages; page++) {
      const res = await githubRequest(this.api, "GET", url, this.ctx());
      if (!res.ok) return res;
      if (Array.isArray(res.data)) found.push(...res.data.flatMap((d) => issueOf(d) ?? []));
      url = nextLink(res.headers.get("link"));
      if (url !== undefined && (!URL.canParse(url) || new URL(url).origin !== origin)) {
        const failure = {
          error: "GitHub's pagination link points to another host; the token is not sent there",
          hint: "check the API URL",
        };
        return { ok: false, failure: { ...failure, retryable: false } };
      }
    }
    return { ok: true, value: found };
  }

  async create(title: string, body: string, labels: string[]): Promise<Step<Issue>> {
    return this.issueStep(await githubRequest(this.api, "POST", `${this.repoUrl}/issues`, this.ctx(), { title, body, labels }));
  }

  async update(issueNumber: number, change: { body?: string; state?: "closed"; state_reason?: "completed" }): Promise<Step<Issue>> {
    const url = `${this.repoUrl}/issues/${issueNumber}`;
    return this.issueStep(await githubRequest(this.api, "PATCH", url, this.ctx(issueNumber), change));
  }

  async comment(issueNumber: number, body: string): Promise<Step<string>> {
    const res = await githubRequest(this.api, "POST", `${this.repoUrl}/issues/${issueNumber}/comments`, this.ctx(issueNumber), { body });
    if (!res.ok) return res;
    const url = isObject(res.data) && typeof res.data.html_url === "string" ? res.data.html_url : "";
    return { ok: true, value: url };
  }

  private issueStep(res: Awaited<ReturnType<typeof githubRequest>>): Step<Issue> {
    if (!res.ok) return res;
    const issue = issueOf(res.data);
    if (!issue) return { ok: false, failure: { error: "GitHub answered without an issue", hint: "check the API URL", retryable: false } };
    return { ok: true, value: issue };
  }
}
