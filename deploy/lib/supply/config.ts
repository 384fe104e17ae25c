/**
 * shipshape.yaml sections of the supply-chain gates (`scan`, `licenses`, `secrets`, `sbom`), kept apart
 * from src/config/schema.ts until the lead wires them in as `.prefault({})` keys. Same rules as
 * there: strict objects, a default for every key, `.describe()` on every field (it becomes the
 * JSON Schema) and `expecting` phrases for the error messages.
 */
import parseSpdx from "spdx-expression-parse";
import { validRange } from "semver";
import { z } from "zod";
import { expecting } from "../config/errors.js";

// --- shared field builders -----------------------------------------------------------------

/** Rejects dates like 2026-02-30, which Date would silently roll over into March. */
export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const [year = 0, month = 0, day = 0] = text.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Same convention as the audit gate: a date-only expiry holds through the end of that day, UTC.
 * An unreadable date counts as expired (fail closed: the entry stops hiding anything).
 */
export function isExpired(expires: string | undefined, now: Date): boolean {
  if (expires === undefined) return false;
  const at = isCalendarDate(expires) ? new Date(`${expires}T23:59:59.999Z`) : new Date(Number.NaN);
  return Number.isNaN(at.getTime()) || at.getTime() < now.getTime();
}

/** An optional expiry date; `.unwrap()` it where an expiry is required (sast.ignore). */
export const expiresField = (what: string) =>
  expecting(
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/)
      .refine((text) => !/^\d{4}-\d{2}-\d{2}$/.test(text) || isCalendarDate(text)), // the regex reports bad formats
    "a real calendar date as YYYY-MM-DD",
  )
    .optional()
    .describe(`Date (YYYY-MM-DD, valid through that day UTC) after which the ${what} lapses and fails the gate until renewed.`);

// Required so every accepted risk is explained where reviewers will see it.
export const reasonField = (what: string) =>
  expecting(
    z.string().regex(/\S/).describe(`Why this ${what} is accepted; required, shown in the gate report.`),
    "a non-empty reason",
    `say why this ${what} is accepted`,
  );

/** A path that stays inside the repository: relative, no `..` segment. */
const repoPath = (expected: string, description?: string) => {
  const path = z.string().regex(/^(?![/\\])(?!.*(?:^|[/\\])\.\.(?:[/\\]|$)).+$/);
  return expecting(description === undefined ? path : path.describe(description), expected);
};

// --- scan (Trivy) --------------------------------------------------------------------------

export const SCAN_SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type ScanSeverity = (typeof SCAN_SEVERITIES)[number];

export const ScanIgnoreEntrySchema = z
  .strictObject({
    id: expecting(
      z
        .string()
        .regex(/^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3})$/)
        .describe("Vulnerability to ignore: a CVE-YYYY-NNNN or GHSA-xxxx-xxxx-xxxx ID, as Trivy reports it."),
      "a vulnerability ID like CVE-2024-12345 or GHSA-xxxx-xxxx-xxxx",
      "give the vulnerability ID (CVE-... or GHSA-...) to ignore",
    ),
    reason: reasonField("vulnerability"),
    expires: expiresField("ignore"),
    paths: z
      .array(expecting(z.string().min(1).describe("A glob."), "a non-empty glob"))
      .optional()
      .describe("Only ignore it in these targets or package paths (globs, as in .trivyignore.yaml); unset means everywhere."),
    purls: z
      .array(
        expecting(
          z
            .string()
            .regex(/^pkg:[a-z][a-z0-9.+-]*\/\S+$/)
            .describe("A package URL."),
          "a package URL like pkg:npm/lodash@4.17.20",
        ),
      )
      .optional()
      .describe("Only ignore it in these packages (package URLs; version and qualifiers optional); unset means every package."),
  })
  .describe("One accepted vulnerability.");

export const ScanConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Run the image vulnerability scan (Trivy); false skips it."),
    severities: z
      .array(z.enum(SCAN_SEVERITIES).describe("A Trivy severity."))
      .min(1)
      .default(["HIGH", "CRITICAL"])
      .describe("Severities that fail the gate; findings of other severities are reported only."),
    ignoreUnfixed: z
      .boolean()
      .default(false)
      .describe(
        "Do not fail on vulnerabilities without a released fix (no fixed version, or status affected, will_not_fix, fix_deferred, end_of_life).",
      ),
    ignore: z.array(ScanIgnoreEntrySchema).default([]).describe("Vulnerabilities accepted on purpose, each with a reason."),
    // Optional rather than defaulting to []: an absent key keeps the parsed config as it was.
    vex: z
      .array(repoPath('a path relative to the repository root, like ".vex/app.openvex.json"', "A VEX document in the source."))
      .optional()
      .describe(
        "VEX documents (OpenVEX, or CycloneDX VEX for SBOM targets) in the source, passed to Trivy with --vex: findings they mark not_affected or fixed are reported as suppressed, with the statement's justification, and do not fail the gate.",
      ),
  })
  .describe("Image vulnerability scan (Trivy).");

// --- licenses ------------------------------------------------------------------------------

/** One license id (with an optional `+` or `WITH` exception): spdx-satisfies refuses AND/OR in its list. */
export function isSingleLicense(text: string): boolean {
  try {
    return "license" in parseSpdx(text);
  } catch {
    return false;
  }
}

const licenseId = expecting(
  z.string().refine(isSingleLicense).describe("An SPDX license id, optionally with WITH <exception>."),
  'an SPDX license id like "MIT" or "Apache-2.0" (no AND/OR)',
);

/**
 * Permissive licenses whose only duty is keeping the notice. Beyond the classic OSI set:
 * BlueOak-1.0.0 (isaacs' packages: glob, minimatch, lru-cache), Python-2.0 (argparse, under
 * js-yaml), CC-BY-3.0/4.0 (data packages: spdx-exceptions, caniuse-lite) and Zlib. Weak copyleft
 * (MPL-2.0, EPL) is left out on purpose: it is a per-project decision, so it fails until allowed.
 */
export const DEFAULT_ALLOWED_LICENSES = [
  "MIT",
  "MIT-0",
  "Apache-2.0",
  "BSD-2-Clause",
  "BSD-3-Clause",
  "ISC",
  "0BSD",
  "CC0-1.0",
  "Unlicense",
  "BlueOak-1.0.0",
  "Python-2.0",
  "Zlib",
  "CC-BY-3.0",
  "CC-BY-4.0",
];

/**
 * Strong and library copyleft plus SSPL: a Shipshape build ships node_modules inside an image,
 * which is distribution (GPL, LGPL), and AGPL/SSPL reach network use. Matched with
 * spdx-satisfies, so deprecated forms (GPL-3.0, GPL-2.0+) and `-or-later` ranges are caught too.
 */
export const DEFAULT_DENIED_LICENSES = [
  "GPL-1.0-only",
  "GPL-1.0-or-later",
  "GPL-2.0-only",
  "GPL-2.0-or-later",
  "GPL-3.0-only",
  "GPL-3.0-or-later",
  "AGPL-1.0-only",
  "AGPL-1.0-or-later",
  "AGPL-3.0-only",
  "AGPL-3.0-or-later",
  "LGPL-2.0-only",
  "LGPL-2.0-or-later",
  "LGPL-2.1-only",
  "LGPL-2.1-or-later",
  "LGPL-3.0-only",
  "LGPL-3.0-or-later",
  "SSPL-1.0",
];

/** `name` or `name@range`; the scope's leading @ is not a separator. */
export function splitPackageSpec(spec: string): { name: string; range: string | undefined } {
  const at = spec.lastIndexOf("@");
  return at > 0 ? { name: spec.slice(0, at), range: spec.slice(at + 1) } : { name: spec, range: undefined };
}

const PACKAGE_SPEC = /^(@[^\s@/]+\/)?[^\s@/][^\s@]*(@\S+)?$/;

export const LicenseExceptionSchema = z
  .strictObject({
    package: expecting(
      z
        .string()
        .regex(PACKAGE_SPEC)
        .refine((spec) => {
          const { range } = splitPackageSpec(spec);
          // The regex reports malformed specs; this only judges the range of well-formed ones.
          return !PACKAGE_SPEC.test(spec) || range === undefined || validRange(range) !== null;
        })
        .describe('Package the exception covers: "name" (any version) or "name@<semver range>", e.g. "lightningcss@1.x".'),
      'a package name, optionally with @<semver range>, like "lightningcss" or "@scope/pkg@^1.2.0"',
      "name the package the exception covers",
    ),
    reason: reasonField("license"),
    expires: expiresField("exception"),
  })
  .describe("One package accepted whatever its license says.");

export const LicensesConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Check the licenses of the dependencies in the SBOM; false skips it."),
    allow: z.array(licenseId).default(DEFAULT_ALLOWED_LICENSES).describe("SPDX licenses that are accepted."),
    deny: z
      .array(licenseId)
      .default(DEFAULT_DENIED_LICENSES)
      .describe("SPDX licenses that are refused even if they also match allow (deny takes precedence)."),
    failOnUnknown: z
      .boolean()
      .default(true)
      .describe("Fail on packages whose license is missing or not an SPDX expression (e.g. SEE LICENSE IN ...)."),
    exceptions: z.array(LicenseExceptionSchema).default([]).describe("Packages accepted on purpose, each with a reason."),
  })
  .describe("License policy for the dependencies listed in the SBOM.");

// --- secrets (gitleaks) --------------------------------------------------------------------

export const SecretsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Scan for committed secrets (gitleaks); false skips it."),
    baseline: repoPath('a path relative to the repository root, like ".gitleaks-baseline.json"')
      .optional()
      .describe("A gitleaks JSON report, made with --redact, of findings already known; only new ones fail."),
  })
  .describe("Secret scan (gitleaks), always with redacted output.");

// --- sbom (syft) ---------------------------------------------------------------------------

export const SBOM_FORMATS = ["cyclonedx", "spdx"] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

export const SbomConfigSchema = z
  .strictObject({
    format: z
      .enum(SBOM_FORMATS)
      .default("cyclonedx")
      .describe("SBOM format syft writes and release attests: cyclonedx (CycloneDX JSON) or spdx (SPDX 2.3 JSON)."),
  })
  .describe("The image's SBOM (syft).");

export type ScanIgnoreEntry = z.infer<typeof ScanIgnoreEntrySchema>;
export type ScanConfig = z.infer<typeof ScanConfigSchema>;
export type LicenseException = z.infer<typeof LicenseExceptionSchema>;
export type LicensesConfig = z.infer<typeof LicensesConfigSchema>;
export type SecretsConfig = z.infer<typeof SecretsConfigSchema>;
export type SbomConfig = z.infer<typeof SbomConfigSchema>;
