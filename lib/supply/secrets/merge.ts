/**
 * One finding per secret, whichever scans saw it: gitleaks `dir` (the working tree) and `git`
 * (every commit that added it) report the same leaked key separately, and `git` reports the line
 * it had in the commit that added it, which the working tree may have moved since. A secret is
 * the same when rule, repository-relative file and value-free shape (columns, entropy, redacted
 * match) agree; reports without a shape (SARIF) fall back to the line.
 */
import type { SecretFinding } from "./report.js";

export interface SecretPlace {
  /** "" for the working tree. */
  commit: string;
  line: number;
  /** The .gitleaksignore line for this place (a commit's, or the global `file:rule:line`). */
  fingerprint: string;
}

export interface MergedSecret {
  rule: string;
  file: string;
  /** The working tree's line when it is there, else the first commit's. */
  line: number;
  /** The working tree first, then commits in report order. */
  places: SecretPlace[];
}

export function mergeSecrets(findings: readonly SecretFinding[]): MergedSecret[] {
  const groups = new Map<string, SecretFinding[]>();
  for (const f of findings) {
    const key = JSON.stringify([f.rule, f.file, f.shape || `line ${f.line}`]);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()].map((group) => {
    const ordered = [...group.filter((f) => f.commit === ""), ...group.filter((f) => f.commit !== "")];
    const seen = new Set<string>();
    const places = ordered
      .map((f) => ({ commit: f.commit, line: f.line, fingerprint: f.fingerprint }))
      .filter((p) => !seen.has(p.fingerprint) && seen.add(p.fingerprint));
    const first = ordered[0]!; // a group is never empty
    return { rule: first.rule, file: first.file, line: first.line, places };
  });
}

/** "working tree; commit 58bc9ea0187b line 2": where it was seen, without the secret. */
export function describePlaces(s: MergedSecret): string {
  return s.places
    .map((p) => (p.commit === "" ? "working tree" : `commit ${p.commit.slice(0, 12)}${p.line === s.line ? "" : ` line ${p.line}`}`))
    .join("; ");
}

/**
 * Baseline entries gitleaks cannot apply to `dir` findings: its IsNew compares Commit, Author,
 * Email, Date and Message too (detect/baseline.go at v8.26.0), which a working-tree finding has
 * empty, so a baseline made from history never matches one. A working-tree finding at the very
 * spot of an accepted one (rule, file, lines, columns, entropy, as IsNew compares under
 * --redact) is the accepted secret; history findings are left to gitleaks' own, exact match.
 */
export function withoutBaselined(findings: readonly SecretFinding[], spots: ReadonlySet<string>): SecretFinding[] {
  return findings.filter((f) => f.commit !== "" || !spots.has(f.spot));
}
