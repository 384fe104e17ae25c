/**
 * The real squawk 2.66.0 binary on every fixture, through the exact argv squawkCommand builds,
 * then findings and verdict: what the gate will do in its container.
 */
import { spawnSync } from "node:child_process";
import { SQUAWK_BIN } from "../../helpers/tools.js";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { MigrationsConfigSchema, type MigrationsConfig } from "../../../deploy/lib/release/migrations/config.js";
import { selectMigrations } from "../../../lib/release/migrations/discover.js";
import { collectFindings, type MigrationFinding } from "../../../lib/release/migrations/findings.js";
import { judgeMigrations, type JudgeOptions, type MigrationsVerdict } from "../../../lib/release/migrations/judge.js";
import { readMigrationSource, type MigrationSource } from "../../../lib/release/migrations/source.js";
import { parseSquawkJson, squawkCommand } from "../../../lib/release/migrations/squawk.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const FIXTURES = join(ROOT, "test/fixtures/migrations");
const SQUAWK = [SQUAWK_BIN];

const config = (over: Partial<MigrationsConfig> = {}): MigrationsConfig => ({ ...MigrationsConfigSchema.parse({}), ...over });

/** The gate's pipeline on the host: read, squawk the readable files, collect, judge. */
function check(files: string[], cfg = config(), judge: Partial<JudgeOptions> = {}, cwd = FIXTURES): MigrationsVerdict & { argv: string[] } {
  const sources = files.map((f) => readMigrationSource(f, readFileSync(join(cwd, f))));
  const sql = sources.filter((s) => s.kind === "sql").map((s) => s.file);
  let violations: ReturnType<typeof parseSquawkJson> = [];
  let argv: string[] = [];
  if (sql.length > 0) {
    argv = squawkCommand(sql, cfg, { bin: SQUAWK });
    const [bin = "", ...args] = argv;
    const run = spawnSync(bin, args, { cwd, encoding: "utf8" });
    // exit 1 with findings, 0 without: the status is never the verdict
    expect([0, 1]).toContain(run.status);
    violations = parseSquawkJson(run.stdout, run.stderr);
  }
  const { findings, skipped } = collectFindings(sources, violations, cfg.excludeRules);
  const verdict = judgeMigrations(findings, { failOn: cfg.failOn, approvedDestructive: false, files, skipped, ...judge });
  return { ...verdict, argv };
}

const pick = (f: MigrationFinding) => ({ rule: f.rule, severity: f.severity, destructive: f.destructive, line: f.line, column: f.column });

describe("one fixture per row of the severity table", () => {
  // line/column 1-based in characters; squawk's raw 0-based byte positions noted where they differ.
  const rows: [file: string, expected: ReturnType<typeof pick>[], statement: string, guidance: RegExp, status: "passed" | "failed"][] = [
    [
      "unsafe/01_drop_table.sql",
      [{ rule: "ban-drop-table", severity: "critical", destructive: true, line: 5, column: 1 }],
      "DROP TABLE IF EXISTS legacy_sessions;",
      /drop it in a later release/,
      "failed",
    ],
    [
      "unsafe/02_drop_column.sql",
      [{ rule: "ban-drop-column", severity: "critical", destructive: true, line: 5, column: 3 }],
      "ALTER TABLE users\n  DROP COLUMN IF EXISTS nickname;",
      /stop reading and writing the column/,
      "failed",
    ],
    // squawk reports nothing for a plain TRUNCATE: our own check
    [
      "unsafe/03_truncate.sql",
      [{ rule: "shipshape/truncate", severity: "critical", destructive: true, line: 5, column: 1 }],
      "TRUNCATE audit_log;",
      /batches/,
      "failed",
    ],
    [
      "unsafe/04_truncate_cascade.sql",
      [
        { rule: "shipshape/truncate", severity: "critical", destructive: true, line: 4, column: 1 },
        { rule: "ban-truncate-cascade", severity: "critical", destructive: true, line: 4, column: 17 },
      ],
      "TRUNCATE orders CASCADE;",
      /batches/,
      "failed",
    ],
    [
      "unsafe/05_alter_column_type.sql",
      [{ rule: "changing-column-type", severity: "high", destructive: true, line: 5, column: 42 }],
      "ALTER TABLE invoices ALTER COLUMN amount TYPE numeric(12, 2);",
      /add a column of the new type, dual-write, backfill/,
      "failed",
    ],
    [
      "unsafe/06_rename_column.sql",
      [{ rule: "renaming-column", severity: "high", destructive: true, line: 5, column: 19 }],
      "ALTER TABLE users RENAME COLUMN email TO email_address;",
      /^add the new column, dual-write, backfill, switch reads, drop the old one in a later release$/,
      "failed",
    ],
    [
      "unsafe/07_rename_table.sql",
      [{ rule: "renaming-table", severity: "high", destructive: true, line: 5, column: 23 }],
      "ALTER TABLE customers RENAME TO accounts;",
      /view under the new name/,
      "failed",
    ],
    [
      "unsafe/08_set_not_null.sql",
      [{ rule: "adding-not-nullable-field", severity: "medium", destructive: false, line: 5, column: 38 }],
      "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
      /CHECK \(col IS NOT NULL\) NOT VALID/,
      "passed",
    ],
    // squawk reports nothing for DROP CONSTRAINT once timeouts are set: our own check
    [
      "unsafe/09_drop_constraint.sql",
      [{ rule: "shipshape/drop-constraint", severity: "medium", destructive: false, line: 4, column: 20 }],
      "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_id_fkey;",
      /replacement index/,
      "passed",
    ],
    [
      "unsafe/10_create_index.sql",
      [{ rule: "require-concurrent-index-creation", severity: "medium", destructive: false, line: 4, column: 1 }],
      "CREATE INDEX IF NOT EXISTS orders_created_at_idx ON orders (created_at);",
      /CONCURRENTLY/,
      "passed",
    ],
    [
      "unsafe/11_add_foreign_key.sql",
      [
        { rule: "constraint-missing-not-valid", severity: "medium", destructive: false, line: 6, column: 3 },
        { rule: "adding-foreign-key-constraint", severity: "medium", destructive: false, line: 6, column: 7 },
      ],
      "ALTER TABLE orders\n  ADD CONSTRAINT orders_customer_id_fkey\n  FOREIGN KEY (customer_id) REFERENCES customers (id);",
      /NOT VALID, then VALIDATE CONSTRAINT/,
      "passed",
    ],
    [
      "unsafe/12_missing_lock_timeout.sql",
      [
        { rule: "require-lock-timeout", severity: "medium", destructive: false, line: 1, column: 1 },
        { rule: "require-statement-timeout", severity: "low", destructive: false, line: 1, column: 1 },
      ],
      "ALTER TABLE users ADD COLUMN IF NOT EXISTS last_seen_at timestamptz;",
      /SET lock_timeout/,
      "passed",
    ],
    // squawk has no rule for DROP SCHEMA at all, CASCADE or not
    [
      "unsafe/13_drop_schema.sql",
      [{ rule: "shipshape/drop-schema", severity: "critical", destructive: true, line: 4, column: 1 }],
      "DROP SCHEMA IF EXISTS reporting CASCADE;",
      /one by one/,
      "failed",
    ],
  ];

  it.each(rows)("%s", (file, expected, statement, guidance, status) => {
    const v = check([file]);
    expect(v.findings.map(pick)).toEqual(expected);
    for (const f of v.findings) {
      expect(f.file).toBe(file);
      expect(f.statement).toBe(statement);
    }
    expect(v.findings[0]?.guidance).toMatch(guidance);
    expect(v.status).toBe(status);
  });

  it("medium findings block once failOn is medium", () => {
    const v = check(["unsafe/08_set_not_null.sql", "unsafe/09_drop_constraint.sql"], config({ failOn: "medium" }));
    expect(v.status).toBe("failed");
    expect(v.blocking.map((f) => f.rule)).toEqual(["adding-not-nullable-field", "shipshape/drop-constraint"]);
    expect(v.cause).toBe(
      "2 migration findings at or above medium, first adding-not-nullable-field at unsafe/08_set_not_null.sql:5 (2 migrations checked: 2 medium)",
    );
  });

  it("locates findings in character columns and slices statements past comments, strings and dollar quotes", () => {
    const v = check(["unsafe/14_several_statements.sql"]);
    // squawk: line 7 (0-based), byte 40; « and » are two bytes each
    expect(v.findings.map(pick)).toEqual([
      { rule: "ban-drop-column", severity: "critical", destructive: true, line: 8, column: 39 },
      { rule: "shipshape/truncate", severity: "critical", destructive: true, line: 9, column: 62 },
    ]);
    expect(v.findings.map((f) => f.statement)).toEqual(["ALTER TABLE menu_items DROP COLUMN IF EXISTS price_eur;", "TRUNCATE menu_cache;"]);
    expect(v.findings[0]).toMatchObject({ endLine: 8, endColumn: 70 });
  });
});

describe("verdicts", () => {
  it("safe expand-style migrations pass clean", () => {
    const files = ["safe/01_add_nullable_column_and_index.sql", "safe/02_foreign_key_not_valid.sql", "safe/03_not_null_via_check.sql"];
    const v = check(files);
    expect(v.findings).toEqual([]);
    expect(v).toMatchObject({ status: "passed", cause: "3 migrations checked: no findings", hint: "" });
  });

  it("a migration that does not parse fails with file, line and the parser's message", () => {
    const v = check(["broken/syntax_error.sql"]);
    expect(v.status).toBe("failed");
    expect(v.findings.map(pick)).toEqual([{ rule: "syntax-error", severity: "critical", destructive: false, line: 6, column: 21 }]);
    expect(v.cause).toBe("broken/syntax_error.sql:6:21: does not parse: unexpected trailing comma");
    expect(v.hint).toMatch(/^fix the SQL/);
  });

  it("a syntax error fails even with the approval label and failOn critical", () => {
    const v = check(["broken/syntax_error.sql"], config({ failOn: "critical" }), { approvedDestructive: true });
    expect(v.status).toBe("failed");
  });

  it("an empty file is skipped with a note, never sent to squawk, and does not fail", () => {
    const v = check(["broken/empty.sql", "safe/02_foreign_key_not_valid.sql"]);
    expect(v.argv.slice(-2)).toEqual(["--", "safe/02_foreign_key_not_valid.sql"]);
    expect(v.skipped).toEqual([{ file: "broken/empty.sql", reason: "empty", note: "empty file: nothing to check" }]);
    expect(v).toMatchObject({ status: "passed", cause: "1 migration checked: no findings; 1 skipped (empty)" });
  });

  it("no files selected passes: nothing to check", () => {
    const files = selectMigrations(["src/index.ts", "README.md"], config().paths);
    const v = check(files);
    expect(v.argv).toEqual([]);
    expect(v).toMatchObject({ status: "passed", cause: "no migrations to check" });
  });

  it("the approval label lets destructive changes through, and only those", () => {
    const files = ["unsafe/01_drop_table.sql", "unsafe/06_rename_column.sql", "unsafe/12_missing_lock_timeout.sql"];
    const blocked = check(files);
    expect(blocked.status).toBe("failed");
    expect(blocked.blocking.map((f) => f.rule)).toEqual(["ban-drop-table", "renaming-column"]);
    expect(blocked.cause).toBe(
      "2 destructive migration changes, first ban-drop-table at unsafe/01_drop_table.sql:5 (3 migrations checked: 1 critical, 1 high, 1 medium, 1 low)",
    );
    expect(blocked.hint).toMatch(
      /expand\/contract: .*; if the loss is intended, add the PR label migration-destructive-approved \(the GitHub wrapper passes it as approvedDestructive\)$/,
    );

    const approved = check(files, config(), { approvedDestructive: true });
    expect(approved.status).toBe("passed");
    expect(approved.approved.map((f) => f.rule)).toEqual(["ban-drop-table", "renaming-column"]);
    expect(approved.cause).toBe(
      "3 migrations checked: 1 critical, 1 high, 1 medium, 1 low, none at or above high; 2 destructive changes approved by label",
    );

    // the label approves data loss, not lock hazards
    const strict = check(files, config({ failOn: "medium" }), { approvedDestructive: true });
    expect(strict.blocking.map((f) => f.rule)).toEqual(["require-lock-timeout"]);
  });

  it("excludeRules reach squawk's --exclude and filter our own checks", () => {
    const cfg = config({ excludeRules: ["ban-drop-table", "shipshape/truncate"] });
    const v = check(["unsafe/01_drop_table.sql", "unsafe/03_truncate.sql"], cfg);
    expect(v.argv).toContain("--exclude");
    expect(v.argv[v.argv.indexOf("--exclude") + 1]).toBe("ban-drop-table");
    expect(v).toMatchObject({ status: "passed", findings: [] });
  });

  it("assumeInTransaction and pgVersion change what squawk reports", () => {
    const inTx = check(["safe/01_add_nullable_column_and_index.sql"], config({ assumeInTransaction: true }));
    expect(inTx.findings.map((f) => [f.rule, f.severity])).toEqual([["ban-concurrent-index-creation-in-transaction", "high"]]);
    expect(inTx.status).toBe("failed");

    const file = ["unsafe/15_add_column_with_default.sql"];
    expect(check(file).findings).toEqual([]); // a constant default is metadata-only from Postgres 11
    const pg10 = check(file, config({ pgVersion: "10" }));
    expect(pg10.argv).toEqual(expect.arrayContaining(["--pg-version", "10"]));
    expect(pg10.findings.map(pick)).toEqual([
      { rule: "adding-field-with-default", severity: "medium", destructive: false, line: 5, column: 71 },
    ]);
  });

  it("one squawk run over the whole fixture tree, as the gate does it", () => {
    const all = selectMigrations(
      ["unsafe/01_drop_table.sql", "safe/03_not_null_via_check.sql", "broken/empty.sql", "broken/syntax_error.sql", "README.md"],
      ["**/*.sql"],
    );
    const v = check(all);
    expect(all).toEqual(["broken/empty.sql", "broken/syntax_error.sql", "safe/03_not_null_via_check.sql", "unsafe/01_drop_table.sql"]);
    expect(v.findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).toEqual([
      "broken/syntax_error.sql:6 syntax-error",
      "unsafe/01_drop_table.sql:5 ban-drop-table",
    ]);
    expect(v.counts).toEqual({ low: 0, medium: 0, high: 0, critical: 2, total: 2 });
    expect(v.cause).toMatch(/^broken\/syntax_error\.sql:6:21: does not parse/);
  });
});

describe("files squawk must never see", () => {
  it("a binary file is skipped with a note; a non-UTF-8 one fails unchecked", () => {
    const sources: MigrationSource[] = [
      readMigrationSource("migrations/001.sql", new Uint8Array([0x1f, 0x8b, 0x08, 0x00])),
      readMigrationSource("migrations/002.sql", new Uint8Array(Buffer.from("-- caf\xe9\nDROP TABLE t;\n", "latin1"))),
    ];
    const { findings, skipped } = collectFindings(sources, []);
    expect(skipped).toEqual([{ file: "migrations/001.sql", reason: "binary", note: "binary file (NUL bytes), not SQL: not checked" }]);
    const v = judgeMigrations(findings, { failOn: "critical", approvedDestructive: true, files: sources.map((s) => s.file), skipped });
    expect(v.status).toBe("failed");
    expect(v.cause).toBe("migrations/002.sql:1:1: The file is not UTF-8 text, so it was not checked.");
    expect(v.hint).toMatch(/re-save the file as UTF-8/);
  });
});

describe("the fixture service", () => {
  it("its own migrations pass with the defaults (lock-timeout and style findings only)", () => {
    const service = join(ROOT, "test/fixtures/service");
    const files = selectMigrations(
      readdirSync(join(service, "migrations")).map((f) => `migrations/${f}`),
      config().paths,
    );
    expect(files).toEqual(["migrations/001_init.sql", "migrations/002_order_note.sql"]);
    const v = check(files, config(), {}, service);
    expect(v.status).toBe("passed");
    expect(v.counts.high + v.counts.critical).toBe(0);
    expect(v.counts.medium).toBeGreaterThan(0);
  });
});
