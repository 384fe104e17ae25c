/**
 * Shipshape: a hardened CI/CD pipeline for Node/TypeScript services, as typed Dagger functions.
 *
 * `dagger call ci` runs every quality gate (lint, typecheck, tests against Postgres, dependency
 * audit) concurrently in containers and prints one table; each gate is also its own function, a
 * `dagger check`, and a `*Report` function returning an object with SARIF, JUnit and lcov files.
 * Settings come from an optional shipshape.yaml at the repository root.
 */
import {
  argument,
  check,
  dag,
  func,
  generate,
  object,
  type Changeset,
  type Container,
  type Directory,
  type File,
  type Secret,
} from "@dagger.io/dagger";
import { stringify } from "yaml";
import { audit } from "./gates/audit.js";
import { runGate, type Gate, type GateContext, type GateRun } from "./gates/gate.js";
import { commitsCheck, computeVersion } from "./gates/history.js";
import { builtImage, buildContext, licenseCheck, sbomOf, scanDependencies, scanImage } from "./gates/image.js";
import { abortDeployment, deployImage, promoteDeployment, rollbackService, serviceStatus } from "./gates/deploy.js";
import { recordedRun, type Outlets, type RunContext } from "./gates/deploy-run.js";
import { secretText } from "./gates/secret-text.js";
import { githubOidcTokenSource, type TokenSource } from "./aws/credentials.js";
import { assertUsableToken, SIGSTORE_AUDIENCE } from "./supply/signing/identity.js";
import { platformSlug } from "./supply/publish/manifests.js";
import { SBOM_FORMAT_INFO } from "./supply/sbom/commands.js";
import type { DeployReport } from "./deploy/deploy.js";
import type { EventKind } from "./notify/event.js";
import { commentGates, deliveryReport, readTrail } from "./gates/delivery.js";
import { lint } from "./gates/lint.js";
import { provenanceOf, publishImage } from "./gates/publish.js";
import { signImage, verifyImage } from "./gates/sign.js";
import { secretScan } from "./gates/secrets.js";
import { describePlan } from "./generate/plan.js";
import { generation, type GenerationRequest } from "./generate/run.js";
import { progress } from "./gates/progress.js";
import { migrations } from "./gates/migrations.js";
import { test } from "./gates/test.js";
import { typecheck } from "./gates/typecheck.js";
import { installer } from "./gates/workspace.js";
import type { ShipshapeConfig } from "./config/schema.js";
import { loadConfig, loadProject } from "./project/load.js";
import { ciReportOf, gateReportOf, type CiReport, type GateReport } from "./report/gate-report.js";
import { DeliveryReport } from "./report/delivery.js";
import { deploymentOf, type Deployment } from "./report/deployment.js";
import { make } from "./report/fields.js";
import { Release, ReleasePlatform } from "./report/release.js";
import { releaseVersionOf, type ReleaseVersion } from "./report/release-version.js";
import { skipped } from "./report/outcome.js";
import { passedAll, renderTable } from "./report/render.js";

const GATES = { lint, typecheck, test, audit } satisfies Record<string, Gate>;
type GateName = keyof typeof GATES;
const ORDER: GateName[] = ["lint", "typecheck", "test", "audit"];

/** How each kind of run ends when it did its job ("paused" waits at a gate for promote or abort by design). */
const EXPECTED: Record<EventKind, DeployReport["result"][]> = {
  deploy: ["succeeded", "paused"],
  promote: ["succeeded", "paused"],
  abort: ["rolled back"],
  rollback: ["succeeded"],
};

/** One deploy, rollback, promote or abort, as `recorded` runs and records it. */
interface RecordedCall {
  config: ShipshapeConfig;
  kind: EventKind;
  env: string;
  image: string;
  context: Partial<RunContext>;
  outlets: Outlets;
  failOnError: boolean;
  /** History for the audit record's commit time and message. */
  gitDir: Directory;
}

// Cache policy, deliberate per function (README "Function caching"): the engine caches a call for 7 days
// by default, keyed on the source, the arguments and the parent. Pure gates keep that default; gates that
// read a network database (advisories, vulnerability DB) or judge ignore-entry expiry against the clock
// re-run after 24h at most; side effects and live reads (registry, AWS, audit trail) are "never".
// Reports are "session": a report returns (never throws) even when its gate could not judge, and an
// ERROR from a flake (Postgres never ready, a tool crash) must not be served to the next run for days;
// the exec cache still replays every unchanged command, so a new session costs little.
// Per-call memo: the runtime rebuilds this object for every call, and only @func fields survive.
const contexts = new WeakMap<Shipshape, Promise<GateContext>>();

/** Quality gates for a Node/TypeScript service: lint, typecheck, test with Postgres, audit, ci. */
@object()
export class Shipshape {
  /** The service's source directory. */
  @func() source: Directory;
  /** Path of the Shipshape config file, relative to the source. */
  @func() configPath: string;

  constructor(
    /** The service's source directory (default: the repository root, without node_modules and .git). */
    @argument({ defaultPath: "/", ignore: ["**/node_modules", "**/.turbo", ".shipshape", ".git"] }) source: Directory,
    /** Path of the Shipshape config file, relative to the source. */
    configPath: string = "shipshape.yaml",
  ) {
    this.source = source;
    this.configPath = configPath;
  }

  /** Run every quality gate concurrently; print the summary table and fail if any gate did not pass. */
  @func({ cache: "24h" })
  async ci(): Promise<string> {
    const report = await this.ciReport();
    const table = report.table();
    if (!report.passed()) throw new Error(table);
    return table;
  }

  /** Run every quality gate concurrently and return the combined report without failing. */
  @func({ cache: "session" })
  async ciReport(): Promise<CiReport> {
    const runs = await Promise.all(ORDER.map((g) => this.runGate(g)));
    return ciReportOf(runs.map(toReport));
  }

  /** ESLint with zero warnings allowed, and Prettier --check; fails when the gate does. */
  @func()
  @check()
  async lint(): Promise<void> {
    await this.assertGate("lint");
  }

  /** The lint gate's report: status, findings and SARIF, without failing. */
  @func({ cache: "session" })
  async lintReport(): Promise<GateReport> {
    return this.gateReport("lint");
  }

  /** The project's tsc --noEmit; fails when there are type errors. */
  @func()
  @check()
  async typecheck(): Promise<void> {
    await this.assertGate("typecheck");
  }

  /** The typecheck gate's report: status, diagnostics and SARIF, without failing. */
  @func({ cache: "session" })
  async typecheckReport(): Promise<GateReport> {
    return this.gateReport("typecheck");
  }

  /** The project's tests against a Postgres service, with coverage thresholds; fails when they fail. */
  @func()
  @check()
  async test(): Promise<void> {
    await this.assertGate("test");
  }

  /** The test gate's report: counts, coverage, JUnit XML and lcov files, without failing. */
  @func({ cache: "session" })
  async testReport(): Promise<GateReport> {
    return this.gateReport("test");
  }

  /** Dependency audit at the configured severity; fails on vulnerabilities or an audit error. */
  @func({ cache: "24h" })
  @check()
  async audit(): Promise<void> {
    await this.assertGate("audit");
  }

  /** The audit gate's report: counts, blocking advisories and the raw audit JSON, without failing. */
  @func({ cache: "session" })
  async auditReport(): Promise<GateReport> {
    return this.gateReport("audit");
  }

  /**
   * Lint SQL migrations with squawk; fails on unsafe changes and on unapproved destructive ones.
   * @param base Only check migrations changed against this git ref (e.g. origin/main); empty checks all.
   * @param approveDestructive Allow destructive changes (DROP, TRUNCATE, RENAME...); set from the PR label migration-destructive-approved.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async migrations(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    base: string = "",
    approveDestructive: boolean = false,
  ): Promise<void> {
    failUnlessPassed(
      await this.runNamed("migrations", migrations({ base, approveDestructive, gitDir: gitDir }), (c) => c.migrations.enabled),
    );
  }

  /**
   * The migrations gate's report: findings with file:line, statement and fix, Markdown and SARIF.
   * @param base Only check migrations changed against this git ref (e.g. origin/main); empty checks all.
   * @param approveDestructive Allow destructive changes (DROP, TRUNCATE, RENAME...); set from the PR label migration-destructive-approved.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "session" })
  async migrationsReport(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    base: string = "",
    approveDestructive: boolean = false,
  ): Promise<GateReport> {
    return toReport(
      await this.runNamed("migrations", migrations({ base, approveDestructive, gitDir: gitDir }), (c) => c.migrations.enabled),
    );
  }

  /**
   * Check that every commit in base..head follows Conventional Commits; fails listing offenders.
   * @param base The commit or ref the range starts after (e.g. origin/main or the PR's base SHA).
   * @param head The last commit of the range.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async commits(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    base: string,
    head: string = "HEAD",
  ): Promise<void> {
    failUnlessPassed(await this.commitsRun(base, head, gitDir));
  }

  /**
   * The commit check's report: each offending commit with what is wrong, and commits.md.
   * @param base The commit or ref the range starts after (e.g. origin/main or the PR's base SHA).
   * @param head The last commit of the range.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "session" })
  async commitsReport(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    base: string,
    head: string = "HEAD",
  ): Promise<GateReport> {
    return toReport(await this.commitsRun(base, head, gitDir));
  }

  /**
   * The next semantic version from the commits since the last release tag, with its changelog.
   * @param repoUrl Repository URL for commit links in the changelog (e.g. https://github.com/acme/api).
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async version(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    repoUrl: string = "",
  ): Promise<ReleaseVersion> {
    const { config } = await loadConfig(this.source, this.configPath);
    return releaseVersionOf(await computeVersion(config, gitDir, repoUrl, new Date()));
  }

  /**
   * Build the service's image from its Dockerfile, or from a generated hardened one when it has none.
   * @param platform Target platform, e.g. linux/arm64 (default: the engine's).
   */
  @func()
  async build(platform: string = ""): Promise<Container> {
    const project = await this.context().then((c) => c.project);
    return builtImage(project, this.source, platform);
  }

  /** The Dockerfile the build uses: the project's, or the generated hardened one to export and keep. */
  @func()
  async dockerfile(): Promise<File> {
    const project = await this.context().then((c) => c.project);
    return buildContext(project, this.source).file("Dockerfile");
  }

  /**
   * Scan the built image with Trivy (as a tarball, no registry); fails on the configured severities.
   * @param platform Platform of the image to scan (default: the engine's).
   */
  @func({ cache: "24h" })
  @check()
  async scanImage(platform: string = ""): Promise<void> {
    failUnlessPassed(await this.imageRun("scan", platform));
  }

  /**
   * The image scan's report: counts, blocking vulnerabilities, trivy.json and SARIF.
   * @param platform Platform of the image to scan (default: the engine's).
   */
  @func({ cache: "session" })
  async scanImageReport(platform: string = ""): Promise<GateReport> {
    return toReport(await this.imageRun("scan", platform));
  }

  /** Scan the dependencies in the lockfile with Trivy (no build needed); fails on the configured severities. */
  @func({ cache: "24h" })
  @check()
  async scanDependencies(): Promise<void> {
    failUnlessPassed(await this.dependenciesRun());
  }

  /** The dependency scan's report: counts, blocking vulnerabilities, trivy.json and SARIF. */
  @func({ cache: "session" })
  async scanDependenciesReport(): Promise<GateReport> {
    return toReport(await this.dependenciesRun());
  }

  /**
   * The built image's SBOM (CycloneDX JSON, or SPDX JSON with sbom.format: spdx; by syft).
   * @param platform Platform of the image (default: the engine's).
   */
  @func()
  async sbom(platform: string = ""): Promise<File> {
    const { project } = await this.context();
    return sbomOf(project.config, await builtImage(project, this.source, platform));
  }

  /**
   * Check the SBOM's licenses against the allow and deny lists; fails on denied (and unknown) ones.
   * @param platform Platform of the image (default: the engine's).
   */
  @func({ cache: "24h" })
  @check()
  async licenseCheck(platform: string = ""): Promise<void> {
    failUnlessPassed(await this.imageRun("licenses", platform));
  }

  /**
   * The license check's report: denied and unknown packages, the SBOM and SARIF.
   * @param platform Platform of the image (default: the engine's).
   */
  @func({ cache: "session" })
  async licenseCheckReport(platform: string = ""): Promise<GateReport> {
    return toReport(await this.imageRun("licenses", platform));
  }

  /**
   * Build every configured platform and publish one multi-arch image under each tag; returns repo@sha256:digest.
   * @param registry Registry host and namespace (default: publish.registry), e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
   * @param repository Repository in the registry (default: publish.repository, else the package name).
   * @param sha Commit the image is built from (default: HEAD of the repository's .git).
   * @param branch Branch being built (default: the checked-out branch); latest is only tagged from defaultBranch.
   * @param defaultBranch The repository's default branch.
   * @param version Release version for semver tags (e.g. from the version function); empty for none.
   * @param registryUsername Username for a registry that is not ECR.
   * @param registryPassword Password or token for a registry that is not ECR.
   * @param awsAccessKeyId AWS access key id, for ECR.
   * @param awsSecretAccessKey AWS secret access key, for ECR.
   * @param awsSessionToken AWS session token, for ECR with a role.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async publish(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    registry: string = "",
    repository: string = "",
    sha: string = "",
    branch: string = "",
    defaultBranch: string = "main",
    version: string = "",
    registryUsername: string = "",
    registryPassword?: Secret,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
  ): Promise<string> {
    const { project } = await this.context();
    const creds = { username: registryUsername, password: registryPassword, awsAccessKeyId, awsSecretAccessKey, awsSessionToken };
    return (await publishImage(project, this.source, gitDir, { registry, repository, sha, branch, defaultBranch, version, creds })).ref;
  }

  /**
   * Sign an image by digest with cosign: key-based, or keyless with an OIDC identity token.
   * @param ref Image reference with digest (repo@sha256:...); a tag alone is refused.
   * @param cosignKey cosign private key (contents of cosign.key).
   * @param cosignPassword Password of the cosign private key.
   * @param sigstoreIdToken OIDC identity token for keyless signing (GitHub Actions with id-token: write).
   * @param registryUsername Username for a registry that is not ECR.
   * @param registryPassword Password or token for a registry that is not ECR.
   * @param awsAccessKeyId AWS access key id, for ECR.
   * @param awsSecretAccessKey AWS secret access key, for ECR.
   * @param awsSessionToken AWS session token, for ECR with a role.
   * @param allowHttpRegistry Talk plain HTTP to the registry (a local test registry only).
   * @param sigstoreIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: keyless signing fetches a fresh OIDC token for each cosign run.
   * @param sigstoreIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --sigstore-id-token-request-url.
   */
  @func({ cache: "never" })
  async sign(
    ref: string,
    cosignKey?: Secret,
    cosignPassword?: Secret,
    sigstoreIdToken?: Secret,
    registryUsername: string = "",
    registryPassword?: Secret,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    allowHttpRegistry: boolean = false,
    sigstoreIdTokenRequestUrl?: Secret,
    sigstoreIdTokenRequestToken?: Secret,
  ): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const creds = { username: registryUsername, password: registryPassword, awsAccessKeyId, awsSecretAccessKey, awsSessionToken };
    const idTokens = await sigstoreTokens(sigstoreIdTokenRequestUrl, sigstoreIdTokenRequestToken);
    const signed = await signImage(config, ref, {
      key: cosignKey,
      password: cosignPassword,
      idToken: sigstoreIdToken,
      idTokens,
      creds,
      allowHttpRegistry,
    });
    return signed.ref;
  }

  /**
   * Verify an image's cosign signature by digest; fails unless the requested digest is signed.
   * @param ref Image reference with digest (repo@sha256:...).
   * @param cosignPublicKey cosign public key (contents of cosign.pub).
   * @param certificateIdentity Keyless: the signer's identity, e.g. https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main.
   * @param certificateOidcIssuer Keyless: the identity's issuer, e.g. https://token.actions.githubusercontent.com.
   * @param insecureIgnoreTlog Accept signatures without a transparency-log entry (key-based signing on private infrastructure).
   * @param registryUsername Username for a registry that is not ECR.
   * @param registryPassword Password or token for a registry that is not ECR.
   * @param awsAccessKeyId AWS access key id, for ECR.
   * @param awsSecretAccessKey AWS secret access key, for ECR.
   * @param awsSessionToken AWS session token, for ECR with a role.
   * @param allowHttpRegistry Talk plain HTTP to the registry (a local test registry only).
   * @param provenance Also require a SLSA v1 provenance attestation for the digest, by the same signer.
   * @param builderId With --provenance: the builder.id the provenance must name; empty accepts any.
   */
  @func({ cache: "never" })
  async verify(
    ref: string,
    cosignPublicKey?: Secret,
    certificateIdentity: string = "",
    certificateOidcIssuer: string = "",
    insecureIgnoreTlog: boolean = false,
    registryUsername: string = "",
    registryPassword?: Secret,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    allowHttpRegistry: boolean = false,
    provenance: boolean = false,
    builderId: string = "",
  ): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const creds = { username: registryUsername, password: registryPassword, awsAccessKeyId, awsSecretAccessKey, awsSessionToken };
    const v = await verifyImage(config, ref, {
      provenance,
      builderId,
      publicKey: cosignPublicKey,
      identity: certificateIdentity,
      issuer: certificateOidcIssuer,
      insecureIgnoreTlog,
      creds,
      allowHttpRegistry,
    });
    if (!v.verified)
      throw new Error(
        `${ref} is not verified: ${v.reason}\nhint: sign it with the matching key or identity (dagger call sign), and deploy only what verifies`,
      );
    return v.reason;
  }

  /**
   * Scan and license-check every platform, scan for secrets; only if all pass, publish, sign, and attest each platform's SBOM.
   * @param registry Registry host and namespace (default: publish.registry).
   * @param repository Repository in the registry (default: publish.repository, else the package name).
   * @param sha Commit the image is built from (default: HEAD of the repository's .git).
   * @param branch Branch being built (default: the checked-out branch).
   * @param defaultBranch The repository's default branch; latest is only tagged from it.
   * @param version Release version for semver tags (e.g. from the version function); empty for none.
   * @param cosignKey cosign private key (contents of cosign.key).
   * @param cosignPassword Password of the cosign private key.
   * @param sigstoreIdToken OIDC identity token for keyless signing; it must outlive the build (prefer the request URL and token).
   * @param registryUsername Username for a registry that is not ECR.
   * @param registryPassword Password or token for a registry that is not ECR.
   * @param awsAccessKeyId AWS access key id, for ECR.
   * @param awsSecretAccessKey AWS secret access key, for ECR.
   * @param awsSessionToken AWS session token, for ECR with a role.
   * @param allowHttpRegistry Talk plain HTTP to the registry (a local test registry only).
   * @param builderId URI of the builder for the SLSA provenance, e.g. https://github.com/o/r/.github/workflows/release.yml@refs/heads/main.
   * @param invocationId ID of this run for the provenance, e.g. the CI run URL; empty derives one.
   * @param sigstoreIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: keyless signing fetches a fresh OIDC token for each cosign run.
   * @param sigstoreIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --sigstore-id-token-request-url.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async release(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    registry: string = "",
    repository: string = "",
    sha: string = "",
    branch: string = "",
    defaultBranch: string = "main",
    version: string = "",
    cosignKey?: Secret,
    cosignPassword?: Secret,
    sigstoreIdToken?: Secret,
    registryUsername: string = "",
    registryPassword?: Secret,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    allowHttpRegistry: boolean = false,
    builderId: string = "",
    invocationId: string = "",
    sigstoreIdTokenRequestUrl?: Secret,
    sigstoreIdTokenRequestToken?: Secret,
  ): Promise<Release> {
    const idTokens = await sigstoreTokens(sigstoreIdTokenRequestUrl, sigstoreIdTokenRequestToken);
    // Checked before anything is pushed: an unsigned image must never reach the registry.
    if (!cosignKey && !sigstoreIdToken && !idTokens) {
      throw new Error(
        "release needs a signing identity: an image is never published unsigned\nhint: pass --cosign-key and --cosign-password, or in GitHub Actions --sigstore-id-token-request-url and --sigstore-id-token-request-token",
      );
    }
    const signing = { key: cosignKey, password: cosignPassword, idToken: sigstoreIdToken, idTokens, allowHttpRegistry };
    if (!cosignKey && !idTokens && sigstoreIdToken) assertUsableToken((await secretText(sigstoreIdToken)) ?? "", new Date(), "the build");
    const startedOn = new Date();
    const { project } = await this.context();
    // Every published platform is judged, and SBOM'd, on its own: an arm64-only vulnerability blocks the release too.
    const platforms = project.config.publish.platforms;
    const images = await Promise.all(platforms.map((p) => builtImage(project, this.source, p)));
    const sboms = platforms.map((platform, i) => ({ platform, sbom: sbomOf(project.config, images[i]!) }));
    const runs = await Promise.all([
      ...platforms.flatMap((p) => [
        this.imageRun("scan", p, `scan-${platformSlug(p)}`),
        this.imageRun("licenses", p, `licenses-${platformSlug(p)}`),
      ]),
      this.secretsRun(gitDir),
    ]);
    if (!passedAll(runs.map((r) => r.outcome)))
      throw new Error(`release stopped before publishing:\n${renderTable(runs.map((r) => r.outcome))}`);
    const creds = { username: registryUsername, password: registryPassword, awsAccessKeyId, awsSecretAccessKey, awsSessionToken };
    const published = await publishImage(project, this.source, gitDir, {
      registry,
      repository,
      sha,
      branch,
      defaultBranch,
      version,
      creds,
    });
    const provenance = await provenanceOf(project, this.source, published, {
      configPath: this.configPath,
      builderId,
      invocationId,
      startedOn,
      finishedOn: new Date(),
    });
    const signed = await signImage(project.config, published.ref, { ...signing, creds }, { sboms, provenance });
    const gates = runs.map(toReport);
    return make(Release, {
      ref: published.ref,
      tags: published.tags,
      platforms: signed.platforms.map((m, i) => make(ReleasePlatform, { platform: m.platform, ref: m.ref, sbom: sboms[i]!.sbom })),
      gates,
      files: sboms.reduce(
        (dir, { platform, sbom }) =>
          dir.withFile(`sbom/${platformSlug(platform)}.${SBOM_FORMAT_INFO[project.config.sbom.format].fileName}`, sbom),
        gates.reduce((dir, g) => dir.withDirectory(g.gate, g.files), dag.directory()),
      ),
      provenance,
    });
  }

  /**
   * Deploy a signed image by digest to an ECS environment; succeeds only when the new revision serves, else rolls back.
   * @param env Environment name from shipshape.yaml (environments:).
   * @param image Image by digest (repo@sha256:...), e.g. what release returned.
   * @param approve Approval for environments that require one (the GitHub wrapper sets it from a protected environment).
   * @param awsAccessKeyId AWS access key id.
   * @param awsSecretAccessKey AWS secret access key.
   * @param awsSessionToken AWS session token, for a role.
   * @param awsWebIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for --aws-role-arn's session.
   * @param awsRoleArn Role to assume with the web identity token.
   * @param awsIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long run fetch fresh OIDC tokens.
   * @param awsIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --aws-id-token-request-url.
   * @param cosignPublicKey cosign public key the image must be signed with.
   * @param certificateIdentity Keyless: the signer identity the image must be signed by.
   * @param certificateOidcIssuer Keyless: that identity's OIDC issuer.
   * @param insecureIgnoreTlog Accept signatures without a transparency-log entry (key-based signing on private infrastructure).
   * @param registryUsername Username for the registry when it is not ECR (to read signatures).
   * @param registryPassword Password or token for the registry when it is not ECR.
   * @param auditDatabaseUrl Postgres URL for the audit trail (table deployment_audit); without it records come back as JSON Lines.
   * @param auditTrail An earlier JSON Lines trail to continue (e.g. the previous run's artifact).
   * @param slackWebhook Slack incoming webhook URL.
   * @param slackFailuresWebhook Slack webhook that also gets failures and rollbacks.
   * @param webhookUrl Generic JSON webhook URL.
   * @param webhookSecret Signs the JSON webhook body (X-Shipshape-Signature: sha256=HMAC).
   * @param actor Who ran it (GITHUB_ACTOR in Actions), for the audit trail and notifications.
   * @param runUrl Link to the CI run, for the audit trail and notifications.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment (and its audit records) either way.
   * @param approver Who approved it (the reviewer of the protected environment), for the audit trail.
   * @param version Release version deployed, for the audit trail and notifications.
   * @param commitSha Commit deployed (default: HEAD of .git), for lead time and links.
   * @param repoUrl Repository URL for commit links, e.g. https://github.com/acme/api.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async deploy(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    env: string,
    image: string,
    approve: boolean = false,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    awsWebIdentityToken?: Secret,
    awsRoleArn: string = "",
    awsIdTokenRequestUrl?: Secret,
    awsIdTokenRequestToken?: Secret,
    cosignPublicKey?: Secret,
    certificateIdentity: string = "",
    certificateOidcIssuer: string = "",
    insecureIgnoreTlog: boolean = false,
    registryUsername: string = "",
    registryPassword?: Secret,
    auditDatabaseUrl?: Secret,
    auditTrail?: File,
    slackWebhook?: Secret,
    slackFailuresWebhook?: Secret,
    webhookUrl?: Secret,
    webhookSecret?: Secret,
    actor: string = "",
    runUrl: string = "",
    failOnError: boolean = true,
    approver: string = "",
    version: string = "",
    commitSha: string = "",
    repoUrl: string = "",
  ): Promise<Deployment> {
    const { config } = await loadConfig(this.source, this.configPath);
    const aws = {
      awsAccessKeyId,
      awsSecretAccessKey,
      awsSessionToken,
      awsWebIdentityToken,
      awsRoleArn,
      awsIdTokenRequestUrl,
      awsIdTokenRequestToken,
      runUrl,
    };
    const creds = { username: registryUsername, password: registryPassword, awsAccessKeyId, awsSecretAccessKey, awsSessionToken };
    const context = { actor, approver: approve ? approver : "", runUrl, version, commitSha, repoUrl };
    return this.recorded(
      {
        config,
        kind: "deploy",
        env,
        image: image,
        context: context,
        outlets: { auditDatabaseUrl, auditTrail, slackWebhook, slackFailuresWebhook, webhookUrl, webhookSecret },
        failOnError,
        gitDir,
      },
      () =>
        deployImage(config, env, image, {
          approve,
          aws,
          verify: { publicKey: cosignPublicKey, identity: certificateIdentity, issuer: certificateOidcIssuer, insecureIgnoreTlog, creds },
        }),
    );
  }

  /**
   * Roll an environment back to its previous stable revision (or --to), and wait until it serves.
   * @param env Environment name from shipshape.yaml (environments:).
   * @param to Revision number or task definition ARN to return to; empty for the previous stable one.
   * @param awsAccessKeyId AWS access key id.
   * @param awsSecretAccessKey AWS secret access key.
   * @param awsSessionToken AWS session token, for a role.
   * @param awsWebIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for --aws-role-arn's session.
   * @param awsRoleArn Role to assume with the web identity token.
   * @param awsIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long run fetch fresh OIDC tokens.
   * @param awsIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --aws-id-token-request-url.
   * @param auditDatabaseUrl Postgres URL for the audit trail (table deployment_audit); without it records come back as JSON Lines.
   * @param auditTrail An earlier JSON Lines trail to continue (e.g. the previous run's artifact).
   * @param slackWebhook Slack incoming webhook URL.
   * @param slackFailuresWebhook Slack webhook that also gets failures and rollbacks.
   * @param webhookUrl Generic JSON webhook URL.
   * @param webhookSecret Signs the JSON webhook body (X-Shipshape-Signature: sha256=HMAC).
   * @param actor Who ran it (GITHUB_ACTOR in Actions), for the audit trail and notifications.
   * @param runUrl Link to the CI run, for the audit trail and notifications.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment (and its audit records) either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async rollback(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    env: string,
    to: string = "",
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    awsWebIdentityToken?: Secret,
    awsRoleArn: string = "",
    awsIdTokenRequestUrl?: Secret,
    awsIdTokenRequestToken?: Secret,
    auditDatabaseUrl?: Secret,
    auditTrail?: File,
    slackWebhook?: Secret,
    slackFailuresWebhook?: Secret,
    webhookUrl?: Secret,
    webhookSecret?: Secret,
    actor: string = "",
    runUrl: string = "",
    failOnError: boolean = true,
  ): Promise<Deployment> {
    const { config } = await loadConfig(this.source, this.configPath);
    const aws = {
      awsAccessKeyId,
      awsSecretAccessKey,
      awsSessionToken,
      awsWebIdentityToken,
      awsRoleArn,
      awsIdTokenRequestUrl,
      awsIdTokenRequestToken,
      runUrl,
    };
    return this.recorded(
      {
        config,
        kind: "rollback",
        env,
        image: "",
        context: { actor, runUrl },
        outlets: { auditDatabaseUrl, auditTrail, slackWebhook, slackFailuresWebhook, webhookUrl, webhookSecret },
        failOnError,
        gitDir,
      },
      () => rollbackService(config, env, to, aws),
    );
  }

  /**
   * Continue a deployment paused at a Shipshape gate (manual promotion) and watch it to the next gate or the end.
   * @param env Environment name from shipshape.yaml (environments:).
   * @param awsAccessKeyId AWS access key id.
   * @param awsSecretAccessKey AWS secret access key.
   * @param awsSessionToken AWS session token, for a role.
   * @param awsWebIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for --aws-role-arn's session.
   * @param awsRoleArn Role to assume with the web identity token.
   * @param awsIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long run fetch fresh OIDC tokens.
   * @param awsIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --aws-id-token-request-url.
   * @param auditDatabaseUrl Postgres URL for the audit trail (table deployment_audit); without it records come back as JSON Lines.
   * @param auditTrail An earlier JSON Lines trail to continue (e.g. the previous run's artifact).
   * @param slackWebhook Slack incoming webhook URL.
   * @param slackFailuresWebhook Slack webhook that also gets failures and rollbacks.
   * @param webhookUrl Generic JSON webhook URL.
   * @param webhookSecret Signs the JSON webhook body (X-Shipshape-Signature: sha256=HMAC).
   * @param actor Who ran it (GITHUB_ACTOR in Actions), for the audit trail and notifications.
   * @param runUrl Link to the CI run, for the audit trail and notifications.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment (and its audit records) either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async promote(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    env: string,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    awsWebIdentityToken?: Secret,
    awsRoleArn: string = "",
    awsIdTokenRequestUrl?: Secret,
    awsIdTokenRequestToken?: Secret,
    auditDatabaseUrl?: Secret,
    auditTrail?: File,
    slackWebhook?: Secret,
    slackFailuresWebhook?: Secret,
    webhookUrl?: Secret,
    webhookSecret?: Secret,
    actor: string = "",
    runUrl: string = "",
    failOnError: boolean = true,
  ): Promise<Deployment> {
    const { config } = await loadConfig(this.source, this.configPath);
    const aws = {
      awsAccessKeyId,
      awsSecretAccessKey,
      awsSessionToken,
      awsWebIdentityToken,
      awsRoleArn,
      awsIdTokenRequestUrl,
      awsIdTokenRequestToken,
      runUrl,
    };
    return this.recorded(
      {
        config,
        kind: "promote",
        env,
        image: "",
        context: { actor, runUrl },
        outlets: { auditDatabaseUrl, auditTrail, slackWebhook, slackFailuresWebhook, webhookUrl, webhookSecret },
        failOnError,
        gitDir,
      },
      () => promoteDeployment(config, env, aws),
    );
  }

  /**
   * Roll back a paused or in-progress deployment and wait until the previous revision serves.
   * @param env Environment name from shipshape.yaml (environments:).
   * @param awsAccessKeyId AWS access key id.
   * @param awsSecretAccessKey AWS secret access key.
   * @param awsSessionToken AWS session token, for a role.
   * @param awsWebIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for --aws-role-arn's session.
   * @param awsRoleArn Role to assume with the web identity token.
   * @param awsIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long run fetch fresh OIDC tokens.
   * @param awsIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --aws-id-token-request-url.
   * @param auditDatabaseUrl Postgres URL for the audit trail (table deployment_audit); without it records come back as JSON Lines.
   * @param auditTrail An earlier JSON Lines trail to continue (e.g. the previous run's artifact).
   * @param slackWebhook Slack incoming webhook URL.
   * @param slackFailuresWebhook Slack webhook that also gets failures and rollbacks.
   * @param webhookUrl Generic JSON webhook URL.
   * @param webhookSecret Signs the JSON webhook body (X-Shipshape-Signature: sha256=HMAC).
   * @param actor Who ran it (GITHUB_ACTOR in Actions), for the audit trail and notifications.
   * @param runUrl Link to the CI run, for the audit trail and notifications.
   * @param failOnError Fail the call when it did not succeed; false returns the Deployment (and its audit records) either way.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async abort(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    env: string,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    awsWebIdentityToken?: Secret,
    awsRoleArn: string = "",
    awsIdTokenRequestUrl?: Secret,
    awsIdTokenRequestToken?: Secret,
    auditDatabaseUrl?: Secret,
    auditTrail?: File,
    slackWebhook?: Secret,
    slackFailuresWebhook?: Secret,
    webhookUrl?: Secret,
    webhookSecret?: Secret,
    actor: string = "",
    runUrl: string = "",
    failOnError: boolean = true,
  ): Promise<Deployment> {
    const { config } = await loadConfig(this.source, this.configPath);
    const aws = {
      awsAccessKeyId,
      awsSecretAccessKey,
      awsSessionToken,
      awsWebIdentityToken,
      awsRoleArn,
      awsIdTokenRequestUrl,
      awsIdTokenRequestToken,
      runUrl,
    };
    return this.recorded(
      {
        config,
        kind: "abort",
        env,
        image: "",
        context: { actor, runUrl },
        outlets: { auditDatabaseUrl, auditTrail, slackWebhook, slackFailuresWebhook, webhookUrl, webhookSecret },
        failOnError,
        gitDir,
      },
      () => abortDeployment(config, env, aws),
    );
  }

  /**
   * What is running in an environment now: revision, task counts and rollout state.
   * @param env Environment name from shipshape.yaml (environments:).
   * @param awsAccessKeyId AWS access key id.
   * @param awsSecretAccessKey AWS secret access key.
   * @param awsSessionToken AWS session token, for a role.
   * @param awsWebIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for --aws-role-arn's session.
   * @param awsRoleArn Role to assume with the web identity token.
   * @param awsIdTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long run fetch fresh OIDC tokens.
   * @param awsIdTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with --aws-id-token-request-url.
   */
  @func({ cache: "never" })
  async status(
    env: string,
    awsAccessKeyId?: Secret,
    awsSecretAccessKey?: Secret,
    awsSessionToken?: Secret,
    awsWebIdentityToken?: Secret,
    awsRoleArn: string = "",
    awsIdTokenRequestUrl?: Secret,
    awsIdTokenRequestToken?: Secret,
  ): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const aws = {
      awsAccessKeyId,
      awsSecretAccessKey,
      awsSessionToken,
      awsWebIdentityToken,
      awsRoleArn,
      awsIdTokenRequestUrl,
      awsIdTokenRequestToken,
    };
    return serviceStatus(config, env, aws);
  }

  /**
   * Delivery metrics (DORA) from the audit trail: deploy frequency, lead time, change failure rate, time to restore.
   * @param environment Environment to report on; empty for all of them.
   * @param period Bucket size: day, week or month.
   * @param from Start of the window (ISO date or time, inclusive); empty for the last 12 periods.
   * @param to End of the window (exclusive); empty for now.
   * @param auditDatabaseUrl Postgres URL of the audit trail (postgres://user:password@host/db).
   * @param auditTrail A JSON Lines audit trail a deploy returned, when there is no database.
   */
  @func({ cache: "never" })
  async metrics(
    environment: string = "",
    period: string = "week",
    from: string = "",
    to: string = "",
    auditDatabaseUrl?: Secret,
    auditTrail?: File,
  ): Promise<DeliveryReport> {
    const { config } = await loadConfig(this.source, this.configPath);
    const records = await readTrail(
      config,
      {
        databaseUrl: await secretText(auditDatabaseUrl),
        jsonl: auditTrail ? await auditTrail.contents() : undefined,
      },
      environment,
    );
    const report = deliveryReport(records, { environment, period, from, to });
    const files = Object.entries(report.files).reduce((dir, [name, content]) => dir.withNewFile(name, content), dag.directory());
    return make(DeliveryReport, { markdown: report.markdown, text: report.text, files });
  }

  /**
   * Post the gate results as one pull-request comment, updated on every run (never fails the job).
   * @param repository owner/name, as in GITHUB_REPOSITORY.
   * @param pullNumber The pull request's number.
   * @param githubToken Token with pull-requests: write (GITHUB_TOKEN in Actions).
   * @param runUrl Link to the workflow run, shown under the table.
   * @param commitSha The commit the gates ran on.
   */
  @func({ cache: "never" })
  async prComment(
    repository: string,
    pullNumber: number,
    githubToken: Secret,
    runUrl: string = "",
    commitSha: string = "",
  ): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const token = (await secretText(githubToken)) ?? "";
    const gates = async () => (await Promise.all(ORDER.map((g) => this.runGate(g)))).map((r) => r.outcome);
    return commentGates(config, { repository, pullNumber, token, runUrl, commitSha }, gates);
  }

  /**
   * Scan files and git history for committed secrets (gitleaks, redacted); fails on any finding.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  @check()
  async secretScan(@argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory): Promise<void> {
    failUnlessPassed(await this.secretsRun(gitDir));
  }

  /**
   * The secret scan's report: where each possible secret is (never its value), and SARIF.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "session" })
  async secretScanReport(@argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory): Promise<GateReport> {
    return toReport(await this.secretsRun(gitDir));
  }

  /** The effective configuration (shipshape.yaml with every default filled in), as YAML. */
  @func()
  async config(): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    return stringify(config);
  }

  /**
   * Missing adoption files (shipshape.yaml, hardened Dockerfile, thin workflows) as a changeset for dagger generate; never overwrites.
   * @param repo Shipshape's GitHub repository for the workflows' uses: (default: from the workspace's install record), e.g. acme/shipshape.
   * @param ref Commit SHA of Shipshape the workflows pin (default: the install record's pin).
   */
  @func()
  @generate()
  async scaffold(repo: string = "", ref: string = ""): Promise<Changeset> {
    const { files, plan } = await this.generated({ repo, ref });
    // Only new files: `dagger check` runs every generator as a check, and a team's edits are not drift.
    const after = plan.create.reduce((dir, path) => dir.withNewFile(path, files[path]!), this.source);
    return after.changes(this.source);
  }

  /**
   * The files a team needs to adopt Shipshape, to export: new ones only, unless --force also overwrites those that differ.
   * @param force Also return the existing files that differ from what Shipshape would generate (init-diff shows how).
   * @param repo Shipshape's GitHub repository for the workflows' uses: (default: from the workspace's install record), e.g. acme/shipshape.
   * @param ref Commit SHA of Shipshape the workflows pin (default: the install record's pin).
   * @param measureCoverage Run the test gate now and set coverage.global.lines to the level the tests reach today.
   */
  @func()
  async init(force: boolean = false, repo: string = "", ref: string = "", measureCoverage: boolean = false): Promise<Directory> {
    const { files, plan, notes } = await this.generated({ repo, ref }, measureCoverage);
    const paths = [...plan.create, ...(force ? plan.differ.map((d) => d.path) : [])];
    if (!force && plan.differ.length > 0)
      progress(
        "init",
        `left as they are (differ): ${plan.differ.map((d) => d.path).join(", ")}; init-diff shows the diff, --force writes them`,
      );
    for (const note of notes) progress("init", note);
    return paths.reduce((dir, path) => dir.withNewFile(path, files[path]!), dag.directory());
  }

  /**
   * What init would write, as a summary and a unified diff against the files that exist; changes nothing.
   * @param repo Shipshape's GitHub repository for the workflows' uses: (default: from the workspace's install record), e.g. acme/shipshape.
   * @param ref Commit SHA of Shipshape the workflows pin (default: the install record's pin).
   * @param measureCoverage Run the test gate now and set coverage.global.lines to the level the tests reach today.
   */
  @func()
  async initDiff(repo: string = "", ref: string = "", measureCoverage: boolean = false): Promise<string> {
    const { files, plan, notes } = await this.generated({ repo, ref }, measureCoverage);
    return describePlan(plan, files, notes);
  }

  /** One generator run; with measureCoverage, today's line coverage from the test gate itself. */
  private async generated(target: Pick<GenerationRequest, "repo" | "ref">, measureCoverage: boolean = false) {
    const measuredLines = measureCoverage ? (await this.runGate("test")).outcome.metrics["coverage.lines"] : undefined;
    return generation({ source: this.source, configPath: this.configPath, ...target, measuredLines });
  }

  /** A run with its audit records and notifications; fails the call unless it ended as this kind of run should. */
  private async recorded(run: RecordedCall, work: () => Promise<DeployReport>): Promise<Deployment> {
    const { config, kind, env, image, context, outlets, failOnError, gitDir } = run;
    const strategy = config.environments[env]?.steppedCanary ? "stepped-canary" : (config.environments[env]?.strategy ?? "rolling");
    const ctx: RunContext = { actor: "", approver: "", runUrl: "", version: "", commitSha: "", repoUrl: "", ...context };
    const done = await recordedRun(config, { kind, environment: env, image, strategy, context: ctx, outlets, gitDir }, work);
    const deployment = deploymentOf(done.report, done);
    if (failOnError && !EXPECTED[kind].includes(done.report.result)) {
      const why = done.problem
        ? `${done.problem.cause}\nhint: ${done.problem.hint}`
        : `${kind} ${kind === "deploy" ? "to" : "of"} ${env} ${done.report.result}: ${done.report.reason}`;
      throw new Error(done.problem ? why : `${why}\n${deployment.timeline.join("\n")}`);
    }
    return deployment;
  }

  private context(): Promise<GateContext> {
    let ctx = contexts.get(this);
    if (!ctx) {
      ctx = loadProject(this.source, this.configPath).then((project) => ({
        project,
        source: this.source,
        installed: installer(project, this.source),
      }));
      contexts.set(this, ctx);
    }
    return ctx;
  }

  private commitsRun(base: string, head: string, gitDir: Directory): Promise<GateRun> {
    return runGate(
      "commits",
      () => loadConfig(this.source, this.configPath),
      ({ config }) => commitsCheck(config, gitDir, base, head),
    );
  }

  private imageRun(gate: "scan" | "licenses", platform: string, name: string = gate): Promise<GateRun> {
    return this.runNamed(
      name,
      async ({ project, source }) => {
        const image = await builtImage(project, source, platform);
        return gate === "scan" ? scanImage(project.config, image, source) : licenseCheck(project.config, sbomOf(project.config, image));
      },
      (c) => (gate === "scan" ? c.scan.enabled : c.licenses.enabled),
    );
  }

  private dependenciesRun(): Promise<GateRun> {
    return this.runNamed(
      "dependencies",
      ({ project, source }) => scanDependencies(project.config, source),
      (c) => c.scan.enabled,
    );
  }

  private secretsRun(gitDir: Directory): Promise<GateRun> {
    const load = () => loadConfig(this.source, this.configPath).then(({ config }) => config);
    return this.runEnabled(
      "secrets",
      load,
      (c) => c.secrets.enabled,
      (c) => secretScan(c, this.source, gitDir),
    );
  }

  private runGate(name: GateName): Promise<GateRun> {
    return this.runNamed(name, GATES[name], (c) => c.gates[name].enabled);
  }

  private runNamed(name: string, gate: Gate, enabled: (c: ShipshapeConfig) => boolean): Promise<GateRun> {
    return this.runEnabled(
      name,
      () => this.context(),
      (ctx) => enabled(ctx.project.config),
      gate,
    );
  }

  /** Runs a gate unless shipshape.yaml disables it; whatever goes wrong becomes its report. */
  private runEnabled<C>(
    name: string,
    load: () => Promise<C>,
    enabled: (c: C) => boolean,
    gate: (c: C) => ReturnType<Gate>,
  ): Promise<GateRun> {
    return runGate(name, load, async (ctx) => {
      if (!enabled(ctx)) {
        const { gate: _g, durationMs: _d, ...verdict } = skipped(name, `disabled in ${this.configPath}`);
        return { verdict, files: dag.directory() };
      }
      return gate(ctx);
    });
  }

  private async gateReport(name: GateName): Promise<GateReport> {
    return toReport(await this.runGate(name));
  }

  private async assertGate(name: GateName): Promise<void> {
    const { outcome } = await this.runGate(name);
    if (!passedAll([outcome])) throw new Error(renderTable([outcome]));
  }
}

/** Fresh sigstore-audience OIDC tokens from GitHub's token request URL and token, when both were given. */
async function sigstoreTokens(requestUrl?: Secret, requestToken?: Secret): Promise<TokenSource | undefined> {
  const [url, token] = await Promise.all([secretText(requestUrl), secretText(requestToken)]);
  if (!url && !token) return undefined;
  if (!url || !token)
    throw new Error(
      "keyless signing needs both the OIDC token request URL and its token\nhint: pass --sigstore-id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL and --sigstore-id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    );
  return githubOidcTokenSource({ requestUrl: url, requestToken: token, audience: SIGSTORE_AUDIENCE });
}

/** Fails a function with the gate's table row and fix hint when the gate did not pass. */
function failUnlessPassed(run: GateRun): void {
  if (!passedAll([run.outcome])) throw new Error(renderTable([run.outcome]));
}

function toReport(run: GateRun): GateReport {
  return gateReportOf(run.outcome, run.files);
}
