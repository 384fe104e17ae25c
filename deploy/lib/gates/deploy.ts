/**
 * deploy / rollback / status against AWS ECS. The image must be referenced by digest and its
 * signature verified before anything changes; AWS credentials come only from Secrets.
 */
import { dag, type Secret } from "@dagger.io/dagger";
import { createHash, randomUUID } from "node:crypto";
import type { ShipshapeConfig } from "../config/schema.js";
import type { EnvironmentConfig } from "../deploy/config.js";
import { progressiveGate, type CheckDeps } from "../deploy/checks.js";
import { deploy, type DeployReport } from "../deploy/deploy.js";
import { describePause, gateStages } from "../deploy/hooks.js";
import { judgedRevisions } from "../deploy/last-good.js";
import { abortDeployment as abortCore, promoteDeployment as promoteCore } from "../deploy/promote.js";
import { rollbackEnvironment } from "../deploy/rollback.js";
import { environmentStatus } from "../deploy/status.js";
import type { AuditTrail } from "../trail/store.js";
import { outletTrail, runIdOf, runTrail, type Outlets } from "./deploy-run.js";
import { recordRecovery } from "./recovery-record.js";
import { guardDeploy } from "../guards/guard.js";
import { runSteppedDeploy } from "../deploy/stepped/gate.js";
import type { DeploymentProgress } from "../deploy/watch.js";
import { Problem } from "../../src/project/problem.js";
import { isEcrRegistry } from "../supply/publish/ecr.js";
import { assertDigestRef } from "../supply/signing/commands.js";
import { progress } from "./progress.js";
import type { RegistryCredentials } from "./registry.js";
import { verifyImage } from "./sign.js";
import { awsClients, type AwsClients, type AwsCredentials } from "./aws-auth.js";

export type { AwsCredentials };

export function environment(config: ShipshapeConfig, name: string): EnvironmentConfig {
  const env = config.environments[name];
  if (!env) {
    const known = Object.keys(config.environments);
    throw new Problem(
      `unknown environment "${name}"${known.length ? ` (known: ${known.join(", ")})` : ""}`,
      "add it under environments: in shipshape.yaml, or pass one of the known names",
    );
  }
  return env as EnvironmentConfig;
}

export interface DeployOptions {
  approve: boolean;
  aws: AwsCredentials;
  verify: { publicKey?: Secret; identity: string; issuer: string; insecureIgnoreTlog: boolean; creds: RegistryCredentials };
  /** Metric providers and smoke timing; the configured ones by default (tests inject theirs). */
  checks?: CheckDeps;
  /** Why this deploy goes ahead inside a freeze window ("" or absent: it does not). */
  freezeOverride?: string;
  /** Who runs it, for the override's decision. */
  actor?: string;
}

const showProgress = (step: string) => (p: DeploymentProgress) => progress(step, `${p.elapsedSeconds}s ${JSON.stringify(p).slice(0, 200)}`);

/** The gates' dependencies with progress output added. */
const withProgress = (deps: CheckDeps = {}): CheckDeps => ({
  onGate: (m) => progress("gate", m),
  onSmokeProgress: (p) => progress("smoke", `${p.check} #${p.attempt}: ${p.detail}`),
  ...deps,
});

/** Every strategy: Shipshape's gates run inside ECS's PAUSE hooks (rolling at POST_PRODUCTION_TRAFFIC_SHIFT). */
const gateFor = (env: EnvironmentConfig, deps?: CheckDeps) =>
  gateStages(env).length > 0 ? progressiveGate(env, withProgress(deps)) : undefined;

/**
 * The guards first (freeze windows, promotion), before any AWS call or signature check; their
 * decisions lead the report's. A refusal is a GuardRefusal carrying them (see deploy-run.ts).
 */
export async function deployImage(config: ShipshapeConfig, envName: string, image: string, opts: DeployOptions): Promise<DeployReport> {
  environment(config, envName);
  const ref = assertDigestRef(image).ref;
  const guards = await guardDeploy(config, {
    environment: envName,
    image: ref,
    trail: runTrail(),
    freezeOverride: opts.freezeOverride ?? "",
    actor: opts.actor ?? "",
    checks: withProgress(opts.checks),
  });
  const report = await deployVerified(config, envName, ref, opts);
  return guards.length ? { ...report, decisions: [...guards, ...report.decisions] } : report;
}

async function deployVerified(config: ShipshapeConfig, envName: string, ref: string, opts: DeployOptions): Promise<DeployReport> {
  const env = environment(config, envName);
  // The identity first (with OIDC only STS is asked; nothing changes): ECR serves the signatures to it too.
  const clients = await awsClients(env.region, opts.aws, envName);
  // Signed images only: verified before the first ECS call, so a refusal changes nothing.
  const creds = await withSessionKeys(ref, opts.verify.creds, clients);
  const verdict = await verifyImage(config, ref, { ...opts.verify, creds, allowHttpRegistry: false });
  if (!verdict.verified)
    throw new Problem(
      `refusing to deploy ${ref}: ${verdict.reason}`,
      "deploy the digest `release` signed, with the matching public key or identity",
    );
  progress("deploy", `${ref} verified: ${verdict.reason}`);
  // ECS too: the analysis reads which revision and target group take which traffic, at every sample.
  const checks: CheckDeps = { cloudwatch: clients.cloudwatch, ecs: clients.ecs, ...opts.checks };
  if (env.steppedCanary) return steppedDeploy(clients, envName, env, ref, opts.approve, checks);
  const client = clients.ecs;
  const report = await deploy(client, {
    environment: envName,
    config: env,
    image: ref,
    runId: runIdOf() ?? `shipshape-${randomUUID()}`,
    approved: opts.approve,
    onProgress: showProgress("deploy"),
    onPause: gateFor(env, checks),
  });
  if (report.pause) progress("deploy", `paused at ${describePause(report.pause)}: ${report.reason}`);
  return report;
}

/**
 * Registry credentials for reading the signatures: without static keys (GitHub OIDC), the ECR
 * login uses the assumed role's session, as Secrets named after a hash so nothing else shows it.
 */
async function withSessionKeys(ref: string, creds: RegistryCredentials, clients: AwsClients): Promise<RegistryCredentials> {
  if (creds.awsAccessKeyId || creds.awsSecretAccessKey || !isEcrRegistry(ref.split("@")[0] ?? "")) return creds;
  const id = await clients.credentials();
  const tag = createHash("sha256").update(id.accessKeyId).digest("hex").slice(0, 16);
  return {
    ...creds,
    awsAccessKeyId: dag.setSecret(`aws-session-key-id-${tag}`, id.accessKeyId),
    awsSecretAccessKey: dag.setSecret(`aws-session-secret-${tag}`, id.secretAccessKey),
    ...(id.sessionToken ? { awsSessionToken: dag.setSecret(`aws-session-token-${tag}`, id.sessionToken) } : {}),
  };
}

/**
 * The stepped canary (src/deploy/stepped/gate.ts): smoke checks on the canary's own route before
 * any traffic and at every step, the analysis on the canary's target group, the alarms read
 * throughout; its decisions and the recovery it did first are the report's.
 */
function steppedDeploy(
  clients: AwsClients,
  envName: string,
  env: EnvironmentConfig,
  image: string,
  approved: boolean,
  deps: CheckDeps,
): Promise<DeployReport> {
  return runSteppedDeploy({
    clients: { ecs: clients.ecs, elb: clients.elb(), cloudwatch: clients.cloudwatch(env.region) },
    environment: envName,
    config: env,
    image,
    runId: runIdOf() ?? `shipshape-${randomUUID()}`,
    approved,
    checks: withProgress(deps),
  });
}

/**
 * Continues a deployment paused at one of Shipshape's gates (promotion: manual, or an analysis
 * without data) and watches it to the next gate or the end; with promotion: auto, the later
 * gates run as in deploy.
 */
export async function promoteDeployment(
  config: ShipshapeConfig,
  envName: string,
  aws: AwsCredentials,
  checks?: CheckDeps,
): Promise<DeployReport> {
  const env = environment(config, envName);
  const clients = await awsClients(env.region, aws, envName);
  const client = clients.ecs;
  const elb = env.steppedCanary ? { elb: clients.elb() } : {};
  const onPause = gateFor(env, { cloudwatch: clients.cloudwatch, ecs: clients.ecs, ...checks });
  const runId = runIdOf();
  const report = await promoteCore(client, {
    environment: envName,
    config: env,
    ...elb,
    ...(runId ? { runId } : {}),
    onProgress: showProgress("promote"),
    ...(onPause ? { onPause } : {}),
  });
  progress("promote", `${envName}: ${report.result}: ${report.reason}`);
  return report;
}

/** Rolls back the deployment paused at a gate (or still in progress) and waits until the previous revision serves. */
export async function abortDeployment(config: ShipshapeConfig, envName: string, aws: AwsCredentials): Promise<DeployReport> {
  const env = environment(config, envName);
  const clients = await awsClients(env.region, aws, envName);
  const client = clients.ecs;
  const runId = runIdOf();
  const report = await abortCore(client, {
    environment: envName,
    config: env,
    ...(env.steppedCanary ? { elb: clients.elb() } : {}),
    onProgress: showProgress("abort"),
    ...(runId ? { runId } : {}),
  });
  progress("abort", `${envName}: ${report.result}: ${report.reason}`);
  return report;
}

/**
 * Back to the newest revision that passed Shipshape's checks here (from the audit trail; ECS's
 * history as the fallback), or to `to` (a revision number or task definition ARN), holding the
 * lock; waits until it serves. A rollback that does not complete is a Problem naming why.
 */
export async function rollbackService(
  config: ShipshapeConfig,
  envName: string,
  to: string,
  aws: AwsCredentials,
  trail: AuditTrail | undefined = runTrail(),
): Promise<DeployReport> {
  const env = environment(config, envName);
  const clients = await awsClients(env.region, aws, envName);
  const client = clients.ecs;
  const judged = trail ? judgedRevisions(await trail.read({ environment: envName }), envName) : { passed: [], rejected: [] };
  const runId = runIdOf();
  const report = await rollbackEnvironment(client, {
    environment: envName,
    config: env,
    ...(env.steppedCanary ? { elb: clients.elb() } : {}),
    ...(runId ? { runId } : {}),
    ...(to ? { to } : {}),
    ...judged,
    onProgress: showProgress("rollback"),
  });
  // A failed rollback is a result (the call then fails with its reason and timeline), so the record keeps what it found.
  progress("rollback", `${envName}: ${report.result}: ${report.reason}`);
  return report;
}

/** What serves, and the clean-up a dead run left (taken only when no live run holds the lock). */
export async function serviceStatus(config: ShipshapeConfig, envName: string, aws: AwsCredentials, outlets: Outlets): Promise<string> {
  const env = environment(config, envName);
  const clients = await awsClients(env.region, aws, envName);
  const elb = env.steppedCanary ? { elb: clients.elb() } : {};
  const runId = `shipshape-${randomUUID()}`;
  const status = await environmentStatus(clients.ecs, { environment: envName, config: env, runId, ...elb });
  // What it ended of a dead run goes into that run's record, as the next deploy would have put it.
  const abandoned = status.recovered?.abandoned ?? status.stepped?.abandoned;
  const open = () => outletTrail(config, outlets);
  const audit = await recordRecovery({ open, environment: envName, abandoned, by: runId, handsBackJsonl: false });
  return [...status.lines, ...audit.lines].join("\n");
}
