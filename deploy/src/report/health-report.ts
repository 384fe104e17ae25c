/**
 * What monitor and rescan return: an environment's health now, shaped like a gate's report (the same
 * outcome underneath) but the deploy module's own type. A module's exposed types must be in its own
 * src/ (the engine introspects only that directory), and the CI module's GateReport is not in this one.
 */
import { Directory, func, object } from "@dagger.io/dagger";
import { make } from "./fields.js";
import type { GateOutcome } from "./outcome.js";
import { passedAll, relativeOutcome, renderMarkdown, renderTable } from "./render.js";

/** One health check of an environment (monitor's smoke checks and analysis, or rescan's vulnerability scan). */
@object()
export class HealthReport {
  /** Which check: monitor or rescan. */
  @func() check!: string;
  /** passed, failed, error (could not judge) or skipped. */
  @func() status!: string;
  /** One line: what was found. */
  @func() summary!: string;
  /** Why it failed, when it did. */
  @func() cause!: string;
  /** How to fix it, when it failed. */
  @func() hint!: string;
  /** Each problem found, one line each. */
  @func() findings!: string[];
  /** The check's own output. */
  @func() log!: string;
  /** Machine-readable results (e.g. trivy.json, SARIF). */
  @func() files!: Directory;

  /** True when the environment is healthy (or the check was skipped). */
  @func()
  passed(): boolean {
    return passedAll([outcomeOf(this)]);
  }

  /** The report as Markdown, for a GitHub step summary. */
  @func()
  markdown(): string {
    return renderMarkdown([outcomeOf(this)], `Shipshape ${this.check}`);
  }

  // `dagger call` selects `sync` on a returned object that has one: a scheduled monitor fails its job
  // exactly while the environment is unhealthy (see GateReport.sync in the CI module).
  /** The report when healthy; else fails with its table row and fix hint. */
  @func()
  sync(): HealthReport {
    if (!this.passed()) throw new Error(renderTable([outcomeOf(this)]));
    return this;
  }
}

const STATUSES: readonly GateOutcome["status"][] = ["passed", "failed", "error", "skipped"];

function outcomeOf(r: HealthReport): GateOutcome {
  const status = STATUSES.find((s) => s === r.status) ?? "error";
  const { check: gate, summary, cause, hint, findings, log } = r;
  return { gate, status, durationMs: 0, summary, cause, hint, metrics: {}, findings, log };
}

/** The report of one check from its outcome and files, with repository-relative paths. */
export function healthReportOf(raw: GateOutcome, files: Directory): HealthReport {
  const o = relativeOutcome(raw);
  return make(HealthReport, {
    check: o.gate,
    status: o.status,
    summary: o.summary,
    cause: o.cause,
    hint: o.hint,
    findings: o.findings,
    log: o.log,
    files,
  });
}
