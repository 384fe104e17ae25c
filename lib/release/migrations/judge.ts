/**
 * The migrations verdict. squawk's exit code is no input (it exits 1 on any warning); only findings
 * and their ranking are.
 */
import { describeError } from "../../../deploy/src/project/problem.js";
import type { MigrationFinding } from "./findings.js";
import {
  isUnchecked,
  MIGRATION_SEVERITIES,
  severityRank,
  type MigrationSeverity,
} from "../../../deploy/lib/release/migrations/severity.js";
import type { SkippedFile } from "./source.js";

/** The pull-request label the GitHub wrapper turns into approvedDestructive. */
export const DESTRUCTIVE_APPROVAL_LABEL = "migration-destructive-approved";

export interface JudgeOptions {
  failOn: MigrationSeverity;
  approvedDestructive: boolean;
  /** Every migration file selected, skipped ones included: none means nothing to check. */
  files: readonly string[];
  skipped?: readonly SkippedFile[];
}

export type MigrationCounts = Record<MigrationSeverity, number> & { total: number };

export interface MigrationsVerdict {
  status: "passed" | "failed" | "error";
  counts: MigrationCounts;
  files: number;
  findings: MigrationFinding[];
  blocking: MigrationFinding[];
  /** Destructive findings let through by the approval label. */
  approved: MigrationFinding[];
  skipped: SkippedFile[];
  /** One line each. */
  cause: string;
  hint: string;
}

function countFindings(findings: readonly MigrationFinding[]): MigrationCounts {
  const counts: MigrationCounts = { low: 0, medium: 0, high: 0, critical: 0, total: findings.length };
  for (const f of findings) counts[f.severity] += 1;
  return counts;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
const at = (f: MigrationFinding) => `${f.file}:${f.line}`;

function summary(counts: MigrationCounts): string {
  const parts = [...MIGRATION_SEVERITIES]
    .reverse()
    .filter((s) => counts[s] > 0)
    .map((s) => `${counts[s]} ${s}`);
  return parts.length === 0 ? "no findings" : parts.join(", ");
}

export function judgeMigrations(findings: readonly MigrationFinding[], opts: JudgeOptions): MigrationsVerdict {
  const counts = countFindings(findings);
  const skipped = [...(opts.skipped ?? [])];
  const base = { counts, files: opts.files.length, findings: [...findings], skipped };
  if (opts.files.length === 0) {
    return { ...base, status: "passed", blocking: [], approved: [], cause: "no migrations to check", hint: "" };
  }

  const threshold = severityRank(opts.failOn);
  const blocking: MigrationFinding[] = [];
  const approved: MigrationFinding[] = [];
  for (const f of findings) {
    // A file we could not check never passes, whatever failOn and the label say.
    if (isUnchecked(f.rule)) blocking.push(f);
    else if (f.destructive && opts.approvedDestructive) approved.push(f);
    else if (f.destructive || severityRank(f.severity) >= threshold) blocking.push(f);
  }

  const checked = `${plural(opts.files.length - skipped.length, "migration")} checked`;
  const skippedNote = skipped.length > 0 ? `; ${skipped.length} skipped (${skipped.map((s) => s.reason).join(", ")})` : "";
  const approvedNote = approved.length > 0 ? `; ${plural(approved.length, "destructive change")} approved by label` : "";

  const unparsed = blocking.find((f) => isUnchecked(f.rule));
  if (unparsed !== undefined) {
    const cause = `${at(unparsed)}:${unparsed.column}: ${unparsed.rule === "syntax-error" ? `does not parse: ${unparsed.message}` : unparsed.message}`;
    return { ...base, status: "failed", blocking, approved, cause, hint: unparsed.guidance };
  }
  const destructive = blocking.find((f) => f.destructive);
  if (destructive !== undefined) {
    const n = blocking.filter((f) => f.destructive).length;
    return {
      ...base,
      status: "failed",
      blocking,
      approved,
      cause: `${plural(n, "destructive migration change")}, first ${destructive.rule} at ${at(destructive)} (${checked}: ${summary(counts)})`,
      hint: `ship it expand/contract: ${destructive.guidance}; if the loss is intended, add the PR label ${DESTRUCTIVE_APPROVAL_LABEL} (the GitHub wrapper passes it as approvedDestructive)`,
    };
  }
  const first = blocking[0];
  if (first !== undefined) {
    return {
      ...base,
      status: "failed",
      blocking,
      approved,
      cause: `${plural(blocking.length, "migration finding")} at or above ${opts.failOn}, first ${first.rule} at ${at(first)} (${checked}: ${summary(counts)})`,
      hint: `${first.guidance}; or exclude the rule in migrations.excludeRules, or raise migrations.failOn`,
    };
  }
  const below = counts.total > approved.length ? `, none at or above ${opts.failOn}` : "";
  return {
    ...base,
    status: "passed",
    blocking,
    approved,
    cause: `${checked}: ${summary(counts)}${below}${approvedNote}${skippedNote}`,
    hint: "",
  };
}

/** For a gate that could not judge: squawk failed, git could not list changes (a Problem keeps its hint). */
export function migrationsErrorVerdict(e: unknown): MigrationsVerdict {
  const { cause, hint } = describeError(e);
  const counts = countFindings([]);
  return { status: "error", counts, files: 0, findings: [], blocking: [], approved: [], skipped: [], cause, hint };
}
