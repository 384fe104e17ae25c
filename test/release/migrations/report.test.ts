import { describe, expect, it } from "vitest";
import { Problem } from "../../../deploy/src/project/problem.js";
import type { MigrationFinding } from "../../../lib/release/migrations/findings.js";
import { judgeMigrations, migrationsErrorVerdict } from "../../../lib/release/migrations/judge.js";
import { migrationDiagnostics, migrationsSarif, renderMigrationsMarkdown } from "../../../lib/release/migrations/report.js";
import { rulePolicy } from "../../../deploy/lib/release/migrations/severity.js";

function finding(rule: string, file: string, line: number, statement: string, message = "m"): MigrationFinding {
  const { severity, destructive, guidance } = rulePolicy(rule);
  return {
    file,
    rule,
    severity,
    destructive,
    line,
    column: 1,
    endLine: line,
    endColumn: statement.length + 1,
    message,
    statement,
    guidance,
  };
}

const drop = finding(
  "ban-drop-column",
  "migrations/002.sql",
  5,
  "ALTER TABLE users\n  DROP COLUMN nick;",
  "Dropping a column may break existing clients.",
);
const index = finding("require-concurrent-index-creation", "migrations/001.sql", 3, "CREATE INDEX i ON t (c);");
const robust = finding("prefer-robust-stmts", "migrations/001.sql", 3, "CREATE INDEX i ON t (c);");
const pipe = finding("shipshape/drop-constraint", "migrations/003 | x.sql", 1, 'ALTER TABLE t DROP CONSTRAINT "a|`b";');
const files = ["migrations/001.sql", "migrations/002.sql", "migrations/003 | x.sql"];

describe("judgeMigrations", () => {
  it("counts per severity and orders nothing away", () => {
    const v = judgeMigrations([index, robust, drop, pipe], { failOn: "high", approvedDestructive: false, files });
    expect(v.counts).toEqual({ low: 1, medium: 2, high: 0, critical: 1, total: 4 });
    expect(v.blocking).toEqual([drop]);
    expect(v.status).toBe("failed");
  });

  it("failOn low blocks everything", () => {
    const v = judgeMigrations([index, robust], { failOn: "low", approvedDestructive: false, files });
    expect(v.blocking).toEqual([index, robust]);
  });

  it("a rule squawk adds later is medium, with squawk's help as guidance", () => {
    expect(rulePolicy("some-future-rule", "Do it differently.")).toEqual({
      severity: "medium",
      destructive: false,
      guidance: "Do it differently.",
    });
  });

  it("an error verdict keeps a Problem's cause and hint", () => {
    const v = migrationsErrorVerdict(new Problem("cannot tell which migrations changed: x", "fetch it"));
    expect(v).toMatchObject({ status: "error", cause: "cannot tell which migrations changed: x", hint: "fetch it", findings: [] });
    expect(migrationsErrorVerdict(new Error("squawk printed no report: boom\nstack")).cause).toBe("squawk printed no report: boom");
  });
});

describe("renderMigrationsMarkdown", () => {
  it("renders a table, blocking rows first, with escaped cells", () => {
    const v = judgeMigrations([index, robust, drop, pipe], { failOn: "high", approvedDestructive: false, files });
    const md = renderMigrationsMarkdown(v);
    expect(md).toBe(
      [
        "### ❌ Migrations: failed",
        "",
        "1 destructive migration change, first ban-drop-column at migrations/002.sql:5 (3 migrations checked: 1 critical, 2 medium, 1 low)",
        "",
        `**Fix:** ship it expand/contract: ${drop.guidance}; if the loss is intended, add the PR label migration-destructive-approved (the GitHub wrapper passes it as approvedDestructive)`,
        "",
        "| file:line | severity | rule | statement | fix |",
        "|---|---|---|---|---|",
        `| migrations/002.sql:5 | **critical** (blocking) | ban-drop-column | \`ALTER TABLE users DROP COLUMN nick;\` | ${drop.guidance} |`,
        `| migrations/001.sql:3 | medium | require-concurrent-index-creation | \`CREATE INDEX i ON t (c);\` | ${index.guidance} |`,
        `| migrations/003 \\| x.sql:1 | medium | shipshape/drop-constraint | \`\` ALTER TABLE t DROP CONSTRAINT "a\\|\`b"; \`\` | ${pipe.guidance} |`,
        `| migrations/001.sql:3 | low | prefer-robust-stmts | \`CREATE INDEX i ON t (c);\` | ${robust.guidance} |`,
        "",
      ].join("\n"),
    );
  });

  it("marks approved rows and lists skipped files", () => {
    const skipped = [{ file: "migrations/000.sql", reason: "empty" as const, note: "empty file: nothing to check" }];
    const v = judgeMigrations([drop], { failOn: "high", approvedDestructive: true, files: [...files, "migrations/000.sql"], skipped });
    const md = renderMigrationsMarkdown(v);
    expect(md).toContain("### ✅ Migrations: passed");
    expect(md).toContain("| migrations/002.sql:5 | critical (approved) | ban-drop-column |");
    expect(md).toContain("Skipped:\n- migrations/000.sql: empty file: nothing to check\n");
    expect(md).not.toContain("**Fix:**");
  });

  it("no migrations: one line, no table", () => {
    expect(renderMigrationsMarkdown(judgeMigrations([], { failOn: "high", approvedDestructive: false, files: [] }))).toBe(
      "### ✅ Migrations: passed\n\nno migrations to check\n",
    );
  });

  it("caps the table at 100 rows", () => {
    const many = Array.from({ length: 130 }, (_, i) => finding("prefer-robust-stmts", "m.sql", i + 1, "SELECT 1;"));
    const md = renderMigrationsMarkdown(judgeMigrations(many, { failOn: "high", approvedDestructive: false, files: ["m.sql"] }));
    expect(md.split("\n").filter((l) => l.startsWith("| m.sql:"))).toHaveLength(100);
    expect(md).toContain("…and 30 more findings (see the SARIF report).");
  });
});

describe("SARIF", () => {
  it("blocking findings are errors, the rest warnings or notes, located in 1-based columns", () => {
    const v = judgeMigrations([index, robust, drop], { failOn: "high", approvedDestructive: false, files });
    expect(migrationDiagnostics(v).map((d) => [d.ruleId, d.severity])).toEqual([
      ["require-concurrent-index-creation", "warning"],
      ["prefer-robust-stmts", "note"],
      ["ban-drop-column", "error"],
    ]);
    const log = migrationsSarif(v);
    expect(log.runs[0].tool.driver).toMatchObject({ name: "squawk", version: "2.66.0", informationUri: "https://squawkhq.com" });
    const result = log.runs[0].results[2];
    expect(result).toMatchObject({
      ruleId: "ban-drop-column",
      level: "error",
      message: { text: `critical, destructive: Dropping a column may break existing clients. Fix: ${drop.guidance}.` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "migrations/002.sql", uriBaseId: "%SRCROOT%" },
            region: { startLine: 5, startColumn: 1 },
          },
        },
      ],
    });
  });
});
