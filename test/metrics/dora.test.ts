import { describe, expect, it } from "vitest";
import { deliveryMetrics, type EnvironmentMetrics } from "../../deploy/lib/metrics/dora.js";
import { Problem } from "../../deploy/src/project/problem.js";
import type { DeliveryRecord } from "../../deploy/lib/metrics/records.js";
import { HOUR, MINUTE, NOW, run, trail } from "./trail.js";

const week = (records: DeliveryRecord[], extra: Record<string, unknown> = {}) =>
  deliveryMetrics(records, { period: "week", now: NOW, ...extra });

function only(envs: EnvironmentMetrics[]): EnvironmentMetrics {
  expect(envs).toHaveLength(1);
  return envs[0] as EnvironmentMetrics;
}

const periodOf = (env: EnvironmentMetrics, label: string) => {
  const p = env.periods.find((x) => x.period === label);
  if (!p) throw new Error(`no period ${label} in ${env.periods.map((x) => x.period).join(",")}`);
  return p;
};

describe("deliveryMetrics: window and buckets", () => {
  it("with no deploys: twelve empty ISO weeks up to now, frequency band low, the rest no data", () => {
    const m = week([], { environment: "prod" });
    expect([m.from, m.to]).toEqual(["2026-08-31T00:00:00.000Z", "2026-11-20T12:00:00.000Z"]);
    const prod = only(m.environments);
    expect(prod.periods.map((p) => p.period)).toEqual([36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47].map((w) => `2026-W${w}`));
    expect(prod.periods.map((p) => p.partial)).toEqual([...Array<boolean>(11).fill(false), true]); // the current week is cut at now
    for (const p of prod.periods) {
      expect([p.deploys, p.successful, p.changeFailures, p.changeFailureRate, p.leadTime.medianMs, p.timeToRestore.medianMs]).toEqual([
        0,
        0,
        0,
        null,
        null,
        null,
      ]);
    }
    expect(prod.window).toMatchObject({ deploys: 0, successful: 0, changeFailureRate: null, successfulPerDay: 0, openFailures: 0 });
    expect(prod.bands).toEqual({ deploymentFrequency: "low", leadTime: "no data", changeFailureRate: "no data", timeToRestore: "no data" });
    expect(m.notes).toEqual(['no runs recorded for "prod"; the trail has no runs at all']);
    expect(week([]).environments).toEqual([]);
  });

  it("counts a run by its end time in [from, to) and flags buckets the window cuts", () => {
    const records = trail(
      { id: "at-from", start: "2026-11-04T11:50:00Z", end: "2026-11-04T12:00:00Z" },
      { id: "before-from", start: "2026-11-04T11:00:00Z", end: "2026-11-04T11:59:59Z" },
      { id: "at-to", start: "2026-11-11T11:50:00Z", end: "2026-11-11T12:00:00Z" },
    );
    const m = week(records, { from: "2026-11-04T12:00:00Z", to: "2026-11-11T12:00:00Z" });
    const prod = only(m.environments);
    expect(prod.periods.map((p) => [p.period, p.partial, p.deploys])).toEqual([
      ["2026-W45", true, 1],
      ["2026-W46", true, 0],
    ]);
    expect(prod.window.successfulPerDay).toBeCloseTo(1 / 7, 10);
  });

  it("takes the frequency band from successful deploys per day over the window", () => {
    const daily = Array.from({ length: 14 }, (_, i) => {
      const day = `2026-11-${String(i + 1).padStart(2, "0")}`;
      return { id: `d${i}`, start: `${day}T10:00:00Z`, end: `${day}T10:05:00Z` };
    });
    const window = { period: "day", from: "2026-11-01", to: "2026-11-15" };
    expect(only(week(trail(...daily), window).environments).bands.deploymentFrequency).toBe("elite"); // 14 in 14 days
    const everyOther = daily.filter((_, i) => i % 2 === 0);
    const env = only(week(trail(...everyOther), window).environments);
    expect(env.window.successfulPerDay).toBe(0.5);
    expect(env.bands.deploymentFrequency).toBe("high");
    expect(env.periods).toHaveLength(14);
    expect(env.periods.map((p) => p.successful)).toEqual(daily.map((_, i) => (i % 2 === 0 ? 1 : 0)));
  });
});

describe("deliveryMetrics: change failures and time to restore", () => {
  it("with only failures: every deploy fails, rollbacks restore at their own end, an unrestored failure stays open", () => {
    const records = trail(
      { id: "a", start: "2026-11-09T10:00:00Z", end: "2026-11-09T10:30:00Z", outcome: "rolled back" },
      { id: "b", start: "2026-11-10T10:00:00Z", end: "2026-11-10T10:20:00Z", outcome: "failed" },
      // Starts while b's outage is still open: the same outage, not a second restore time.
      { id: "c", start: "2026-11-11T09:00:00Z", end: "2026-11-11T09:40:00Z", outcome: "rolled back" },
    );
    const prod = only(week(records).environments);
    expect(periodOf(prod, "2026-W46")).toMatchObject({ deploys: 3, successful: 0, changeFailures: 3, changeFailureRate: 1 });
    expect(prod.window.timeToRestore).toEqual({ samples: 1, medianMs: 30 * MINUTE, p90Ms: 30 * MINUTE });
    expect(prod.window.openFailures).toBe(1);
    expect(prod.changeFailures.map((f) => [f.runId, f.why, f.failureStartedAt, f.restoredAt])).toEqual([
      ["a", "rolled back", "2026-11-09T10:00:00.000Z", "2026-11-09T10:30:00.000Z"],
      ["b", "failed", "2026-11-10T10:00:00.000Z", undefined],
      ["c", "rolled back", "2026-11-11T09:00:00.000Z", "2026-11-11T09:40:00.000Z"],
    ]);
    expect(prod.bands).toMatchObject({ deploymentFrequency: "low", leadTime: "no data", changeFailureRate: "low", timeToRestore: "elite" });
  });

  it("ends an outage at the next successful run; overlapping failures count once, until the last is restored", () => {
    const records = trail(
      { id: "a", start: "2026-11-09T10:00:00Z", end: "2026-11-09T10:30:00Z", outcome: "rolled back" },
      { id: "b", start: "2026-11-10T10:00:00Z", end: "2026-11-10T10:20:00Z", outcome: "failed" },
      { id: "c", start: "2026-11-11T09:00:00Z", end: "2026-11-11T09:40:00Z", outcome: "rolled back" },
      { id: "d", start: "2026-11-12T10:00:00Z", end: "2026-11-12T10:10:00Z", outcome: "succeeded" },
    );
    const prod = only(week(records).environments);
    const outageB = 48 * HOUR + 10 * MINUTE; // b started 11-10 10:00; d ended 11-12 10:10
    expect(prod.window.timeToRestore).toEqual({
      samples: 2,
      medianMs: (30 * MINUTE + outageB) / 2,
      p90Ms: 30 * MINUTE + 0.9 * (outageB - 30 * MINUTE),
    });
    expect(prod.window).toMatchObject({ deploys: 4, changeFailures: 3, changeFailureRate: 0.75, openFailures: 0 });
    expect(prod.changeFailures.find((f) => f.runId === "b")?.restoredAt).toBe("2026-11-12T10:10:00.000Z");
    expect(prod.bands.timeToRestore).toBe("medium"); // median 24h20m: between one day and one week
  });

  it("puts a restore that spans buckets in the bucket where the failure started", () => {
    const records = trail(
      { id: "x", start: "2026-11-15T23:00:00Z", end: "2026-11-15T23:30:00Z", outcome: "failed" }, // Sunday, W46
      { id: "y", start: "2026-11-16T01:00:00Z", end: "2026-11-16T01:30:00Z", commitAt: "2026-11-16T00:30:00Z" }, // Monday, W47
    );
    const weekly = only(week(records).environments);
    expect(periodOf(weekly, "2026-W46")).toMatchObject({
      deploys: 1,
      changeFailures: 1,
      timeToRestore: { samples: 1, medianMs: 2.5 * HOUR },
    });
    expect(periodOf(weekly, "2026-W47")).toMatchObject({
      deploys: 1,
      successful: 1,
      changeFailures: 0,
      timeToRestore: { samples: 0, medianMs: null },
    });
    expect(periodOf(weekly, "2026-W47").leadTime).toEqual({ samples: 1, medianMs: HOUR, p90Ms: HOUR });
    const daily = only(deliveryMetrics(records, { period: "day", from: "2026-11-15", to: "2026-11-17", now: NOW }).environments);
    expect(daily.periods.map((p) => [p.period, p.deploys, p.timeToRestore.medianMs])).toEqual([
      ["2026-11-15", 1, 2.5 * HOUR],
      ["2026-11-16", 1, null],
    ]);
  });

  it("marks a successful deploy failed when the next run rolls it back, aborts it or ships a fix for it", () => {
    const records = trail(
      { id: "f1", start: "2026-11-16T10:00:00Z", end: "2026-11-16T10:10:00Z" },
      {
        id: "f2",
        start: "2026-11-16T11:00:00Z",
        end: "2026-11-16T11:10:00Z",
        message: 'Revert "feat: new cache"\n\nThis reverts commit abc1234.',
      },
      { id: "f3", start: "2026-11-17T10:00:00Z", end: "2026-11-17T10:10:00Z", message: "feat: search" },
      { id: "f4", kind: "abort", start: "2026-11-17T10:30:00Z", end: "2026-11-17T10:35:00Z" },
      { id: "f5", start: "2026-11-18T10:00:00Z", end: "2026-11-18T10:10:00Z" },
      { id: "f6", kind: "rollback", start: "2026-11-18T12:00:00Z", end: "2026-11-18T12:06:00Z", outcome: "failed" },
      { id: "f7", kind: "rollback", start: "2026-11-18T12:30:00Z", end: "2026-11-18T12:40:00Z" },
      { id: "f8", start: "2026-11-19T10:00:00Z", end: "2026-11-19T10:10:00Z", message: "fix: typo in the README" },
    );
    const prod = only(week(records).environments);
    expect(prod.changeFailures.map((f) => [f.runId, f.why, f.failureStartedAt, f.restoredAt])).toEqual([
      ["f1", "fixed by f2", "2026-11-16T10:10:00.000Z", "2026-11-16T11:10:00.000Z"],
      ["f3", "followed by abort f4", "2026-11-17T10:10:00.000Z", "2026-11-17T10:35:00.000Z"],
      // The first rollback failed: service came back with the second one.
      ["f5", "followed by rollback f6", "2026-11-18T10:10:00.000Z", "2026-11-18T12:40:00.000Z"],
    ]);
    // Rollback and abort runs are remediation, not deployments; f8's "fix:" is not a revert or hotfix.
    expect(prod.window).toMatchObject({ deploys: 5, successful: 5, changeFailures: 3, changeFailureRate: 0.6 });
    expect(prod.window.timeToRestore).toMatchObject({ samples: 3, medianMs: HOUR });

    const noFixRule = only(week(records, { fixPattern: null }).environments);
    expect(noFixRule.changeFailures.map((f) => f.runId)).toEqual(["f3", "f5"]);
  });

  it("judges a deploy near the end of the window by what happened after it", () => {
    const records = trail(
      { id: "w1", start: "2026-11-13T10:00:00Z", end: "2026-11-13T10:10:00Z" },
      { id: "w2", kind: "rollback", start: "2026-11-15T10:00:00Z", end: "2026-11-15T10:10:00Z" },
    );
    const prod = only(week(records, { from: "2026-11-09", to: "2026-11-14" }).environments);
    expect(prod.window).toMatchObject({ deploys: 1, changeFailures: 1, openFailures: 0 });
    expect(prod.window.timeToRestore.medianMs).toBe(48 * HOUR);
  });
});

describe("deliveryMetrics: lead time", () => {
  it("takes each commit's first successful deploy; median and p90 interpolate; skew and missing commit times are noted", () => {
    const records = trail(
      { id: "l1", start: "2026-11-16T10:00:00Z", end: "2026-11-16T11:00:00Z", commitAt: "2026-11-16T10:00:00Z", sha: "aaaaaaa" }, // 1h
      { id: "l2", start: "2026-11-16T12:00:00Z", end: "2026-11-16T13:00:00Z", commitAt: "2026-11-16T11:00:00Z", sha: "bbbbbbb" }, // 2h
      { id: "l3", start: "2026-11-17T12:00:00Z", end: "2026-11-17T13:00:00Z", commitAt: "2026-11-17T10:00:00Z", sha: "ccccccc" }, // 3h
      { id: "l4", start: "2026-11-17T15:00:00Z", end: "2026-11-17T16:00:00Z", commitAt: "2026-11-17T12:00:00Z", sha: "ddddddd" }, // 4h
      { id: "l5", start: "2026-11-18T12:00:00Z", end: "2026-11-18T13:00:00Z", commitAt: "2026-11-18T03:00:00Z", sha: "eeeeeee" }, // 10h
      {
        id: "failed",
        start: "2026-11-18T14:00:00Z",
        end: "2026-11-18T14:10:00Z",
        commitAt: "2026-11-01T00:00:00Z",
        sha: "fffffff",
        outcome: "failed",
      },
      { id: "redeploy", start: "2026-11-19T10:00:00Z", end: "2026-11-19T10:10:00Z", commitAt: "2026-11-16T10:00:00Z", sha: "aaaaaaa" },
      { id: "skewed", start: "2026-11-19T11:00:00Z", end: "2026-11-19T11:10:00Z", commitAt: "2026-11-19T12:00:00Z", sha: "0000000" },
      { id: "no-commit", start: "2026-11-19T12:00:00Z", end: "2026-11-19T12:10:00Z" },
    );
    const m = week(records);
    const prod = only(m.environments);
    expect(prod.window.leadTime).toEqual({ samples: 5, medianMs: 3 * HOUR, p90Ms: 7.6 * HOUR });
    expect(periodOf(prod, "2026-W47").leadTime.samples).toBe(5);
    expect(prod.bands.leadTime).toBe("elite");
    expect(m.notes).toEqual([
      "prod: 1 successful deploy without a commit time, left out of lead time",
      "prod: 1 commit dated after its deploy ended (clock skew?), left out of lead time",
    ]);
  });
});

describe("deliveryMetrics: corrections and incomplete runs", () => {
  it("lets corrections override the run they correct, the last one appended winning", () => {
    const records: DeliveryRecord[] = [
      ...run({ id: "c1", start: "2026-11-17T10:00:00Z", end: "2026-11-17T10:10:00Z" }),
      { runId: "c1", kind: "deploy", phase: "correction", environment: "prod", outcome: "rolled back", reason: "rolled back by hand" },
      ...run({ id: "c2", start: "2026-11-18T10:00:00Z", end: "2026-11-18T10:10:00Z", outcome: "failed" }).map((r) =>
        r.phase === "completed" ? { ...r, recordId: "rec-c2-done" } : r,
      ),
      // Pointing at the record rather than the run id still lands on c2.
      {
        runId: "fix-1",
        kind: "deploy",
        phase: "correction",
        environment: "prod",
        correctionOf: "rec-c2-done",
        outcome: "rolled back",
        reason: "x",
      },
      {
        runId: "fix-2",
        kind: "deploy",
        phase: "correction",
        environment: "prod",
        correctionOf: "rec-c2-done",
        outcome: "succeeded",
        reason: "y",
      },
      ...run({ id: "c3", start: "2026-11-19T09:00:00Z" }),
      {
        runId: "c3",
        kind: "deploy",
        phase: "correction",
        environment: "prod",
        outcome: "failed",
        endedAt: "2026-11-19T09:30:00Z",
        reason: "runner died",
      },
    ];
    const m = week(records);
    const prod = only(m.environments);
    expect(prod.changeFailures.map((f) => [f.runId, f.why])).toEqual([
      ["c1", "rolled back"],
      ["c3", "failed"],
    ]);
    expect(prod.window).toMatchObject({ deploys: 3, successful: 1, changeFailures: 2, openFailures: 1 });
    expect(m.unresolved).toEqual([]);
    expect(m.notes).toContain("3 runs counted as corrected");
  });

  it("lists runs without an outcome instead of dropping them, and leaves them out of every number", () => {
    const records: DeliveryRecord[] = [
      ...trail(
        { id: "ok", start: "2026-11-17T10:00:00Z", end: "2026-11-17T10:10:00Z" },
        { id: "running", start: "2026-11-19T10:00:00Z" },
        { id: "paused", start: "2026-11-18T10:00:00Z", end: "2026-11-18T11:00:00Z", outcome: "paused" },
        { id: "unknown", start: "2026-11-18T12:00:00Z", end: "2026-11-18T12:10:00Z", outcome: "unknown" },
        { id: "bad-end", start: "2026-11-18T13:00:00Z", end: "2026-02-30T10:00:00Z" },
        { id: "long-ago", start: "2026-01-05T10:00:00Z" },
        { id: "uncertain", start: "2026-11-16T09:00:00Z", end: "2026-11-16T09:10:00Z" },
      ),
      {
        runId: "uncertain",
        kind: "deploy",
        phase: "correction",
        environment: "prod",
        outcome: "unknown",
        reason: "lost the rollout's end",
      },
    ];
    const m = week(records);
    expect(m.unresolved.map((u) => [u.runId, u.status])).toEqual([
      ["uncertain", "outcome unknown"],
      ["paused", "paused"],
      ["unknown", "outcome unknown"],
      ["bad-end", "unreadable time"],
      ["running", "no completed record"],
    ]);
    const prod = only(m.environments);
    expect(prod.window).toMatchObject({ deploys: 1, successful: 1, changeFailures: 0 });
    expect(m.notes).toContain("5 runs not counted: no outcome yet or unreadable (listed as unresolved)");
  });
});

describe("deliveryMetrics: environments", () => {
  const records = trail(
    { id: "p1", env: "prod", start: "2026-11-16T10:00:00Z", end: "2026-11-16T10:10:00Z" },
    { id: "s1", env: "staging", start: "2026-11-16T09:00:00Z", end: "2026-11-16T09:05:00Z" },
    { id: "s2", env: "staging", kind: "rollback", start: "2026-11-16T11:00:00Z", end: "2026-11-16T11:05:00Z" },
    { id: "q1", env: "qa", kind: "promote", start: "2026-11-17T10:00:00Z", end: "2026-11-17T10:10:00Z", outcome: "failed" },
  );

  it("reports each environment on its own; a rollback in one never marks another's deploy", () => {
    const m = week(records);
    expect(m.environments.map((e) => [e.environment, e.window.deploys, e.window.changeFailures])).toEqual([
      ["prod", 1, 0],
      ["qa", 1, 1],
      ["staging", 1, 1],
    ]);
    expect(m.environments.find((e) => e.environment === "staging")?.changeFailures[0]?.why).toBe("followed by rollback s2");
  });

  it("narrows to the environment asked for, and names the known ones when it has no runs", () => {
    expect(week(records, { environment: "staging" }).environments.map((e) => e.environment)).toEqual(["staging"]);
    expect(week(records, { environment: "prdo" }).notes).toEqual(['no runs recorded for "prdo"; the trail has prod, qa, staging']);
  });
});

describe("deliveryMetrics: bad queries are Problems naming the field", () => {
  const problem = (extra: Record<string, unknown>) => {
    try {
      week([], extra);
    } catch (e) {
      expect(e).toBeInstanceOf(Problem);
      return (e as Problem).message;
    }
    throw new Error("expected a Problem");
  };

  it("refuses unknown periods, impossible dates, zone-less times, empty and oversized windows, unknown keys", () => {
    expect(problem({ period: "fortnight" })).toMatch(/^metrics: period: expected one of day, week, month, got "fortnight"/);
    expect(problem({ from: "2026-02-30" })).toMatch(/^metrics: from: expected an ISO 8601 date or time with zone/);
    expect(problem({ to: "2026-11-01T10:00:00" })).toMatch(/^metrics: to: expected an ISO 8601 date/);
    expect(problem({ from: "2026-11-20", to: "2026-11-01" })).toMatch(/the window is empty/);
    expect(problem({ period: "day", from: "2020-01-01" })).toMatch(/at most 400 fit/);
    expect(problem({ perod: "day" })).toMatch(/perod: unknown key; did you mean "period"\?/);
  });
});
