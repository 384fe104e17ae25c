/**
 * shipshape.yaml `sast:` (Semgrep). Same rules as the other sections: strict objects, a default for
 * every key, `.describe()` on every field (the JSON Schema) and `expecting` phrases. Ignore entries
 * are scan.ignore's (lib/supply/config.ts) with a Semgrep rule id instead of a CVE, and an expiry that
 * is required: a code finding accepted for ever is a finding nobody looks at again.
 */
import { z } from "zod";
import { expecting } from "../../config/errors.js";
import { expiresField, reasonField } from "../config.js";

/**
 * Lowest first. Semgrep's own scale since 1.72.0 (semgrep-interfaces semgrep_output_v1.atd
 * `match_severity`: "Error -> High, Warning -> Medium", Critical and Low new; Info kept).
 */
export const SAST_SEVERITIES = ["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type SastSeverity = (typeof SAST_SEVERITIES)[number];

/** check_id as Semgrep prints it: the rule id, prefixed with its config's path for local rules. */
const RULE_ID = /^[A-Za-z0-9_$][A-Za-z0-9_.$:/-]*$/;

/**
 * A registry ruleset or rule (p/, r/, s/: config_resolver.py is_registry_id), or a rules file or
 * directory in the repository. Not `auto`: it needs metrics on, and Shipshape runs with
 * --metrics=off (commands/scan.py aborts "Cannot create auto config when metrics are off").
 * Not a URL either: what it serves cannot be reviewed in the repository.
 */
const RULES = /^(?!auto$)(?![a-z][a-z0-9+.-]*:\/\/)(?![/\\])(?!.*(?:^|[/\\])\.\.(?:[/\\]|$))\S+$/;

/** True for a Semgrep registry config (downloaded from semgrep.dev at every scan). */
export const isRegistryConfig = (config: string): boolean => /^[prs]\//.test(config);

const glob = expecting(z.string().regex(/\S/).describe("A glob."), "a non-empty glob");

export const SastIgnoreEntrySchema = z
  .strictObject({
    id: expecting(
      z
        .string()
        .regex(RULE_ID)
        .describe(
          'Semgrep rule whose findings are accepted: its check_id as the report shows it, e.g. "javascript.express.security.audit.xss.direct-response-write.direct-response-write".',
        ),
      'a Semgrep rule id (check_id) like "rules.eqeq-is-bad"',
      "give the rule id (check_id) whose findings are accepted",
    ),
    reason: reasonField("finding"),
    expires: expecting(
      expiresField("ignore")
        .unwrap()
        .describe(
          "Date (YYYY-MM-DD, valid through that day UTC) after which the ignore lapses and fails the gate until renewed; required.",
        ),
      "a real calendar date as YYYY-MM-DD",
      "give the date (YYYY-MM-DD) the ignore lapses: every sast.ignore entry expires",
    ),
    paths: z
      .array(glob)
      .optional()
      .describe("Only ignore it in these files (globs on the repository-relative path, as in scan.ignore); unset means everywhere."),
  })
  .describe("One accepted Semgrep finding (a rule, optionally in some files only).");

export const SastConfigSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe("Run the static analysis gate (Semgrep) as the sast function and as part of ci; off unless set."),
    rules: z
      .array(
        expecting(
          z.string().regex(RULES).describe("A Semgrep --config."),
          'a Semgrep registry ruleset like "p/default" or a rules file or directory in the repository like ".semgrep/"',
        ),
      )
      .min(1)
      .default(["p/default"])
      .describe(
        "Semgrep rules (--config): registry rulesets (p/..., r/..., s/..., downloaded from semgrep.dev) and/or rules files or directories in the repository. Not auto, which needs metrics.",
      ),
    severity: z
      .enum(SAST_SEVERITIES)
      .default("HIGH")
      .describe(
        "Lowest severity that fails the gate (Semgrep's ERROR counts as HIGH, WARNING as MEDIUM); findings below it are reported only.",
      ),
    exclude: z
      .array(glob)
      .default([])
      .describe('Paths Semgrep skips (--exclude, gitignore-style patterns), e.g. "test/fixtures"; .semgrepignore is read as well.'),
    ignore: z.array(SastIgnoreEntrySchema).default([]).describe("Findings accepted on purpose, each with a reason and an expiry."),
  })
  .describe("Static analysis (Semgrep): findings by severity, SARIF for code scanning.");

export type SastIgnoreEntry = z.infer<typeof SastIgnoreEntrySchema>;
export type SastConfig = z.infer<typeof SastConfigSchema>;
