/**
 * Every deploy, rollback, promote and abort as a recorded run: a 'started' audit record before
 * anything changes, a 'completed' one after (Postgres when a database URL is given, always also
 * JSON Lines), then notifications. Neither the trail nor a notification can hide or change the
 * run's own outcome; a run refused before it started still leaves its record and its message.
 */
import type { Directory } from "@dagger.io/dagger";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { ShipshapeConfig } from "../config/schema.js";
import type { DeployReport } from "../deploy/deploy.js";
import { abandonedCorrection } from "../deploy/last-good.js";
import { eventFromDeploy, type DeployEvent, type EventKind } from "../notify/event.js";
import { notifyAll, summarizeDeliveries } from "../notify/notify.js";
import { snsWithIdentity } from "../notify/sns-identity.js";
import type { AwsCredentials } from "./aws-auth.js";
import type { OutletSettings } from "../../src/settings.js";
import { describeError } from "../../src/project/problem.js";
import { GuardRefusal } from "../guards/guard.js";
import { auditTimeouts } from "../trail/config.js";
import type { AuditTrail } from "../trail/store.js";
import { auditRun, endFromDeploy, openTrail, type RunStart, type Trail } from "../trail/trail.js";
import { checkSha } from "../release/commits/git.js";
import { gitContainer, safeGit } from "./git.js";
import { progress } from "./progress.js";
import { run } from "./workspace.js";
import { secretText } from "./secret-text.js";

/** Who ran it and from where: arguments, since a module cannot see the CI runner's environment. */
export interface RunContext {
  actor: string;
  approver: string;
  runUrl: string;
  version: string;
  /** The deployed commit (default: HEAD of .git, when there is one). */
  commitSha: string;
  /** Base URL for commit links, e.g. https://github.com/acme/api. */
  repoUrl: string;
}

/** Where the record and the news go; every URL is a Secret because it is a credential. */
export interface Outlets extends OutletSettings {
  /** The withAws identity, for SNS. */
  aws?: AwsCredentials;
}

export interface RecordedRun {
  kind: EventKind;
  report: DeployReport;
  /** Set when the run was refused or crashed before it had a result of its own. */
  problem?: { cause: string; hint: string };
  auditJsonl: string;
  auditStorage: "postgres" | "jsonl";
  warnings: string[];
  notifications: string[];
}

interface Commit {
  sha: string;
  timestamp: string;
  message: string;
}

/** The commit's time and message from .git (lead time needs the time); nothing when there is no .git. */
async function commitOf(config: ShipshapeConfig, gitDir: Directory, sha: string): Promise<Commit | undefined> {
  if (!(await gitDir.exists(".git"))) return sha ? { sha, timestamp: "", message: "" } : undefined;
  // A checked hex SHA (recordedRun checked it) after --end-of-options: never read as a git option.
  const rev = sha ? checkSha("--commit-sha", sha) : "HEAD";
  const step = await run(gitContainer(config, gitDir), safeGit(["git", "show", "-s", "--format=%H%n%cI%n%B", "--end-of-options", rev]));
  if (step.exitCode !== 0) return sha ? { sha, timestamp: "", message: "" } : undefined;
  const [found = "", timestamp = "", ...message] = step.stdout.split("\n");
  return { sha: found.trim(), timestamp: timestamp.trim(), message: message.join("\n").trim() };
}

/** What a run that never got a result of its own looks like in the report, the trail and the news. */
function refusedReport(environment: string, image: string, strategy: DeployReport["strategy"], cause: string): DeployReport {
  return {
    environment,
    image,
    result: "failed",
    reason: cause,
    taskDefinitionArn: "",
    serviceDeploymentArn: "",
    timeline: [{ at: new Date().toISOString(), message: `failed before any change: ${cause}` }],
    strategy,
    decisions: [],
  };
}

export interface RunSpec {
  kind: EventKind;
  environment: string;
  image: string;
  strategy: DeployReport["strategy"];
  context: RunContext;
  outlets: Outlets;
  gitDir: Directory;
}

/**
 * A required trail that cannot take the 'started' record refuses the run here, before any change.
 * The refusal is still a run: it goes on the JSON Lines trail handed back and is announced.
 */
async function openRunTrail(config: ShipshapeConfig, outlets: Outlets): Promise<{ trail: Trail; refusal?: unknown }> {
  const existing = outlets.auditTrail ? { existingJsonl: await outlets.auditTrail.contents() } : {};
  try {
    const trail = await openTrail({
      databaseUrl: await secretText(outlets.auditDatabaseUrl),
      required: config.auditTrail.required,
      ...existing,
      timeouts: auditTimeouts(config.auditTrail),
    });
    return { trail };
  } catch (refusal) {
    // An earlier trail that does not parse is itself the refusal's cause; this run's records still come back.
    return { trail: await openTrail(existing).catch(() => openTrail()), refusal };
  }
}

/** The outlets' trail outside a recorded run (status' and the monitor's corrections); a required database it cannot reach throws. */
export async function outletTrail(config: ShipshapeConfig, outlets: Outlets): Promise<Trail> {
  const { trail, refusal } = await openRunTrail(config, outlets);
  if (!refusal) return trail;
  await trail.close();
  throw refusal;
}

const scopes = new AsyncLocalStorage<{ trail: AuditTrail; runId: string }>();

/**
 * The trail and run id of the run in progress, for work that needs them (rollback's last good
 * revision; the deploy lock and hook mark carry the trail's run id, so a later run can correct
 * this run's record). Work also receives the trail as its argument; this serves closures that do
 * not take it.
 */
export const runTrail = (): AuditTrail | undefined => scopes.getStore()?.trail;
export const runIdOf = (): string | undefined => scopes.getStore()?.runId;

export async function recordedRun(
  config: ShipshapeConfig,
  spec: RunSpec,
  work: (trail: AuditTrail) => Promise<DeployReport>,
): Promise<RecordedRun> {
  const { context: ctx, outlets } = spec;
  // Refused before anything opens or runs: commitOf's failures are otherwise only a missing detail.
  if (ctx.commitSha) checkSha("--commit-sha", ctx.commitSha);
  const commit = await commitOf(config, spec.gitDir, ctx.commitSha).catch(() => undefined);
  const { trail, refusal } = await openRunTrail(config, outlets);
  const start: RunStart = {
    runId: `shipshape-${randomUUID()}`,
    kind: spec.kind,
    environment: spec.environment,
    strategy: spec.strategy,
    actor: ctx.actor || "unknown",
    ...(spec.image ? { image: spec.image } : {}),
    ...(ctx.version ? { version: ctx.version } : {}),
    ...(ctx.approver ? { approver: ctx.approver } : {}),
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
    ...(commit?.sha ? { commitSha: commit.sha } : {}),
    ...(commit?.message ? { commitMessage: commit.message } : {}),
    ...(commit?.timestamp ? { commitTimestamp: commit.timestamp } : {}),
  };
  let report: DeployReport;
  let problem: RecordedRun["problem"];
  // A guard's refusal (freeze, promotion) is a result with its decisions, so the record and the news keep them.
  let guarded: GuardRefusal | undefined;
  const refusedByGuard = (e: unknown): DeployReport => {
    if (!(e instanceof GuardRefusal)) throw e;
    guarded = e;
    return { ...refusedReport(spec.environment, spec.image, spec.strategy, e.cause_), decisions: e.decisions };
  };
  try {
    const doWork = () => scopes.run({ trail, runId: start.runId }, () => work(trail)).catch(refusedByGuard);
    report = await auditRun(trail, start, refusal ? () => Promise.reject(refusal) : doWork, endOf);
    if (guarded) problem = describeError(guarded);
    await correctAbandoned(trail, report, start.runId);
  } catch (e) {
    problem = describeError(e);
    report = refusedReport(spec.environment, spec.image, spec.strategy, problem.cause);
  } finally {
    await trail.close();
  }
  const notifications = await announce(config, spec, report, commit?.sha);
  return {
    kind: spec.kind,
    report,
    ...(problem ? { problem } : {}),
    auditJsonl: trail.jsonl(),
    auditStorage: trail.storage,
    warnings: [...trail.warnings],
    notifications,
  };
}

/** The record's end of a report; a run refused before it registered a revision has none to name (not an empty one). */
function endOf(report: DeployReport): ReturnType<typeof endFromDeploy> {
  const { toRevision, ...end } = endFromDeploy(report);
  return toRevision ? { ...end, toRevision } : end;
}

/** What became of a run that ended without finishing goes into the trail as a correction of its record. */
async function correctAbandoned(trail: Trail, report: DeployReport, by: string): Promise<void> {
  if (!report.abandoned) return;
  try {
    const fix = abandonedCorrection(await trail.read({ environment: report.environment }), report.abandoned, by);
    if (fix) await trail.append(fix);
  } catch (e) {
    progress("audit", `warning: the record of run ${report.abandoned.runId} could not be corrected: ${describeError(e).cause}`);
  }
}

async function announce(config: ShipshapeConfig, spec: RunSpec, report: DeployReport, sha: string | undefined): Promise<string[]> {
  const { context: ctx, outlets } = spec;
  const targets = {
    slack: await secretText(outlets.slackWebhook),
    slackFailures: await secretText(outlets.slackFailuresWebhook),
    webhook: await secretText(outlets.webhookUrl),
    webhookSecret: await secretText(outlets.webhookSecret),
    teams: await secretText(outlets.teamsWebhook),
    pagerdutyRoutingKey: await secretText(outlets.pagerdutyRoutingKey),
    smtpPassword: await secretText(outlets.smtpPassword),
  };
  const { email, sns } = config.notifications;
  const any =
    targets.slack || targets.slackFailures || targets.webhook || targets.teams || targets.pagerdutyRoutingKey || targets.smtpPassword;
  if (!any && !email && !sns) return [];
  const event: DeployEvent = {
    ...eventFromDeploy(report, {
      strategy: report.strategy,
      decisions: report.decisions.map((d) => ({ gate: d.gate, verdict: d.verdict, reason: d.reason })),
      ...(ctx.version ? { version: ctx.version } : {}),
      ...(ctx.actor ? { author: ctx.actor } : {}),
      ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
      ...(sha ? { commitSha: sha, ...(ctx.repoUrl ? { commitUrl: `${ctx.repoUrl.replace(/\/$/, "")}/commit/${sha}` } : {}) } : {}),
    }),
    kind: spec.kind,
  };
  const results = await notifyAll(event, targets, {
    config: config.notifications,
    ...(outlets.aws ? { sns: snsWithIdentity(outlets.aws, spec.environment) } : {}),
  });
  // Deliveries and skips were logged as they happened; only a target refused without an attempt was not.
  for (const l of summarizeDeliveries(results.filter((r) => r.attempts === 0 && r.skipped === undefined))) progress("notify", l);
  return summarizeDeliveries(results);
}
