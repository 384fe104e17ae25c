/** Report objects returned by the gates, so callers can chain `status`, `files`, `markdown`. */
import { dag, Directory, func, object, type File, type float } from "@dagger.io/dagger";
import { make } from "../../deploy/src/report/fields.js";
import type { GateOutcome } from "../../deploy/src/report/outcome.js";
import { passedAll, relativeOutcome, renderMarkdown, renderTable } from "../../deploy/src/report/render.js";

/** How a gate ended. */
export enum GateStatus {
  /** Every check of the gate passed. */
  Passed = "PASSED",
  /** The project broke a rule of the gate (lint error, failing test, vulnerability...). */
  Failed = "FAILED",
  /** The gate could not judge (bad input, tool error, unreachable service). */
  Error = "ERROR",
  /** Disabled in shipshape.yaml. */
  Skipped = "SKIPPED",
}

/** A named figure a gate measured (error count, coverage percentage...). */
@object()
export class GateMetric {
  /** Metric name, e.g. "errors" or "coverage.lines". */
  @func() name!: string;
  /** Its value. */
  @func() value!: float;
}

/** What one gate found, with its machine-readable files. */
@object()
export class GateReport {
  /** Gate name: lint, typecheck, test or audit. */
  @func() gate!: string;
  /** How the gate ended. */
  @func() status!: GateStatus;
  /** Wall-clock time of the gate in milliseconds. */
  @func() durationMs!: number;
  /** One-line result. */
  @func() summary!: string;
  /** Why the gate did not pass; empty when it passed. */
  @func() cause!: string;
  /** How to fix it; empty when nothing is to be done. */
  @func() hint!: string;
  /** Figures the gate measured. */
  @func() metrics!: GateMetric[];
  /** The first findings, one line each. */
  @func() findings!: string[];
  /** Tail of the tool output. */
  @func() log!: string;
  /** Machine-readable files: SARIF, JUnit XML, lcov, raw tool reports. */
  @func() files!: Directory;

  /** True when the gate passed or was skipped. */
  @func()
  passed(): boolean {
    return passedAll([toOutcome(this)]);
  }

  /** The report as Markdown, for a GitHub step summary. */
  @func()
  markdown(): string {
    return renderMarkdown([toOutcome(this)], `Shipshape ${this.gate}`);
  }

  // `dagger call` and `dagger check` select `sync` on a returned object that has one
  // (cmd/dagger/functions.go handleObjectLeaf, core/modtree.go runCheckLocally): a gate's call fails
  // exactly when the gate did, and `... lint summary` or `... lint files` read the report without failing.
  /** The report when the gate passed; else fails with its table row and fix hint. */
  @func()
  sync(): GateReport {
    if (!this.passed()) throw new Error(renderTable([toOutcome(this)]));
    return this;
  }
}

/** All gates of a `ci` run. */
@object()
export class CiReport {
  /** One report per gate, in a fixed order. */
  @func() gates!: GateReport[];
  /** With an audit trail set (withAuditTrail): the earlier trail given plus this run's record, as JSON Lines; keep it when there is no database. */
  @func() auditTrail!: File;
  /** Where this run was recorded: postgres (and the JSON Lines), jsonl only, or empty when it was not. */
  @func() auditStorage!: string;
  /** One line: where the run was recorded, or why not; empty without an audit trail. Never changes the verdict. */
  @func() audit!: string;

  /** True when no gate failed or errored. */
  @func()
  passed(): boolean {
    return passedAll(this.gates.map(toOutcome));
  }

  /** The report when every gate passed; else fails with the table (what `dagger call ci` prints then). */
  @func()
  sync(): CiReport {
    if (!this.passed()) throw new Error(this.table());
    return this;
  }

  /** The summary table, one row per gate; never fails. */
  @func()
  table(): string {
    return renderTable(this.gates.map(toOutcome));
  }

  /** The summary as Markdown, for $GITHUB_STEP_SUMMARY. */
  @func()
  markdown(): string {
    return renderMarkdown(this.gates.map(toOutcome));
  }

  /** Every gate's files under <gate>/, plus summary.md, report.json and, when the run was recorded, audit.jsonl. */
  @func()
  files(): Directory {
    const dir = this.gates.reduce(
      // A nested object is rebuilt from its JSON as is (executor.js buildClass): g.files arrives as
      // its ID string, which withDirectory takes as it is. No method may be called on it.
      (dir, g) => dir.withDirectory(g.gate, g.files),
      dag
        .directory()
        .withNewFile("summary.md", this.markdown())
        .withNewFile("report.json", JSON.stringify(this.gates.map(toOutcome), null, 2) + "\n"),
    );
    // auditTrail arrives as its ID string too, which withFile takes as it is.
    return this.auditStorage ? dir.withFile("audit.jsonl", this.auditTrail) : dir;
  }
}

const STATUS: Record<GateOutcome["status"], GateStatus> = {
  passed: GateStatus.Passed,
  failed: GateStatus.Failed,
  error: GateStatus.Error,
  skipped: GateStatus.Skipped,
};

function toOutcome(r: GateReport): GateOutcome {
  // A rebuilt object may carry the enum's member name or its value; both lowercase to the key.
  const status = (Object.keys(STATUS) as GateOutcome["status"][]).find((k) => k === String(r.status).toLowerCase()) ?? "error";
  return {
    gate: r.gate,
    status,
    durationMs: r.durationMs,
    summary: r.summary,
    cause: r.cause,
    hint: r.hint,
    metrics: Object.fromEntries(r.metrics.map((m) => [m.name, m.value])),
    findings: r.findings,
    log: r.log,
  };
}

/** A gate's report object from its outcome and files. */
export function gateReportOf(raw: GateOutcome, files: Directory): GateReport {
  // Tools echo the container paths they ran on; a report a person reads names the repository's.
  const outcome = relativeOutcome(raw);
  return make(GateReport, {
    gate: outcome.gate,
    status: STATUS[outcome.status],
    durationMs: Math.round(outcome.durationMs),
    summary: outcome.summary,
    cause: outcome.cause,
    hint: outcome.hint,
    metrics: Object.entries(outcome.metrics).map(([name, value]) => make(GateMetric, { name, value })),
    findings: outcome.findings,
    log: outcome.log,
    files,
  });
}

/** What recording the run gave (deploy/lib/trail/ci-trail.ts): the JSON Lines to hand back, where it went, one line. */
export interface CiAudit {
  jsonl: string;
  storage: string;
  note: string;
}

export const ciReportOf = (gates: GateReport[], audit: CiAudit = { jsonl: "", storage: "", note: "" }): CiReport =>
  make(CiReport, {
    gates,
    auditTrail: dag.directory().withNewFile("audit.jsonl", audit.jsonl).file("audit.jsonl"),
    auditStorage: audit.storage,
    audit: audit.note,
  });
