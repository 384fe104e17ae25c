/**
 * Delivery metrics: the audit trail read back (Postgres or a JSON Lines file) into DORA numbers and
 * charts. (The gate table posted to a pull request is gates/pr-comment.ts.)
 */
import type { ShipshapeConfig } from "../config/schema.js";
import {
  deliveryMetrics,
  metricsChartSvg,
  metricsMarkdown,
  metricsText,
  pipelineChartSvg,
  type DeliveryMetrics,
} from "../metrics/index.js";
import type { Period } from "../metrics/periods.js";
import { Problem } from "../../src/project/problem.js";
import { auditTimeouts } from "../trail/config.js";
import { PostgresTrail } from "../trail/postgres.js";
import { readJsonlEntries, type DamagedLine } from "../trail/jsonl.js";
import type { PipelineRun } from "../trail/pipeline-record.js";
import type { AuditRecord } from "../trail/record.js";
import { progress } from "./progress.js";

export interface TrailSource {
  /** Plaintext of the database URL Secret. */
  databaseUrl?: string;
  /** Contents of a JSON Lines trail a deploy returned. */
  jsonl?: string;
}

/** The deploy records of the environment (all when empty) and every ci run (they have no environment). */
export interface TrailRead {
  records: AuditRecord[];
  pipelineRuns: PipelineRun[];
}

/** Every record of the environment (all of them when empty): metrics need history before the window too. */
export async function readTrail(config: ShipshapeConfig, from: TrailSource, environment: string): Promise<TrailRead> {
  const filter = environment ? { environment } : {};
  if (from.databaseUrl) {
    const trail = await PostgresTrail.open(from.databaseUrl, { timeouts: auditTimeouts(config.auditTrail) });
    try {
      const records = await trail.read(filter);
      // A role granted only the deploy tables still gets its DORA figures; the ci runs are then a warning.
      const pipelineRuns = await trail.readPipelineRuns().catch((e: unknown) => {
        progress("metrics", `warning: ci runs not read: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
        return [];
      });
      return { records, pipelineRuns };
    } finally {
      await trail.close();
    }
  }
  if (from.jsonl !== undefined) {
    const { records, pipelineRuns, damaged } = readJsonlTrail(from.jsonl);
    // One damaged line (a run killed mid-write) is reported, not fatal: the intact records still count.
    for (const d of damaged) progress("metrics", `warning: ${d.cause}; left out of the metrics`);
    return { records: records.filter((r) => !environment || r.environment === environment), pipelineRuns };
  }
  throw new Problem(
    "delivery metrics need the audit trail",
    "chain with-audit-trail --database-url=env://AUDIT_DATABASE_URL, or with-audit-trail --trail=<audit.jsonl a deploy returned>",
  );
}

/** The intact records of a JSON Lines trail and its damaged lines; a trail with lines but no intact record is a Problem. */
export function readJsonlTrail(jsonl: string): { records: AuditRecord[]; pipelineRuns: PipelineRun[]; damaged: DamagedLine[] } {
  const entries = readJsonlEntries(jsonl);
  const records = entries.flatMap((e) => ("record" in e ? [e.record] : []));
  const pipelineRuns = entries.flatMap((e) => ("pipeline" in e ? [e.pipeline] : []));
  const damaged = entries.flatMap((e) => ("damaged" in e ? [e.damaged] : []));
  if (records.length === 0 && pipelineRuns.length === 0 && damaged.length > 0) {
    throw new Problem(
      `the audit trail has no intact record: ${damaged[0]!.cause}${damaged.length > 1 ? ` (and ${damaged.length - 1} more)` : ""}`,
      "pass the audit.jsonl a deploy returned (one JSON record per line)",
    );
  }
  return { records, pipelineRuns, damaged };
}

export interface DeliveryFiles {
  metrics: DeliveryMetrics;
  markdown: string;
  text: string;
  /** file name → contents: metrics.md, metrics.txt, metrics.json, a chart per environment (<env>.svg), pipeline.svg with ci runs. */
  files: Record<string, string>;
}

export function deliveryReport(
  records: AuditRecord[],
  q: { environment: string; period: string; from: string; to: string },
  pipelineRuns: readonly PipelineRun[] = [],
): DeliveryFiles {
  const metrics = deliveryMetrics(records, {
    ...(q.environment ? { environment: q.environment } : {}),
    period: q.period as Period, // validated inside (a bad value is a Problem naming the choices)
    ...(q.from ? { from: q.from } : {}),
    ...(q.to ? { to: q.to } : {}),
    now: Date.now(),
    pipelineRuns,
  });
  const markdown = metricsMarkdown(metrics);
  const text = metricsText(metrics);
  const files: Record<string, string> = {
    "metrics.md": markdown,
    "metrics.txt": text,
    "metrics.json": `${JSON.stringify(metrics, null, 2)}\n`,
  };
  for (const env of metrics.environments) {
    files[`${env.environment}.svg`] = metricsChartSvg(metrics, { environment: env.environment });
  }
  if (metrics.pipeline) files["pipeline.svg"] = pipelineChartSvg(metrics);
  return { metrics, markdown, text, files };
}
