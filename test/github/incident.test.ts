// The incident issue against the stateful fake GitHub: one issue per environment and kind, found by
// label and hidden marker (never by title), commented while failing, closed with its duration.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { reconcileIncident, type IncidentRequest } from "../../deploy/lib/github/incident.js";
import { INCIDENT_LABEL, markerLine, readMarker, withMarker } from "../../deploy/lib/github/incident-marker.js";
import { virtualClock } from "../notify/receiver.js";
import { FakeGithub } from "./fake-github.js";

let gh: FakeGithub;
let time: ReturnType<typeof virtualClock>;
const T0 = Date.parse("2026-11-20T10:00:00Z");
beforeEach(async () => {
  gh = await new FakeGithub().start();
  time = virtualClock(T0);
  gh.now = time.clock.now;
});
afterEach(async () => {
  await gh.stop();
});

const req = (over: Partial<IncidentRequest> = {}): IncidentRequest => ({
  repository: "acme/shop",
  token: gh.token,
  apiUrl: gh.apiUrl,
  environment: "production",
  kind: "health",
  failing: true,
  title: "Shipshape: production is unhealthy",
  report: "## production is unhealthy\n\nGET /healthz answered 503",
  ...over,
});
const run = (over: Partial<IncidentRequest> = {}) => reconcileIncident(req(over), { clock: time.clock, random: () => 0.5 });
const issues = () => gh.issues.list("acme/shop");
const comments = (n: number) => gh.list("acme/shop", n).map((c) => c.body);

describe("incident marker", () => {
  it("round-trips, escapes a comment end inside a value, and ignores anything else", () => {
    const m = {
      v: 1 as const,
      environment: "prod-eu",
      kind: "vulnerability" as const,
      since: "2026-11-20T10:00:00.000Z",
      findings: ["X-->1 pkg"],
    };
    const line = markerLine(m);
    expect(line.indexOf("-->")).toBe(line.length - 3);
    expect(readMarker(`${line}\nbody`)).toEqual(m);
    expect(readMarker("<!-- shipshape:incident {broken -->")).toBeUndefined();
    expect(readMarker("## production is unhealthy")).toBeUndefined();
    expect(withMarker(`${line}\nbody`, { ...m, findings: [] }).split("\n")).toEqual([markerLine({ ...m, findings: [] }), "body"]);
  });
});

describe("reconcileIncident", () => {
  it("opens one labelled issue, comments while it fails, and closes it with the incident's duration", async () => {
    const opened = await run();
    expect(opened).toMatchObject({ ok: true, action: "opened", issueNumber: 9, attempts: 1 });
    expect(issues()).toHaveLength(1);
    const issue = issues()[0]!;
    expect(issue.labels.map((l) => l.name)).toEqual([INCIDENT_LABEL]);
    expect(readMarker(issue.body ?? "")).toMatchObject({ environment: "production", kind: "health", since: "2026-11-20T10:00:00.000Z" });

    time.clock.now = () => T0 + 15 * 60_000;
    expect(await run({ report: "still 503" })).toMatchObject({ ok: true, action: "commented", issueNumber: 9 });
    expect(issues()).toHaveLength(1);
    expect(comments(9)).toEqual(["still 503"]);

    time.clock.now = () => T0 + 65 * 60_000;
    const closed = await run({ failing: false, report: "all checks passed" });
    expect(closed).toMatchObject({ ok: true, action: "closed", issueNumber: 9, durationSeconds: 65 * 60 });
    expect(issues()[0]).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(comments(9)[1]).toMatch(/^\*\*Resolved\*\* after 1h 05m \(since 2026-11-20T10:00:00.000Z\)\.\n\nall checks passed$/);
    // Healthy with nothing open: nothing to do, nothing written.
    const writes = gh.requests.filter((r) => r.method !== "GET").length;
    expect(await run({ failing: false })).toMatchObject({ ok: true, action: "none" });
    expect(gh.requests.filter((r) => r.method !== "GET").length).toBe(writes);
  });

  it("never goes by the title: a look-alike issue, another environment's, another kind's and a pull request are left alone", async () => {
    gh.issues.seed("acme/shop", {
      title: "Shipshape: production is unhealthy",
      body: "written by hand",
      labels: [{ name: INCIDENT_LABEL }],
    });
    const staging = { v: 1 as const, environment: "staging", kind: "health" as const, since: "2026-11-19T10:00:00.000Z", findings: [] };
    gh.issues.seed("acme/shop", { title: "staging", body: markerLine(staging), labels: [{ name: INCIDENT_LABEL }] });
    const vuln = { ...staging, environment: "production", kind: "vulnerability" as const };
    gh.issues.seed("acme/shop", { title: "vulns", body: markerLine(vuln), labels: [{ name: INCIDENT_LABEL }] });
    const health = { ...staging, environment: "production" };
    gh.issues.seed("acme/shop", {
      title: "a PR quoting the marker",
      body: markerLine(health),
      labels: [{ name: INCIDENT_LABEL }],
      pull_request: { url: "https://api.github.com/repos/acme/shop/pulls/13" },
    });
    // Our marker without the label (someone removed it) is not found either: the label is what the list filters by.
    gh.issues.seed("acme/shop", { title: "unlabelled", body: markerLine(health), labels: [] });
    const r = await run();
    expect(r).toMatchObject({ ok: true, action: "opened" });
    expect(issues()).toHaveLength(6);
    expect(
      issues()
        .filter((i) => i.number !== r.issueNumber)
        .every((i) => gh.list("acme/shop", i.number).length === 0),
    ).toBe(true);
  });

  it("finds its issue on a later page, following the Link header", async () => {
    for (let i = 0; i < 130; i++) gh.issues.seed("acme/shop", { title: `other ${i}`, labels: [{ name: INCIDENT_LABEL }] });
    expect((await run()).action).toBe("opened");
    expect((await run()).action).toBe("commented");
    expect(issues().filter((i) => readMarker(i.body ?? ""))).toHaveLength(1);
    const lists = gh.requests.filter((r) => r.method === "GET").map((r) => r.path);
    expect(lists[0]).toBe(`/repos/acme/shop/issues?state=open&labels=${INCIDENT_LABEL}&sort=created&direction=asc&per_page=100`);
    expect(lists).toContain(`/repositories/4242/issues?state=open&labels=${INCIDENT_LABEL}&sort=created&direction=asc&per_page=100&page=2`);
  });

  it("records vulnerability findings in the marker and comments only on new ones", async () => {
    const v = (findings: string[]) => run({ kind: "vulnerability", findings, report: `blocking: ${findings.join(", ")}` });
    expect(await v(["CVE-1 musl"])).toMatchObject({ action: "opened", newFindings: ["CVE-1 musl"] });
    expect(await v(["CVE-1 musl"])).toMatchObject({ action: "unchanged", newFindings: [] });
    expect(await v(["CVE-1 musl", "CVE-2 openssl"])).toMatchObject({ action: "commented", newFindings: ["CVE-2 openssl"] });
    const issue = issues()[0]!;
    expect(readMarker(issue.body ?? "")?.findings).toEqual(["CVE-1 musl", "CVE-2 openssl"]);
    expect(comments(issue.number)).toEqual(["blocking: CVE-1 musl, CVE-2 openssl"]);
  });

  it("reports a label GitHub dropped (no push access), which would open another issue every run", async () => {
    gh.issues.noPushAccess = true;
    const r = await run();
    expect(r.ok).toBe(false);
    expect(r.error).toBe(`GitHub dropped the label ${INCIDENT_LABEL} from the new issue #9, so the next run cannot find it`);
    expect(r.hint).toMatch(/push access/);
  });

  it("turns GitHub's refusals into one line and a hint, never retrying them", async () => {
    const cases: [() => void, RegExp, RegExp][] = [
      [
        () => (gh.readOnly = true),
        /^the GitHub token may not write incident issues on acme\/shop \(403: Resource not accessible/,
        /issues: write/,
      ],
      [() => (gh.issues.disabled = true), /^issues are disabled on acme\/shop \(410: Issues are disabled for this repo\)$/, /Features/],
      [() => gh.repos.delete("acme/shop"), /^acme\/shop was not found, or the token cannot see it \(404\)$/, /--repository/],
    ];
    for (const [arrange, error, hint] of cases) {
      arrange();
      const r = await run();
      expect(r, String(error)).toMatchObject({ ok: false, attempts: 1 });
      expect(r.error).toMatch(error);
      expect(r.hint).toMatch(hint);
      gh.readOnly = false;
      gh.issues.disabled = false;
      gh.repos.set("acme/shop", 4242);
    }
    const bad = await run({ token: "ghs_wrong" });
    expect(bad).toMatchObject({ ok: false, status: 401, error: "GitHub rejected the token (401: Bad credentials)" });
    expect(issues()).toEqual([]);
  });

  it("does not open a second issue when the first create's answer was lost: the retry lists again and finds it", async () => {
    gh.issues.hangAfterNextCreate = true;
    const r = await reconcileIncident(req(), { clock: time.clock, random: () => 0.5, timeoutMs: 200 });
    expect(r).toMatchObject({ ok: true, action: "commented", issueNumber: 9, attempts: 2 });
    expect(issues()).toHaveLength(1);
  });

  it("waits out a secondary rate limit, and stops at an exhausted primary limit", async () => {
    gh.failNext.push({ status: 403, headers: { "retry-after": "3" }, message: "You have exceeded a secondary rate limit." });
    const r = await run();
    expect(r).toMatchObject({ ok: true, action: "opened", attempts: 2 });
    expect(time.sleeps).toEqual([3000]);
    gh.rateLimitedUntil = Math.floor(T0 / 1000) + 600;
    const limited = await run();
    expect(limited.error).toMatch(/^GitHub API rate limit exhausted for this token until 2026-11-20T10:10:00.000Z/);
    expect(issues()).toHaveLength(1);
  });

  it("refuses a bad repository name or an empty token before calling GitHub", async () => {
    expect(await run({ repository: "acme" })).toMatchObject({ ok: false, attempts: 0, error: '"acme" is not a repository name' });
    expect(await run({ token: " \n" })).toMatchObject({ ok: false, error: "the GitHub token is empty" });
    expect(gh.requests).toEqual([]);
  });
});
