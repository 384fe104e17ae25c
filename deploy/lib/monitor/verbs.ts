/**
 * The Environment's monitor and rescan verbs: Secrets unwrapped here (the GitHub token for the
 * Authorization header only, the notification URLs for notifyAll), AWS clients from the chain's
 * withAws, and the result a HealthReport whose sync fails the call while the environment is
 * unhealthy or runs a blocking vulnerability. Bad input is an ERROR report with one cause and a hint.
 */
import type { ShipshapeConfig } from "../config/schema.js";
import { dag, type Container, type Directory, type Secret } from "@dagger.io/dagger";
import { createHash } from "node:crypto";
import { awsClients, type AwsClients } from "../gates/aws-auth.js";
import { environment } from "../gates/deploy.js";
import { outletTrail } from "../gates/deploy-run.js";
import { runGate } from "../gates/gate.js";
import { scanImage } from "../gates/image.js";
import { registryAuth } from "../gates/registry.js";
import { credentialText, secretText } from "../gates/secret-text.js";
import type { NotifyTargets } from "../notify/notify.js";
import { Problem } from "../../src/project/problem.js";
import { loadConfig } from "../project/load.js";
import { healthReportOf, type HealthReport } from "../../src/report/health-report.js";
import { registryCredsFor } from "../gates/registry.js";
import type { DeploySettings } from "../../src/deploy-settings.js";
import { awsOf, outletsOf } from "../gates/settings-of.js";
import { isEcrRegistry } from "../supply/publish/ecr.js";
import { monitorEnvironment } from "./monitor.js";
import { rescanEnvironment } from "./rescan.js";
import { runningImages, type RunningImage } from "./running.js";

export type EnvironmentSettings = DeploySettings & { name: string; source: Directory; configPath: string };

const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Checked before any check runs: a mistyped repository must not cost a whole analysis first. */
async function githubTarget(githubToken: Secret, repository: string): Promise<{ token: string; repository: string }> {
  if (!REPOSITORY.test(repository))
    throw new Problem(`"${repository.slice(0, 80)}" is not a repository name`, "pass --repository=owner/name, as in GITHUB_REPOSITORY");
  const token = await credentialText("GitHub token", githubToken);
  if (!token)
    throw new Problem("the GitHub token is empty", "pass --github-token=env://GITHUB_TOKEN from a job with permissions: issues: write");
  return { token, repository };
}

async function targetsOf(s: DeploySettings): Promise<NotifyTargets> {
  return {
    slack: await secretText(s.slackWebhook),
    slackFailures: await secretText(s.slackFailuresWebhook),
    webhook: await secretText(s.webhookUrl),
    webhookSecret: await secretText(s.webhookSecret),
    teams: await secretText(s.teamsWebhook),
    pagerdutyRoutingKey: await secretText(s.pagerdutyRoutingKey),
  };
}

/** Files of a run as a Directory. */
const filesOf = (files: Record<string, string>): Directory =>
  Object.entries(files).reduce((dir, [name, content]) => dir.withNewFile(name, content), dag.directory());

export async function monitorVerb(s: EnvironmentSettings, githubToken: Secret, repository: string): Promise<HealthReport> {
  const run = await runGate(
    "monitor",
    async () => {
      const { config } = await loadConfig(s.source, s.configPath);
      return { config, env: environment(config, s.name), github: await githubTarget(githubToken, repository) };
    },
    async ({ config, env, github }) => {
      // AWS only when a metric lives in CloudWatch or a stepped canary may need ending: a
      // Prometheus-only monitor of an ECS-native environment needs no credentials.
      const cloudwatch = (env.analysis?.metrics ?? []).some((m) => !("prometheus" in m.provider));
      const clients = cloudwatch || env.steppedCanary ? await awsClients(env.region, awsOf(s), s.name) : undefined;
      const out = await monitorEnvironment({
        config,
        environment: s.name,
        ...github,
        notify: await targetsOf(s),
        ...(clients && cloudwatch ? { checks: { cloudwatch: clients.cloudwatch } } : {}),
        ...(clients && env.steppedCanary ? { stepped: { ecs: clients.ecs, elb: clients.elb() } } : {}),
        ...(s.runUrl ? { runUrl: s.runUrl } : {}),
        // with-audit-trail's trail, where the dead run's record is corrected when its canary is ended.
        trail: () => outletTrail(config, outletsOf(s)),
      });
      return { verdict: out.verdict, files: filesOf(out.files) };
    },
  );
  return healthReportOf(run.outcome, run.files);
}

/**
 * Registry auth for pulling a running image: withRegistry's login for its own host, ECR through the
 * chain's AWS identity (the assumed role's session with OIDC, as Secrets named after a hash).
 */
async function pullable(s: DeploySettings, clients: AwsClients, ref: string, config: ShipshapeConfig): Promise<Container> {
  let creds = registryCredsFor(s, ref);
  const repository = ref.split("@")[0] ?? ref;
  if (isEcrRegistry(repository) && !creds.awsAccessKeyId) {
    const id = await clients.credentials();
    const tag = createHash("sha256").update(id.accessKeyId).digest("hex").slice(0, 16);
    creds = {
      ...creds,
      awsAccessKeyId: dag.setSecret(`aws-session-key-id-${tag}`, id.accessKeyId),
      awsSecretAccessKey: dag.setSecret(`aws-session-secret-${tag}`, id.secretAccessKey),
      ...(id.sessionToken ? { awsSessionToken: dag.setSecret(`aws-session-token-${tag}`, id.sessionToken) } : {}),
    };
  }
  const auth = await registryAuth(config, repository, creds);
  const base = auth ? dag.container().withRegistryAuth(auth.host, auth.username, auth.secret) : dag.container();
  return base.from(ref);
}

export async function rescanVerb(s: EnvironmentSettings, githubToken: Secret, repository: string): Promise<HealthReport> {
  const run = await runGate(
    "rescan",
    async () => {
      const { config } = await loadConfig(s.source, s.configPath);
      return { config, env: environment(config, s.name), github: await githubTarget(githubToken, repository) };
    },
    async ({ config, env, github }) => {
      const clients = await awsClients(env.region, awsOf(s), s.name);
      const images = await runningImages(clients.ecs, s.name, env);
      const scan = async (image: RunningImage) => {
        const { files } = await scanImage(config, await pullable(s, clients, image.ref, config), s.source);
        return files.file("trivy.json").contents();
      };
      const out = await rescanEnvironment({
        config,
        environment: s.name,
        ...github,
        notify: await targetsOf(s),
        images,
        scan,
        ...(s.runUrl ? { runUrl: s.runUrl } : {}),
      });
      return { verdict: out.verdict, files: filesOf(out.files) };
    },
  );
  return healthReportOf(run.outcome, run.files);
}
