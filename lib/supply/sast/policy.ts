/**
 * SAST verdict from the findings of a Semgrep report. Semgrep's exit code is not an input: the gate
 * runs without --error (exit 0 whatever it finds) so that it can say which finding blocked, which
 * one an ignore entry let through and why; only the policy here can tell.
 */
import { isExpired } from "../../../deploy/lib/supply/config.js";
import { pathsMatch } from "../../../deploy/lib/supply/trivy/ignore.js";
import { SAST_SEVERITIES, type SastConfig, type SastIgnoreEntry, type SastSeverity } from "../../../deploy/lib/supply/sast/config.js";
import type { SastFinding } from "./report.js";

export type SastCounts = Record<SastSeverity, number> & { total: number };

export interface SastVerdict {
  status: "passed" | "failed";
  /** Every finding in the report, by severity, whatever the policy did with it. */
  counts: SastCounts;
  /** At or above the threshold, not ignored; most severe first. */
  blocking: SastFinding[];
  /** At or above the threshold but let through: by a sast.ignore entry or a nosemgrep comment. */
  ignored: (SastFinding & { reason: string })[];
  /** Ignore entries past their expiry: they fail the gate until renewed or removed. */
  expired: SastIgnoreEntry[];
  cause: string;
  hint: string;
}

export const severityRank = (s: SastSeverity): number => SAST_SEVERITIES.indexOf(s);

/** Same rules as scan.ignore: exact id, and `paths` globs (if any) against the finding's file. */
export function sastIgnoreMatches(entry: SastIgnoreEntry, finding: SastFinding): boolean {
  return entry.id === finding.ruleId && pathsMatch(entry.paths, [finding.path]);
}

export function judgeSast(findings: readonly SastFinding[], cfg: Pick<SastConfig, "severity" | "ignore">, now: Date): SastVerdict {
  // As in scan: an expired entry fails even when its finding is gone, so it cannot silently cover
  // the finding again when it comes back; and it no longer hides anything.
  const expired = cfg.ignore.filter((e) => isExpired(e.expires, now));
  const live = cfg.ignore.filter((e) => !expired.includes(e));
  const threshold = severityRank(cfg.severity);

  const counts = Object.fromEntries([...SAST_SEVERITIES, "total"].map((k) => [k, 0])) as SastCounts;
  const blocking: SastFinding[] = [];
  const ignored: (SastFinding & { reason: string })[] = [];
  for (const f of findings) {
    counts[f.severity]++;
    counts.total++;
    if (severityRank(f.severity) < threshold) continue;
    const entry = live.find((e) => sastIgnoreMatches(e, f));
    if (entry) ignored.push({ ...f, reason: entry.reason });
    else if (f.nosemgrep) ignored.push({ ...f, reason: "nosemgrep comment on the line" });
    else blocking.push(f);
  }
  blocking.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));

  const causes: string[] = [];
  const hints: string[] = [];
  if (blocking.length > 0) {
    const rules = unique(blocking.map((f) => f.ruleId));
    causes.push(
      `${bySeverity(blocking)} ${blocking.length === 1 ? "finding" : "findings"} (${list(rules)} in ${list(unique(blocking.map((f) => f.path)))})`,
    );
    hints.push("fix the code at each finding, or add a sast.ignore entry (rule id, reason, expiry date) for an accepted one");
  }
  if (expired.length > 0) {
    causes.push(
      `expired sast.ignore ${expired.length === 1 ? "entry" : "entries"}: ${expired.map((e) => `${e.id} (expired ${e.expires})`).join(", ")}`,
    );
    hints.push(`renew the expiry of ${expired.map((e) => e.id).join(", ")} with a fresh reason, or remove the entry`);
  }
  const failed = causes.length > 0;
  if (!failed) {
    causes.push(
      counts.total === 0
        ? "no findings"
        : `no blocking findings at ${cfg.severity} or above (${counts.total - ignored.length} below it, ${ignored.length} ignored)`,
    );
  }
  return { status: failed ? "failed" : "passed", counts, blocking, ignored, expired, cause: causes.join("; "), hint: hints.join("; ") };
}

/** One line per finding: where, how bad, which rule, what it says. */
export function sastLine(f: SastFinding): string {
  return `${f.path}:${f.line} ${f.severity} ${f.ruleId}: ${firstLine(f.message)}`;
}

/** "1 CRITICAL, 2 HIGH", most severe first. */
export function bySeverity(list: readonly { severity: SastSeverity }[]): string {
  return [...SAST_SEVERITIES]
    .reverse()
    .map((s) => [s, list.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

const firstLine = (text: string) => text.trim().split("\n")[0] ?? "";
const unique = (xs: string[]): string[] => [...new Set(xs)];

/** At most five names, so one line stays one line. */
function list(xs: string[]): string {
  return xs.length <= 5 ? xs.join(", ") : `${xs.slice(0, 5).join(", ")} and ${xs.length - 5} more`;
}
