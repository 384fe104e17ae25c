// src/monitor/announce.ts: what an incident's reconcile result becomes as a notification.
import { describe, expect, it } from "vitest";
import type { IncidentResult } from "../../deploy/lib/github/incident.js";
import { incidentEvent, type Announcement } from "../../deploy/lib/monitor/announce.js";

const health: Announcement = {
  environment: "production",
  kind: "health",
  image: "service shop (prod, eu-west-1)",
  what: "production is unhealthy",
  cause: "smoke checks failed: GET /healthz answered 503",
  runUrl: "https://github.com/acme/shop/actions/runs/5",
};
const vuln: Announcement = {
  ...health,
  kind: "vulnerability",
  what: "blocking vulnerabilities in what production runs",
  cause: "2 blocking findings",
};
const result = (over: Partial<IncidentResult>): IncidentResult => ({
  ok: true,
  newFindings: [],
  warnings: [],
  attempts: 1,
  issueNumber: 12,
  url: "https://github.com/acme/shop/issues/12",
  ...over,
});

describe("incidentEvent", () => {
  it("is an incident of the announcement's kind, whatever its words say", () => {
    expect(incidentEvent({ ...vuln, kind: "health" }, result({ action: "opened" }))).toMatchObject({ incident: "health" });
    expect(incidentEvent(health, result({ action: "opened" }))).toEqual({
      kind: "incident",
      incident: "health",
      action: "opened",
      environment: "production",
      image: health.image,
      reason: health.cause,
      issueNumber: 12,
      issueUrl: "https://github.com/acme/shop/issues/12",
      runUrl: health.runUrl,
    });
  });

  it("says new findings as an update, a close with its duration, and nothing when nothing is news", () => {
    expect(incidentEvent(vuln, result({ action: "commented", newFindings: ["CVE-1 musl"] }))).toMatchObject({
      incident: "vulnerability",
      action: "updated",
      newFindings: ["CVE-1 musl"],
      reason: "new CVE-1 musl; 2 blocking findings",
    });
    expect(incidentEvent(health, result({ action: "closed", durationSeconds: 2520 }))).toMatchObject({
      action: "closed",
      durationSeconds: 2520,
    });
    expect(incidentEvent(health, result({ action: "commented" }))).toBeUndefined();
    expect(incidentEvent(health, result({ action: "unchanged" }))).toBeUndefined();
    expect(incidentEvent(health, result({ action: "none" }))).toBeUndefined();
  });
});
