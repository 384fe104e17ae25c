/**
 * Benchmark, not a test: time to rollback end to end, for each strategy, through the real deploy
 * core and the stateful fake ECS on fake time. The new revision goes bad at a random moment while
 * Shipshape judges it (its final gate, all production traffic on it); the clock runs from that
 * first bad sample until production traffic is back on the good revision:
 *   detect:  first bad sample -> Shipshape's analysis says Failed (ContinueServiceDeployment ROLLBACK)
 *   restore: that answer      -> traffic on app:1 again (listener weights for blue-green, linear and
 *            canary; the old revision's tasks serving again for rolling; for steppedCanary the
 *            ModifyRule that puts the rule back on stable 100 / canary 0, through the fake ELB)
 * Target: detect within one measurement interval; restore within the strategy's own shift time.
 * Once with the shipped defaults (interval 1m), once with a 1 s interval. Prints, per strategy,
 *   end-to-end <strategy> <ms>
 * under a "# ..." header naming the settings, then a "#" detail line. Then, for a stepped canary
 * whose run dies at 20% (no server-side safety net in that mode), the time from its death until
 * the weights are back on stable, with `monitor` on a 15-minute schedule at a random phase (its
 * sweep, stepped/commands.ts sweepStepped, on the same fake time):
 *   dead-run steppedCanary <ms>
 *
 *   npx tsx scripts/bench-rollback.ts [--trials 3]
 *   npx tsx scripts/bench-rollback.ts --prometheus [...]   the detection delay against a real Prometheus (bench-detection.ts)
 *
 * Fake time comes from @sinonjs/fake-timers (a direct devDependency, the version sinon brings), the
 * library vitest's fake timers are built on.
 */
import { withGlobal, type InstalledClock } from "@sinonjs/fake-timers";
import { parseArgs } from "node:util";
import { progressiveGate } from "../deploy/lib/deploy/checks.js";
import { EnvironmentsConfigSchema, type EnvironmentConfig } from "../deploy/lib/deploy/config.js";
import { deploy } from "../deploy/lib/deploy/deploy.js";
import type { GateDecision, OnPause } from "../deploy/lib/deploy/hooks.js";
import { steppedCanaryDeploy } from "../deploy/lib/deploy/stepped/canary.js";
import { steppedGate } from "../deploy/lib/deploy/stepped/gate.js";
import { sweepStepped } from "../deploy/lib/deploy/stepped/commands.js";
import { heartbeatTiming } from "../deploy/lib/deploy/stepped/lease.js";
import { ALB_WITH_ADVANCED_CONFIG, FakeEcs, IMAGE } from "../test/deploy/fake-ecs.js";
import { steppedEnv, steppedFakes } from "../test/deploy/stepped-fixture.js";

const { values: args } = parseArgs({
  options: { trials: { type: "string", default: "3" }, prometheus: { type: "boolean", default: false } },
  strict: false,
});
if (args.prometheus) {
  await import("./bench-detection.js");
  process.exit(0);
}
const trials = Number(args.trials);

const STRATEGIES: Record<string, Record<string, unknown>> = {
  rolling: {},
  "blue-green": { strategy: "blue-green" },
  linear: { strategy: "linear" },
  canary: { strategy: "canary" },
};

const envOf = (settings: Record<string, unknown>, interval?: string): EnvironmentConfig =>
  EnvironmentsConfigSchema.parse({
    staging: {
      cluster: "main",
      service: "api",
      region: "us-east-1",
      containerName: "app",
      analysis: {
        metrics: [
          {
            name: "error-rate",
            provider: { prometheus: { address: "http://prom.invalid", query: "x" } },
            successCondition: { op: "<=", threshold: 0.01 },
            ...(interval ? { interval } : {}),
          },
        ],
      },
      ...settings,
    },
  }).staging as EnvironmentConfig;

interface Trial {
  detectMs: number;
  restoreMs: number;
  intervalMs: number;
}

/** Advances fake time until the promise settles (as the tests' onFakeTime does). */
async function settle<T>(clock: InstalledClock, p: Promise<T>): Promise<T> {
  let done = false;
  const tracked = p.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  for (let waited = 0; !done && waited < 24 * 3600_000; waited += 1000) await clock.tickAsync(1000);
  return tracked;
}

async function trial(strategy: string, interval?: string): Promise<Trial> {
  const clock = withGlobal(globalThis).install({ now: Date.parse("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  const fake = new FakeEcs();
  try {
    fake.addService({ loadBalancers: [ALB_WITH_ADVANCED_CONFIG] });
    const env = envOf(STRATEGIES[strategy] ?? {}, interval);
    const intervalMs = env.analysis?.metrics[0]?.interval ?? 60_000;
    let badFrom = Infinity;
    let detectedAt = Infinity;
    const gate = progressiveGate(env, {
      providerFor: () => ({ measure: async () => [Date.now() >= badFrom ? 0.2 : 0] }),
    });
    const onPause: OnPause = async (p) => {
      // Bad at a random moment of the final gate's analysis: all production traffic is on the new revision.
      if (p.stage === "POST_PRODUCTION_TRAFFIC_SHIFT") badFrom = Date.now() + Math.random() * 2 * intervalMs;
      const decided = await gate(p);
      if (decided.action === "ROLLBACK") detectedAt = Date.now();
      return decided;
    };
    const report = await settle(clock, deploy(fake.client, { environment: "staging", config: env, image: IMAGE, runId: "bench", onPause }));
    if (report.result !== "rolled back") throw new Error(`${strategy}: expected a rollback, got ${report.result}: ${report.reason}`);
    const d = [...fake.deployments.values()].find((x) => x.to.endsWith(":2"));
    // Traffic is back when ECS re-weighted the listener, or, for rolling, once app:1's tasks serve.
    const restoredAt = (strategy === "rolling" ? d?.sd.finishedAt?.getTime() : d?.trafficBackAt) ?? NaN;
    return { detectMs: detectedAt - badFrom, restoreMs: restoredAt - detectedAt, intervalMs };
  } finally {
    fake.restore();
    clock.uninstall();
  }
}

/**
 * The stepped canary: bad from a random moment of its last step's analysis (all traffic on the
 * canary); restored when the fake ELB's rule is back on stable 100 / canary 0.
 */
async function steppedTrial(interval?: string): Promise<Trial> {
  const clock = withGlobal(globalThis).install({ now: Date.parse("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  const f = steppedFakes();
  try {
    const metric = envOf({}, interval).analysis;
    const env = steppedEnv(f.rule, { analysis: metric });
    const canary = env.steppedCanary;
    if (!canary) throw new Error("no steppedCanary");
    const intervalMs = metric?.metrics[0]?.interval ?? 60_000;
    let badFrom = Infinity;
    let detectedAt = Infinity;
    const decisions: GateDecision[] = [];
    const judge = steppedGate(env, canary, { providerFor: () => ({ measure: async () => [Date.now() >= badFrom ? 0.2 : 0] }) }, decisions);
    const report = await settle(
      clock,
      steppedCanaryDeploy(
        { ecs: f.ecs.client, elb: f.elb.client },
        { environment: "staging", config: env, canary, image: IMAGE, runId: "bench" },
        async (s) => {
          if (s.step === s.steps) badFrom = Date.now() + Math.random() * 2 * intervalMs;
          const verdict = await judge(s);
          if (verdict.action === "ROLLBACK") detectedAt = Date.now();
          return verdict;
        },
      ),
    );
    if (report.result !== "rolled back") throw new Error(`steppedCanary: expected a rollback, got ${report.result}: ${report.reason}`);
    const restoredAt = f.elb.weightChanges.at(-1)?.at ?? NaN;
    return { detectMs: detectedAt - badFrom, restoreMs: restoredAt - detectedAt, intervalMs };
  } finally {
    f.ecs.restore();
    f.elb.restore();
    clock.uninstall();
  }
}

for (const [label, interval] of [
  ["shipped defaults (analysis interval 1m, count 5)", undefined],
  ["analysis interval 1s", "1s"],
] as const) {
  console.log(`# ${label}`);
  for (const strategy of [...Object.keys(STRATEGIES), "steppedCanary"]) {
    const runs: Trial[] = [];
    for (let t = 0; t < trials; t++)
      runs.push(strategy === "steppedCanary" ? await steppedTrial(interval) : await trial(strategy, interval));
    const mean = (f: (r: Trial) => number) => Math.round(runs.reduce((s, r) => s + f(r), 0) / runs.length);
    const detect = mean((r) => r.detectMs);
    const restore = mean((r) => r.restoreMs);
    const within = runs.every((r) => r.detectMs <= r.intervalMs) ? "within one interval" : "SLOWER than one interval";
    console.log(`end-to-end ${strategy} ${detect + restore}`);
    console.log(`#   ${strategy}: detect ${detect} ms (${within}), restore ${restore} ms, over ${trials} trials`);
  }
}

const MONITOR_EVERY_MS = 15 * 60_000;

/** A stepped canary run killed while the canary holds 20%, then the scheduled monitor's sweeps until one ends it. */
async function deadRunTrial(): Promise<{ ms: number; sweeps: number; ttlMinutes: number }> {
  const clock = withGlobal(globalThis).install({ now: Date.parse("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  const f = steppedFakes();
  try {
    const env = steppedEnv(f.rule);
    const canary = env.steppedCanary;
    if (!canary) throw new Error("no steppedCanary");
    let died = NaN;
    const run = steppedCanaryDeploy(
      { ecs: f.ecs.client, elb: f.elb.client },
      { environment: "staging", config: env, canary, image: IMAGE, runId: "bench-dead" },
      async (s) => {
        if (s.weight === 20) {
          died = Date.now();
          f.ecs.crashAfter(1); // the process is killed: no call reaches AWS any more
        }
        return { action: "CONTINUE", reason: "ok", values: {} };
      },
    );
    await settle(
      clock,
      run.catch(() => undefined),
    );
    f.ecs.revive();
    // The schedule's phase is unrelated to the deploy: the first sweep after the death is 0-15 min away.
    let next = died + Math.random() * MONITOR_EVERY_MS;
    for (let sweeps = 1; sweeps < 20; sweeps++, next += MONITOR_EVERY_MS) {
      if (next > Date.now()) clock.setSystemTime(next);
      const out = await settle(
        clock,
        sweepStepped({ ecs: f.ecs.client, elb: f.elb.client }, { environment: "staging", config: env }, canary),
      );
      if (out.ended) return { ms: (f.elb.weightChanges.at(-1)?.at ?? NaN) - died, sweeps, ttlMinutes: heartbeatTiming(env).ttlMinutes };
    }
    throw new Error("the monitor never ended the dead run's canary");
  } finally {
    f.ecs.restore();
    f.elb.restore();
    clock.uninstall();
  }
}

{
  const runs: { ms: number; sweeps: number; ttlMinutes: number }[] = [];
  for (let t = 0; t < trials; t++) runs.push(await deadRunTrial());
  const ttl = runs[0]?.ttlMinutes ?? NaN;
  console.log(`# a stepped canary run killed at 20%, monitor every ${MONITOR_EVERY_MS / 60_000} min, heartbeat TTL ${ttl} min`);
  console.log(`dead-run steppedCanary ${Math.round(runs.reduce((sum, r) => sum + r.ms, 0) / runs.length)}`);
  console.log(
    `#   steppedCanary dead run: max ${Math.round(Math.max(...runs.map((r) => r.ms)))} ms, ${runs.map((r) => r.sweeps).join("/")} sweeps over ${trials} trials; worst case TTL + schedule = ${(ttl * 60_000 + MONITOR_EVERY_MS).toString()} ms`,
  );
}
