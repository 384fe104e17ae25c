// The judge's rules with a scripted provider and a fake clock: durations ("for"), minimum traffic
// and samples, canary vs baseline through the one context object, and what a per-revision query
// does without one. Prometheus semantics are in analysis-revision.test.ts (a real Prometheus).
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../deploy/lib/config/errors.js";
import { parseAnalysisConfig, type MetricInput } from "../../deploy/lib/deploy/analysis-config.js";
import {
  compareWithBaseline,
  runAnalysis,
  type AnalysisContext,
  type AnalysisDeps,
  type MetricProvider,
  type Reading,
} from "../../deploy/lib/deploy/analysis.js";
import { trafficContext } from "../../deploy/lib/deploy/checks.js";
import type { TrafficTargets } from "../../deploy/lib/deploy/analysis-traffic.js";
import type { EnvironmentConfig } from "../../deploy/lib/deploy/config.js";

const metric = (over: Partial<MetricInput> = {}): MetricInput => ({
  name: "errors",
  provider: { prometheus: { address: "http://127.0.0.1:9", query: 'err{revision="{{revision}}"}' } },
  successCondition: { op: "<=", threshold: 0.01 },
  interval: "1m",
  count: 8,
  ...over,
});

/** Each sample takes the next answer; `vars` says whose traffic was asked for. */
function scripted(...answers: (Reading | number)[]): MetricProvider & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    measure: async (_at, _signal, vars = {}) => {
      asked.push(vars.revision ?? vars.targetGroup ?? "-");
      const a = answers.shift() ?? 0;
      return typeof a === "number" ? [a] : a;
    },
  };
}
const clock = (provider: MetricProvider, context?: AnalysisContext): AnalysisDeps => {
  let t = Date.parse("2026-11-23T10:00:00Z");
  return { now: () => t, sleep: async (ms) => void (t += ms), providerFor: () => provider, ...(context ? { context } : {}) };
};
const fixed = (targets: TrafficTargets): AnalysisContext => ({ targets: async () => targets });

describe("for: a failure is a breach that lasted", () => {
  it("one bad sample does not fail a 'for: 2m' metric; three in a row (t, t+1m, t+2m) do", async () => {
    const p = scripted(0, 0.5, 0, 0.5, 0.5, 0, 0, 0);
    const ok = await runAnalysis(
      { metrics: [metric({ for: "2m", provider: { prometheus: { address: "http://x:9", query: "err" } } })] },
      clock(p),
    );
    expect(ok.phase, ok.cause).toBe("Successful");
    expect(ok.metrics[0]).toMatchObject({ failed: 3, successful: 5 });

    const bad = scripted(0, 0.5, 0.5, 0.5, 0);
    const r = await runAnalysis(
      { metrics: [metric({ for: "2m", provider: { prometheus: { address: "http://x:9", query: "err" } } })] },
      clock(bad),
    );
    expect(r.phase).toBe("Failed");
    expect(r.measurements).toHaveLength(4); // failed at the third bad sample in a row, not the first
    expect(r.cause).toBe("errors: measured 0.5 (needs <= 0.01) on 3 samples in a row (for 2m), 1 breach(es) > failureLimit 0");
  });

  it("a sample without enough traffic breaks the streak: it is no evidence that the breach lasted", async () => {
    const thin: Reading = { values: [0.5], requests: 3 };
    const p = scripted({ values: [0.5], requests: 500 }, thin, { values: [0.5], requests: 500 }, { values: [0.5], requests: 500 });
    const m = metric({
      for: "1m",
      minRequests: 100,
      count: 4,
      provider: { prometheus: { address: "http://x:9", query: "e", requestsQuery: "r" } },
    });
    const r = await runAnalysis({ metrics: [m] }, clock(p));
    expect(r.measurements.map((x) => x.phase)).toEqual(["Failed", "Insufficient", "Failed", "Failed"]);
    expect(r.phase).toBe("Failed");
  });

  it("refuses a duration the samples cannot cover", () => {
    expect(() => parseAnalysisConfig({ metrics: [metric({ for: "5m", count: 5 })] })).toThrow(
      /for 300000 ms at interval 60000 ms needs 6 samples in a row, but count is 5/,
    );
  });
});

describe("minRequests and minSamples: not enough traffic is neither a pass nor a failure", () => {
  const counted = (over: Partial<MetricInput> = {}) =>
    metric({ minRequests: 100, provider: { prometheus: { address: "http://x:9", query: "e", requestsQuery: "r" } }, ...over });

  it("a sample below minRequests is Insufficient, even at 100 % errors; a window of them is Inconclusive", async () => {
    const p = scripted(...Array.from({ length: 4 }, () => ({ values: [1], requests: 2 })));
    const r = await runAnalysis({ metrics: [counted({ count: 4 })] }, clock(p));
    expect(r.measurements.map((m) => [m.phase, m.requests, m.message])).toEqual(
      Array.from({ length: 4 }, () => ["Insufficient", 2, "not enough traffic: 2 requests < minRequests 100"]),
    );
    expect(r).toMatchObject({ phase: "Inconclusive", cause: "errors: not enough traffic to judge: 4 of 4 samples too thin" });
  });

  it("does not count thin samples against inconclusiveLimit, and needs minSamples passes", async () => {
    const thin = { values: [0], requests: 5 };
    const good = { values: [0], requests: 500 };
    const r = await runAnalysis({ metrics: [counted({ count: 4, minSamples: 2 })] }, clock(scripted(thin, good, thin, thin)));
    expect(r.phase).toBe("Inconclusive");
    expect(r.cause).toBe("errors: only 1 of 4 samples could be judged and passed (minSamples 2; 3 without enough traffic)");
    const enough = await runAnalysis({ metrics: [counted({ count: 4, minSamples: 2 })] }, clock(scripted(thin, good, good, thin)));
    expect(enough.phase).toBe("Successful");
  });

  it("needs a request count to compare with", () => {
    expect(() => parseAnalysisConfig({ metrics: [metric({ minRequests: 10 })] })).toThrow(/minRequests: needs a request count/);
  });
});

describe("canary vs baseline, through the analysis context", () => {
  const targets: TrafficTargets = { canary: { revision: "app:8" }, baseline: { revision: "app:7" } };
  const compared = (over: Partial<MetricInput> = {}) =>
    metric({ count: 2, compare: { maxRatio: 2, tolerance: 0.001 }, successCondition: { op: "<=", threshold: 0.05 }, ...over });

  it("fails a canary worse than twice the baseline although under the absolute threshold, naming both", async () => {
    const p = scripted(0.03, 0.004);
    const r = await runAnalysis({ metrics: [compared()] }, clock(p, fixed(targets)));
    expect(p.asked).toEqual(["app:8", "app:7"]);
    expect(r.phase).toBe("Failed");
    expect(r.measurements[0]).toMatchObject({ phase: "Failed", value: 0.03, baseline: 0.004 });
    expect(r.cause).toContain("canary app:8 0.03 vs baseline app:7 0.004: worse than 0.009");
  });

  it("passes a canary within the ratio, and judges absolutely where no baseline serves", async () => {
    const ok = await runAnalysis({ metrics: [compared()] }, clock(scripted(0.006, 0.004, 0.005, 0.004), fixed(targets)));
    expect(ok.phase, ok.cause).toBe("Successful");
    const alone = await runAnalysis({ metrics: [compared()] }, clock(scripted(0.03, 0.03), fixed({ canary: { revision: "app:8" } })));
    expect(alone.phase).toBe("Successful");
    expect(alone.measurements[0]?.message).toBe("no baseline serves next to the canary: absolute threshold only");
  });

  it("compares in the right direction for success rates (>=)", () => {
    const cond = { op: ">=", threshold: 0.9 } as const;
    expect(compareWithBaseline(0.95, 0.99, cond, { maxRatio: 1.02, tolerance: 0 }).worse).toBe(true);
    expect(compareWithBaseline(0.985, 0.99, cond, { maxRatio: 1.02, tolerance: 0 }).worse).toBe(false);
  });

  it("reads the context before every sample: a swapped target group is followed", async () => {
    const groups = ["targetgroup/api-green/fedcba9876543210", "targetgroup/api-blue/0123456789abcdef"];
    let calls = 0;
    const context: AnalysisContext = {
      targets: async () => ({ canary: { targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:1:${groups[calls++ % 2] ?? ""}` } }),
    };
    const p = scripted(0, 0, 0);
    const m = metric({ count: 3, provider: { prometheus: { address: "http://x:9", query: 'e{tg="{{targetGroup}}"}' } } });
    await runAnalysis({ metrics: [m] }, clock(p, context));
    expect(p.asked).toEqual([groups[0], groups[1], groups[0]]);
  });

  it("a per-revision query without a context is a configuration error at once, not N retries", async () => {
    const r = await runAnalysis({ metrics: [metric({ consecutiveErrorLimit: 4 })] }, clock(scripted(0, 0, 0)));
    expect(r.phase).toBe("Failed");
    expect(r.measurements).toHaveLength(1);
    expect(r.cause).toBe("errors: its queries use {{revision}}, but this deploy did not say which revision and target group are new");
    expect(r.hint).toMatch(/traffic context/);
  });

  it("refuses compare on a service-wide query and unknown placeholders", () => {
    const wide = metric({ compare: { maxRatio: 2 }, provider: { prometheus: { address: "http://x:9", query: "err" } } });
    expect(() => parseAnalysisConfig({ metrics: [wide] })).toThrow(/compare: the query must name whose traffic it reads/);
    const typo = metric({ provider: { prometheus: { address: "http://x:9", query: 'e{r="{{revison}}"}' } } });
    try {
      parseAnalysisConfig({ metrics: [typo] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues[0]).toMatch(/unknown placeholder \{\{revison\}\}: the deploy fills \{\{targetGroup\}\}/);
    }
  });

  it("the stepped canary's context is its two target groups, without any AWS call", async () => {
    const env = {
      steppedCanary: {
        canaryTargetGroupArn: "arn:aws:elasticloadbalancing:r:1:targetgroup/pay-canary/8e6f01c31eec9f10",
        stableTargetGroupArn: "arn:aws:elasticloadbalancing:r:1:targetgroup/pay-stable/6d0ecf831eec9f09",
      },
    } as unknown as EnvironmentConfig;
    const got = await trafficContext(env, {})?.targets(new AbortController().signal);
    expect(got).toEqual({
      canary: { targetGroupArn: env.steppedCanary?.canaryTargetGroupArn },
      baseline: { targetGroupArn: env.steppedCanary?.stableTargetGroupArn },
    });
  });
});

describe("onInconclusive", () => {
  it("defaults to pause (never a pass) and may say rollback", () => {
    expect(parseAnalysisConfig({ metrics: [metric()] }).onInconclusive).toBe("pause");
    expect(parseAnalysisConfig({ metrics: [metric()], onInconclusive: "rollback" }).onInconclusive).toBe("rollback");
  });
});
