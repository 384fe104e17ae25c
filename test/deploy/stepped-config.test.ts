import { describe, expect, it } from "vitest";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { SteppedCanaryConfigSchema } from "../../deploy/lib/deploy/stepped/config.js";

const ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012";
const RULE = `${ELB}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const base = {
  listenerRuleArn: RULE,
  stableTargetGroupArn: `${ELB}:targetgroup/api-stable/73e2d6bc24d8a067`,
  canaryTargetGroupArn: `${ELB}:targetgroup/api-canary/1e2d6bc24d8a0673`,
  canaryService: "api-canary",
  steps: [
    { weight: 5, pauseMinutes: 10 },
    { weight: 20, pauseMinutes: 10 },
    { weight: 50, pauseMinutes: 10 },
    { weight: 100, pauseMinutes: 5 },
  ],
};

function issues(input: unknown): string[] {
  const r = SteppedCanaryConfigSchema.safeParse(input, { error: configErrorMap });
  if (r.success) throw new Error("expected the config to be refused");
  return formatZodIssues(r.error, SteppedCanaryConfigSchema);
}

describe("SteppedCanaryConfigSchema", () => {
  it("accepts a rule or a listener, and leaves the canary size to the main service unless set", () => {
    expect(SteppedCanaryConfigSchema.parse(base)).toEqual(base);
    const { listenerRuleArn: _rule, ...rest } = base;
    const onListener = { ...rest, listenerArn: `${ELB}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`, canaryDesiredCount: 3 };
    expect(SteppedCanaryConfigSchema.parse(onListener).canaryDesiredCount).toBe(3);
  });

  it("requires weights that strictly increase and end at 100", () => {
    const steps = [
      { weight: 5, pauseMinutes: 5 },
      { weight: 20, pauseMinutes: 5 },
      { weight: 20, pauseMinutes: 5 },
      { weight: 60, pauseMinutes: 5 },
    ];
    expect(issues({ ...base, steps })).toEqual([
      "steps[2].weight: expected a weight above the previous step's 20, got 20",
      "steps[3].weight: expected the last step to be weight 100 (the canary carries all traffic before the main service is promoted), got 60; add { weight: 100, pauseMinutes: 5 }",
    ]);
  });

  it("explains out-of-range steps and an empty list in plain words", () => {
    expect(
      issues({
        ...base,
        steps: [
          { weight: 0, pauseMinutes: -1 },
          { weight: 100, pauseMinutes: 5, bake: 1 },
        ],
      }),
    ).toEqual([
      "steps[0].weight: expected a whole percent from 1 to 100, got 0",
      "steps[0].pauseMinutes: expected a whole number of minutes from 0 to 1440, got -1",
      "steps[1].bake: unknown key",
    ]);
    expect(issues({ ...base, steps: [] })[0]).toMatch(/^steps: expected a list of 1 to 20 steps like/);
  });

  it("wants exactly one of listenerRuleArn and listenerArn, and two different target groups", () => {
    const both = { ...base, listenerArn: `${ELB}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2` };
    expect(issues(both)).toEqual(["listenerRuleArn: expected exactly one of listenerRuleArn and listenerArn"]);
    const { listenerRuleArn: _rule, ...neither } = base;
    expect(issues(neither)).toEqual(["listenerRuleArn: expected exactly one of listenerRuleArn and listenerArn"]);
    expect(issues({ ...base, canaryTargetGroupArn: base.stableTargetGroupArn })).toEqual([
      "canaryTargetGroupArn: expected a target group other than stableTargetGroupArn",
    ]);
  });

  it("refuses Network Load Balancer rules, which cannot weight target groups, and mistyped ARNs", () => {
    const nlb = `${ELB}:listener-rule/net/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
    expect(issues({ ...base, listenerRuleArn: nlb })[0]).toMatch(
      /^listenerRuleArn: expected an ALB listener rule ARN \(arn:aws:elasticloadbalancing:<region>:<account>:listener-rule\/app\/\.\.\.\), got /,
    );
    expect(issues({ ...base, stableTargetGroupArn: "api-stable" })).toEqual([
      'stableTargetGroupArn: expected a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/...), got "api-stable"',
    ]);
  });
});
