// rescan's judgement and its incident: real Trivy reports (the fixtures' goldens) judged by the
// scan-image policy, a vulnerability incident on the stateful fake GitHub that hears only of new
// findings, and a real local webhook receiver for the notifications.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { readMarker } from "../../deploy/lib/github/incident-marker.js";
import { rescanEnvironment, type RescanRequest } from "../../deploy/lib/monitor/rescan.js";
import type { RunningImage } from "../../deploy/lib/monitor/running.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { FakeGithub } from "../github/fake-github.js";
import { FIXTURES } from "../helpers/fixture.js";
import { closeAll, receiver, virtualClock, type Receiver } from "../notify/receiver.js";

const trivy = (name: string) => readFileSync(join(FIXTURES, "supply/trivy", `${name}.json`), "utf8");
const image = (hex: string): RunningImage => ({
  ref: `123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:${hex.repeat(32)}`,
  declared: `123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:${hex.repeat(32)}`,
  taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7",
  from: "task definition",
});
const A = image("ab");
const B = image("cd");

let gh: FakeGithub;
let hook: Receiver;
let time: ReturnType<typeof virtualClock>;
const T0 = Date.parse("2026-11-20T06:00:00Z");
beforeEach(async () => {
  gh = await new FakeGithub().start();
  hook = await receiver();
  time = virtualClock(T0);
  gh.now = time.clock.now;
});
afterEach(async () => {
  await gh.stop();
  await closeAll();
});

const yaml = (extra = "") =>
  `notifications:\n  github: { apiUrl: "${gh.apiUrl}" }\n${extra}environments:\n  production: { cluster: main, service: api, region: us-east-1, containerName: app }\n`;
/** A rescan whose images scan to these reports. */
const rescan = (reports: Map<RunningImage, string>, over: Partial<RescanRequest> = {}, config = yaml()) =>
  rescanEnvironment({
    config: parseConfig(config).config,
    environment: "production",
    repository: "acme/shop",
    token: gh.token,
    notify: { webhook: hook.url },
    images: [...reports.keys()],
    scan: async (i) => reports.get(i)!,
    incident: { clock: time.clock, random: () => 0.5 },
    now: time.clock.now,
    ...over,
  });
const sent = () => hook.received.map((r) => JSON.parse(r.body) as { result: string; reason: string; image: string });

describe("rescanEnvironment", () => {
  it("fails like the gate on a blocking finding in a running image, opens the incident once, and hears only of new findings", async () => {
    const first = await rescan(new Map([[A, trivy("alpine-39")]]));
    expect(first.verdict.status).toBe("failed");
    expect(first.verdict.cause).toBe("2 blocking findings — blocking: CVE-2019-14697 in musl, CVE-2019-14697 in musl-utils");
    expect(first.verdict.summary).toMatch(
      /^production runs 1 image \(.*api@sha256:abababababab…: 2 critical, 0 high\); 2 blocking findings, 2 new; incident #9 opened$/,
    );
    expect(first.verdict.findings).toContain(
      "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:abababababab… musl 1.1.20-r4 CRITICAL CVE-2019-14697 (new)",
    );
    expect(Object.keys(first.files).sort()).toEqual(["rescan.json", "scan.sarif", "trivy.json"]);
    expect(JSON.parse(first.files["scan.sarif"]!).runs[0].results).toHaveLength(2);
    const [issue] = gh.issues.list("acme/shop");
    expect(issue!.title).toBe("Shipshape: blocking vulnerabilities in what production runs");
    expect(readMarker(issue!.body ?? "")).toMatchObject({
      kind: "vulnerability",
      findings: ["CVE-2019-14697 musl", "CVE-2019-14697 musl-utils"],
    });
    expect(issue!.body).toMatch(/\| CVE-2019-14697 \(new\) \| musl \| 1\.1\.20-r4 \| CRITICAL \| 1\.1\.20-r5 \|/);
    expect(sent()).toEqual([expect.objectContaining({ result: "failed", image: A.ref })]);

    // The next day, the same findings: still failing, but nothing new to say.
    time.clock.now = () => T0 + 24 * 3600_000;
    const again = await rescan(new Map([[A, trivy("alpine-39")]]));
    expect(again.verdict.status).toBe("failed");
    expect(again.verdict.summary).toMatch(/2 blocking findings, 0 new; incident #9 unchanged$/);
    expect(gh.list("acme/shop", 9)).toEqual([]);
    expect(hook.received).toHaveLength(1);

    // A second digest (a tag moved) brings a new one: commented, recorded, notified.
    const two = await rescan(
      new Map([
        [A, trivy("alpine-39")],
        [B, trivy("debian-buster")],
      ]),
    );
    expect(two.verdict.summary).toMatch(/^production runs 2 images .*; 3 blocking findings, 1 new; incident #9 commented$/);
    expect(Object.keys(two.files).sort()).toEqual(["rescan.json", "scan.sarif", "trivy-abababababab.json", "trivy-cdcdcdcdcdcd.json"]);
    expect(gh.list("acme/shop", 9).map((c) => c.body)[0]).toMatch(/\| CVE-2019-18224 \(new\) \| libidn2-0 \|/);
    expect(readMarker(gh.issues.find("acme/shop", 9)!.body ?? "")?.findings).toContain("CVE-2019-18224 libidn2-0");
    expect(sent()[1]!.reason).toMatch(/new CVE-2019-18224 libidn2-0/);

    // Patched and redeployed: nothing blocks, the incident closes with how long it lasted.
    time.clock.now = () => T0 + 50 * 3600_000;
    const clean = await rescan(new Map([[A, trivy("npm")]]));
    expect(clean.verdict).toMatchObject({ status: "passed", cause: "" });
    expect(clean.verdict.summary).toMatch(/0 blocking findings, 0 new; incident #9 closed$/);
    expect(gh.issues.find("acme/shop", 9)).toMatchObject({ state: "closed", state_reason: "completed" });
    expect(sent()[2]).toMatchObject({ result: "succeeded" });
    expect(sent()[2]).toMatchObject({
      headline: "no blocking vulnerabilities left in what production runs after 2d 2h (incident #9 closed)",
      incident: { kind: "vulnerability", action: "closed", durationSeconds: 50 * 3600 },
    });
  });

  it("judges with scan: as the scan-image gate does: an ignore entry with a reason lets it pass, an expired one fails", async () => {
    const ignore = (expires: string) =>
      `scan:\n  ignore:\n    - { id: CVE-2019-14697, reason: replaced next sprint, expires: "${expires}" }\n`;
    const passed = await rescan(new Map([[A, trivy("alpine-39")]]), {}, yaml(ignore("2027-01-01")));
    expect(passed.verdict.status).toBe("passed");
    expect(gh.issues.list("acme/shop")).toEqual([]);
    const expired = await rescan(new Map([[A, trivy("alpine-39")]]), {}, yaml(ignore("2026-11-01")));
    expect(expired.verdict.status).toBe("failed");
    expect(expired.verdict.cause).toMatch(/CVE-2019-14697/);
  });

  it("lets a scan that could not run fail the rescan instead of passing it", async () => {
    const broken = async () => {
      throw new Problem("trivy could not scan the image: DB error", "check the network");
    };
    await expect(rescan(new Map([[A, ""]]), { scan: broken })).rejects.toThrow("trivy could not scan the image: DB error");
    expect(gh.requests).toEqual([]);
  });
});
