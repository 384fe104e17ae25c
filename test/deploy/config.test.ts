import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { EnvironmentsConfigSchema } from "../../deploy/lib/deploy/config.js";

const base = { cluster: "main", service: "api", region: "eu-west-1", containerName: "app" };

function issues(input: unknown): string[] {
  const r = EnvironmentsConfigSchema.safeParse(input, { error: configErrorMap });
  if (r.success) throw new Error("expected the config to be refused");
  return formatZodIssues(r.error, EnvironmentsConfigSchema);
}

describe("EnvironmentsConfigSchema", () => {
  it("fills defaults; approval defaults on for names containing prod", () => {
    const cfg = EnvironmentsConfigSchema.parse({ staging: base, "prod-eu": base, production: { ...base, requireApproval: false } });
    expect(cfg.staging).toEqual({
      ...base,
      strategy: "rolling",
      requireApproval: false,
      progressDeadlineMinutes: 30,
      pollSeconds: 15,
      bakeTimeMinutes: 15,
      canary: { percent: 5, bakeMinutes: 10 },
      linear: { stepPercent: 10, stepBakeMinutes: 6 },
      promotion: "auto",
      pauseTimeoutMinutes: 60,
      alarms: [],
      requires: [],
    });
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

  it("reads the progressive settings, test-listener smoke and alarms", () => {
    const cfg = EnvironmentsConfigSchema.parse({
      staging: {
        ...base,
        strategy: "linear",
        linear: { stepPercent: 12.5 },
        promotion: "manual",
        pauseTimeoutMinutes: 20160,
        alarms: ["api-5xx"],
        smoke: {
          baseUrl: "https://api.example.com",
          testUrl: "https://api.example.com:8443",
          testHeader: {},
          checks: [{ name: "h", path: "/h" }],
        },
      },
    });
    expect(cfg.staging?.linear).toEqual({ stepPercent: 12.5, stepBakeMinutes: 6 });
    expect(cfg.staging?.smoke?.testHeader).toEqual({ name: "x-amzn-ecs-blue-green-test", value: "true" });
    expect(cfg.staging).toMatchObject({ promotion: "manual", pauseTimeoutMinutes: 20160, alarms: ["api-5xx"] });
  });

  it("refuses values ECS would refuse, in plain words", () => {
    expect(
      issues({
        dev: {
          ...base,
          strategy: "canary",
          canary: { percent: 0.05, bakeMinutes: 1441 },
          linear: { stepPercent: 2.5 },
          bakeTimeMinutes: -1,
          pauseTimeoutMinutes: 20161,
          promotion: "later",
          alarms: [""],
          smoke: {
            baseUrl: "https://x.example",
            testUrl: "ftp:/",
            testHeader: { name: "bad header" },
            checks: [{ name: "h", path: "/h" }],
          },
        },
      }),
    ).toEqual(
      expect.arrayContaining([
        "dev.canary.percent: expected a percentage from 0.1 to 100 in steps of 0.1, got 0.05",
        "dev.canary.bakeMinutes: expected a whole number of minutes from 0 to 1440, got 1441",
        "dev.linear.stepPercent: expected a percentage from 3 to 100 in steps of 0.1, got 2.5",
        "dev.bakeTimeMinutes: expected a whole number of minutes from 0 to 1440, got -1",
        "dev.pauseTimeoutMinutes: expected a whole number of minutes from 1 to 20160 (14 days), got 20161",
        'dev.promotion: expected one of auto, manual, got "later"',
        'dev.alarms[0]: expected a CloudWatch alarm name (1 to 255 characters), got ""',
        expect.stringMatching(/^dev\.smoke\.testUrl: expected an http\(s\) URL/),
        'dev.smoke.testHeader.name: expected an HTTP header name like x-amzn-ecs-blue-green-test, got "bad header"',
      ]),
    );
    expect(issues({ dev: { ...base, linear: { stepPercent: 12.34 } } })).toEqual([
      "dev.linear.stepPercent: expected a percentage from 3 to 100 in steps of 0.1, got 12.34",
    ]);
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

describe("CloudWatch units", () => {
  it("lists exactly the SDK's StandardUnit values (the config keeps its own copy so it never loads the SDK)", async () => {
    const { StandardUnit } = await import("@aws-sdk/client-cloudwatch");
    const { UNITS } = await import("../../deploy/lib/deploy/analysis-config.js");
    const typed: readonly import("@aws-sdk/client-cloudwatch").StandardUnit[] = UNITS;
    expect([...typed].sort()).toEqual(Object.values(StandardUnit).sort());
  });
});
