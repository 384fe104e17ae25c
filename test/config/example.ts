/** A shipshape.yaml that sets every key, shared by the loader and JSON Schema tests (not a test file itself). */
import { LicensesConfigSchema, ScanConfigSchema, SecretsConfigSchema } from "../../deploy/lib/supply/config.js";
import { PublishConfigSchema } from "../../deploy/lib/supply/publish/tags.js";
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";

const NODE_DIGEST = `sha256:${"a".repeat(64)}`;
const POSTGRES_DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

export const FULL_EXAMPLE_YAML = `# Shipshape settings for the billing service.
version: 1
node:
  version: "22.11.0"
  systemPackages: [git, python3]
packageManager: pnpm
scan:
  vex: [.vex/app.openvex.json]
sbom:
  format: spdx
migrations:
  paths: [db/migrations/*.sql]
  pgVersion: "16"
  failOn: medium
commits:
  signatures: { required: true, allowedSigners: .github/allowed_signers }
images:
  node:
    tag: 22-alpine
    digest: ${NODE_DIGEST}
  postgres:
    digest: ${POSTGRES_DIGEST}
gates:
  lint:
    enabled: true
    maxWarnings: -1
    prettier: false
  typecheck:
    project: tsconfig.build.json
  test:
    script: test:ci
    timeoutMinutes: 45
    env:
      TZ: UTC
      LOG_LEVEL: warn
    junit: reports/junit.xml
    lcov: coverage/lcov.info
  audit:
    level: moderate
    production: false
    ignore:
      - id: GHSA-abcd-1234-wxyz
        reason: Only reachable through the CLI, which we do not ship.
        expires: 2028-02-29
      - id: CVE-2024-12345
        reason: Fixed upstream, waiting for a release.
database:
  enabled: false
  version: "16.4"
  name: billing_test
  readyTimeoutSeconds: 120
coverage:
  global:
    lines: 80
    branches: 70.5
  paths:
    "src/billing/**":
      lines: 90
      functions: 95
auditTrail:
  required: true
  connectTimeoutSeconds: 5
notifications:
  on: [failure, rollback]
  attempts: 5
  github: { prComment: false, apiUrl: "https://github.example.com/api/v3" }
sast:
  enabled: true
  rules: [p/default, .semgrep/]
  severity: MEDIUM
  exclude: [test/fixtures]
  ignore:
    - id: rules.eqeq-is-bad
      reason: Generated comparisons, regenerated from the schema.
      expires: 2027-06-30
      paths: [src/generated/**]
lighthouse:
  ci: true
  url: https://staging.example.com/
  environment: staging
  thresholds: { performance: 70, accessibility: 95, bestPractices: 85, seo: 90 }
  formFactor: desktop
  runs: 5
  timeoutSeconds: 240
`;

export const FULL_EXAMPLE_CONFIG: ShipshapeConfig = {
  version: 1,
  node: { version: "22.11.0", systemPackages: ["git", "python3"] },
  packageManager: "pnpm",
  scan: { ...ScanConfigSchema.parse({}), vex: [".vex/app.openvex.json"] },
  sbom: { format: "spdx" },
  licenses: LicensesConfigSchema.parse({}),
  secrets: SecretsConfigSchema.parse({}),
  sast: {
    enabled: true,
    rules: ["p/default", ".semgrep/"],
    severity: "MEDIUM",
    exclude: ["test/fixtures"],
    ignore: [
      {
        id: "rules.eqeq-is-bad",
        reason: "Generated comparisons, regenerated from the schema.",
        expires: "2027-06-30",
        paths: ["src/generated/**"],
      },
    ],
  },
  publish: PublishConfigSchema.parse({}),
  environments: {},
  freezes: [],
  auditTrail: { required: true, pipelineRuns: true, connectTimeoutSeconds: 5, statementTimeoutSeconds: 10 },
  notifications: {
    on: ["failure", "rollback"],
    timeoutSeconds: 10,
    attempts: 5,
    deadlineSeconds: 60,
    maxRetryAfterSeconds: 30,
    github: { prComment: false, apiUrl: "https://github.example.com/api/v3" },
    pagerduty: { url: "https://events.pagerduty.com/v2/enqueue" },
  },
  lighthouse: {
    ci: true,
    url: "https://staging.example.com/",
    environment: "staging",
    thresholds: { performance: 70, accessibility: 95, bestPractices: 85, seo: 90 },
    formFactor: "desktop",
    runs: 5,
    timeoutSeconds: 240,
  },
  migrations: {
    enabled: true,
    paths: ["db/migrations/*.sql"],
    pgVersion: "16",
    assumeInTransaction: false,
    excludeRules: [],
    failOn: "medium",
  },
  commits: { signatures: { required: true, allowedSigners: ".github/allowed_signers" } },
  images: { node: { tag: "22-alpine", digest: NODE_DIGEST }, postgres: { digest: POSTGRES_DIGEST } },
  gates: {
    lint: { enabled: true, maxWarnings: -1, prettier: false },
    typecheck: { enabled: true, project: "tsconfig.build.json" },
    test: {
      enabled: true,
      script: "test:ci",
      timeoutMinutes: 45,
      env: { TZ: "UTC", LOG_LEVEL: "warn" },
      junit: "reports/junit.xml",
      lcov: "coverage/lcov.info",
    },
    audit: {
      enabled: true,
      level: "moderate",
      production: false,
      ignore: [
        { id: "GHSA-abcd-1234-wxyz", reason: "Only reachable through the CLI, which we do not ship.", expires: "2028-02-29" },
        { id: "CVE-2024-12345", reason: "Fixed upstream, waiting for a release." },
      ],
    },
  },
  database: { enabled: false, version: "16.4", name: "billing_test", readyTimeoutSeconds: 120 },
  coverage: {
    global: { lines: 80, branches: 70.5 },
    paths: { "src/billing/**": { lines: 90, functions: 95 } },
  },
};
