// A stateful stand-in for the slice of the GitHub REST API the PR comment uses, on 127.0.0.1. It
// behaves like GitHub where it matters: comments persist between calls, lists paginate at per_page
// with a Link header pointing at /repositories/<id>/... (as GitHub's do), bodies over 65536
// characters get GitHub's 422, and auth, permission, rate-limit and not-found errors carry GitHub's
// status codes, headers and messages.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeIssues } from "./fake-issues.js";

export interface FakeComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string };
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

const DOCS = "https://docs.github.com/rest";

export class FakeGithub {
  readonly token = "ghs_fakeInstallationToken1234567890";
  /** "owner/repo" → numeric id, as GitHub's repositories have. */
  readonly repos = new Map<string, number>([["acme/shop", 4242]]);
  /** Pull request numbers that exist, per repo. */
  readonly pulls = new Map<string, Set<number>>([["acme/shop", new Set([7, 8])]]);
  /** Comments per "owner/repo#number", oldest first. */
  readonly comments = new Map<string, FakeComment[]>();
  readonly requests: SeenRequest[] = [];
  /** Issues, labels and their settings (fake-issues.ts). */
  readonly issues = new FakeIssues(this);
  /** The token may read but not write (a fork's GITHUB_TOKEN). */
  readOnly = false;
  /** Primary rate limit exhausted until this epoch second. */
  rateLimitedUntil: number | undefined;
  /** Statuses to answer the next requests with, before any real handling. */
  failNext: { status: number; headers?: Record<string, string>; message: string }[] = [];
  /** Store the next created comment, then never answer (a POST that lands but times out). */
  hangAfterNextCreate = false;
  /** A Link header pointing somewhere else. */
  foreignNextLink: string | undefined;
  url = "";
  /** GitHub's idea of now, for rate-limit windows; tests point it at their clock. */
  now: () => number = () => Date.now();
  private nextId = 900_000;
  private server: Server | undefined;

  constructor(private readonly prefix = "") {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
          res
            .writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers })
            .end(body === undefined ? "" : JSON.stringify(body));
        const raw = Buffer.concat(chunks).toString("utf8");
        this.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
        this.handle(req.method ?? "", new URL(req.url ?? "/", this.url), req.headers, raw, answer);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get apiUrl(): string {
    return this.url + this.prefix;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }

  /** Adds comments to a PR, e.g. other bots' and people's. */
  seed(repo: string, pull: number, bodies: string[]): FakeComment[] {
    const list = this.list(repo, pull);
    const added = bodies.map((body) => this.newComment(repo, pull, body, "someone"));
    list.push(...added);
    return added;
  }

  list(repo: string, pull: number): FakeComment[] {
    const key = `${repo}#${pull}`;
    if (!this.comments.has(key)) this.comments.set(key, []);
    return this.comments.get(key)!;
  }

  private newComment(repo: string, pull: number, body: string, login: string): FakeComment {
    const id = this.nextId++;
    return { id, body, html_url: `https://github.com/${repo}/pull/${pull}#issuecomment-${id}`, user: { login } };
  }

  private handle(
    method: string,
    url: URL,
    headers: IncomingHttpHeaders,
    raw: string,
    answer: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): void {
    const failure = this.failNext.shift();
    if (failure)
      return answer(failure.status, { message: failure.message, documentation_url: DOCS, status: String(failure.status) }, failure.headers);
    if (headers.authorization !== `Bearer ${this.token}`)
      return answer(401, { message: "Bad credentials", documentation_url: DOCS, status: "401" });
    const now = Math.floor(this.now() / 1000);
    const limits = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999", "x-ratelimit-reset": String(now + 3600) };
    if (this.rateLimitedUntil !== undefined && this.rateLimitedUntil > now) {
      return answer(
        403,
        { message: "API rate limit exceeded for installation ID 1234.", documentation_url: DOCS, status: "403" },
        { ...limits, "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(this.rateLimitedUntil) },
      );
    }
    const notFound = () => answer(404, { message: "Not Found", documentation_url: DOCS, status: "404" }, limits);
    const path = url.pathname.startsWith(this.prefix) ? url.pathname.slice(this.prefix.length) : "";

    // GET/POST /repos/:o/:r/issues/:n/comments and GET /repositories/:id/issues/:n/comments (pagination links)
    const listMatch =
      /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path) ?? /^\/repositories\/(\d+)\/issues\/(\d+)\/comments$/.exec(path);
    if (listMatch) {
      const repo =
        listMatch.length === 4 ? `${listMatch[1]}/${listMatch[2]}` : [...this.repos].find(([, id]) => String(id) === listMatch[1])?.[0];
      const pull = Number(listMatch[listMatch.length - 1]);
      if (repo === undefined || !this.repos.has(repo) || (!this.pulls.get(repo)?.has(pull) && !this.issues.find(repo, pull)))
        return notFound();
      const comments = this.list(repo, pull);
      if (method === "GET") {
        const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30));
        const page = Number(url.searchParams.get("page") ?? 1);
        const last = Math.max(1, Math.ceil(comments.length / perPage));
        const pageUrl = (p: number) =>
          `${this.apiUrl}/repositories/${this.repos.get(repo)}/issues/${pull}/comments?per_page=${perPage}&page=${p}`;
        const links = [
          ...(page < last ? [`<${this.foreignNextLink ?? pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`] : []),
          ...(page > 1 ? [`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`] : []),
        ];
        return answer(200, comments.slice((page - 1) * perPage, page * perPage), {
          ...limits,
          ...(links.length ? { link: links.join(", ") } : {}),
        });
      }
      if (method === "POST") {
        if (this.readOnly)
          return answer(403, { message: "Resource not accessible by integration", documentation_url: DOCS, status: "403" }, limits);
        const body = (JSON.parse(raw) as { body?: unknown }).body;
        if (typeof body !== "string")
          return answer(422, { message: 'Invalid request.\n\n"body" wasn\'t supplied.', documentation_url: DOCS, status: "422" });
        if (body.length > 65536) return this.tooLong(answer);
        const comment = this.newComment(repo, pull, body, "github-actions[bot]");
        comments.push(comment);
        if (this.hangAfterNextCreate) {
          this.hangAfterNextCreate = false;
          return; // landed, but the answer never comes
        }
        return answer(201, comment, limits);
      }
    }

    const editMatch = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(path);
    if (editMatch && method === "PATCH") {
      const repo = `${editMatch[1]}/${editMatch[2]}`;
      const comment = [...this.comments]
        .filter(([key]) => key.startsWith(`${repo}#`))
        .flatMap(([, list]) => list)
        .find((c) => c.id === Number(editMatch[3]));
      if (!comment) return notFound();
      if (this.readOnly)
        return answer(403, { message: "Resource not accessible by integration", documentation_url: DOCS, status: "403" }, limits);
      const body = (JSON.parse(raw) as { body?: unknown }).body;
      if (typeof body !== "string") return answer(422, { message: "Invalid request.", documentation_url: DOCS, status: "422" });
      if (body.length > 65536) return this.tooLong(answer);
      comment.body = body;
      return answer(200, comment, limits);
    }
    if (this.issues.handle(method, url, path, raw, answer, limits)) return;
    return notFound();
  }

  private tooLong(answer: (status: number, body: unknown) => void): void {
    answer(422, {
      message: "Validation Failed",
      errors: [{ resource: "IssueComment", code: "custom", field: "body", message: "body is too long (maximum is 65536 characters)" }],
      documentation_url: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
      status: "422",
    });
  }
}
