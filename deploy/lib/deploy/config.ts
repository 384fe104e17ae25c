/**
 * The `environments:` section of shipshape.yaml (to be added to ShipshapeConfigSchema as an
 * optional key): where each environment's ECS service lives and how to roll out to it. Strict
 * like every other section, so a typo is an error rather than a silently ignored setting.
 */
import { AnalysisConfigSchema } from "./analysis-config.js";
import { SmokeCheckSchema } from "./smoke.js";
import { SteppedCanaryConfigSchema } from "./stepped/config.js";
import { z } from "zod";
import { expecting } from "../config/errors.js";
import { checkRequires } from "../guards/config.js";

export const DEPLOY_STRATEGIES = ["rolling", "blue-green", "linear", "canary"] as const;
export type DeployStrategy = (typeof DEPLOY_STRATEGIES)[number];

/** Environments whose name says production need a human's approval unless the file says otherwise. */
export const PRODUCTION_NAME = /prod/i;

const text = (expected: string, description: string) => expecting(z.string().trim().min(1).describe(description), expected);

// ECS names: letters, digits, hyphens, underscores, up to 255; cluster and service may also be ARNs.
const ecsName = (what: string) =>
  expecting(
    z
      .string()
      .regex(/^(?:[A-Za-z0-9_-]{1,255}|arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:[a-z-]+\/[A-Za-z0-9_/-]+)$/)
      .describe(`Name or ARN of the ECS ${what}.`),
    `an ECS ${what} name (letters, digits, - and _) or its ARN`,
  );

const containerName = (description: string) =>
  expecting(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,255}$/)
      .describe(description),
    "a container name from the task definition",
  );

const minutes = (max: number, description: string) =>
  expecting(z.int().min(1).max(max).describe(description), `a whole number of minutes from 1 to ${max}`);

const envVarName = expecting(
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .describe("Environment variable name."),
  "an environment variable name like DATABASE_POOL_SIZE",
);

const bakeMinutes = (description: string) =>
  expecting(z.int().min(0).max(1440).describe(description), "a whole number of minutes from 0 to 1440");

/** ECS takes percentages in steps of 0.1; 12.34 would be refused by UpdateService, so it is refused here. */
const tenths = (min: number, description: string) =>
  expecting(
    z
      .number()
      .min(min)
      .max(100)
      .refine((n) => Math.abs(n * 10 - Math.round(n * 10)) < 1e-9)
      .describe(description),
    `a percentage from ${min} to 100 in steps of 0.1`,
  );

export const CanaryConfigSchema = z
  .strictObject({
    percent: tenths(0.1, "Percentage of production traffic the new revision gets during the canary phase (ECS canaryPercent).").default(5),
    bakeMinutes: bakeMinutes("Minutes the canary phase lasts before the rest of the traffic shifts (ECS canaryBakeTimeInMinutes).").default(
      10,
    ),
  })
  .describe("Canary settings.");

export const LinearConfigSchema = z
  .strictObject({
    stepPercent: tenths(3, "Percentage of production traffic shifted at each step (ECS stepPercent).").default(10),
    stepBakeMinutes: bakeMinutes("Minutes between steps; not applied after the last (ECS stepBakeTimeInMinutes).").default(6),
  })
  .describe("Linear settings.");

const testHeaderName = expecting(
  z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,256}$/)
    .describe("Header name."),
  "an HTTP header name like x-amzn-ecs-blue-green-test",
);

export const SmokeConfigSchema = z
  .strictObject({
    baseUrl: expecting(
      z.url().describe("Where the service answers production traffic, e.g. https://staging.example.com."),
      "an http(s) URL like https://staging.example.com",
    ),
    testUrl: expecting(
      z.url().describe("The test listener's URL: reaches the new revision before production traffic does (blue-green, linear, canary)."),
      "an http(s) URL like https://staging.example.com:8443",
    ).optional(),
    testHeader: z
      .strictObject({
        name: testHeaderName.default("x-amzn-ecs-blue-green-test").describe("Header that routes a request to the new revision."),
        value: expecting(z.string().max(1024).describe("Header value."), "a string").default("true"),
      })
      .optional()
      .describe("Service Connect test traffic: a header (x-amzn-ecs-blue-green-test by default) that reaches the new revision."),
    checks: z.array(SmokeCheckSchema).min(1).describe("HTTP checks; a failure rolls back."),
  })
  .describe("Smoke checks.");

export const MigrationConfigSchema = z
  .strictObject({
    // .describe() clones, so it goes on before the phrase is attached to the schema raising the issues.
    command: expecting(
      z
        .array(text("a non-empty string", "One argument."))
        .min(1)
        .describe('Command run as a one-off task with the new task definition before the service update, e.g. ["npm", "run", "migrate"].'),
      'a list like ["npm", "run", "migrate"]',
    ),
    containerName: containerName("Container to run the command in; defaults to the environment's containerName.").optional(),
    timeoutMinutes: minutes(720, "Minutes the migration may run; past it the task is stopped and the deploy fails.").default(30),
  })
  .describe("One-off migration task run before the service update; a non-zero exit leaves the service untouched.");

export const OverridesConfigSchema = z
  .strictObject({
    environment: z
      .record(envVarName, expecting(z.string().describe("Value."), 'a string (quote numbers and booleans: "5", "true")'))
      .default({})
      .describe("Plain environment variables set on the container, merged over the task definition's. Secrets belong in its secrets."),
    cpu: expecting(z.int().min(128).max(196608).describe("Task CPU units (1024 = 1 vCPU)."), "a whole number of CPU units like 512")
      .optional()
      .describe("Task-level CPU units replacing the task definition's (1024 = 1 vCPU)."),
    memory: expecting(z.int().min(128).max(983040).describe("Task memory in MiB."), "a whole number of MiB like 1024")
      .optional()
      .describe("Task-level memory in MiB replacing the task definition's."),
  })
  .describe("Changes applied to the current task definition when the new revision is rendered.");

export const EnvironmentConfigSchema = z
  .strictObject({
    cluster: ecsName("cluster"),
    service: ecsName("service"),
    region: expecting(
      z
        .string()
        .regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/)
        .describe('AWS region of the cluster, e.g. "eu-west-1".'),
      'an AWS region like "eu-west-1"',
    ),
    containerName: containerName("Container in the service's task definition whose image is replaced by the deployed digest."),
    strategy: z
      .enum(DEPLOY_STRATEGIES)
      .default("rolling")
      .describe("ECS deployment strategy; blue-green, linear and canary need the service's load balancer set up for them."),
    requireApproval: z
      .boolean()
      .optional()
      .describe("Wait for a human's approval before deploying; defaults to true when the environment name contains 'prod'."),
    migration: MigrationConfigSchema.optional().describe("One-off migration task run before the service update."),
    overrides: OverridesConfigSchema.optional().describe("Changes applied to the task definition for this environment."),
    smoke: SmokeConfigSchema.optional().describe(
      "Smoke checks: on the test listener before production traffic (progressive strategies), and on baseUrl after the rollout; a failure rolls back.",
    ),
    analysis: AnalysisConfigSchema.optional().describe(
      "Metric analysis after the rollout and during the watch window; a breach or no data rolls back.",
    ),
    bakeTimeMinutes: bakeMinutes(
      "blue-green, linear and canary: minutes old and new revisions both run after production traffic has shifted (ECS bakeTimeInMinutes; required by ECS for blue-green).",
    ).default(15),
    canary: CanaryConfigSchema.prefault({}).describe(
      "canary strategy: the share of production traffic sent to the new revision first, and for how long.",
    ),
    linear: LinearConfigSchema.prefault({}).describe("linear strategy: equal production traffic steps and the wait after each."),
    promotion: z
      .enum(["auto", "manual"])
      .default("auto")
      .describe(
        "blue-green, linear and canary: auto lets Shipshape's smoke checks and analysis decide each gate; manual also waits at each gate for `promote` (or `abort`).",
      ),
    pauseTimeoutMinutes: expecting(
      z
        .int()
        .min(1)
        .max(20160)
        .describe(
          "Minutes each Shipshape PAUSE hook waits for a decision before ECS rolls the deployment back (fails safe if Shipshape dies).",
        ),
      "a whole number of minutes from 1 to 20160 (14 days)",
    ).default(60),
    alarms: z
      .array(expecting(z.string().min(1).max(255).describe("CloudWatch alarm name."), "a CloudWatch alarm name (1 to 255 characters)"))
      .default([])
      .describe("CloudWatch alarms whose ALARM state makes ECS roll the deployment back (ECS-native alarm rollback)."),
    progressDeadlineMinutes: minutes(1440, "Minutes the rollout may take before Shipshape rolls it back.").default(30),
    pollSeconds: expecting(
      z.int().min(5).max(300).describe("Seconds between status checks while watching a rollout."),
      "a whole number of seconds from 5 to 300",
    ).default(15),
    requires: z
      .array(
        expecting(
          z
            .string()
            .regex(/^[a-z][a-z0-9-]{0,39}$/)
            .describe("Environment name."),
          'an environment name like "staging"',
        ),
      )
      .default([])
      .describe(
        "Environments a digest must have succeeded in (per the audit trail), and that must pass their smoke checks just before, for a deploy here to go ahead.",
      ),
    steppedCanary: SteppedCanaryConfigSchema.optional().describe(
      "Stepped canary through ALB listener-rule weights (e.g. 5 → 20 → 50 → 100 with pauses); when set, deploys use it, with strategy: rolling.",
    ),
  })
  // The stepped canary promotes the main service with a rolling update; ECS-native traffic shifting would fight its weights.
  .refine((env) => !env.steppedCanary || env.strategy === "rolling", {
    message: "steppedCanary drives the load balancer's weights itself: set strategy: rolling (or remove steppedCanary)",
    path: ["strategy"],
  })
  .describe("One deploy target: an ECS service and how to roll out to it.");

const environmentName = expecting(
  z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/)
    .describe("Environment name."),
  'a lower-case environment name like "staging" or "prod-eu" (letters, digits, -)',
);

export const EnvironmentsConfigSchema = z
  .record(environmentName, EnvironmentConfigSchema)
  // requires names siblings with smoke checks, without a cycle (src/guards/config.ts).
  .superRefine(checkRequires)
  .default({})
  // The approval default depends on the key, which a per-field default cannot see.
  .transform((envs) =>
    Object.fromEntries(
      Object.entries(envs).map(([name, env]) => [name, { ...env, requireApproval: env.requireApproval ?? PRODUCTION_NAME.test(name) }]),
    ),
  )
  .describe("Deploy targets by environment name.");

export type EnvironmentsConfig = z.output<typeof EnvironmentsConfigSchema>;
export type EnvironmentConfig = EnvironmentsConfig[string];
export type MigrationConfig = z.output<typeof MigrationConfigSchema>;
export type OverridesConfig = z.output<typeof OverridesConfigSchema>;
export type SmokeConfig = z.output<typeof SmokeConfigSchema>;
export type Promotion = EnvironmentConfig["promotion"];
