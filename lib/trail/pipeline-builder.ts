/**
 * Builds the CI run record from what `ci` has at hand: each gate's outcome (status, duration,
 * metrics), the run context from withRun, and the run's start and end. Pure apart from the
 * injected clock and id source.
 */
import { randomUUID } from "node:crypto";
import {
  parsePipelineRun,
  PIPELINE_RUN_TYPE,
  PIPELINE_SCHEMA_VERSION,
  type PipelineGate,
  type PipelineGateStatus,
  type PipelineRun,
} from "../../deploy/lib/trail/pipeline-record.js";

/** The parts of a gate's outcome (src/report/outcome.ts GateOutcome) the record needs. */
export interface GateOutcomeLike {
  gate: string;
  status: PipelineGateStatus;
  durationMs: number;
  metrics: Readonly<Record<string, number>>;
}

/** Gates whose findings are security findings; a gate added later joins by being named here. */
export const SECURITY_GATES: ReadonlySet<string> = new Set(["audit", "sast", "secrets", "scan"]);

export interface BlockingRules {
  /** gates.lint.maxWarnings: warnings only block above it (-1: never). */
  lintMaxWarnings?: number;
}

const num = (m: Readonly<Record<string, number>>, key: string): number | undefined => {
  const v = m[key];
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
};

/**
 * How many findings made a gate fail. A gate that passed or was skipped has none; one that could
 * not judge (error) has no count at all. A failed gate's `blocking` metric wins (audit, scan,
 * migrations report it); the older gates report their own counts: lint errors, unformatted files
 * and warnings over the limit, type errors, failing tests.
 */
export function blockingOf(outcome: GateOutcomeLike, rules: BlockingRules = {}): number | undefined {
  if (outcome.status === "passed" || outcome.status === "skipped") return 0;
  if (outcome.status === "error") return undefined;
  const m = outcome.metrics;
  const reported = num(m, "blocking");
  if (reported !== undefined) return reported;
  switch (outcome.gate) {
    case "lint": {
      const max = rules.lintMaxWarnings ?? 0;
      const warnings = num(m, "warnings") ?? 0;
      return (num(m, "errors") ?? 0) + (num(m, "unformatted") ?? 0) + (max >= 0 && warnings > max ? warnings : 0);
    }
    case "typecheck":
      return num(m, "errors");
    case "test":
      return num(m, "failures");
    default:
      return num(m, "findings") ?? num(m, "errors");
  }
}

export interface PipelineRunInput {
  outcomes: readonly GateOutcomeLike[];
  /** Epoch milliseconds when ci started its gates. */
  startedMs: number;
  actor?: string;
  commitSha?: string;
  branch?: string;
  runUrl?: string;
  rules?: BlockingRules;
}

export interface PipelineDeps {
  now?: () => number;
  newId?: () => string;
}

const set = <K extends string, V>(key: K, value: V | undefined | "") =>
  (value === undefined || value === "" ? {} : { [key]: value }) as Partial<Record<K, V>>;

/** The record of one ci run; its run id is new per call, so two runs of the same commit are two records. */
export function pipelineRunRecord(input: PipelineRunInput, deps: PipelineDeps = {}): PipelineRun {
  const newId = deps.newId ?? randomUUID;
  const endedMs = Math.max(input.startedMs, (deps.now ?? Date.now)());
  const gates = input.outcomes.map((o): PipelineGate => {
    const blocking = blockingOf(o, input.rules);
    return {
      name: o.gate,
      status: o.status,
      durationMs: Math.max(0, Math.round(o.durationMs)),
      ...(blocking === undefined ? {} : { blocking }),
      security: SECURITY_GATES.has(o.gate),
    };
  });
  const failed = input.outcomes.some((o) => o.status === "failed" || o.status === "error");
  const test = input.outcomes.find((o) => o.gate === "test" && o.status !== "skipped");
  const coverage = (key: string) => {
    const v = test?.metrics[key];
    return typeof v === "number" && Number.isFinite(v) ? Math.min(100, Math.max(0, v)) : undefined;
  };
  return parsePipelineRun({
    type: PIPELINE_RUN_TYPE,
    schemaVersion: PIPELINE_SCHEMA_VERSION,
    recordId: newId(),
    runId: `shipshape-ci-${newId()}`,
    startedAt: new Date(input.startedMs).toISOString(),
    endedAt: new Date(endedMs).toISOString(),
    outcome: failed ? "failed" : "passed",
    ...set("actor", input.actor?.trim().slice(0, 200)),
    // withRun's values are free text: one that is not a SHA or an http(s) URL is left out, never the record.
    ...set("commitSha", /^[a-f0-9]{7,64}$/.test(input.commitSha?.toLowerCase() ?? "") ? input.commitSha?.toLowerCase() : undefined),
    ...set("branch", input.branch?.trim().slice(0, 500)),
    ...set("runUrl", /^https?:\/\//.test(input.runUrl ?? "") && URL.canParse(input.runUrl ?? "") ? input.runUrl : undefined),
    ...set("coverageLines", coverage("coverage.lines")),
    ...set("coverageBranches", coverage("coverage.branches")),
    gates,
  });
}
