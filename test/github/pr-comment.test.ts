// The PR comment against a stateful local fake of the GitHub REST API.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { nextLink } from "../../deploy/lib/github/api.js";
import {
  COMMENT_LIMIT,
  COMMENT_MARKER,
  commentBody,
  pullNumberFromRef,
  upsertPrComment,
  type PrCommentRequest,
} from "../../lib/github/pr-comment.js";
import { captureStderr, virtualClock } from "../notify/receiver.js";
import { FakeGithub } from "./fake-github.js";

let gh: FakeGithub;
beforeEach(async () => {
  gh = await new FakeGithub().start();
});
afterEach(async () => {
  await gh.stop();
});

const request = (over: Partial<PrCommentRequest> = {}): PrCommentRequest => ({
  repository: "acme/shop",
  pullNumber: 7,
  body: "## ✅ Shipshape CI\n\n| Gate | Status |\n|---|---|\n| lint | ✅ passed |\n",
  token: gh.token,
  apiUrl: gh.apiUrl,
  ...over,
});
const T0 = Date.parse("2026-11-20T10:00:00Z");
const fast = () => ({ clock: virtualClock(T0).clock, random: () => 0.5 });

describe("upsertPrComment", () => {
  it("creates one comment with the marker, sending GitHub's required headers", async () => {
    const result = await upsertPrComment(request(), fast());
    const stored = gh.list("acme/shop", 7);
    expect(stored).toHaveLength(1);
    expect(result).toEqual({
      ok: true,
      action: "created",
      commentId: stored[0]!.id,
      url: stored[0]!.html_url,
      truncated: false,
      attempts: 1,
    });
    expect(stored[0]!.body).toBe(`${COMMENT_MARKER}\n${request().body}`);
    for (const r of gh.requests) {
      expect(r.headers.authorization).toBe(`Bearer ${gh.token}`);
      expect(r.headers.accept).toBe("application/vnd.github+json");
      expect(r.headers["x-github-api-version"]).toBe("2022-11-28");
      expect(r.headers["user-agent"]).toBe("shipshape");
    }
    expect(gh.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /repos/acme/shop/issues/7/comments?per_page=100",
      "POST /repos/acme/shop/issues/7/comments",
    ]);
  });

  it("finds its comment on a later page through the Link header and edits it in place", async () => {
    gh.seed("acme/shop", 7, ["LGTM", `> ${COMMENT_MARKER} quoted by a human`, "nit: rename", "ship it"]);
    const first = await upsertPrComment(request({ body: "run 1" }), { ...fast(), perPage: 2 });
    gh.seed("acme/shop", 7, ["one more", "and another"]);
    const second = await upsertPrComment(request({ body: "run 2" }), { ...fast(), perPage: 2 });
    expect(first.action).toBe("created");
    expect(second).toMatchObject({ ok: true, action: "updated", commentId: first.commentId });
    const ours = gh.list("acme/shop", 7).filter((c) => c.body.startsWith(COMMENT_MARKER));
    expect(ours.map((c) => c.body)).toEqual([`${COMMENT_MARKER}\nrun 2`]);
    expect(gh.list("acme/shop", 7)).toHaveLength(7);
    // Our comment is the 5th of 7: pages 1 and 2 via /repos, then page 3 via GitHub's /repositories/<id> link.
    const second_run = gh.requests.slice(-4).map((r) => `${r.method} ${r.path}`);
    expect(second_run).toEqual([
      "GET /repos/acme/shop/issues/7/comments?per_page=2",
      "GET /repositories/4242/issues/7/comments?per_page=2&page=2",
      "GET /repositories/4242/issues/7/comments?per_page=2&page=3",
      `PATCH /repos/acme/shop/issues/comments/${first.commentId}`,
    ]);
  });

  it("trims a token read from a file", async () => {
    const result = await upsertPrComment(request({ token: `${gh.token}\n` }), fast());
    expect(result).toMatchObject({ ok: true, action: "created" });
  });

  it("leaves an identical comment alone", async () => {
    await upsertPrComment(request(), fast());
    const before = gh.requests.length;
    const again = await upsertPrComment(request(), fast());
    expect(again).toMatchObject({ ok: true, action: "unchanged" });
    expect(gh.requests.slice(before).map((r) => r.method)).toEqual(["GET"]);
  });

  it("works against GitHub Enterprise Server's /api/v3 prefix", async () => {
    await gh.stop();
    gh = await new FakeGithub("/api/v3").start();
    const result = await upsertPrComment(request({ apiUrl: `${gh.apiUrl}/` }), fast());
    expect(result).toMatchObject({ ok: true, action: "created" });
    expect(gh.requests[0]?.path).toBe("/api/v3/repos/acme/shop/issues/7/comments?per_page=100");
  });

  it("cuts a body over 65536 characters with a note, which GitHub then accepts", async () => {
    const huge = "| gate | detail |\n|---|---|\n" + "| lint | src/a.ts:1 no-unused-vars |\n".repeat(5000);
    expect(huge.length).toBeGreaterThan(COMMENT_LIMIT);
    const result = await upsertPrComment(request({ body: huge }), fast());
    expect(result).toMatchObject({ ok: true, action: "created", truncated: true });
    const body = gh.list("acme/shop", 7)[0]!.body;
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(body).toContain("cut to GitHub's 65536-character limit");
  });

  it("explains a bad token (401) and does not retry it", async () => {
    const result = await upsertPrComment(request({ token: "ghp_wrongTokenValue123456" }), fast());
    expect(result).toEqual({
      ok: false,
      truncated: false,
      attempts: 1,
      status: 401,
      error: "GitHub rejected the token (401: Bad credentials)",
      hint: "check the GitHub token secret; it may be mistyped, expired or revoked",
    });
    expect(gh.requests).toHaveLength(1);
  });

  it("tells an exhausted rate limit (403, x-ratelimit-remaining: 0) from a missing permission", async () => {
    gh.now = () => T0;
    gh.rateLimitedUntil = Math.floor(Date.parse("2026-11-20T10:17:30Z") / 1000);
    const limited = await upsertPrComment(request(), fast());
    expect(limited).toMatchObject({ ok: false, status: 403, attempts: 1 });
    expect(limited.error).toBe("GitHub API rate limit exhausted for this token until 2026-11-20T10:17:30.000Z (about 18 min)");
    expect(limited.hint).toContain("wait for the reset");

    gh.rateLimitedUntil = undefined;
    gh.readOnly = true;
    const forbidden = await upsertPrComment(request(), fast());
    expect(forbidden).toMatchObject({ ok: false, status: 403, attempts: 1 });
    expect(forbidden.error).toBe("the GitHub token may not comment on acme/shop#7 (403: Resource not accessible by integration)");
    expect(forbidden.hint).toContain("pull-requests: write");
    expect(gh.list("acme/shop", 7)).toHaveLength(0);
  });

  it("explains a repository or PR it cannot see (404)", async () => {
    const noRepo = await upsertPrComment(request({ repository: "acme/secret" }), fast());
    expect(noRepo).toMatchObject({ ok: false, status: 404, error: "acme/secret#7 was not found, or the token cannot see it (404)" });
    const noPull = await upsertPrComment(request({ pullNumber: 99 }), fast());
    expect(noPull).toMatchObject({ ok: false, status: 404 });
  });

  it("retries 5xx and a short secondary rate limit, then succeeds with one comment", async () => {
    const { clock, sleeps } = virtualClock();
    gh.failNext = [
      { status: 502, message: "Server Error" },
      {
        status: 403,
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        headers: { "retry-after": "20" },
      },
    ];
    const result = await upsertPrComment(request(), { clock, random: () => 0.5 });
    expect(result).toMatchObject({ ok: true, action: "created", attempts: 3 });
    expect(sleeps).toEqual([1000, 20_000]);
    expect(gh.list("acme/shop", 7)).toHaveLength(1);
  });

  it("does not post twice when a POST landed but its answer timed out", async () => {
    gh.hangAfterNextCreate = true;
    const { clock } = virtualClock();
    const result = await upsertPrComment(request(), { clock, random: () => 0.5, timeoutMs: 300 });
    expect(result).toMatchObject({ ok: true, action: "unchanged", attempts: 2 });
    expect(gh.list("acme/shop", 7)).toHaveLength(1);
  });

  it("gives up after the attempts on a GitHub outage, naming the status", async () => {
    gh.failNext = Array.from({ length: 5 }, () => ({ status: 503, message: "Service Unavailable" }));
    const { clock, sleeps } = virtualClock();
    const result = await upsertPrComment(request(), { clock, random: () => 0.5, attempts: 3 });
    expect(result).toMatchObject({ ok: false, attempts: 3, status: 503, error: "GitHub answered 503: Service Unavailable" });
    expect(sleeps).toEqual([1000, 2000]);
  });

  it("will not follow a pagination link to another host with the token", async () => {
    gh.seed("acme/shop", 7, ["a", "b", "c"]);
    gh.foreignNextLink = "http://127.0.0.2:1/steal?page=2";
    const result = await upsertPrComment(request(), { ...fast(), perPage: 2 });
    expect(result).toMatchObject({ ok: false, error: "GitHub's pagination link points to another host; the token is not sent there" });
    expect(gh.list("acme/shop", 7)).toHaveLength(3);
  });

  it("reports bad input as a result, not a throw", async () => {
    expect(await upsertPrComment(request({ repository: "acme" }), fast())).toMatchObject({
      ok: false,
      attempts: 0,
      error: '"acme" is not a repository name',
    });
    expect(await upsertPrComment(request({ pullNumber: 0 }), fast())).toMatchObject({ ok: false, error: "0 is not a pull request number" });
    expect(await upsertPrComment(request({ apiUrl: "api.github.com" }), fast())).toMatchObject({
      ok: false,
      hint: expect.stringContaining("api/v3"),
    });
    expect(await upsertPrComment(request({ token: " " }), fast())).toMatchObject({ ok: false, error: "the GitHub token is empty" });
    expect(gh.requests).toHaveLength(0);
  });

  it("never shows the token, in results or progress lines", async () => {
    gh.failNext = [{ status: 500, message: `token ${gh.token} leaked by a proxy` }];
    const { value, output } = await captureStderr(() => upsertPrComment(request(), { ...fast(), attempts: 1 }));
    expect(value).toMatchObject({ ok: false, status: 500 });
    expect(value.error).toContain("token *** leaked");
    expect(JSON.stringify(value) + output).not.toContain(gh.token);
  });
});

describe("helpers", () => {
  it("parses GitHub's Link header", () => {
    const link =
      '<https://api.github.com/repositories/1/issues/7/comments?page=2>; rel="next", <https://api.github.com/repositories/1/issues/7/comments?page=5>; rel="last"';
    expect(nextLink(link)).toBe("https://api.github.com/repositories/1/issues/7/comments?page=2");
    expect(nextLink('<https://x/?page=1>; rel="prev", <https://x/?page=1>; rel="first"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  it("reads the PR number from a pull_request run's ref", () => {
    expect(pullNumberFromRef("refs/pull/123/merge")).toBe(123);
    expect(pullNumberFromRef("refs/heads/main")).toBeUndefined();
    expect(pullNumberFromRef(undefined)).toBeUndefined();
  });

  it("puts the marker first so a quoted marker never matches", () => {
    expect(commentBody("hello")).toEqual({ body: `${COMMENT_MARKER}\nhello`, truncated: false });
  });
});
