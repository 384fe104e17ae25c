// The fake's issue endpoints behave as GitHub documents them, so the incident code cannot lean on a
// kindness: pull requests in the list, AND-ed labels, open by default, 30 a page, 422 for a bad filter.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeGithub } from "./fake-github.js";

let gh: FakeGithub;
beforeEach(async () => {
  gh = await new FakeGithub().start();
});
afterEach(async () => {
  await gh.stop();
});

const get = async (query: string) => {
  const res = await fetch(`${gh.apiUrl}/repos/acme/shop/issues${query}`, { headers: { authorization: `Bearer ${gh.token}` } });
  return { status: res.status, link: res.headers.get("link"), body: (await res.json()) as { number: number; pull_request?: unknown }[] };
};

describe("fake GitHub issues", () => {
  it("lists open issues and pull requests by default, 30 a page, newest first, with Link paging", async () => {
    for (let i = 0; i < 35; i++) gh.issues.seed("acme/shop", { title: `i${i}` });
    gh.issues.seed("acme/shop", { title: "pr", pull_request: { url: "https://api.github.com/repos/acme/shop/pulls/1" } });
    gh.issues.seed("acme/shop", { title: "done", state: "closed" });
    const first = await get("");
    expect(first.body).toHaveLength(30);
    expect(first.body[0]!.pull_request).toBeDefined(); // the newest open one is the pull request
    expect(first.link).toMatch(/\/repositories\/4242\/issues\?page=2>; rel="next"/);
    expect((await get("?state=all&per_page=100")).body).toHaveLength(37);
    expect((await get("?state=closed")).body.map((i) => i.number)).toEqual([45]);
  });

  it("needs every listed label, and refuses a filter value GitHub does not know", async () => {
    gh.issues.seed("acme/shop", { labels: [{ name: "bug" }] });
    gh.issues.seed("acme/shop", { labels: [{ name: "bug" }, { name: "shipshape-incident" }] });
    expect((await get("?labels=bug,shipshape-incident")).body.map((i) => i.number)).toEqual([10]);
    expect((await get("?state=bogus")).status).toBe(422);
    expect((await get("?direction=up")).status).toBe(422);
  });

  it("answers a create without a title, or with one too long, with 422; an unknown issue with 404", async () => {
    const post = (body: unknown) =>
      fetch(`${gh.apiUrl}/repos/acme/shop/issues`, {
        method: "POST",
        headers: { authorization: `Bearer ${gh.token}` },
        body: JSON.stringify(body),
      }).then((r) => r.status);
    expect(await post({ body: "x" })).toBe(422);
    expect(await post({ title: "t".repeat(257) })).toBe(422);
    expect(await post({ title: "ok", labels: ["new-label"] })).toBe(201);
    expect(gh.issues.labels.get("acme/shop")?.has("new-label")).toBe(true);
    const patch = await fetch(`${gh.apiUrl}/repos/acme/shop/issues/999`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${gh.token}` },
      body: JSON.stringify({ state: "closed" }),
    });
    expect(patch.status).toBe(404);
  });
});
