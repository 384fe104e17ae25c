/**
 * Audit verdict from a parsed AuditResult. The exit code of the audit command is not an input:
 * npm exits 1 both for "vulnerable" and for "the endpoint refused", and only the output tells.
 */
import type { Diagnostic } from "../../../deploy/src/report/diagnostic.js";
import { SEVERITIES, severityRank, type Advisory, type AuditCounts, type AuditResult } from "./result.js";

export type AuditLevel = "low" | "moderate" | "high" | "critical";

export interface AuditIgnore {
  /**
   * GHSA id (or whatever id the advisory carries), matched case-insensitively; the URL works too.
   * A CVE id only matches where the tool reports CVEs (Advisory.aliases): npm 7+ and yarn 4 don't.
   */
  id: string;
  reason: string;
  /** ISO date ("2026-12-31", valid through that UTC day) or date-time. */
  expires?: string;
}

export interface AuditPolicyOptions {
  level: AuditLevel;
  ignore: AuditIgnore[];
  now: Date;
}

export interface AuditVerdict {
  status: "passed" | "failed" | "error";
  counts: AuditCounts;
  /** At or above the level and not ignored. */
  blocking: Advisory[];
  ignored: (Advisory & { reason: string })[];
  /** Ignore entries past their expiry: they fail the gate until renewed or removed. */
  expiredIgnores: string[];
  cause: string;
  hint: string;
}

const ZERO: AuditCounts = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 };

export function judgeAudit(result: AuditResult, opts: AuditPolicyOptions): AuditVerdict {
  if (result.kind === "error") {
    const { cause, hint } = describeError(result.message, result.statusCode);
    return { status: "error", counts: ZERO, blocking: [], ignored: [], expiredIgnores: [], cause, hint };
  }

  // An expired entry fails the gate even if its advisory is gone: a stale ignore must be
  // cleaned up, or it will silently cover the advisory if it comes back.
  const expired = opts.ignore.filter((i) => isExpired(i.expires, opts.now));
  const live = opts.ignore.filter((i) => !expired.includes(i));
  const min = severityRank(opts.level);

  const blocking: Advisory[] = [];
  const ignored: (Advisory & { reason: string })[] = [];
  for (const a of result.advisories) {
    if (severityRank(a.severity) < min) continue;
    const entry = live.find((i) => matches(i.id, a));
    if (entry) ignored.push({ ...a, reason: entry.reason });
    else blocking.push(a);
  }
  const expiredIgnores = expired.map((i) => i.id);
  const failed = blocking.length > 0 || expiredIgnores.length > 0;

  const causes: string[] = [];
  const hints: string[] = [];
  if (blocking.length > 0) {
    causes.push(
      `${severitySummary(blocking)} ${blocking.length === 1 ? "vulnerability" : "vulnerabilities"} at or above "${opts.level}" (${packages(blocking)})`,
    );
    const stuck = blocking.filter((a) => !a.fixAvailable);
    hints.push(
      stuck.length === blocking.length
        ? `no fix is known for ${packages(stuck)}: replace the dependency or add an ignore entry with a reason and an expiry date`
        : `upgrade ${packages(blocking.filter((a) => a.fixAvailable))} to a patched version (npm audit fix / pnpm update / yarn up), or add an ignore entry with a reason and an expiry date`,
    );
  }
  if (expiredIgnores.length > 0) {
    causes.push(`expired ignore ${expiredIgnores.length === 1 ? "entry" : "entries"}: ${expiredIgnores.join(", ")}`);
    hints.push(`renew the expiry of ${expiredIgnores.join(", ")} with a fresh reason, or remove the entry`);
  }
  if (!failed) {
    const below = result.advisories.length - ignored.length;
    causes.push(
      result.advisories.length === 0
        ? "no known vulnerabilities"
        : `no vulnerabilities at or above "${opts.level}" (${below} below it, ${ignored.length} ignored)`,
    );
  }
  return {
    status: failed ? "failed" : "passed",
    counts: result.counts,
    blocking,
    ignored,
    expiredIgnores,
    cause: causes.join("; "),
    hint: hints.join("; "),
  };
}

/** Blocking advisories in the shared Diagnostic shape (SARIF / Markdown). */
export function auditDiagnostics(verdict: AuditVerdict): Diagnostic[] {
  return verdict.blocking.map((a) => ({
    ruleId: a.id,
    severity: "error",
    message: `${a.package}: ${a.title} (${a.severity}${a.fixAvailable ? ", fix available" : ""}) ${a.url}`.trim(),
  }));
}

function describeError(message: string, status: number | undefined): { cause: string; hint: string } {
  const http = status ? ` (HTTP ${status})` : "";
  if (status === 404 || status === 405 || status === 501) {
    return {
      cause: `the audit endpoint refused the request${http}: the registry does not support npm audit`,
      hint: "run the audit against a registry that serves /-/npm/v1/security/advisories/bulk, or turn the audit gate off for this project explicitly",
    };
  }
  if (status === 401 || status === 403) {
    return { cause: `the audit endpoint rejected the credentials${http}`, hint: "check the registry token given to the audit step" };
  }
  if (status !== undefined && status >= 500) {
    return { cause: `the registry's audit service failed${http}`, hint: "retry later; the failure is on the registry side" };
  }
  if (/timeout|timed out|ETIMEDOUT/i.test(message)) {
    return { cause: "the audit endpoint did not answer in time", hint: "retry, or raise the package manager's fetch timeout" };
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|network/i.test(message)) {
    return { cause: "the registry could not be reached for the audit", hint: "check the registry URL and the network of the audit step" };
  }
  return { cause: `the audit could not run${http}: ${message}`, hint: "read the audit step's log; the output was not an audit report" };
}

function isExpired(expires: string | undefined, now: Date): boolean {
  if (expires === undefined) return false;
  // Date-only means "through the end of that day, UTC".
  const at = /^\d{4}-\d{2}-\d{2}$/.test(expires) ? new Date(`${expires}T23:59:59.999Z`) : new Date(expires);
  // An unreadable date fails closed: the entry no longer hides anything.
  return Number.isNaN(at.getTime()) || at.getTime() < now.getTime();
}

function matches(id: string, a: Advisory): boolean {
  const want = id.trim().toLowerCase();
  const ids = [a.id, ...(a.aliases ?? []), ...(a.url ? [a.url] : [])];
  return ids.some((x) => x.toLowerCase() === want);
}

/** "2 high, 1 critical", lowest severity first. */
function severitySummary(list: Advisory[]): string {
  return SEVERITIES.map((s) => [s, list.filter((a) => a.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
}

function packages(list: Advisory[]): string {
  return [...new Set(list.map((a) => a.package))].sort().join(", ");
}
