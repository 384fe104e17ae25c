/**
 * The `environments:` section of shipshape.yaml (to be added to ShipshapeConfigSchema as an
 * optional key): where each environment's ECS service lives and how to roll out to it. Strict
 * like every other section, so a typo is an error rather than a silently ignored setting.
 */
import { AnalysisConfigSchema } from "./analysis-config.js";
import { SmokeCheckSchema } from "./smoke.js";
import { z } from "zod";
import { expecting } from "../config/errors.js";

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
    smoke: z
      .strictObject({
        baseUrl: expecting(
          z.url().describe("Where the new revision answers, e.g. https://staging.example.com."),
          "an http(s) URL like https://staging.example.com",
        ),
        checks: z.array(SmokeCheckSchema).min(1).describe("HTTP checks run once the rollout succeeded; a failure rolls back."),
      })
      .optional()
      .describe("Smoke checks after the rollout; any failure rolls the service back."),
    analysis: AnalysisConfigSchema.optional().describe(
      "Metric analysis after the rollout and during the watch window; a breach or no data rolls back.",
    ),
    progressDeadlineMinutes: minutes(1440, "Minutes the rollout may take before Shipshape rolls it back.").default(30),
    pollSeconds: expecting(
      z.int().min(5).max(300).describe("Seconds between status checks while watching a rollout."),
      "a whole number of seconds from 5 to 300",
    ).default(15),
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
