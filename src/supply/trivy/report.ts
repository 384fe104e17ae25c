/**
 * Trivy's JSON report (SchemaVersion 2) normalized to one finding per vulnerable package.
 * Only the fields the gate reads are validated; everything else may come and go between Trivy
 * releases (ReportID, Fingerprint and ArtifactID arrived in 2025), and clean results omit
 * `Vulnerabilities` while a clean scan may omit `Results` (Go `omitempty`).
 */
import { z } from "zod";
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

export interface TrivyReport {
  artifactName: string;
  artifactType: string;
  findings: TrivyFinding[];
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

const ResultSchema = z.object({
  Target: z.string(),
  Class: str,
  // null as well as absent: some writers marshal an empty slice as null.
  Vulnerabilities: z.array(VulnerabilitySchema).nullish(),
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
  const findings = (report.Results ?? []).flatMap((result) =>
    (result.Vulnerabilities ?? []).map((v): TrivyFinding => {
      const finding: TrivyFinding = {
        id: v.VulnerabilityID,
        pkg: v.PkgName,
        installed: v.InstalledVersion ?? "",
        fixed: v.FixedVersion ?? "",
        severity: severity(v.Severity),
        status: v.Status ?? "",
        title: v.Title ?? "",
        target: result.Target,
        class: result.Class ?? "",
      };
      if (v.PkgIdentifier?.PURL) finding.purl = v.PkgIdentifier.PURL;
      if (v.PkgPath) finding.pkgPath = v.PkgPath;
      return finding;
    }),
  );
  return { artifactName: report.ArtifactName ?? "", artifactType: report.ArtifactType ?? "", findings };
}
