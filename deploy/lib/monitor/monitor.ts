/**
 * `environment(name).monitor`: one scheduled look at an environment (smoke checks and one analysis
 * run), and its GitHub incident kept in step: the first failing run opens ONE issue for the
 * environment, later failing runs comment on it, the first healthy run closes it with how long it
 * lasted; opening and closing are notified. The result is a gate report: failed while unhealthy,
 * an error when health could not be judged or GitHub could not be told. For a stepped canary it
 * first ends a dead run's canary (observe.ts sweepCanary): the safety net of that mode.
 */
import { randomUUID } from "node:crypto";
import type { ShipshapeConfig } from "../config/schema.js";
import type { CheckDeps } from "../deploy/checks.js";
import { environment } from "../gates/deploy.js";
import { recordRecovery } from "../gates/recovery-record.js";
import type { Verdict } from "../gates/gate.js";
import { reconcileIncident, type IncidentOptions, type IncidentResult } from "../github/incident.js";
import { cell } from "../github/markdown.js";
import type { NotifyTargets } from "../notify/notify.js";
import type { Trail } from "../trail/trail.js";
import { announceIncident } from "./announce.js";
import { observe, sweepCanary, withSweep, type Observation, type SteppedDeps } from "./observe.js";

export interface MonitorRequest {
  config: ShipshapeConfig;
  environment: string;
  /** owner/name whose issues hold the incidents. */
  repository: string;
  /** Unwrapped from the githubToken Secret. */
  token: string;
  notify: NotifyTargets;
  /** CloudWatch clients and test injections for the checks. */
  checks?: CheckDeps;
  runUrl?: string;
  incident?: IncidentOptions;
  now?: () => number;
  /** ECS and ELB, required for an environment with a stepped canary: the monitor ends a dead run's canary. */
  stepped?: SteppedDeps;
  /** The run id its lock is taken under and its corrections are signed with (default: a fresh one). */
  runId?: string;
  /** Opens the audit trail; called only to correct the record of a dead run whose canary the monitor ended. */
  trail?: () => Promise<Trail>;
}

export interface MonitorRun {
  verdict: Verdict;
  /** monitor.json: what was seen and done, for machines; audit.jsonl when it corrected a record. */
  files: Record<string, string>;
}

export const RUNBOOK = "docs/RUNBOOKS.md (Production incident)";

/** The issue body or comment: what this run saw, as a table. */
export function healthMarkdown(name: string, obs: Observation, at: string, runUrl?: string): string {
  const head = obs.health === "failing" ? `## ${name} is unhealthy` : `## ${name} is healthy`;
  const rows = obs.decisions.map((d) => `| ${d.gate} | ${d.verdict} | ${cell(d.reason)} |`);
  return [
    head,
    "",
    `Seen by Shipshape's monitor at ${at}${runUrl ? ` ([run](${runUrl}))` : ""}.`,
    "",
    "| check | verdict | detail |",
    "| --- | --- | --- |",
    ...rows,
    "",
    ...(obs.health === "failing" ? [`**Cause:** ${cell(obs.cause)}`, "", ...(obs.hint ? [`**Hint:** ${cell(obs.hint)}`, ""] : [])] : []),
    `Runbook: ${RUNBOOK}.`,
  ].join("\n");
}

const incidentLine = (r: IncidentResult): string => {
  if (!r.ok) return `incident not updated: ${r.error ?? "unknown error"}`;
  const n = `#${r.issueNumber ?? "?"}`;
  switch (r.action) {
    case "opened":
      return `incident ${n} opened`;
    case "commented":
      return `incident ${n} commented`;
    case "closed":
      return `incident ${n} closed after ${Math.round((r.durationSeconds ?? 0) / 60)} min`;
    default:
      return "no incident open";
  }
};

export async function monitorEnvironment(req: MonitorRequest): Promise<MonitorRun> {
  const env = environment(req.config, req.environment);
  const now = req.now ?? Date.now;
  // Traffic first: a dead run's canary share goes back to stable before production is judged.
  const runId = req.runId ?? `shipshape-${randomUUID()}`;
  const sweep = await sweepCanary(req.environment, env, req.stepped, runId);
  // Recorded before anything else is judged: the canary is ended, and the trail must say so whatever comes next.
  const audit = await recordRecovery({
    open: req.trail,
    environment: req.environment,
    abandoned: sweep?.ended?.abandoned,
    by: runId,
    handsBackJsonl: true,
  });
  const obs = withSweep(await observe(req.environment, env, { ...(req.now ? { now: req.now } : {}), ...req.checks }), sweep);
  const at = new Date(now()).toISOString();
  const findings = [...(sweep?.lines ?? []), ...audit.lines, ...obs.decisions.map((d) => `${d.gate} ${d.verdict}: ${d.reason}`)];
  const recovered = sweep?.ended;
  const files = (incident?: IncidentResult, notifications: string[] = []) => ({
    "monitor.json": `${JSON.stringify({ environment: req.environment, at, health: obs.health, cause: obs.cause, decisions: obs.decisions, incident, notifications, ...(recovered ? { recovered, audit: audit.lines } : {}) }, null, 2)}\n`,
    ...(audit.jsonl ? { "audit.jsonl": audit.jsonl } : {}),
  });
  if (obs.health === "unknown") {
    // No data proves neither health nor an outage: the incident stays as it is.
    const cause = `${req.environment}: ${obs.cause}; the incident was left as it is`;
    return { verdict: { status: "error", summary: cause, cause, hint: obs.hint, metrics: obs.metrics, findings, log: "" }, files: files() };
  }
  const failing = obs.health === "failing";
  const incident = await reconcileIncident(
    {
      repository: req.repository,
      token: req.token,
      ...(req.config.notifications.github.apiUrl ? { apiUrl: req.config.notifications.github.apiUrl } : {}),
      environment: req.environment,
      kind: "health",
      failing,
      title: `Shipshape: ${req.environment} is unhealthy`,
      report: healthMarkdown(req.environment, obs, at, req.runUrl),
    },
    req.incident,
  );
  const what = `${req.environment} is unhealthy`;
  const image = `service ${env.service} (${env.cluster}, ${env.region})`;
  const announced = {
    environment: req.environment,
    kind: "health" as const,
    image,
    what,
    cause: obs.cause,
    ...(req.runUrl ? { runUrl: req.runUrl } : {}),
  };
  const notifications = await announceIncident(announced, incident, req.notify, req.config.notifications);
  const summary = `${req.environment} is ${failing ? "unhealthy" : "healthy"}: ${obs.cause}; ${incidentLine(incident)}`;
  const metrics = { ...obs.metrics, ...(incident.issueNumber === undefined ? {} : { incident: incident.issueNumber }) };
  const lines = [...findings, ...incident.warnings, ...notifications];
  const out = files(incident, notifications);
  if (failing) {
    const hint = incident.ok
      ? `${obs.hint ? `${obs.hint}; ` : ""}follow ${incident.url ?? "the incident issue"} and ${RUNBOOK}`
      : (incident.hint ?? "");
    return { verdict: { status: "failed", summary, cause: obs.cause, hint, metrics, findings: lines, log: "" }, files: out };
  }
  if (!incident.ok)
    return {
      verdict: { status: "error", summary, cause: incidentLine(incident), hint: incident.hint ?? "", metrics, findings: lines, log: "" },
      files: out,
    };
  return { verdict: { status: "passed", summary, cause: "", hint: "", metrics, findings: lines, log: "" }, files: out };
}
