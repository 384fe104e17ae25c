/** The Deployment object a deploy, rollback, promote or abort returns, from the deploy core's report. */
import { dag } from "@dagger.io/dagger";
import { make } from "../../src/report/fields.js";
import { DeployDecision, Deployment } from "../../src/report/deployment.js";
import type { DeployReport } from "../deploy/deploy.js";
import { describePause, type GateDecision } from "../deploy/hooks.js";

/** What the recorded run adds to the deploy core's report. */
export interface RunRecord {
  /** deploy, rollback, promote or abort; deploy when not given. */
  kind?: string;
  auditJsonl: string;
  auditStorage: string;
  warnings: string[];
  notifications: string[];
}

const decision = (d: GateDecision): DeployDecision =>
  make(DeployDecision, {
    at: d.at,
    gate: d.gate,
    stage: d.stage,
    step: d.step,
    verdict: d.verdict,
    reason: d.reason,
    values: d.values.map((v) => `${v.name}=${v.value === null ? "none" : String(v.value)}`),
  });

/** The Deployment object of a deploy core's report and what the recorded run added (audit, notifications). */
export function deploymentOf(r: DeployReport, record?: RunRecord): Deployment {
  const run = record ?? { auditJsonl: "", auditStorage: "jsonl", warnings: [], notifications: [] };
  return make(Deployment, {
    kind: run.kind ?? "deploy",
    environment: r.environment,
    image: r.image,
    result: r.result,
    reason: r.reason,
    strategy: r.strategy,
    taskDefinition: r.taskDefinitionArn,
    previousTaskDefinition: r.previousTaskDefinitionArn ?? "",
    serviceDeploymentArn: r.serviceDeploymentArn,
    pausedAt: r.pause ? describePause(r.pause) : "",
    decisions: r.decisions.map(decision),
    timeline: r.timeline.map((e) => `${e.at} ${e.message}`),
    auditTrail: dag.directory().withNewFile("audit.jsonl", run.auditJsonl).file("audit.jsonl"),
    auditStorage: run.auditStorage,
    warnings: run.warnings,
    notifications: run.notifications,
  });
}
