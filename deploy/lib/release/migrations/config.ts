/**
 * The `migrations:` section of shipshape.yaml (to be added to ShipshapeConfigSchema with
 * `.prefault({})`). Strict and fully defaulted like every other section.
 */
import { z } from "zod";
import { expecting } from "../../config/errors.js";
import { EXCLUDABLE_RULES, MIGRATION_SEVERITIES } from "./severity.js";

/**
 * Where the usual Node-world tools keep plain SQL migrations. knex and TypeORM write JS/TS
 * migrations (nothing for squawk to read), so they are not listed; node-pg-migrate's SQL files
 * and golang-migrate/dbmate live under migrations/ or db/migrations/.
 */
export const DEFAULT_MIGRATION_PATHS = [
  "migrations/**/*.sql",
  "db/migrations/**/*.sql",
  "prisma/migrations/*/migration.sql",
  "drizzle/**/*.sql",
  "supabase/migrations/*.sql",
  "src/migrations/**/*.sql",
];

const glob = expecting(
  z
    .string()
    .regex(/^!?[^/\\!]/)
    .describe("Glob relative to the repository root; a leading ! excludes matches."),
  'a glob relative to the repository root, like "db/migrations/**/*.sql" (a leading ! excludes)',
);

export const MigrationsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Run the migrations safety gate; false skips it."),
    paths: expecting(z.array(glob).min(1), "a list of at least one glob (set enabled: false to skip the gate)")
      .default(() => [...DEFAULT_MIGRATION_PATHS]) // a copy: callers may mutate the parsed config
      .describe("Globs of the SQL migration files to check, relative to the repository root."),
    pgVersion: expecting(
      z
        .string()
        .regex(/^\d+(\.\d+)?$/)
        .describe('Postgres version the migrations run on, e.g. "16" or "13.4"; passed to squawk --pg-version.'),
      'a quoted Postgres version like "16" or "13.4"',
    ).optional(),
    assumeInTransaction: z
      .boolean()
      .default(false)
      .describe("The migration tool wraps each file in a transaction (squawk --assume-in-transaction)."),
    excludeRules: z
      .array(
        expecting(
          z.enum(EXCLUDABLE_RULES as [string, ...string[]]).describe("A squawk rule name or a shipshape/ rule."),
          'a squawk rule name like "prefer-robust-stmts" (https://squawkhq.com/docs/rules) or shipshape/truncate, shipshape/drop-schema, shipshape/drop-constraint',
        ),
      )
      .default([])
      .describe("Rules not to report; syntax errors and unreadable files are always reported."),
    failOn: z
      .enum(MIGRATION_SEVERITIES)
      .default("high")
      .describe("Lowest severity that fails the gate; destructive changes fail regardless unless approved."),
  })
  .describe("Migrations gate: lints SQL migrations with squawk and blocks unsafe or destructive changes.");

export type MigrationsConfig = z.infer<typeof MigrationsConfigSchema>;
