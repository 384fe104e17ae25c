/**
 * VEX documents for Trivy: where each is mounted in the scan container, and how a finding a VEX
 * statement suppressed is told in the report. Suppressed findings stay visible (never silently
 * dropped): a reviewer must be able to see what the VEX claims and on whose word.
 */
import { posix } from "node:path";
import type { Diagnostic } from "../../../src/report/diagnostic.js";
import type { SuppressedFinding } from "./report.js";

export const VEX_DIR = "/vex";

/** Index-prefixed so two files named alike in different folders cannot overwrite each other. */
export function vexMountPath(index: number, sourcePath: string): string {
  return `${VEX_DIR}/${index}-${posix.basename(sourcePath.replace(/\\/g, "/"))}`;
}

/** "not_affected: vulnerable_code_not_in_execute_path (OpenVEX)" */
export function suppressionReason(f: SuppressedFinding): string {
  const why = f.statement ? `${f.suppressedAs || "suppressed"}: ${f.statement}` : f.suppressedAs || "suppressed";
  return f.source ? `${why} (${f.source})` : why;
}

export function suppressedLine(f: SuppressedFinding): string {
  return `suppressed ${f.pkg} ${f.installed} ${f.severity} ${f.id} — ${suppressionReason(f)}`;
}

/** Notes, not errors: SARIF consumers list them without failing on them. */
export function suppressedDiagnostics(list: readonly SuppressedFinding[]): Diagnostic[] {
  return list.map((f) => ({
    ruleId: f.id,
    severity: "note",
    message: `${f.pkg} ${f.installed}: ${f.title || f.id} (${f.severity}) suppressed by VEX — ${suppressionReason(f)} [${f.target}]`,
  }));
}
