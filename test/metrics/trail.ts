/** Hand-built audit trails: one started and (unless left open) one completed record per run. */
import type { DeliveryKind, DeliveryOutcome, DeliveryRecord } from "../../deploy/lib/metrics/records.js";

export const NOW = Date.parse("2026-11-20T12:00:00Z"); // a Friday, in ISO week 2026-W47

export interface RunSpec {
  id: string;
  kind?: DeliveryKind;
  env?: string;
  start: string;
  /** Left out: the run has only its started record. */
  end?: string;
  outcome?: DeliveryOutcome;
  commitAt?: string;
  sha?: string;
  message?: string;
  version?: string;
}

export function run(spec: RunSpec): DeliveryRecord[] {
  const base = { runId: spec.id, kind: spec.kind ?? "deploy", environment: spec.env ?? "prod", startedAt: spec.start } as const;
  const commit = {
    ...(spec.commitAt === undefined ? {} : { commitTimestamp: spec.commitAt }),
    ...(spec.sha === undefined ? {} : { commitSha: spec.sha }),
    ...(spec.message === undefined ? {} : { commitMessage: spec.message }),
    ...(spec.version === undefined ? {} : { version: spec.version }),
  };
  const started: DeliveryRecord = { ...base, ...commit, phase: "started", outcome: "unknown" };
  if (spec.end === undefined) return [started];
  return [started, { ...base, ...commit, phase: "completed", endedAt: spec.end, outcome: spec.outcome ?? "succeeded" }];
}

export const trail = (...specs: RunSpec[]): DeliveryRecord[] => specs.flatMap(run);

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
