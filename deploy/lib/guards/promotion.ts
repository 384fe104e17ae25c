/**
 * Promotion only of what the earlier environments proved: a deploy to an environment with
 * `requires: [staging]` goes ahead only when the audit trail says this very digest succeeded in
 * staging (its latest verdict there, corrections included), and staging answers its smoke checks
 * right now. Every required environment is checked, so a refusal names everything missing at once.
 */
import { smokeGate, type CheckDeps } from "../deploy/checks.js";
import type { EnvironmentConfig } from "../deploy/config.js";
import type { GateDecision } from "../deploy/hooks.js";
import { Problem } from "../../src/project/problem.js";
import type { AuditRecord } from "../trail/record.js";
import type { AuditTrail } from "../trail/store.js";

export interface PromotionInput {
  environment: string;
  /** repository@sha256:<hex>. */
  image: string;
  /** The environments named by `requires`, with their config (checked to exist and to have smoke checks at load). */
  required: ReadonlyArray<{ name: string; config: EnvironmentConfig }>;
  trail: AuditTrail | undefined;
  checks?: CheckDeps;
  now?: () => number;
}

export interface PromotionVerdict {
  decisions: GateDecision[];
  refusal?: Problem;
}

/** The trail's latest word on `digest` in one environment: its deploy, or the promote that finished that deploy's revision. */
export function latestVerdict(records: readonly AuditRecord[], environment: string, digest: string): AuditRecord | undefined {
  const latest = new Map<string, AuditRecord>();
  for (const r of records) {
    if (r.environment !== environment) continue;
    if (r.phase === "completed") latest.set(r.recordId, latest.get(r.recordId) ?? r);
    if (r.phase === "correction" && r.correctionOf) latest.set(r.correctionOf, r);
  }
  const ends = [...latest.values()];
  // A blue-green deploy paused for a human is finished by a promote, whose record names the revision, not the image.
  const revisions = new Set(ends.flatMap((r) => (r.kind === "deploy" && r.digest === digest && r.toRevision ? [r.toRevision] : [])));
  const verdicts = ends.filter(
    (r) =>
      r.outcome !== "paused" &&
      r.outcome !== "unknown" &&
      ((r.kind === "deploy" && r.digest === digest) || (r.kind === "promote" && r.toRevision !== undefined && revisions.has(r.toRevision))),
  );
  return verdicts.sort((a, b) => (b.endedAt ?? b.startedAt).localeCompare(a.endedAt ?? a.startedAt))[0];
}

const short = (digest: string) => `${digest.slice(0, 19)}…`;

export async function checkPromotion(input: PromotionInput): Promise<PromotionVerdict> {
  const digest = input.image.split("@")[1] ?? "";
  const now = input.now ?? Date.now;
  const decisions: GateDecision[] = [];
  const missing: string[] = [];
  for (const req of input.required) {
    const at = () => new Date(now()).toISOString();
    const records = input.trail ? await input.trail.read({ environment: req.name }) : [];
    const verdict = latestVerdict(records, req.name, digest);
    const proven = verdict?.outcome === "succeeded";
    const when = verdict ? ` at ${verdict.endedAt ?? verdict.startedAt} (run ${verdict.runId})` : "";
    const provenance = proven
      ? `${short(digest)} succeeded in ${req.name}${when}`
      : verdict
        ? `${short(digest)} last ${verdict.outcome} in ${req.name}${when}`
        : records.length === 0
          ? `the audit trail has no deploy to ${req.name}`
          : `${short(digest)} has no recorded deploy to ${req.name}`;
    if (!proven) missing.push(provenance);
    // Healthy now, not only then: the smoke checks run against it just before this deploy.
    const smoke = req.config.smoke;
    let healthy = false;
    if (smoke) {
      const s = await smokeGate(smoke, "production", { stage: `${req.name} before promotion`, step: 0 }, input.checks);
      decisions.push(s.decision);
      healthy = s.verdict.passed;
      if (!healthy) missing.push(`${req.name} is not healthy now: ${s.verdict.cause}`);
    } else missing.push(`${req.name} has no smoke checks to prove it healthy`);
    decisions.push({
      at: at(),
      gate: "promotion",
      stage: `requires ${req.name}`,
      step: 0,
      verdict: proven && healthy ? "passed" : "failed",
      reason: `${provenance}; ${healthy ? `${req.name} healthy now` : `${req.name} not healthy now`}`,
      values: [],
    });
  }
  if (missing.length === 0) return { decisions };
  return {
    decisions,
    refusal: new Problem(
      `refusing to deploy ${short(digest)} to ${input.environment}: ${missing.join("; ")}`,
      `deploy this digest to ${input.required.map((r) => r.name).join(" and ")} first and let it pass there; pass the audit trail that recorded it (withAuditTrail: the database URL, or the previous run's audit.jsonl)`,
    ),
  };
}
