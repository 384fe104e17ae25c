/**
 * Trivy's JSON report (SchemaVersion 2) normalized to one finding per vulnerable package.
 * Only the fields the gate reads are validated; everything else may come and go between Trivy
 * releases (ReportID, Fingerprint and ArtifactID arrived in 2025), and clean results omit
 * `Vulnerabilities` while a clean scan may omit `Results` (Go `omitempty`).
 */
import { z } from "zod";
import { repoRelativeText } from "../../../src/report/paths.js";
import { SCAN_SEVERITIES, type ScanSeverity } from "../config.js";

export interface TrivyFinding {
  /** CVE-…, GHSA-… or a distro advisory id, as Trivy reports it. */
  id: string;
  pkg: string;
  installed: string;
  /** "" when no fixed version is known. */
  fixed: string;
  severity: ScanSeverity;
  /** unknown|not_affected|affected|fixed|under_investigation|will_not_fix|fix_deferred|end_of_life ("" if absent). */
  status: string;
  title: string;
  /** Result target: the image's OS line, or a lockfile path. */
  target: string;
  /** os-pkgs, lang-pkgs, ... */
  class: string;
  purl?: string;
  /** Where a language package sits in the image (jar, node_modules/...), when Trivy knows. */
  pkgPath?: string;
}

/** A finding Trivy left out of the report because a VEX statement (or an ignore file) said so. */
export interface SuppressedFinding extends TrivyFinding {
  /** not_affected|fixed (VEX) or ignored (an ignore file). */
  suppressedAs: string;
  /** The VEX statement's justification (e.g. vulnerable_code_not_in_execute_path); "" when none was given. */
  statement: string;
  /** What suppressed it: "OpenVEX", "CycloneDX VEX", an ignore file's path. */
  source: string;
}

export interface TrivyReport {
  artifactName: string;
  artifactType: string;
  findings: TrivyFinding[];
  /** Results[].ExperimentalModifiedFindings of type vulnerability (--show-suppressed, Trivy >= 0.55). */
  suppressed: SuppressedFinding[];
}

const str = z.string().optional();

const VulnerabilitySchema = z.object({
  VulnerabilityID: z.string().min(1),
  PkgName: z.string(),
  PkgPath: str,
  PkgIdentifier: z.object({ PURL: str }).optional(),
  InstalledVersion: str,
  FixedVersion: str,
  Status: str,
  Title: str,
  Severity: str,
});

// pkg/types/finding.go ModifiedFinding; Finding's shape depends on Type, so only vulnerabilities are read.
const ModifiedFindingSchema = z.object({
  Type: z.string(),
  Status: str,
  Statement: str,
  Source: str,
  Finding: z.unknown(),
});

const ResultSchema = z.object({
  Target: z.string(),
  Class: str,
  // null as well as absent: some writers marshal an empty slice as null.
  Vulnerabilities: z.array(VulnerabilitySchema).nullish(),
  ExperimentalModifiedFindings: z.array(ModifiedFindingSchema).nullish(),
});

const ReportSchema = z.object({
  SchemaVersion: z.literal(2),
  ArtifactName: str,
  ArtifactType: str,
  Results: z.array(ResultSchema).nullish(),
});

function severity(raw: string | undefined): ScanSeverity {
  const upper = (raw ?? "").toUpperCase();
  return (SCAN_SEVERITIES as readonly string[]).includes(upper) ? (upper as ScanSeverity) : "UNKNOWN";
}

export function parseTrivyJson(text: string): TrivyReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`the Trivy report is not valid JSON (truncated or not a --format json report?): ${why}`, { cause: e });
  }
  const parsed = ReportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "top level" : issue.path.join(".");
    throw new Error(`the Trivy report does not have the expected shape (SchemaVersion 2) at ${where}: ${issue?.message ?? "invalid"}`);
  }
  const report = parsed.data;
  const results = report.Results ?? [];
  const findings = results.flatMap((result) => (result.Vulnerabilities ?? []).map((v) => toFinding(v, result)));
  const suppressed = results.flatMap((result) =>
    (result.ExperimentalModifiedFindings ?? []).flatMap((m, i): SuppressedFinding[] => {
      if (m.Type !== "vulnerability") return [];
      const v = VulnerabilitySchema.safeParse(m.Finding);
      if (!v.success) throw new Error(`the Trivy report's suppressed finding ${result.Target}[${i}] is not a vulnerability`);
      // Source is an ignore file's or VEX document's path as Trivy was given it: a container path.
      return [
        {
          ...toFinding(v.data, result),
          suppressedAs: m.Status ?? "",
          statement: m.Statement ?? "",
          source: repoRelativeText(m.Source ?? ""),
        },
      ];
    }),
  );
  return { artifactName: repoRelativeText(report.ArtifactName ?? ""), artifactType: report.ArtifactType ?? "", findings, suppressed };
}

function toFinding(v: z.infer<typeof VulnerabilitySchema>, result: z.infer<typeof ResultSchema>): TrivyFinding {
  const finding: TrivyFinding = {
    id: v.VulnerabilityID,
    pkg: v.PkgName,
    installed: v.InstalledVersion ?? "",
    fixed: v.FixedVersion ?? "",
    severity: severity(v.Severity),
    status: v.Status ?? "",
    title: v.Title ?? "",
    // "/scan/image.tar (alpine 3.9.4)" for an image (Target = ArtifactName + OS, as the goldens
    // show), a path under the scanned root for `trivy fs`: what a user reads is the repository's.
    target: repoRelativeText(result.Target),
    class: result.Class ?? "",
  };
  if (v.PkgIdentifier?.PURL) finding.purl = v.PkgIdentifier.PURL;
  if (v.PkgPath) finding.pkgPath = repoRelativeText(v.PkgPath);
  return finding;
}
