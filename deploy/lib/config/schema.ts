/**
 * The shape of shipshape.yaml. These zod schemas are the only definition of the config: the
 * TypeScript types are inferred from them and schema/shipshape.schema.json is generated from them.
 *
 * Every object is strict so a typo is an error instead of a silently ignored setting, and every
 * key is optional with a default so an absent file means "the recommended pipeline". New
 * sections (build, scan, sbom, release, environments) are added as new optional keys of
 * ShipshapeConfigSchema with `.prefault({})`.
 */
import { z } from "zod";
import { TOOL_NAMES, type ToolName } from "../images.js";
import { CommitsConfigSchema } from "../release/commits/config.js";
import { MigrationsConfigSchema } from "../release/migrations/config.js";
import { LicensesConfigSchema, SbomConfigSchema, ScanConfigSchema, SecretsConfigSchema } from "../supply/config.js";
import { PublishConfigSchema } from "../supply/publish/tags.js";
import { SastConfigSchema } from "../supply/sast/config.js";
import { EnvironmentsConfigSchema } from "../deploy/config.js";
import { NotificationsConfigSchema } from "../notify/config.js";
import { LighthouseConfigSchema } from "../gates/lighthouse/config.js";
import { AuditConfigSchema } from "../trail/config.js";
import { checkFreezeEnvironments } from "../guards/config.js";
import { FreezesConfigSchema } from "../guards/freeze-config.js";
import { expecting } from "./errors.js";

// --- field builders: each pairs a constraint with the words its error message uses ---------

const intRange = (min: number, max: number) => expecting(z.int().min(min).max(max), `a whole number from ${min} to ${max}`);

const percent = (description: string) => expecting(z.number().min(0).max(100).describe(description), "a number from 0 to 100");

/** `description` goes on before the phrase is attached: .describe() clones, and the clone raises the issues. */
const pattern = (regex: RegExp, expected: string, description?: string, required?: string) => {
  const schema = z.string().regex(regex);
  return expecting(description === undefined ? schema : schema.describe(description), expected, required);
};

/** Paths are resolved inside the checked-out repo; absolute ones or `..` would reach outside it. */
const relativePath = (example: string) =>
  pattern(/^(?![/\\])(?!.*(?:^|[/\\])\.\.(?:[/\\]|$)).+$/, `a path relative to the repository root, like "${example}"`);

const enabled = (what: string) => z.boolean().default(true).describe(`Run ${what}; false skips it.`);

// --- node, package manager, images ---------------------------------------------------------

export const NodeConfigSchema = z
  .strictObject({
    // A string, not a number: YAML reads `20.10` as 20.1.
    version: pattern(/^\d+(\.\d+){0,2}$/, 'a quoted Node.js version like "22" or "22.11.0"')
      .optional()
      .describe('Node.js version to build and test with, e.g. "22" or "22.11.0"; unset reads .nvmrc or engines.node.'),
    systemPackages: z
      .array(pattern(/^[a-z0-9][a-z0-9+._-]*$/, 'an OS package name like "git" or "python3"', "Name of an OS package."))
      .default([])
      .describe(
        "OS packages installed (apk on alpine images, apt-get otherwise) before dependencies, e.g. git, or python3 make g++ for native addons.",
      ),
  })
  .describe("Node.js runtime settings.");

export const PackageManagerSchema = z
  .enum(["auto", "npm", "pnpm", "yarn"])
  .default("auto")
  .describe("Package manager to install with; auto picks it from the lockfile and packageManager field.");

export const ImageOverrideSchema = z
  .strictObject({
    tag: pattern(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'an image tag like "22-alpine"')
      .optional()
      .describe('Image tag to use instead of the built-in one, e.g. "22-alpine".'),
    digest: pattern(/^sha256:[a-f0-9]{64}$/, "a digest like sha256:<64 lowercase hex chars>")
      .optional()
      .describe("Content digest (sha256:<64 hex>) to pin the image to, so a re-pushed tag cannot change it."),
  })
  .describe("Override of one tool image's tag and/or digest.");

// Built from TOOL_NAMES so a new tool image is configurable without touching this file.
const imageShape = Object.fromEntries(
  TOOL_NAMES.map((name) => [name, ImageOverrideSchema.optional().describe(`Override for the ${name} image.`)]),
) as Record<ToolName, z.ZodOptional<typeof ImageOverrideSchema>>;

export const ImagesConfigSchema = z.strictObject(imageShape).describe("Per-tool container image overrides, keyed by tool name.");

// --- gates ---------------------------------------------------------------------------------

export const GateLintSchema = z
  .strictObject({
    enabled: enabled("the lint gate (ESLint)"),
    maxWarnings: expecting(z.int().min(-1), "a whole number of allowed warnings, 0 or more (-1 for unlimited)")
      .default(0)
      .describe("Most ESLint warnings allowed before the gate fails; -1 means unlimited."),
    prettier: z.boolean().default(true).describe("Also check formatting with prettier --check."),
  })
  .describe("Lint gate: ESLint, optionally Prettier.");

export const GateTypecheckSchema = z
  .strictObject({
    enabled: enabled("the typecheck gate (tsc --noEmit)"),
    project: relativePath("tsconfig.json")
      .default("tsconfig.json")
      .describe("tsconfig file passed to tsc -p, relative to the repository root."),
  })
  .describe("Typecheck gate: tsc --noEmit.");

// Secrets belong in Dagger Secrets, which are never logged or cached; these names almost always hold one.
const CREDENTIAL_WORDS = ["TOKEN", "PASSWORD", "SECRET", "PRIVATE_KEY", "ACCESS_KEY", "API_KEY", "CREDENTIAL"];

const EnvNameSchema = expecting(
  z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/)
    // A regex rather than a refine so editors flag it from the JSON Schema too.
    .regex(new RegExp(`^(?!.*(?:${CREDENTIAL_WORDS.join("|")}))`), {
      error: "looks like a credential; pass it as a Dagger Secret instead of a plain-text env value",
    }),
  "an environment variable name in UPPER_SNAKE_CASE",
);

export const GateTestSchema = z
  .strictObject({
    enabled: enabled("the test gate"),
    script: pattern(/^\S+$/, 'an npm script name like "test" or "test:ci"')
      .default("test")
      .describe("package.json script that runs the tests."),
    timeoutMinutes: intRange(1, 360).default(30).describe("Minutes the test run may take before it is stopped."),
    env: z
      // Values must be strings: YAML would turn `1.10` into 1.1 and `010` into 10.
      .record(EnvNameSchema, expecting(z.string().describe("Value of the variable."), 'a string (quote numbers and booleans, e.g. "5432")'))
      .default({})
      .describe("Non-secret environment variables for the test run; pass secrets as Dagger Secrets."),
    junit: relativePath("reports/junit.xml")
      .optional()
      .describe("Where the test runner writes its JUnit XML report, when Shipshape cannot add the flag itself."),
    lcov: relativePath("coverage/lcov.info")
      .optional()
      .describe("Where the test runner writes its lcov coverage report, when Shipshape cannot add the flag itself."),
  })
  .describe("Test gate: runs the project's test script, with Postgres when database.enabled.");

export const AuditIgnoreEntrySchema = z
  .strictObject({
    id: pattern(
      /^(GHSA(-[a-z0-9]{4}){3}|CVE-\d{4}-\d{4,})$/,
      "an advisory ID like GHSA-xxxx-xxxx-xxxx or CVE-2024-12345",
      "Advisory to ignore: a GHSA-xxxx-xxxx-xxxx or CVE-YYYY-NNNN ID.",
      "give the advisory ID (GHSA-... or CVE-...) to ignore",
    ),
    // Required so every accepted risk is explained where reviewers will see it.
    reason: pattern(
      /\S/,
      "a non-empty reason",
      "Why this advisory is accepted (e.g. the vulnerable code path is unused); required.",
      "say why this advisory is accepted",
    ),
    expires: expecting(
      z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/)
        .refine((text) => !/^\d{4}-\d{2}-\d{2}$/.test(text) || isCalendarDate(text)), // the regex reports bad formats
      "a real calendar date as YYYY-MM-DD",
    )
      .optional()
      .describe("Date (YYYY-MM-DD) after which the ignore lapses, so accepted risks get revisited."),
  })
  .describe("One accepted advisory.");

/** Rejects dates like 2026-02-30, which Date would silently roll over into March. */
function isCalendarDate(text: string): boolean {
  const [year = 0, month = 0, day = 0] = text.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export const GateAuditSchema = z
  .strictObject({
    enabled: enabled("the dependency audit gate"),
    level: z.enum(["low", "moderate", "high", "critical"]).default("high").describe("Lowest advisory severity that fails the gate."),
    production: z.boolean().default(true).describe("Audit only production dependencies, not devDependencies."),
    ignore: z.array(AuditIgnoreEntrySchema).default([]).describe("Advisories accepted on purpose, each with a reason."),
  })
  .describe("Audit gate: known vulnerabilities in dependencies.");

export const GatesConfigSchema = z
  .strictObject({
    lint: GateLintSchema.prefault({}),
    typecheck: GateTypecheckSchema.prefault({}),
    test: GateTestSchema.prefault({}),
    audit: GateAuditSchema.prefault({}),
  })
  .describe("Quality gates; each runs unless enabled: false.");

// --- database, coverage --------------------------------------------------------------------

export const DatabaseConfigSchema = z
  .strictObject({
    enabled: enabled("a Postgres service for the tests"),
    version: pattern(/^\d+(\.\d+)?$/, 'a quoted Postgres version like "16" or "16.4"')
      .default("16")
      .describe('Postgres version; the image tag is "<version>-alpine" unless images.postgres.tag is set.'),
    name: expecting(
      z
        .string()
        .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
        .max(63), // Postgres truncates identifiers past 63 bytes
      "a database name of letters, digits and _ (not starting with a digit, at most 63)",
    )
      .default("app_test")
      .describe("Name of the database created for the tests."),
    readyTimeoutSeconds: intRange(5, 600).default(60).describe("Seconds to wait for Postgres to accept connections."),
  })
  .describe("Postgres service the tests can reach (DATABASE_URL).");

const METRICS = ["lines", "branches", "functions", "statements"] as const;
const metric = (name: string) => percent(`Minimum ${name} coverage, in percent.`);

export const CoverageThresholdsSchema = expecting(
  z
    .strictObject({
      lines: metric("line").optional(),
      branches: metric("branch").optional(),
      functions: metric("function").optional(),
      statements: metric("statement").optional(),
    })
    // An empty entry would look like a requirement while checking nothing.
    .refine((t) => METRICS.some((m) => t[m] !== undefined))
    .meta({ minProperties: 1, description: "Coverage minimums, in percent; at least one metric." }),
  `at least one of ${METRICS.join(", ")}`,
);

export const GlobalCoverageSchema = z
  .strictObject({
    lines: metric("line").default(75),
    branches: metric("branch").optional(),
    functions: metric("function").optional(),
    statements: metric("statement").optional(),
  })
  .describe("Coverage minimums for the whole project, in percent.");

export const CoverageConfigSchema = z
  .strictObject({
    global: GlobalCoverageSchema.prefault({}),
    paths: z
      .record(expecting(z.string().min(1), "a non-empty glob"), CoverageThresholdsSchema)
      .default({})
      .describe('Stricter or looser minimums for files matching a glob, e.g. "src/billing/**".'),
  })
  .describe("Test coverage thresholds.");

// --- root ----------------------------------------------------------------------------------

export const ShipshapeConfigSchema = z
  .strictObject({
    version: z.literal(1).default(1).describe("Config format version; always 1 for now."),
    node: NodeConfigSchema.prefault({}),
    packageManager: PackageManagerSchema,
    images: ImagesConfigSchema.prefault({}),
    gates: GatesConfigSchema.prefault({}),
    database: DatabaseConfigSchema.prefault({}),
    coverage: CoverageConfigSchema.prefault({}),
    migrations: MigrationsConfigSchema.prefault({}),
    commits: CommitsConfigSchema.prefault({}),
    scan: ScanConfigSchema.prefault({}),
    sbom: SbomConfigSchema.prefault({}),
    licenses: LicensesConfigSchema.prefault({}),
    secrets: SecretsConfigSchema.prefault({}),
    sast: SastConfigSchema.prefault({}),
    publish: PublishConfigSchema.prefault({}),
    environments: EnvironmentsConfigSchema.prefault({}),
    auditTrail: AuditConfigSchema.prefault({}),
    notifications: NotificationsConfigSchema.prefault({}),
    lighthouse: LighthouseConfigSchema.prefault({}),
    freezes: FreezesConfigSchema,
  })
  // A freeze names environments of this file (src/guards/config.ts).
  .superRefine(checkFreezeEnvironments)
  .meta({
    title: "Shipshape configuration",
    description: "Settings for the Shipshape CI/CD pipeline (shipshape.yaml at the repository root).",
  });

export type ShipshapeConfig = z.infer<typeof ShipshapeConfigSchema>;
/** What may be written in shipshape.yaml: every key optional. */
export type ShipshapeConfigInput = z.input<typeof ShipshapeConfigSchema>;
export type NodeConfig = z.infer<typeof NodeConfigSchema>;
export type PackageManager = z.infer<typeof PackageManagerSchema>;
export type ImageOverride = z.infer<typeof ImageOverrideSchema>;
export type ImagesConfig = z.infer<typeof ImagesConfigSchema>;
export type GateLintConfig = z.infer<typeof GateLintSchema>;
export type GateTypecheckConfig = z.infer<typeof GateTypecheckSchema>;
export type GateTestConfig = z.infer<typeof GateTestSchema>;
export type AuditIgnoreEntry = z.infer<typeof AuditIgnoreEntrySchema>;
export type GateAuditConfig = z.infer<typeof GateAuditSchema>;
export type AuditLevel = GateAuditConfig["level"];
export type GatesConfig = z.infer<typeof GatesConfigSchema>;
export type DatabaseConfig = z.infer<typeof DatabaseConfigSchema>;
export type CoverageThresholds = z.infer<typeof CoverageThresholdsSchema>;
export type GlobalCoverageThresholds = z.infer<typeof GlobalCoverageSchema>;
export type CoverageConfig = z.infer<typeof CoverageConfigSchema>;

/** The config an absent or empty shipshape.yaml means. */
export const DEFAULT_CONFIG: ShipshapeConfig = ShipshapeConfigSchema.parse({});
