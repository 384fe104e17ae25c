import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configErrorMap, formatZodIssues } from "../../../deploy/lib/config/errors.js";
import { DEFAULT_MIGRATION_PATHS, MigrationsConfigSchema } from "../../../deploy/lib/release/migrations/config.js";
import { SQUAWK_RULES } from "../../../deploy/lib/release/migrations/severity.js";

/** As src/config/load.ts parses shipshape.yaml. */
function issues(input: unknown): string[] {
  const r = MigrationsConfigSchema.safeParse(input, { error: configErrorMap, reportInput: true });
  return r.success ? [] : formatZodIssues(r.error, MigrationsConfigSchema);
}

describe("MigrationsConfigSchema", () => {
  it("defaults every field", () => {
    expect(MigrationsConfigSchema.parse({})).toEqual({
      enabled: true,
      paths: DEFAULT_MIGRATION_PATHS,
      assumeInTransaction: false,
      excludeRules: [],
      failOn: "high",
    });
  });

  it("gives each parse its own paths array", () => {
    const a = MigrationsConfigSchema.parse({});
    a.paths.push("x/*.sql");
    expect(MigrationsConfigSchema.parse({}).paths).toEqual(DEFAULT_MIGRATION_PATHS);
  });

  it("accepts a full section", () => {
    const cfg = {
      enabled: false,
      paths: ["db/**/*.sql", "!db/seeds/**"],
      pgVersion: "13.4",
      assumeInTransaction: true,
      excludeRules: ["prefer-robust-stmts", "shipshape/drop-constraint"],
      failOn: "medium",
    };
    expect(MigrationsConfigSchema.parse(cfg)).toEqual(cfg);
  });

  it("explains bad values in plain words", () => {
    expect(issues({ pgVersion: 16 })).toEqual(['pgVersion: expected a quoted Postgres version like "16" or "13.4", got 16']);
    expect(issues({ failOn: "moderate" })).toEqual(['failOn: expected one of low, medium, high, critical, got "moderate"']);
    expect(issues({ paths: [] })).toEqual(["paths: expected a list of at least one glob (set enabled: false to skip the gate), got []"]);
    expect(issues({ paths: ["/abs/*.sql"] })[0]).toMatch(/^paths\[0\]: expected a glob relative to the repository root/);
    expect(issues({ excludeRules: ["ban-drop-tabel"] })[0]).toMatch(
      /^excludeRules\[0\]: expected a squawk rule name like "prefer-robust-stmts"/,
    );
    expect(issues({ excludeRules: ["syntax-error"] })).toHaveLength(1); // never excludable
    expect(issues({ failon: "high" })).toEqual(['failon: unknown key; did you mean "failOn"?']);
  });

  it("describes every field for the JSON Schema", () => {
    const json = z.toJSONSchema(MigrationsConfigSchema, { io: "input" }) as { properties: Record<string, { description?: string }> };
    for (const [key, prop] of Object.entries(json.properties)) expect(prop.description, key).toBeTruthy();
  });

  it("every squawk rule has a row in the severity table", () => {
    expect(Object.keys(SQUAWK_RULES)).toHaveLength(39); // the 40 rules of the notes, syntax-error handled apart
  });
});
