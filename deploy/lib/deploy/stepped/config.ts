/**
 * The `steppedCanary` key of an environment: a canary with any list of traffic steps (5 → 20 →
 * 50 → 100), which ECS-native LINEAR/CANARY cannot express. Shipshape drives the weights of an
 * ALB listener rule that forwards to two target groups itself; the main service sits behind the
 * stable one, a second service (the canary service) behind the canary one.
 */
import { z } from "zod";
import { expecting } from "../../config/errors.js";

const ELB_ARN = String.raw`^arn:aws[a-z-]*:elasticloadbalancing:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:`;
// Only Application Load Balancers ("app/"): Network Load Balancers refuse target group weights.
export const LISTENER_RULE_ARN = new RegExp(`${ELB_ARN}listener-rule/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+$`);
export const LISTENER_ARN = new RegExp(`${ELB_ARN}listener/app/[A-Za-z0-9-]{1,32}/[0-9a-f]+/[0-9a-f]+$`);
export const TARGET_GROUP_ARN = new RegExp(`${ELB_ARN}targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+$`);

const arn = (pattern: RegExp, description: string, expected: string) =>
  expecting(z.string().regex(pattern).describe(description), expected);

export const CanaryStepSchema = z
  .strictObject({
    weight: expecting(
      z.int().min(1).max(100).describe("Percent of the rule's traffic sent to the canary target group during this step."),
      "a whole percent from 1 to 100",
    ),
    pauseMinutes: expecting(
      z.int().min(0).max(1440).describe("Minutes at this weight before the analysis gate decides whether to go on."),
      "a whole number of minutes from 0 to 1440",
    ),
  })
  .describe("One traffic step: a canary weight, held for pauseMinutes, then judged.");

const MAX_STEPS = 20;

/** Each weight above the one before, ending at 100: the checks a single-field schema cannot make. */
function checkSteps(steps: { weight: number }[], ctx: z.core.$RefinementCtx<unknown>): void {
  steps.forEach((step, i) => {
    const before = steps[i - 1];
    if (before && step.weight <= before.weight) {
      ctx.addIssue({
        code: "custom",
        path: [i, "weight"],
        input: step.weight,
        message: `expected a weight above the previous step's ${before.weight}, got ${step.weight}`,
      });
    }
  });
  const last = steps.at(-1);
  if (last && last.weight !== 100) {
    // Explicit rather than appended: the 100% step is held and judged like any other, and the
    // main service is promoted only while the canary carries all of the traffic.
    ctx.addIssue({
      code: "custom",
      path: [steps.length - 1, "weight"],
      input: last.weight,
      message: `expected the last step to be weight 100 (the canary carries all traffic before the main service is promoted), got ${last.weight}; add { weight: 100, pauseMinutes: 5 }`,
    });
  }
}

export const SteppedCanaryConfigSchema = z
  .strictObject({
    listenerRuleArn: arn(
      LISTENER_RULE_ARN,
      "ARN of the ALB listener rule whose forward action is weighted between the two target groups.",
      "an ALB listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/...)",
    )
      .optional()
      .describe("ALB listener rule to weight; give this or listenerArn."),
    listenerArn: arn(
      LISTENER_ARN,
      "ARN of the ALB listener whose default action is weighted between the two target groups.",
      "an ALB listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/app/...)",
    )
      .optional()
      .describe("ALB listener whose default action is weighted, when there is no dedicated rule; give this or listenerRuleArn."),
    stableTargetGroupArn: arn(
      TARGET_GROUP_ARN,
      "Target group of the main ECS service; it carries all traffic outside a canary.",
      "a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/...)",
    ),
    canaryTargetGroupArn: arn(
      TARGET_GROUP_ARN,
      "Target group of the canary ECS service; weight 0 outside a canary.",
      "a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/...)",
    ),
    canaryService: expecting(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,255}$/)
        .describe("ECS service in the environment's cluster, registered to the canary target group; desired count 0 outside a canary."),
      "an ECS service name (letters, digits, - and _)",
    ),
    canaryDesiredCount: expecting(
      z
        .int()
        .min(1)
        .max(1000)
        .describe(
          "Tasks the canary service runs during the canary. Defaults to the main service's desired count, since the last step sends it all of the traffic.",
        ),
      "a whole number of tasks from 1 to 1000",
    )
      .optional()
      .describe("Tasks the canary service runs during the canary; defaults to the main service's desired count."),
    steps: expecting(
      z
        .array(CanaryStepSchema)
        .min(1)
        .max(MAX_STEPS)
        .superRefine(checkSteps)
        .describe("Traffic steps, weights strictly increasing and ending at 100, e.g. 5, 20, 50, 100."),
      `a list of 1 to ${MAX_STEPS} steps like [{ weight: 5, pauseMinutes: 10 }, …, { weight: 100, pauseMinutes: 5 }]`,
    ),
  })
  .superRefine((cfg, ctx) => {
    if ((cfg.listenerRuleArn === undefined) === (cfg.listenerArn === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["listenerRuleArn"],
        input: cfg.listenerRuleArn,
        message: "expected exactly one of listenerRuleArn and listenerArn",
      });
    }
    if (cfg.stableTargetGroupArn === cfg.canaryTargetGroupArn) {
      ctx.addIssue({
        code: "custom",
        path: ["canaryTargetGroupArn"],
        input: cfg.canaryTargetGroupArn,
        message: "expected a target group other than stableTargetGroupArn",
      });
    }
  })
  .describe("Stepped canary driven through ALB listener weights: a canary service takes growing shares of traffic, judged at each step.");

export type SteppedCanaryConfig = z.output<typeof SteppedCanaryConfigSchema>;
export type CanaryStep = z.output<typeof CanaryStepSchema>;
