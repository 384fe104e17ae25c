/**
 * The verdict on one Lighthouse result: each category's score against its budget, and for each
 * category under budget the audits that cost it the most points.
 */
import { MAX_FINDINGS } from "../../../deploy/src/report/outcome.js";
import type { Verdict } from "../../../deploy/lib/gates/gate.js";
import {
  CATEGORY_TITLES,
  LIGHTHOUSE_CATEGORIES,
  thresholdOf,
  type LighthouseCategory,
  type LighthouseThresholds,
} from "../../../deploy/lib/gates/lighthouse/config.js";
import { categoryScore, type Lhr, type LhrAudit } from "./report.js";

/** An audit passes at 0.9 and up, as Lighthouse's report colours it (shared/util.js PASS_THRESHOLD). */
const PASS = 0.9;
/** Display modes without a score that counts (manual checks, not applicable, informative). */
const SCORED_MODES = new Set(["binary", "numeric", "metricSavings"]);
const AUDITS_PER_CATEGORY = 3;

export interface FailingAudit {
  category: LighthouseCategory;
  audit: LhrAudit;
  /** Points of the category score this audit lost: weight share x (1 - score) x 100. */
  lost: number;
}

export interface CategoryResult {
  category: LighthouseCategory;
  score: number;
  threshold: number;
  passed: boolean;
}

export function categoryResults(lhr: Lhr, thresholds: LighthouseThresholds): CategoryResult[] {
  return LIGHTHOUSE_CATEGORIES.map((category) => {
    const score = categoryScore(lhr, category) ?? 0;
    const threshold = thresholdOf(thresholds, category);
    return { category, score, threshold, passed: score >= threshold };
  });
}

/**
 * What pulled a category down, worst first. A category's score is the weighted mean of its audits'
 * scores (core/scoring.js), so weight x (1 - score) is what each audit cost; performance's
 * opportunities weigh 0 there and its metrics carry the score, so the metrics are what is listed.
 */
export function failingAudits(lhr: Lhr, category: LighthouseCategory): FailingAudit[] {
  const refs = lhr.categories[category]?.auditRefs ?? [];
  const total = refs.reduce((sum, r) => sum + r.weight, 0) || 1;
  return refs
    .flatMap((ref) => {
      const audit = lhr.audits[ref.id];
      if (!audit || ref.weight <= 0 || audit.score === null || audit.score >= PASS || !SCORED_MODES.has(audit.scoreDisplayMode)) return [];
      return [{ category, audit, lost: (ref.weight / total) * (1 - audit.score) * 100 }];
    })
    .sort((a, b) => b.lost - a.lost);
}

export function auditLine(f: FailingAudit): string {
  const value = f.audit.displayValue ? ` (${f.audit.displayValue})` : "";
  return `${CATEGORY_TITLES[f.category]}: ${f.audit.id} ${f.audit.title}${value}, costs ${Math.max(1, Math.round(f.lost))} points`;
}

const scoreText = (r: CategoryResult) => `${CATEGORY_TITLES[r.category]} ${r.score}`;

export interface JudgeContext {
  url: string;
  formFactor: string;
  runs: number;
}

export function judgeLighthouse(lhr: Lhr, thresholds: LighthouseThresholds, ctx: JudgeContext): Verdict {
  const results = categoryResults(lhr, thresholds);
  const failing = results.filter((r) => !r.passed);
  const how = `${ctx.formFactor}, ${ctx.runs === 1 ? "1 run" : `median of ${ctx.runs} runs`}, Lighthouse ${lhr.lighthouseVersion}`;
  const metrics = Object.fromEntries(results.map((r) => [r.category, r.score]));
  if (failing.length === 0) {
    return {
      status: "passed",
      summary: `${results.map(scoreText).join(", ")} on ${ctx.url} (${how})`,
      cause: "",
      hint: "",
      metrics: { ...metrics, runs: ctx.runs },
      findings: [],
      log: "",
    };
  }
  const audits = failing.map((r) => failingAudits(lhr, r.category));
  const under = failing.map((r) => `${scoreText(r)} < ${r.threshold}`).join(", ");
  const top = audits.flatMap((a) => a.slice(0, 1).map((f) => f.audit.id));
  const findings = failing.flatMap((r, i) => [
    `${CATEGORY_TITLES[r.category]} ${r.score} < ${r.threshold}`,
    ...audits[i]!.slice(0, AUDITS_PER_CATEGORY).map(auditLine),
  ]);
  return {
    status: "failed",
    summary: `${failing.length === 1 ? "1 category" : `${failing.length} categories`} under budget on ${ctx.url}: ${under}${top.length ? ` — top: ${top.join(", ")}` : ""} (${how})`,
    cause: `${under}`,
    hint: "fix the audits listed (lighthouse.html in the gate's files explains each), or change lighthouse.thresholds with a reason in review",
    metrics: { ...metrics, runs: ctx.runs, failingCategories: failing.length },
    findings: findings.slice(0, MAX_FINDINGS),
    log: "",
  };
}
