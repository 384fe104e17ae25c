/**
 * Secret-scan verdict. Any finding fails: accepted ones are already gone, through the baseline
 * (--baseline-path) or a fingerprint in .gitleaksignore, both applied by gitleaks itself.
 */
import type { Diagnostic } from "../../report/diagnostic.js";
import type { SecretFinding } from "./report.js";

export interface SecretsVerdict {
  status: "passed" | "failed";
  findings: SecretFinding[];
  cause: string;
  hint: string;
}

export function judgeSecrets(findings: readonly SecretFinding[]): SecretsVerdict {
  if (findings.length === 0) return { status: "passed", findings: [], cause: "no secrets found", hint: "" };
  const where = findings.map((f) => `${f.rule} in ${f.file}:${f.line}`);
  const shown = where.length <= 5 ? where.join(", ") : `${where.slice(0, 5).join(", ")} and ${where.length - 5} more`;
  const inHistory = findings.some((f) => f.commit !== "");
  return {
    status: "failed",
    findings: [...findings],
    cause: `${findings.length} possible ${findings.length === 1 ? "secret" : "secrets"} found: ${shown}`,
    hint: `revoke and rotate each real secret first${inHistory ? " (it stays in git history even once removed)" : ""}, then remove it from the code; for a false positive, add its fingerprint line to .gitleaksignore`,
  };
}

/** Findings in the shared Diagnostic shape (SARIF / Markdown); never any secret text. */
export function secretDiagnostics(verdict: SecretsVerdict): Diagnostic[] {
  return verdict.findings.map((f) => ({
    ruleId: f.rule,
    severity: "error",
    message: `possible secret (${f.rule})${f.commit ? ` in commit ${f.commit.slice(0, 12)}` : ""}; fingerprint ${f.fingerprint}`,
    file: f.file,
    line: f.line,
  }));
}
