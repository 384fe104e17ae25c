import { DEFAULT_MIGRATION_PATHS } from "../../deploy/lib/release/migrations/config.js";
import { LicensesConfigSchema, ScanConfigSchema, SecretsConfigSchema } from "../../deploy/lib/supply/config.js";
import { PublishConfigSchema } from "../../deploy/lib/supply/publish/tags.js";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../deploy/lib/config/errors.js";
import { parseConfig, validateConfig } from "../../deploy/lib/config/load.js";
import { DEFAULT_CONFIG, type ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { FULL_EXAMPLE_CONFIG, FULL_EXAMPLE_YAML } from "./example.js";

const SCHEMA_HINT = "hint: fix the value in shipshape.yaml; the JSON Schema at schema/shipshape.schema.json gives editor completion";

/** Runs parseConfig expecting a ConfigError, and returns it. */
function configError(text: string, fileName?: string): ConfigError {
  try {
    parseConfig(text, fileName);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

const issuesOf = (text: string) => configError(text).issues;

const DEFAULT_MIGRATIONS = {
  enabled: true,
  paths: [...DEFAULT_MIGRATION_PATHS],
  assumeInTransaction: false,
  excludeRules: [],
  failOn: "high" as const,
};

describe("defaults", () => {
  const expected: ShipshapeConfig = {
    version: 1,
    node: { systemPackages: [] },
    packageManager: "auto",
    images: {},
    gates: {
      lint: { enabled: true, maxWarnings: 0, prettier: true },
      typecheck: { enabled: true, project: "tsconfig.json" },
      test: { enabled: true, script: "test", timeoutMinutes: 30, env: {} },
      audit: { enabled: true, level: "high", production: true, ignore: [] },
    },
    database: { enabled: true, version: "16", name: "app_test", readyTimeoutSeconds: 60 },
    coverage: { global: { lines: 75 }, paths: {} },
    migrations: DEFAULT_MIGRATIONS,
    commits: { signatures: { required: false } },
    scan: ScanConfigSchema.parse({}),
    sbom: { format: "cyclonedx" },
    licenses: LicensesConfigSchema.parse({}),
    secrets: SecretsConfigSchema.parse({}),
    // Opt-in: p/default needs semgrep.dev, and a first run on an old codebase is a triage job.
    sast: { enabled: false, rules: ["p/default"], severity: "HIGH", exclude: [], ignore: [] },
    publish: PublishConfigSchema.parse({}),
    environments: {},
    auditTrail: { required: false, pipelineRuns: true, connectTimeoutSeconds: 10, statementTimeoutSeconds: 10 },
    notifications: {
      on: ["success", "failure", "rollback", "paused", "incident"],
      timeoutSeconds: 10,
      attempts: 3,
      deadlineSeconds: 60,
      maxRetryAfterSeconds: 30,
      github: { prComment: true, apiUrl: "https://api.github.com" },
      pagerduty: { url: "https://events.pagerduty.com/v2/enqueue" },
    },
    freezes: [],
    // The spec's Lighthouse budgets; off in ci until a live URL is configured.
    lighthouse: {
      ci: false,
      thresholds: { performance: 80, accessibility: 90, bestPractices: 80, seo: 80 },
      formFactor: "mobile",
      runs: 3,
      timeoutSeconds: 180,
    },
  };

  it("DEFAULT_CONFIG is the documented defaults", () => {
    expect(DEFAULT_CONFIG).toEqual(expected);
  });

  it.each([
    ["no file", undefined],
    ["empty file", ""],
    ["blank lines", "\n  \n"],
    ["comments only", "# shipshape settings\n# nothing yet\n"],
    ["empty document marker", "---\n"],
  ])("%s gives the defaults", (_name, text) => {
    expect(parseConfig(text)).toEqual({ config: expected, explicit: { coverage: false } });
  });

  it("fills in defaults next to the keys that are set", () => {
    const { config } = parseConfig("gates:\n  lint:\n    maxWarnings: 5\n");
    expect(config.gates.lint).toEqual({ enabled: true, maxWarnings: 5, prettier: true });
    expect(config.gates.audit).toEqual(expected.gates.audit);
  });

  it("returns a fresh object each time, so callers cannot corrupt the defaults", () => {
    const first = parseConfig(undefined).config;
    first.gates.test.env.FOO = "bar";
    expect(parseConfig(undefined).config.gates.test.env).toEqual({});
    expect(DEFAULT_CONFIG.gates.test.env).toEqual({});
  });
});

describe("valid files", () => {
  it("parses a file that sets every key", () => {
    expect(parseConfig(FULL_EXAMPLE_YAML)).toEqual({ config: FULL_EXAMPLE_CONFIG, explicit: { coverage: true } });
  });

  it("marks coverage explicit only when the file has a coverage key", () => {
    expect(parseConfig("coverage:\n  global:\n    lines: 75\n").explicit.coverage).toBe(true);
    expect(parseConfig("coverage: {}\n").explicit.coverage).toBe(true);
    expect(parseConfig("gates:\n  lint:\n    enabled: false\n").explicit.coverage).toBe(false);
  });

  it("accepts Node and Postgres versions of one to three parts", () => {
    expect(parseConfig('node:\n  version: "20"\n').config.node.version).toBe("20");
    expect(parseConfig('node:\n  version: "20.11.1"\n').config.node.version).toBe("20.11.1");
    expect(parseConfig('database:\n  version: "16.4"\n').config.database.version).toBe("16.4");
  });

  it("validates plain data with validateConfig", () => {
    expect(validateConfig({ packageManager: "npm" }).packageManager).toBe("npm");
    expect(() => validateConfig({ packageManager: "bun" })).toThrow(ConfigError);
  });
});

describe("error messages", () => {
  it.each([
    ["number as text", "coverage:\n  global:\n    lines: 80%\n", 'coverage.global.lines: expected a number from 0 to 100, got "80%"'],
    [
      "number out of range",
      "coverage:\n  global:\n    branches: 101\n",
      "coverage.global.branches: expected a number from 0 to 100, got 101",
    ],
    ["enum", "gates:\n  audit:\n    level: severe\n", 'gates.audit.level: expected one of low, moderate, high, critical, got "severe"'],
    ["package manager", "packageManager: bun\n", 'packageManager: expected one of auto, npm, pnpm, yarn, got "bun"'],
    [
      "digest",
      "images:\n  node:\n    digest: abc\n",
      'images.node.digest: expected a digest like sha256:<64 lowercase hex chars>, got "abc"',
    ],
    ["boolean", 'gates:\n  lint:\n    enabled: "yes"\n', 'gates.lint.enabled: expected true or false, got "yes"'],
    ["version literal", "version: 2\n", "version: expected 1, got 2"],
    [
      "int with fraction",
      "database:\n  readyTimeoutSeconds: 2.5\n",
      "database.readyTimeoutSeconds: expected a whole number from 5 to 600, got 2.5",
    ],
    [
      "int too big",
      "gates:\n  test:\n    timeoutMinutes: 361\n",
      "gates.test.timeoutMinutes: expected a whole number from 1 to 360, got 361",
    ],
    [
      "max warnings below -1",
      "gates:\n  lint:\n    maxWarnings: -2\n",
      "gates.lint.maxWarnings: expected a whole number of allowed warnings, 0 or more (-1 for unlimited), got -2",
    ],
    [
      "unquoted node version",
      "node:\n  version: 20.10\n",
      'node.version: expected a quoted Node.js version like "22" or "22.11.0", got 20.1',
    ],
    [
      "database name",
      "database:\n  name: app-test\n",
      'database.name: expected a database name of letters, digits and _ (not starting with a digit, at most 63), got "app-test"',
    ],
    [
      "absolute path",
      "gates:\n  test:\n    junit: /tmp/junit.xml\n",
      'gates.test.junit: expected a path relative to the repository root, like "reports/junit.xml", got "/tmp/junit.xml"',
    ],
    [
      "path leaving the repo",
      "gates:\n  typecheck:\n    project: ../tsconfig.json\n",
      'gates.typecheck.project: expected a path relative to the repository root, like "tsconfig.json", got "../tsconfig.json"',
    ],
    ["section not a mapping", "gates: yes\n", 'gates: expected a mapping with keys lint, typecheck, test, audit, got "yes"'],
    ["empty section", "coverage:\n", "coverage: expected a mapping with keys global, paths, got null"],
    [
      "empty coverage path entry",
      'coverage:\n  paths:\n    "src/billing/**": {}\n',
      'coverage.paths["src/billing/**"]: expected at least one of lines, branches, functions, statements, got {}',
    ],
    [
      "env value not a string",
      "gates:\n  test:\n    env:\n      PORT: 5432\n",
      'gates.test.env.PORT: expected a string (quote numbers and booleans, e.g. "5432"), got 5432',
    ],
    [
      "env name not upper snake case",
      "gates:\n  test:\n    env:\n      log_level: warn\n",
      'gates.test.env.log_level: expected an environment variable name in UPPER_SNAKE_CASE, got "log_level"',
    ],
  ])("%s", (_name, text, issue) => {
    expect(issuesOf(text)).toEqual([issue]);
  });

  it("puts the first issue and the hint in the message", () => {
    const error = configError("gates:\n  audit:\n    level: severe\n");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("ConfigError");
    expect(error.message).toBe(
      `shipshape.yaml is invalid: gates.audit.level: expected one of low, moderate, high, critical, got "severe"\n${SCHEMA_HINT}`,
    );
    expect(error.hint).toBe(SCHEMA_HINT.slice("hint: ".length));
  });

  it("counts the other issues in the message", () => {
    const error = configError("version: 2\npackageManager: bun\ngates:\n  lint:\n    prettier: 1\n");
    expect(error.issues).toEqual([
      "version: expected 1, got 2",
      'packageManager: expected one of auto, npm, pnpm, yarn, got "bun"',
      "gates.lint.prettier: expected true or false, got 1",
    ]);
    expect(error.message).toBe(`shipshape.yaml is invalid: version: expected 1, got 2 (and 2 more)\n${SCHEMA_HINT}`);
  });

  it("names the given file in message and hint", () => {
    const error = configError("version: 2\n", ".shipshape/config.yaml");
    expect(error.message).toMatch(
      /^\.shipshape\/config\.yaml is invalid: version: expected 1, got 2\nhint: fix the value in \.shipshape\/config\.yaml;/,
    );
  });

  it("truncates long values", () => {
    expect(issuesOf(`packageManager: ${"x".repeat(100)}\n`)).toEqual([
      `packageManager: expected one of auto, npm, pnpm, yarn, got "${"x".repeat(36)}...`,
    ]);
  });

  it("never shows a stack trace", () => {
    expect(configError("version: 2\n").message).not.toMatch(/\n\s+at /);
    expect(configError("a: b: c\n").message).not.toMatch(/\n\s+at /);
  });
});

describe("unknown keys", () => {
  it.each([
    ["top level", "gatse: {}\n", 'gatse: unknown key; did you mean "gates"?'],
    ["top level, case and underscores", "package_manager: npm\n", 'package_manager: unknown key; did you mean "packageManager"?'],
    ["nested", "gates:\n  lnt:\n    enabled: false\n", 'gates.lnt: unknown key; did you mean "lint"?'],
    ["swapped letters", "gates:\n  audit:\n    levle: low\n", 'gates.audit.levle: unknown key; did you mean "level"?'],
    ["image tool name", "images:\n  postgre:\n    tag: 17-alpine\n", 'images.postgre: unknown key; did you mean "postgres"?'],
    [
      "inside a list item",
      "gates:\n  audit:\n    ignore:\n      - id: CVE-2024-12345\n        reason: ok\n        expiry: 2026-01-01\n",
      'gates.audit.ignore[0].expiry: unknown key; did you mean "expires"?',
    ],
    ["nothing close", "gates:\n  deploy: {}\n", "gates.deploy: unknown key"],
    ["a future section", "release: {}\n", "release: unknown key"],
  ])("%s", (_name, text, issue) => {
    expect(issuesOf(text)).toEqual([issue]);
  });

  it("reports each unknown key on its own line", () => {
    expect(issuesOf("gates:\n  lnt: {}\n  tset: {}\n")).toEqual([
      'gates.lnt: unknown key; did you mean "lint"?',
      'gates.tset: unknown key; did you mean "test"?',
    ]);
  });
});

describe("audit ignore entries", () => {
  const entry = (fields: string) => `gates:\n  audit:\n    ignore:\n      - id: GHSA-abcd-1234-wxyz\n${fields}`;

  it("requires a reason", () => {
    expect(issuesOf(entry(""))).toEqual(["gates.audit.ignore[0].reason: required: say why this advisory is accepted"]);
  });

  it("rejects a blank reason", () => {
    expect(issuesOf(entry('        reason: "  "\n'))).toEqual(['gates.audit.ignore[0].reason: expected a non-empty reason, got "  "']);
  });

  it("requires an advisory ID of a known form", () => {
    expect(issuesOf("gates:\n  audit:\n    ignore:\n      - reason: ok\n")).toEqual([
      "gates.audit.ignore[0].id: required: give the advisory ID (GHSA-... or CVE-...) to ignore",
    ]);
    expect(issuesOf("gates:\n  audit:\n    ignore:\n      - id: npm-123\n        reason: ok\n")).toEqual([
      'gates.audit.ignore[0].id: expected an advisory ID like GHSA-xxxx-xxxx-xxxx or CVE-2024-12345, got "npm-123"',
    ]);
  });

  it.each([
    ["a day that does not exist", "2026-02-30"],
    ["February 29 outside a leap year", "2027-02-29"],
    ["month 13", "2026-13-01"],
    ["a date without zero padding", "2026-2-3"],
  ])("rejects an expiry that is %s", (_name, date) => {
    expect(issuesOf(entry(`        reason: ok\n        expires: ${date}\n`))).toEqual([
      `gates.audit.ignore[0].expires: expected a real calendar date as YYYY-MM-DD, got "${date}"`,
    ]);
  });

  it("accepts a leap day", () => {
    const { config } = parseConfig(entry("        reason: ok\n        expires: 2028-02-29\n"));
    expect(config.gates.audit.ignore).toEqual([{ id: "GHSA-abcd-1234-wxyz", reason: "ok", expires: "2028-02-29" }]);
  });
});

describe("test env", () => {
  it.each(["NPM_TOKEN", "DB_PASSWORD", "JWT_SECRET", "SSH_PRIVATE_KEY", "AWS_ACCESS_KEY_ID", "STRIPE_API_KEY", "GCP_CREDENTIALS"])(
    "rejects the credential-looking %s without echoing its value",
    (name) => {
      const issues = issuesOf(`gates:\n  test:\n    env:\n      ${name}: hunter2\n`);
      expect(issues).toEqual([
        `gates.test.env.${name}: looks like a credential; pass it as a Dagger Secret instead of a plain-text env value`,
      ]);
      expect(issues.join("\n")).not.toContain("hunter2");
    },
  );

  it("accepts ordinary names", () => {
    const { config } = parseConfig('gates:\n  test:\n    env:\n      NODE_ENV: test\n      PORT: "5432"\n');
    expect(config.gates.test.env).toEqual({ NODE_ENV: "test", PORT: "5432" });
  });
});

describe("YAML problems", () => {
  it("reports syntax errors with line and column", () => {
    const error = configError("gates:\n  lint:\n    enabled: true\n   typecheck: {}\n");
    expect(error.issues).toEqual(["shipshape.yaml:4:1: All mapping items must start at the same column"]);
    expect(error.message).toBe(
      'shipshape.yaml:4:1: All mapping items must start at the same column\nhint: fix the YAML syntax in shipshape.yaml: indent with spaces, and quote values that contain ": " or " #"',
    );
  });

  it("reports a value with an unquoted colon", () => {
    expect(issuesOf("gates:\n  test:\n    script: a: b\n")).toEqual([
      "shipshape.yaml:3:13: Nested mappings are not allowed in compact mappings",
    ]);
  });

  it("reports tabs used for indentation", () => {
    expect(issuesOf("gates:\n\tlint: {}\n")).toEqual(["shipshape.yaml:2:1: Tabs are not allowed as indentation"]);
  });

  it("reports duplicate keys", () => {
    expect(issuesOf("version: 1\nversion: 1\n")).toEqual([
      'shipshape.yaml:2:1: Map keys must be unique: "version" is already set on line 1',
    ]);
  });

  it.each([
    ["a list", "- lint\n- test\n", '["lint","test"]'],
    ["a scalar", "just text\n", '"just text"'],
  ])("rejects %s at the top level", (_name, text, value) => {
    expect(issuesOf(text)).toEqual([
      `(top level): expected a mapping with keys version, node, packageManager, images, gates, database, coverage, migrations, commits, scan, sbom, licenses, secrets, sast, publish, environments, auditTrail, notifications, lighthouse, freezes, got ${value}`,
    ]);
  });
});
