import { describe, expect, it } from "vitest";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { AuditConfigSchema, auditTimeouts } from "../../deploy/lib/trail/config.js";

function issues(input: unknown): string[] {
  const r = AuditConfigSchema.safeParse(input, { error: configErrorMap });
  if (r.success) throw new Error("expected the config to be refused");
  return formatZodIssues(r.error, AuditConfigSchema);
}

describe("AuditConfigSchema", () => {
  it("defaults to best effort with bounded timeouts, and turns seconds into the trail's bounds", () => {
    const cfg = AuditConfigSchema.parse({});
    expect(cfg).toEqual({ required: false, pipelineRuns: true, connectTimeoutSeconds: 10, statementTimeoutSeconds: 10 });
    expect(auditTimeouts({ ...cfg, statementTimeoutSeconds: 20 })).toEqual({
      connectTimeoutMs: 10_000,
      statementTimeoutMs: 20_000,
      queryTimeoutMs: 25_000,
    });
  });

  it("refuses typos and unbounded waits in plain words", () => {
    expect(issues({ requried: true })).toEqual(['requried: unknown key; did you mean "required"?']);
    expect(issues({ connectTimeoutSeconds: 0 })).toEqual([
      "connectTimeoutSeconds: expected a whole number of seconds from 1 to 120, got 0",
    ]);
    expect(issues({ statementTimeoutSeconds: 1.5 })).toEqual([
      "statementTimeoutSeconds: expected a whole number of seconds from 1 to 300, got 1.5",
    ]);
    expect(issues({ required: "yes" })).toEqual(['required: expected true or false, got "yes"']);
    expect(issues({ pipelineRun: false })).toEqual(['pipelineRun: unknown key; did you mean "pipelineRuns"?']);
    expect(issues({ pipelineRuns: "off" })).toEqual(['pipelineRuns: expected true or false, got "off"']);
  });
});
