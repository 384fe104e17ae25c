/**
 * Secret-scan verdict. Any finding fails: accepted ones are already gone, through the baseline
 * (--baseline-path, and withoutBaselined for the working tree) or a fingerprint in
 * .gitleaksignore, both applied by gitleaks itself.
 */
import type { Diagnostic } from "../../../deploy/src/report/diagnostic.js";
import { describePlaces, mergeSecrets, type MergedSecret } from "./merge.js";
import type { SecretFinding } from "./report.js";

export interface SecretsVerdict {
  status: "passed" | "failed";
  /** One per secret, with every place it was seen. */
  findings: MergedSecret[];
  cause: string;
  hint: string;
}

export function judgeSecrets(found: readonly SecretFinding[]): SecretsVerdict {
  const findings = mergeSecrets(found);
  if (findings.length === 0) return { status: "passed", findings: [], cause: "no secrets found", hint: "" };
  const where = findings.map((f) => `${f.rule} in ${f.file}:${f.line}`);
  const shown = where.length <= 5 ? where.join(", ") : `${where.slice(0, 5).join(", ")} and ${where.length - 5} more`;
  const inHistory = findings.some((f) => f.places.some((p) => p.commit !== ""));
  return {
    status: "failed",
    findings,
    cause: `${findings.length} possible ${findings.length === 1 ? "secret" : "secrets"} found: ${shown}`,
    hint: `revoke and rotate each real secret first${inHistory ? " (it stays in git history even once removed)" : ""}, then remove it from the code; for a false positive, add its fingerprint line to .gitleaksignore`,
  };
}

/** The .gitleaksignore lines that drop every place of a finding (gitleaks detect.go AddFinding). */
export function ignoreLines(s: MergedSecret): string[] {
  return s.places.map((p) => p.fingerprint);
}

/** One line per finding: `file:line rule (working tree; commit …)`; never any secret text. */
export function secretLine(s: MergedSecret): string {
  return `${s.file}:${s.line} ${s.rule} (${describePlaces(s)})`;
}

/** Findings in the shared Diagnostic shape (SARIF / Markdown); never any secret text. */
export function secretDiagnostics(verdict: SecretsVerdict): Diagnostic[] {
  return verdict.findings.map((f) => ({
    ruleId: f.rule,
    severity: "error",
    message: `possible secret (${f.rule}) seen in: ${describePlaces(f)}; .gitleaksignore: ${ignoreLines(f).join(", ")}`,
    file: f.file,
    line: f.line,
  }));
}
