// The issues slice of the fake GitHub, as the REST docs describe it (https://docs.github.com/rest/issues/issues,
// API version 2022-11-28):
// - issues and pull requests share one number sequence, and the list returns pull requests too
//   (with a `pull_request` key: "GitHub's REST API considers every pull request an issue");
// - GET /repos/{o}/{r}/issues: state open (default) | closed | all, labels comma-separated (an issue
//   must carry all of them), sort created|updated|comments, direction asc|desc (default desc),
//   per_page default 30 and at most 100, Link header paging through /repositories/{id}/issues;
//   a bad enum value is a 422 "Validation Failed";
// - POST creates (201 + Location); without push access "labels are silently dropped"; a label the
//   repository lacks is created; issues disabled is 410 Gone; no title, or title/body too long, is 422;
// - PATCH: state open|closed, state_reason completed|not_planned|reopened, closed_at kept.
import type { FakeGithub } from "./fake-github.js";

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  state_reason: string | null;
  labels: { name: string }[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  html_url: string;
  user: { login: string };
  pull_request?: { url: string };
}

type Answer = (status: number, body: unknown, headers?: Record<string, string>) => void;
const DOCS = "https://docs.github.com/rest/issues/issues";

const invalid = (answer: Answer, field: string, message: string) =>
  answer(422, {
    message: "Validation Failed",
    errors: [{ resource: "Issue", code: "custom", field, message }],
    documentation_url: DOCS,
    status: "422",
  });

export class FakeIssues {
  /** Issues (and pull requests) per "owner/repo", in creation order. */
  readonly byRepo = new Map<string, FakeIssue[]>();
  /** Labels that exist per repository. */
  readonly labels = new Map<string, Set<string>>();
  /** The token lacks push access: labels on a new issue are dropped without an error. */
  noPushAccess = false;
  /** Issues turned off in the repository's settings. */
  disabled = false;
  /** Store the next created issue, then never answer (a POST that lands but times out). */
  hangAfterNextCreate = false;
  private next = new Map<string, number>();

  constructor(private readonly gh: FakeGithub) {}

  list(repo: string): FakeIssue[] {
    if (!this.byRepo.has(repo)) this.byRepo.set(repo, []);
    return this.byRepo.get(repo)!;
  }

  find(repo: string, n: number): FakeIssue | undefined {
    return this.list(repo).find((i) => i.number === n);
  }

  /** Adds an issue (or a pull request) as someone else opened it. */
  seed(repo: string, o: Partial<FakeIssue> & { labels?: { name: string }[] }, login = "someone"): FakeIssue {
    const issue = this.make(repo, o.title ?? "seeded", o.body ?? null, o.labels ?? [], login);
    Object.assign(issue, o, { number: issue.number, html_url: issue.html_url });
    for (const l of issue.labels) this.labelsOf(repo).add(l.name);
    return issue;
  }

  private labelsOf(repo: string): Set<string> {
    if (!this.labels.has(repo)) this.labels.set(repo, new Set(["bug", "enhancement"]));
    return this.labels.get(repo)!;
  }

  private make(repo: string, title: string, body: string | null, labels: { name: string }[], login: string): FakeIssue {
    // One sequence with the pull requests the fake knows.
    const taken = Math.max(0, ...(this.gh.pulls.get(repo) ?? []), ...this.list(repo).map((i) => i.number));
    const number = Math.max(taken, this.next.get(repo) ?? 0) + 1;
    this.next.set(repo, number);
    const now = new Date(this.gh.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    const issue: FakeIssue = {
      number,
      title,
      body,
      state: "open",
      state_reason: null,
      labels,
      created_at: now,
      updated_at: now,
      closed_at: null,
      html_url: `https://github.com/${repo}/issues/${number}`,
      user: { login },
    };
    this.list(repo).push(issue);
    return issue;
  }

  /** Handles /repos/{o}/{r}/issues[/{n}] and /repositories/{id}/issues; false when the path is not one of them. */
  handle(method: string, url: URL, path: string, raw: string, answer: Answer, limits: Record<string, string>): boolean {
    const m = /^\/repos\/([^/]+)\/([^/]+)\/issues(?:\/(\d+))?$/.exec(path) ?? /^\/repositories\/(\d+)\/issues$/.exec(path);
    if (!m) return false;
    const repo = m.length === 4 ? `${m[1]}/${m[2]}` : [...this.gh.repos].find(([, id]) => String(id) === m[1])?.[0];
    if (repo === undefined || !this.gh.repos.has(repo)) {
      answer(404, { message: "Not Found", documentation_url: DOCS, status: "404" }, limits);
      return true;
    }
    if (this.disabled) {
      answer(410, { message: "Issues are disabled for this repo", documentation_url: DOCS, status: "410" }, limits);
      return true;
    }
    const number = m.length === 4 && m[3] !== undefined ? Number(m[3]) : undefined;
    if (method === "GET" && number === undefined) this.listIssues(repo, url, answer, limits);
    else if (method === "POST" && number === undefined) this.create(repo, raw, answer, limits);
    else if (method === "PATCH" && number !== undefined) this.update(repo, number, raw, answer, limits);
    else if (method === "GET" && number !== undefined) {
      const issue = this.find(repo, number);
      if (issue) answer(200, issue, limits);
      else answer(404, { message: "Not Found", documentation_url: DOCS, status: "404" }, limits);
    } else answer(404, { message: "Not Found", documentation_url: DOCS, status: "404" }, limits);
    return true;
  }

  private listIssues(repo: string, url: URL, answer: Answer, limits: Record<string, string>): void {
    const q = url.searchParams;
    const state = q.get("state") ?? "open";
    const sort = q.get("sort") ?? "created";
    const direction = q.get("direction") ?? "desc";
    if (!["open", "closed", "all"].includes(state)) return invalid(answer, "state", `state is not included in the list`);
    if (!["created", "updated", "comments"].includes(sort)) return invalid(answer, "sort", "sort is not included in the list");
    if (!["asc", "desc"].includes(direction)) return invalid(answer, "direction", "direction is not included in the list");
    const wanted = (q.get("labels") ?? "")
      .split(",")
      .map((l) => l.trim().toLowerCase())
      .filter((l) => l !== "");
    const key = (i: FakeIssue) => (sort === "updated" ? i.updated_at : i.created_at) + String(i.number).padStart(9, "0");
    const matching = this.list(repo)
      .filter((i) => state === "all" || i.state === state)
      .filter((i) => wanted.every((w) => i.labels.some((l) => l.name.toLowerCase() === w)))
      .sort((a, b) => (direction === "asc" ? key(a).localeCompare(key(b)) : key(b).localeCompare(key(a))));
    const perPage = Math.min(100, Math.max(1, Number(q.get("per_page") ?? 30) || 30));
    const page = Math.max(1, Number(q.get("page") ?? 1) || 1);
    const last = Math.max(1, Math.ceil(matching.length / perPage));
    const pageUrl = (p: number) => {
      const u = new URL(`${this.gh.apiUrl}/repositories/${this.gh.repos.get(repo)}/issues`);
      for (const [k, v] of q) if (k !== "page") u.searchParams.set(k, v);
      u.searchParams.set("page", String(p));
      return u.href;
    };
    const links = [
      ...(page < last ? [`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`] : []),
      ...(page > 1 ? [`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`] : []),
    ];
    answer(200, matching.slice((page - 1) * perPage, page * perPage), { ...limits, ...(links.length ? { link: links.join(", ") } : {}) });
  }

  private create(repo: string, raw: string, answer: Answer, limits: Record<string, string>): void {
    if (this.gh.readOnly) return answer(403, { message: "Resource not accessible by integration", documentation_url: DOCS, status: "403" });
    const input = JSON.parse(raw) as { title?: unknown; body?: unknown; labels?: unknown };
    if (typeof input.title !== "string" && typeof input.title !== "number")
      return answer(422, { message: 'Invalid request.\n\n"title" wasn\'t supplied.', documentation_url: DOCS, status: "422" });
    const title = String(input.title);
    if (title.length > 256) return invalid(answer, "title", "title is too long (maximum is 256 characters)");
    const body = typeof input.body === "string" ? input.body : null;
    if (body !== null && body.length > 65536) return invalid(answer, "body", "body is too long (maximum is 65536 characters)");
    const names = Array.isArray(input.labels) ? input.labels.filter((l): l is string => typeof l === "string") : [];
    const labels = this.noPushAccess ? [] : names.map((name) => ({ name }));
    for (const l of labels) this.labelsOf(repo).add(l.name);
    const issue = this.make(repo, title, body, labels, "github-actions[bot]");
    if (this.hangAfterNextCreate) {
      this.hangAfterNextCreate = false;
      return; // landed, but the answer never comes
    }
    answer(201, issue, { ...limits, location: `${this.gh.apiUrl}/repos/${repo}/issues/${issue.number}` });
  }

  private update(repo: string, n: number, raw: string, answer: Answer, limits: Record<string, string>): void {
    const issue = this.find(repo, n);
    if (!issue) return answer(404, { message: "Not Found", documentation_url: DOCS, status: "404" }, limits);
    if (this.gh.readOnly) return answer(403, { message: "Resource not accessible by integration", documentation_url: DOCS, status: "403" });
    const input = JSON.parse(raw) as { body?: unknown; state?: unknown; state_reason?: unknown };
    if (input.state !== undefined && input.state !== "open" && input.state !== "closed")
      return invalid(answer, "state", "state is not included in the list");
    if (input.state_reason !== undefined && !["completed", "not_planned", "reopened", null].includes(input.state_reason as string))
      return invalid(answer, "state_reason", "state_reason is not included in the list");
    if (typeof input.body === "string" && input.body.length > 65536)
      return invalid(answer, "body", "body is too long (maximum is 65536 characters)");
    const now = new Date(this.gh.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
    if (typeof input.body === "string") issue.body = input.body;
    if (input.state === "closed" && issue.state === "open") Object.assign(issue, { state: "closed", closed_at: now });
    if (input.state === "open") Object.assign(issue, { state: "open", closed_at: null });
    if (input.state_reason !== undefined) issue.state_reason = input.state_reason as string | null;
    issue.updated_at = now;
    answer(200, issue, limits);
  }
}
