/**
 * The Environment's verbs: deploy, roll back, promote, abort, status, and the scheduled monitor and
 * rescan. Every one is a side effect or a live read; each run is recorded and notified.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import type { EnvironmentCalls } from "../../src/calls.js";
import type { Environment } from "../../src/environment.js";
import type { Deployment } from "../../src/report/deployment.js";
import type { ShipshapeConfig } from "../config/schema.js";
import type { DeployReport } from "../deploy/deploy.js";
import { abortDeployment, deployImage, promoteDeployment, rollbackService, serviceStatus } from "../gates/deploy.js";
import { recordedRun } from "../gates/deploy-run.js";
import { deploymentOf } from "../gates/deployment-of.js";
import { registryCredsFor } from "../gates/registry.js";
import { awsOf, outletsOf, runContextOf } from "../gates/settings-of.js";
import type { EventKind } from "../notify/event.js";
import { loadConfig } from "../project/load.js";

/** How each kind of run ends when it did its job ("paused" waits at a gate for promote or abort by design). */
const EXPECTED: Record<EventKind, DeployReport["result"][]> = {
  deploy: ["succeeded", "paused"],
  promote: ["succeeded", "paused"],
  abort: ["rolled back"],
  rollback: ["succeeded"],
};

/** A run with its audit records and notifications; fails the call unless it ended as this kind of run should. */
async function recorded(
  e: Environment,
  kind: EventKind,
  image: string,
  opts: { approved: boolean; failOnError: boolean; gitDir?: Directory },
  work: (config: ShipshapeConfig) => Promise<DeployReport>,
): Promise<Deployment> {
  const { config } = await loadConfig(e.source, e.configPath);
  const env = config.environments[e.name];
  const strategy = env?.steppedCanary ? ("stepped-canary" as const) : (env?.strategy ?? "rolling");
  const gitDir = opts.gitDir ?? dag.directory();
  const context = runContextOf(e, opts.approved);
  const run = { kind, environment: e.name, image, strategy, context, outlets: outletsOf(e), gitDir };
  const done = await recordedRun(config, run, () => work(config));
  const deployment = deploymentOf(done.report, done);
  if (opts.failOnError && !EXPECTED[kind].includes(done.report.result)) {
    if (done.problem) throw new Error(`${done.problem.cause}\nhint: ${done.problem.hint}`);
    const verb = kind === "deploy" ? "to" : "of";
    throw new Error(`${kind} ${verb} ${e.name} ${done.report.result}: ${done.report.reason}\n${deployment.timeline.join("\n")}`);
  }
  return deployment;
}

export const calls: EnvironmentCalls = {
  deploy(e, image, approve, failOnError, gitDir, freezeOverride) {
    const verify = {
      publicKey: e.cosignPublicKey,
      identity: e.certificateIdentity ?? "",
      issuer: e.certificateOidcIssuer ?? "",
      insecureIgnoreTlog: e.insecureIgnoreTlog ?? false,
      creds: registryCredsFor(e, image),
    };
    return recorded(e, "deploy", image, { approved: approve, failOnError, gitDir }, (config) =>
      deployImage(config, e.name, image, { approve, aws: awsOf(e), verify, freezeOverride, actor: e.actor ?? "" }),
    );
  },
  rollback: (e, to, failOnError, gitDir) =>
    recorded(e, "rollback", "", { approved: false, failOnError, gitDir }, (config) => rollbackService(config, e.name, to, awsOf(e))),
  promote: (e, failOnError, gitDir) =>
    recorded(e, "promote", "", { approved: false, failOnError, gitDir }, (config) => promoteDeployment(config, e.name, awsOf(e))),
  abort: (e, failOnError, gitDir) =>
    recorded(e, "abort", "", { approved: false, failOnError, gitDir }, (config) => abortDeployment(config, e.name, awsOf(e))),
  async status(e) {
    const { config } = await loadConfig(e.source, e.configPath);
    return serviceStatus(config, e.name, awsOf(e), outletsOf(e));
  },
  // Imported when called: monitor and rescan bring Trivy's and GitHub's issue code, which a deploy does not need.
  monitor: async (e, githubToken, repository) => (await import("../monitor/verbs.js")).monitorVerb(e, githubToken, repository),
  rescan: async (e, githubToken, repository) => (await import("../monitor/verbs.js")).rescanVerb(e, githubToken, repository),
};
