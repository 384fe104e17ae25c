import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configErrorMap, formatZodIssues } from "../../src/config/errors.js";
import { EnvironmentsConfigSchema } from "../../src/deploy/config.js";

const base = { cluster: "main", service: "api", region: "eu-west-1", containerName: "app" };

function issues(input: unknown): string[] {
  const r = EnvironmentsConfigSchema.safeParse(input, { error: configErrorMap });
  if (r.success) throw new Error("expected the config to be refused");
  return formatZodIssues(r.error, EnvironmentsConfigSchema);
}

describe("EnvironmentsConfigSchema", () => {
  it("fills defaults; approval defaults on for names containing prod", () => {
    const cfg = EnvironmentsConfigSchema.parse({ staging: base, "prod-eu": base, production: { ...base, requireApproval: false } });
    expect(cfg.staging).toEqual({ ...base, strategy: "rolling", requireApproval: false, progressDeadlineMinutes: 30, pollSeconds: 15 });
    expect(cfg["prod-eu"]?.requireApproval).toBe(true);
    expect(cfg.production?.requireApproval).toBe(false); // an explicit choice wins
    expect(EnvironmentsConfigSchema.parse(undefined)).toEqual({});
  });

  it("reads migration and overrides with their defaults", () => {
    const cfg = EnvironmentsConfigSchema.parse({
      staging: { ...base, strategy: "canary", migration: { command: ["npm", "run", "migrate"] }, overrides: { cpu: 512 } },
    });
    expect(cfg.staging?.migration).toEqual({ command: ["npm", "run", "migrate"], timeoutMinutes: 30 });
    expect(cfg.staging?.overrides).toEqual({ environment: {}, cpu: 512 });
    expect(cfg.staging?.strategy).toBe("canary");
  });

  it("explains mistakes in plain words", () => {
    expect(
      issues({
        Staging: base,
        dev: {
          ...base,
          region: "Europe",
          strategy: "bluegreen",
          sevice: "x",
          migration: { command: [] },
          overrides: { environment: { POOL: 5, "bad-name": "x" } },
          pollSeconds: 1,
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Staging: .*lower-case environment name/),
        'dev.region: expected an AWS region like "eu-west-1", got "Europe"',
        'dev.strategy: expected one of rolling, blue-green, linear, canary, got "bluegreen"',
        'dev.sevice: unknown key; did you mean "service"?',
        'dev.migration.command: expected a list like ["npm", "run", "migrate"], got []',
        'dev.overrides.environment.POOL: expected a string (quote numbers and booleans: "5", "true"), got 5',
        expect.stringMatching(/^dev\.overrides\.environment.*environment variable name/),
        "dev.pollSeconds: expected a whole number of seconds from 5 to 300, got 1",
      ]),
    );
    expect(issues({ dev: { service: "api" } })).toEqual(expect.arrayContaining([expect.stringMatching(/^dev\.cluster: required/)]));
  });

  it("describes every field, so the JSON Schema documents shipshape.yaml", () => {
    const schema = z.toJSONSchema(EnvironmentsConfigSchema, { io: "input" });
    const undescribed: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (typeof node !== "object" || node === null) return;
      const n = node as { properties?: Record<string, { description?: string }>; additionalProperties?: unknown };
      for (const [key, child] of Object.entries(n.properties ?? {})) {
        if (!child.description) undescribed.push(`${path}.${key}`);
        walk(child, `${path}.${key}`);
      }
      walk(n.additionalProperties, `${path}.*`);
    };
    walk(schema, "environments");
    expect(undescribed).toEqual([]);
    expect(JSON.stringify(schema)).toContain('"additionalProperties":false');
  });
});
