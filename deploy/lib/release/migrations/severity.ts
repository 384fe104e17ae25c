/**
 * Severity, destructiveness and expand/contract guidance per rule. Squawk marks every finding a
 * "Warning" (only parse errors are "Error"), so the ranking here is ours: what a DBA reviewing a
 * deploy would stop for. Data loss is critical; breaking running app versions is high; taking a
 * lock that can stall traffic is medium; robustness and style is low.
 */

export const MIGRATION_SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type MigrationSeverity = (typeof MIGRATION_SEVERITIES)[number];

export function severityRank(s: MigrationSeverity): number {
  return MIGRATION_SEVERITIES.indexOf(s);
}

export interface RulePolicy {
  severity: MigrationSeverity;
  /** Loses data or breaks the app version still running during the deploy; needs the approval label. */
  destructive: boolean;
  /** The safe way to ship the same change. */
  guidance: string;
}

const policy = (severity: MigrationSeverity, guidance: string, destructive = false): RulePolicy => ({
  severity,
  destructive,
  guidance,
});

const TIMEOUTS = "SET lock_timeout (e.g. '2s') and statement_timeout before it, and retry the migration when it times out";

/** Squawk's own rules (2.66.0), by the name it emits. */
export const SQUAWK_RULES = {
  "ban-drop-table": policy(
    "critical",
    "stop all reads and writes of the table in one release, back it up, drop it in a later release",
    true,
  ),
  "ban-drop-column": policy(
    "critical",
    "stop reading and writing the column in one release (drop it from the ORM model), drop it in a later release",
    true,
  ),
  "ban-drop-database": policy("critical", "never drop a database from a migration; do it by hand after a backup", true),
  "ban-truncate-cascade": policy("critical", "name every table to empty, without CASCADE, after a backup; or delete in batches", true),
  "changing-column-type": policy(
    "high",
    "add a column of the new type, dual-write, backfill in batches, switch reads, drop the old column in a later release",
    true,
  ),
  "renaming-column": policy("high", "add the new column, dual-write, backfill, switch reads, drop the old one in a later release", true),
  "renaming-table": policy(
    "high",
    "create the new table (or a view under the new name), dual-write, backfill, switch reads, drop the old one in a later release",
    true,
  ),
  // These fail the deploy itself rather than hurt the data, so high but not destructive.
  "ban-concurrent-index-creation-in-transaction": policy(
    "high",
    "run CREATE INDEX CONCURRENTLY in its own migration without a transaction (disable the tool's wrapping transaction)",
  ),
  "ban-uncommitted-transaction": policy("high", "COMMIT every BEGIN in the same file"),
  "ban-duplicate-column-assignments": policy("high", "assign each column once; Postgres rejects the statement"),
  "adding-not-nullable-field": policy(
    "medium",
    "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later transaction, then SET NOT NULL (Postgres 12+ skips the scan)",
  ),
  "adding-required-field": policy(
    "medium",
    "add the column nullable (or with a constant DEFAULT), backfill, then enforce NOT NULL with a validated CHECK",
  ),
  "adding-field-with-default": policy(
    "medium",
    "add the column without the volatile default, set the default separately, backfill in batches",
  ),
  "adding-foreign-key-constraint": policy("medium", "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a separate transaction"),
  "constraint-missing-not-valid": policy("medium", "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a separate transaction"),
  "disallowed-unique-constraint": policy("medium", "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX"),
  "adding-serial-primary-key-field": policy("medium", "CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX"),
  "require-concurrent-index-creation": policy("medium", "CREATE INDEX CONCURRENTLY (outside a transaction)"),
  "require-concurrent-index-deletion": policy("medium", "DROP INDEX CONCURRENTLY (outside a transaction)"),
  "require-concurrent-partition-detach": policy("medium", "DETACH PARTITION ... CONCURRENTLY (Postgres 14+)"),
  "require-concurrent-reindex": policy("medium", "REINDEX ... CONCURRENTLY (Postgres 12+)"),
  "ban-alter-domain-with-add-constraint": policy("medium", "add the CHECK on the columns as NOT VALID constraints, then VALIDATE"),
  "transaction-nesting": policy("medium", "drop BEGIN/COMMIT from the file: the migration tool already wraps it in a transaction"),
  // A lock waiting without a timeout queues every later query on the table behind it: an outage.
  "require-lock-timeout": policy("medium", TIMEOUTS),
  "require-statement-timeout": policy("low", TIMEOUTS),
  // Named prefer-*, but VACUUM FULL / CLUSTER hold ACCESS EXCLUSIVE for the whole rewrite.
  "prefer-repack": policy("medium", "use pg_repack (or pg_squeeze) to rewrite the table online"),
  "ban-drop-not-null": policy("low", "make sure every client handles NULL in the column before dropping NOT NULL"),
  "ban-create-domain-with-constraint": policy("low", "put the CHECK on the columns instead of the domain"),
  "ban-char-field": policy("low", "use text (with a CHECK on length if needed)"),
  "prefer-bigint-over-int": policy("low", "use bigint"),
  "prefer-bigint-over-smallint": policy("low", "use bigint"),
  "prefer-identity": policy("low", "use bigint GENERATED ALWAYS AS IDENTITY"),
  "prefer-robust-stmts": policy("low", "use IF [NOT] EXISTS (or a transaction) so a half-applied migration can be rerun"),
  "prefer-text-field": policy("low", "use text with a CHECK on length"),
  "prefer-timestamp-tz": policy("low", "use timestamptz"),
  "require-enum-value-ordering": policy("low", "say BEFORE or AFTER in ADD VALUE"),
  "require-table-schema": policy("low", "qualify the table with its schema"),
  "identifier-too-long": policy("low", "keep identifiers within 63 bytes: Postgres truncates longer ones silently"),
  "unused-ignore": policy("low", "remove the squawk-ignore comment"),
} satisfies Record<string, RulePolicy>;

/** Checks squawk lacks, found by findings.ts. Named apart so they never reach squawk's --exclude. */
export const SHIPSHAPE_RULES = {
  // Squawk flags only TRUNCATE ... CASCADE; a plain TRUNCATE (with timeouts set) gives no finding.
  "shipshape/truncate": policy(
    "critical",
    "delete rows in batches in a later release, after a backup; never empty a live table in a deploy",
    true,
  ),
  // Squawk's rules see DROP SCHEMA ... CASCADE not at all, though it drops every table in it.
  "shipshape/drop-schema": policy("critical", "move or drop the tables one by one in later releases, after a backup", true),
  // Squawk reports nothing for DROP CONSTRAINT once timeouts are set.
  "shipshape/drop-constraint": policy(
    "medium",
    "check no code relies on it (ON CONFLICT targets, FK cascades, uniqueness); drop a unique/PK constraint only after a replacement index exists",
  ),
} satisfies Record<string, RulePolicy>;

/** Findings saying the file was NOT checked: they always fail, whatever failOn and approvals say. */
export const UNCHECKED_RULES = {
  "syntax-error": policy("critical", "fix the SQL: squawk parses with Postgres' grammar and checked nothing else in this file"),
  "shipshape/not-utf8": policy("high", "re-save the file as UTF-8; squawk reads only UTF-8, so it was not checked"),
} satisfies Record<string, RulePolicy>;

export type ShipshapeRule = keyof typeof SHIPSHAPE_RULES;

/** Names squawk accepts in --exclude: its rules minus the two it refuses, plus its aliases. */
export const SQUAWK_EXCLUDABLE = [
  ...Object.keys(SQUAWK_RULES).filter((r) => r !== "unused-ignore"),
  "prefer-timestamptz",
  "require-timeout-settings",
] as const;

/** Everything migrations.excludeRules may name (squawk refuses unknown names with exit 2). */
export const EXCLUDABLE_RULES: readonly string[] = [...SQUAWK_EXCLUDABLE, ...Object.keys(SHIPSHAPE_RULES)];

const TABLE: Record<string, RulePolicy> = { ...SQUAWK_RULES, ...SHIPSHAPE_RULES, ...UNCHECKED_RULES };

/** A rule squawk adds after 2.66.0 lands as medium: worth a look, not blocking by default. */
export function rulePolicy(rule: string, help: string | null = null): RulePolicy {
  return TABLE[rule] ?? policy("medium", help ?? "see https://squawkhq.com/docs/rules");
}

export function isUnchecked(rule: string): boolean {
  return Object.hasOwn(UNCHECKED_RULES, rule);
}
