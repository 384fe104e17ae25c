/**
 * Scan verdict from the findings of a raw Trivy report. Trivy's exit code is not an input: it is
 * 0 with findings by default and 1 on errors too, and the gate needs to say which finding was
 * ignored and why, which only applying the policy here can tell.
 */
import type { Diagnostic } from "../../../src/report/diagnostic.js";
import { SCAN_SEVERITIES, isExpired, type ScanConfig, type ScanIgnoreEntry, type ScanSeverity } from "../config.js";
import { ignoreMatches } from "./ignore.js";
import type { TrivyFinding } from "./report.js";

/** Trivy's --ignore-unfixed is exactly --ignore-status with these. */
export const UNFIXED_STATUSES = ["affected", "will_not_fix", "fix_deferred", "end_of_life"];

export type SeverityCounts = Record<ScanSeverity, number> & { total: number };

export interface ScanVerdict {
  status: "passed" | "failed";
  /** Every finding in the report, by severity, whatever the policy did with it. */
  counts: SeverityCounts;
  /** At a failing severity, not ignored. */
  blocking: TrivyFinding[];
  /** At a failing severity but let through: by an ignore entry, or as unfixed with ignoreUnfixed. */
  ignored: (TrivyFinding & { reason: string })[];
  /** Ignore entries past their expiry: they fail the gate until renewed or removed. */
  expired: ScanIgnoreEntry[];
  cause: string;
  hint: string;
}

export function isUnfixed(f: TrivyFinding): boolean {
  return f.fixed === "" || UNFIXED_STATUSES.includes(f.status);
}

export function judgeScan(
  findings: readonly TrivyFinding[],
  cfg: Pick<ScanConfig, "severities" | "ignoreUnfixed" | "ignore">,
  now: Date,
): ScanVerdict {
  // An expired entry fails even when its finding is gone, so a stale ignore cannot silently
  // cover the vulnerability again when it comes back; and it no longer hides anything.
  const expired = cfg.ignore.filter((e) => isExpired(e.expires, now));
  const live = cfg.ignore.filter((e) => !expired.includes(e));
  const failing = new Set<ScanSeverity>(cfg.severities);

  const counts = Object.fromEntries([...SCAN_SEVERITIES, "total"].map((k) => [k, 0])) as SeverityCounts;
  const blocking: TrivyFinding[] = [];
  const ignored: (TrivyFinding & { reason: string })[] = [];
  for (const f of findings) {
    counts[f.severity]++;
    counts.total++;
    if (!failing.has(f.severity)) continue;
    const entry = live.find((e) => ignoreMatches(e, f));
    if (entry) ignored.push({ ...f, reason: entry.reason });
    else if (cfg.ignoreUnfixed && isUnfixed(f))
      ignored.push({ ...f, reason: `no fix released (${f.status || "no fixed version"}); scan.ignoreUnfixed is on` });
    else blocking.push(f);
  }

  const causes: string[] = [];
  const hints: string[] = [];
  if (blocking.length > 0) {
    const ids = unique(blocking.map((f) => f.id));
    causes.push(
      `${summary(blocking)} ${blocking.length === 1 ? "vulnerability" : "vulnerabilities"} (${list(ids)} in ${list(unique(blocking.map((f) => f.pkg)))})`,
    );
    const fixable = blocking.filter((f) => !isUnfixed(f));
    hints.push(
      fixable.length > 0
        ? `upgrade ${list(unique(fixable.map((f) => `${f.pkg} to ${f.fixed}`)))} (a newer base image or dependency), or add a scan.ignore entry with a reason and an expiry date`
        : "no fix is released yet: use a different base image or package, or add a scan.ignore entry with a reason and an expiry date (or set scan.ignoreUnfixed)",
    );
  }
  if (expired.length > 0) {
    const names = expired.map((e) => `${e.id} (expired ${e.expires})`);
    causes.push(`expired scan.ignore ${expired.length === 1 ? "entry" : "entries"}: ${names.join(", ")}`);
    hints.push(`renew the expiry of ${expired.map((e) => e.id).join(", ")} with a fresh reason, or remove the entry`);
  }
  const failed = causes.length > 0;
  if (!failed) {
    causes.push(
      counts.total === 0
        ? "no known vulnerabilities"
        : `no blocking vulnerabilities at ${cfg.severities.join(", ")} (${counts.total - ignored.length} at other severities, ${ignored.length} ignored)`,
    );
  }
  return { status: failed ? "failed" : "passed", counts, blocking, ignored, expired, cause: causes.join("; "), hint: hints.join("; ") };
}

/** Blocking findings in the shared Diagnostic shape (SARIF / Markdown). */
export function scanDiagnostics(verdict: ScanVerdict): Diagnostic[] {
  return verdict.blocking.map((f) => ({
    ruleId: f.id,
    severity: "error",
    message: `${f.pkg} ${f.installed}: ${f.title || f.id} (${f.severity}${f.fixed ? `, fixed in ${f.fixed}` : ", no fix"}) [${f.target}]`,
  }));
}

/** "2 CRITICAL, 1 HIGH", most severe first. */
function summary(list: TrivyFinding[]): string {
  return [...SCAN_SEVERITIES]
    .reverse()
    .map((s) => [s, list.filter((f) => f.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** At most five names, so one line stays one line. */
function list(xs: string[]): string {
  return xs.length <= 5 ? xs.join(", ") : `${xs.slice(0, 5).join(", ")} and ${xs.length - 5} more`;
}
