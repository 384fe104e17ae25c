/**
 * The stepped canary's gate judges the canary's own targets: smoke checks on its own route (a
 * real local HTTP server that routes on the header as an ALB rule with an http-header condition
 * would), and the analysis with the canary target group and revision in its placeholders.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { QueryVars } from "../../deploy/lib/deploy/analysis-problem.js";
import type { GateDecision } from "../../deploy/lib/deploy/hooks.js";
import { steppedGate } from "../../deploy/lib/deploy/stepped/gate.js";
import type { GateStep } from "../../deploy/lib/deploy/stepped/types.js";
import { CANARY, STABLE, steppedEnv } from "./stepped-fixture.js";

const RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6d";
let server: Server | undefined;
afterEach(() => server?.close());

/** Stable answers 200; the canary (requests carrying x-canary: 1) answers `canaryStatus`. */
async function alb(canaryStatus: number): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    const canary = req.headers["x-canary"] === "1";
    seen.push(canary ? "canary" : "stable");
    res.writeHead(canary ? canaryStatus : 200).end(canary ? "canary" : "stable");
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const step = (n: number, weight: number): GateStep => ({
  step: n,
  steps: 4,
  weight,
  pauseMinutes: 1,
  since: new Date().toISOString(),
  taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:2",
  previousTaskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1",
  stableTargetGroupArn: STABLE,
  canaryTargetGroupArn: CANARY,
});

const smokeOf = (url: string) => ({
  baseUrl: url,
  testHeader: { name: "x-canary", value: "1" },
  checks: [{ name: "health", path: "/healthz", retries: 1 }],
});

describe("steppedGate", () => {
  it("fails a broken canary that the shared URL would pass: the smoke checks carry the canary's own header", async () => {
    const { url, seen } = await alb(503);
    const env = steppedEnv(RULE, { smoke: smokeOf(url) });
    const decisions: GateDecision[] = [];
    const verdict = await steppedGate(env, env.steppedCanary!, {}, decisions)(step(0, 0));
    expect(verdict.action).toBe("ROLLBACK");
    expect(verdict.reason).toMatch(/^failed: canary's own route: /);
    expect(seen).toEqual(["canary"]);
    expect(decisions).toMatchObject([{ gate: "smoke", stage: "canary before traffic", step: 0, verdict: "failed" }]);
  });

  it("passes a healthy canary, then judges the analysis on the canary's target group and revision, the stable one as baseline", async () => {
    const { url } = await alb(200);
    const env = steppedEnv(RULE, {
      smoke: smokeOf(url),
      analysis: {
        metrics: [
          {
            name: "error-rate",
            provider: { prometheus: { address: "http://prom.invalid", query: 'errors{tg="{{targetGroup}}",rev="{{revision}}"}' } },
            successCondition: { op: "<=", threshold: 0.01 },
            interval: "1s",
            count: 1,
          },
        ],
      },
    });
    const asked: QueryVars[] = [];
    const decisions: GateDecision[] = [];
    const judge = steppedGate(
      env,
      env.steppedCanary!,
      {
        providerFor: () => ({
          measure: async (_at, _signal, vars = {}) => {
            asked.push(vars);
            return [0.001];
          },
        }),
      },
      decisions,
    );
    const verdict = await judge(step(2, 20));
    expect(verdict).toMatchObject({ action: "CONTINUE", values: { "error-rate": 0.001 } });
    expect(asked[0]).toMatchObject({ targetGroup: CANARY.replace(/^arn:[^:]*:elasticloadbalancing:[^:]*:[^:]*:/, ""), revision: "app:2" });
    expect(decisions.map((d) => [d.gate, d.verdict, d.stage])).toEqual([
      ["smoke", "passed", "canary 20% (step 2/4)"],
      ["analysis", "passed", "canary 20% (step 2/4)"],
    ]);
  });
});
