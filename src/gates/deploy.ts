/**
 * deploy / rollback / status against AWS ECS. The image must be referenced by digest and its
 * signature verified before anything changes; AWS credentials come only from Secrets.
 */
import { ECSClient } from "@aws-sdk/client-ecs";
import type { Secret } from "@dagger.io/dagger";
import { randomUUID } from "node:crypto";
import type { ShipshapeConfig } from "../config/schema.js";
import type { EnvironmentConfig } from "../deploy/config.js";
import { analysisGate, progressiveGate, smokeGate, type CheckDeps } from "../deploy/checks.js";
import { deploy, type DeployReport } from "../deploy/deploy.js";
import { describeService } from "../deploy/ecs.js";
import { describePause, isProgressive, type GateDecision } from "../deploy/hooks.js";
import { abortDeployment as abortCore, promoteDeployment as promoteCore } from "../deploy/promote.js";
import { rollbackTo, rollbackToPrevious, watchDeployment, type DeploymentProgress } from "../deploy/watch.js";
import type { Measurement } from "../deploy/analysis.js";
import { Problem } from "../project/problem.js";
import { assertDigestRef } from "../supply/signing/commands.js";
import { progress } from "./progress.js";
import type { RegistryCredentials } from "./registry.js";
import { verifyImage } from "./sign.js";

export interface AwsCredentials {
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
}

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

/** Plaintext only in this process, for the SDK; the SDK's own retries are off (ours back off). */
export async function ecsClient(region: string, aws: AwsCredentials): Promise<ECSClient> {
  if (!aws.awsAccessKeyId || !aws.awsSecretAccessKey) {
    throw new Problem(
      "no AWS credentials were given",
      "pass --aws-access-key-id=env://AWS_ACCESS_KEY_ID --aws-secret-access-key=env://AWS_SECRET_ACCESS_KEY (and --aws-session-token for a role)",
    );
  }
  return new ECSClient({
    region,
    maxAttempts: 1,
    credentials: {
      accessKeyId: (await aws.awsAccessKeyId.plaintext()).trim(),
      secretAccessKey: (await aws.awsSecretAccessKey.plaintext()).trim(),
      sessionToken: aws.awsSessionToken ? (await aws.awsSessionToken.plaintext()).trim() : undefined,
    },
  });
}

export interface DeployOptions {
  approve: boolean;
  aws: AwsCredentials;
  verify: { publicKey?: Secret; identity: string; issuer: string; insecureIgnoreTlog: boolean; creds: RegistryCredentials };
  /** Metric providers and smoke timing; the configured ones by default (tests inject theirs). */
  checks?: CheckDeps;
}

const showProgress = (step: string) => (p: DeploymentProgress) => progress(step, `${p.elapsedSeconds}s ${JSON.stringify(p).slice(0, 200)}`);

/** The gates' dependencies with progress output added. */
const withProgress = (deps: CheckDeps = {}): CheckDeps => ({
  onGate: (m) => progress("gate", m),
  onSmokeProgress: (p) => progress("smoke", `${p.check} #${p.attempt}: ${p.detail}`),
  ...deps,
});

/** blue-green, linear and canary: Shipshape's gates run inside ECS's PAUSE hooks. */
const gateFor = (env: EnvironmentConfig, deps?: CheckDeps) => (isProgressive(env) ? progressiveGate(env, withProgress(deps)) : undefined);

export async function deployImage(config: ShipshapeConfig, envName: string, image: string, opts: DeployOptions): Promise<DeployReport> {
  const env = environment(config, envName);
  const ref = assertDigestRef(image).ref;
  // Signed images only: verified before the first AWS call, so a refusal changes nothing.
  const verdict = await verifyImage(config, ref, { ...opts.verify, allowHttpRegistry: false });
  if (!verdict.verified)
    throw new Problem(
      `refusing to deploy ${ref}: ${verdict.reason}`,
      "deploy the digest `release` signed, with the matching public key or identity",
    );
  progress("deploy", `${ref} verified: ${verdict.reason}`);
  const client = await ecsClient(env.region, opts.aws);
  const report = await deploy(client, {
    environment: envName,
    config: env,
    image: ref,
    runId: `shipshape-${randomUUID()}`,
    approved: opts.approve,
    onProgress: showProgress("deploy"),
    onPause: gateFor(env, opts.checks),
  });
  if (report.pause) progress("deploy", `paused at ${describePause(report.pause)}: ${report.reason}`);
  // The progressive strategies judged the new revision inside ECS's hooks, before and while it took traffic.
  if (report.result !== "succeeded" || isProgressive(env)) return report;
  return afterRollout(client, envName, env, report, opts.checks);
}

const event = (message: string) => ({ at: new Date().toISOString(), message });

/**
 * ECS calls a rollout done when tasks are healthy; the service must also answer (smoke checks) and
 * behave (metrics, then a watch window). Either failing puts the previous revision back.
 */
async function afterRollout(
  client: ECSClient,
  envName: string,
  env: EnvironmentConfig,
  report: DeployReport,
  deps?: CheckDeps,
): Promise<DeployReport> {
  const timeline = [...report.timeline];
  const decisions: GateDecision[] = [...report.decisions];
  const where = { stage: "after rollout", step: 0 };
  const checks = withProgress({
    onMeasurement: (m: Measurement) => timeline.push(event(`analysis ${m.metric}: ${m.phase}${m.value === null ? "" : ` (${m.value})`}`)),
    ...deps,
  });
  let failure: string | undefined;
  if (env.smoke) {
    const { verdict: v, decision } = await smokeGate(env.smoke, "production", where, checks);
    decisions.push(decision);
    timeline.push(event(v.passed ? `smoke checks passed (${v.results.length})` : `smoke checks failed: ${v.cause}`));
    if (!v.passed) failure = `smoke checks failed: ${v.cause}`;
  }
  if (!failure && env.analysis) {
    let { result, decision } = await analysisGate(env.analysis, "run", where, checks);
    decisions.push(decision);
    if (result.phase === "Successful") {
      ({ result, decision } = await analysisGate(env.analysis, "watch", where, checks));
      decisions.push(decision);
    }
    // No data is not a pass: a service whose metrics vanished must not be called healthy.
    if (result.phase !== "Successful") failure = `analysis ${result.phase.toLowerCase()}: ${result.cause}`;
  }
  if (!failure) return { ...report, timeline, decisions };
  progress("deploy", `${failure}; rolling back to ${report.previousTaskDefinitionArn ?? "the previous revision"}`);
  const ref = { cluster: env.cluster, service: env.service };
  // The revision this deploy replaced is known exactly; history lookups are the fallback.
  const started = report.previousTaskDefinitionArn
    ? await rollbackTo(client, ref, report.previousTaskDefinitionArn)
    : await rollbackToPrevious(client, ref);
  timeline.push(event(`rollback started (${started.method})`));
  const back = await watchDeployment(client, {
    ...ref,
    serviceDeploymentArn: started.serviceDeploymentArn,
    taskDefinitionArn: started.taskDefinitionArn ?? report.previousTaskDefinitionArn ?? "",
    progressDeadlineMinutes: env.progressDeadlineMinutes,
    pollSeconds: env.pollSeconds,
    onProgress: showProgress("rollback"),
  });
  timeline.push(...back.timeline, event(`rollback ${back.result}`));
  const whereTo =
    back.result === "succeeded"
      ? `rolled back to ${back.runningTaskDefinitionArn ?? back.taskDefinitionArn}`
      : `the rollback ${back.result}: ${back.reason}`;
  const result = back.result === "succeeded" ? "rolled back" : "failed";
  return { ...report, result, reason: `${failure}; ${whereTo}`, timeline, decisions };
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
  const client = await ecsClient(env.region, aws);
  const onPause = gateFor(env, checks);
  const report = await promoteCore(client, {
    environment: envName,
    config: env,
    onProgress: showProgress("promote"),
    ...(onPause ? { onPause } : {}),
  });
  progress("promote", `${envName}: ${report.result}: ${report.reason}`);
  return report;
}

/** Rolls back the deployment paused at a gate (or still in progress) and waits until the previous revision serves. */
export async function abortDeployment(config: ShipshapeConfig, envName: string, aws: AwsCredentials): Promise<DeployReport> {
  const env = environment(config, envName);
  const client = await ecsClient(env.region, aws);
  const report = await abortCore(client, { environment: envName, config: env, onProgress: showProgress("abort") });
  progress("abort", `${envName}: ${report.result}: ${report.reason}`);
  return report;
}

/** Back to the previous stable revision, or to `to` (a revision number or task definition ARN); waits until it is serving. */
export async function rollbackService(config: ShipshapeConfig, envName: string, to: string, aws: AwsCredentials): Promise<string> {
  const env = environment(config, envName);
  const client = await ecsClient(env.region, aws);
  const ref = { cluster: env.cluster, service: env.service };
  const started = to ? await rollbackTo(client, ref, /^\d+$/.test(to) ? Number(to) : to) : await rollbackToPrevious(client, ref);
  progress("rollback", `${started.method}: ${started.serviceDeploymentArn}`);
  const service = await describeService(client, ref);
  const outcome = await watchDeployment(client, {
    ...ref,
    serviceDeploymentArn: started.serviceDeploymentArn,
    taskDefinitionArn: started.taskDefinitionArn ?? service.taskDefinition ?? "",
    progressDeadlineMinutes: env.progressDeadlineMinutes,
    pollSeconds: env.pollSeconds,
  });
  if (outcome.result !== "succeeded")
    throw new Problem(
      `the rollback of ${envName} did not complete: ${outcome.reason}`,
      "check the service's events in the ECS console; the previous revision may itself be unhealthy",
    );
  return `${envName} is back on ${outcome.runningTaskDefinitionArn ?? outcome.taskDefinitionArn}`;
}

export async function serviceStatus(config: ShipshapeConfig, envName: string, aws: AwsCredentials): Promise<string> {
  const env = environment(config, envName);
  const s = await describeService(await ecsClient(env.region, aws), { cluster: env.cluster, service: env.service });
  const primary = s.deployments?.find((d) => d.status === "PRIMARY");
  return [
    `${envName}: ${env.service} in ${env.cluster} (${env.region})`,
    `revision: ${s.taskDefinition ?? "?"}`,
    `tasks: ${s.runningCount ?? 0} running / ${s.desiredCount ?? 0} desired${s.pendingCount ? `, ${s.pendingCount} pending` : ""}`,
    `rollout: ${primary?.rolloutState ?? "?"}${primary?.rolloutStateReason ? ` (${primary.rolloutStateReason})` : ""}`,
  ].join("\n");
}
