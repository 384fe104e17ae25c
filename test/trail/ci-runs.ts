/** ci run records as `ci` writes them, built with the product's own builder. */
import { pipelineRunRecord, type GateOutcomeLike } from "../../lib/trail/pipeline-builder.js";
import type { PipelineRun } from "../../deploy/lib/trail/pipeline-record.js";

export const gate = (
  name: string,
  status: GateOutcomeLike["status"],
  durationMs: number,
  metrics: Record<string, number> = {},
): GateOutcomeLike => ({
  gate: name,
  status,
  durationMs,
  metrics,
});

/** The four ci gates; `over` replaces one by name. */
export function gates(over: GateOutcomeLike[] = []): GateOutcomeLike[] {
  const base = [
    gate("lint", "passed", 20_000, { errors: 0, warnings: 0, unformatted: 0 }),
    gate("typecheck", "passed", 30_000, { errors: 0 }),
    gate("test", "passed", 90_000, { tests: 40, failures: 0, "coverage.lines": 86.5, "coverage.branches": 71.25 }),
    gate("audit", "passed", 10_000, { critical: 0, high: 0, blocking: 0 }),
  ];
  return base.map((g) => over.find((o) => o.gate === g.gate) ?? g);
}

let counter = 0;
/** A run that started at `at` and took `minutes`; ids are deterministic per call order. */
export function ciRun(
  at: string,
  minutes: number,
  over: GateOutcomeLike[] = [],
  context: { commitSha?: string; branch?: string } = {},
): PipelineRun {
  const startedMs = Date.parse(at);
  const n = ++counter;
  const hex = n.toString(16).padStart(12, "0");
  return pipelineRunRecord(
    { outcomes: gates(over), startedMs, actor: "octocat", runUrl: `https://github.com/acme/api/actions/runs/${n}`, ...context },
    { now: () => startedMs + minutes * 60_000, newId: () => `00000000-0000-4000-8000-${hex}` },
  );
}
