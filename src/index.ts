/**
 * Shipshape: a hardened CI/CD pipeline for Node/TypeScript services, as typed Dagger functions.
 *
 * The root object is the table of contents. `ci` runs every quality gate concurrently and returns the
 * combined report; each gate is its own function (and a `dagger check`) returning its report, which
 * fails the call when the gate failed. Credentials and run context are chained state set once with
 * `with*` (see deploy/src/settings.ts); `release` publishes and signs. Deploys are the deploy
 * module's (deploy/, shipshape-deploy), which takes the digest `release` returns: kept apart so a
 * gate call never loads the AWS SDK, pg or the deploy code (the runtime imports and type-checks
 * every file under a module's src/ on every call). Settings come from an optional shipshape.yaml
 * at the repository root, which both modules read.
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
import { runGate, type Gate, type GateContext, type GateRun } from "../deploy/src/gates/gate.js";
import { commitsCheck, computeVersion } from "./gates/history.js";
import { builtImage, buildContext, licenseCheck, sbomOf, scanDependencies, scanImage } from "../deploy/src/gates/image.js";
import { secretText } from "../deploy/src/gates/secret-text.js";
import { githubIdTokens, type TokenSource } from "../deploy/src/github/oidc.js";
import { assertUsableToken, SIGSTORE_AUDIENCE } from "../deploy/src/supply/signing/identity.js";
import { platformSlug } from "../deploy/src/supply/publish/manifests.js";
import { SBOM_FORMAT_INFO } from "../deploy/src/supply/sbom/commands.js";
import { commentGates } from "./gates/pr-comment.js";
import { lint } from "./gates/lint.js";
import { lighthouseAudit } from "./gates/lighthouse.js";
import { provenanceOf, publishImage } from "./gates/publish.js";
import { signImage, verifyImage } from "../deploy/src/gates/sign.js";
import { secretScan } from "./gates/secrets.js";
import { sast } from "./gates/sast.js";
import { describePlan } from "./generate/plan.js";
import { generation, type GenerationRequest } from "./generate/run.js";
import { progress } from "../deploy/src/gates/progress.js";
import { migrations } from "./gates/migrations.js";
import { test } from "./gates/test.js";
import { typecheck } from "./gates/typecheck.js";
import { installer } from "../deploy/src/gates/workspace.js";
import type { ShipshapeConfig } from "../deploy/src/config/schema.js";
import { Problem } from "../deploy/src/project/problem.js";
import { loadConfig, loadProject } from "../deploy/src/project/load.js";
import { ciReportOf, gateReportOf, type CiReport, type GateReport } from "./report/gate-report.js";
import { make } from "../deploy/src/report/fields.js";
import { Release, ReleasePlatform } from "./report/release.js";
import { releaseVersionOf, type ReleaseVersion } from "./report/release-version.js";
import { skipped } from "../deploy/src/report/outcome.js";
import { passedAll, renderTable } from "../deploy/src/report/render.js";
import {
  auditSettings,
  awsSettings,
  isRegistryOf,
  registryCredsFor,
  registrySettings,
  runSettings,
  verifierSettings,
  type NotificationSettings,
  type Settings,
} from "../deploy/src/settings.js";
import { recordCi } from "./trail/ci-wiring.js";

const GATES = { lint, typecheck, test, audit } satisfies Record<string, Gate>;
type GateName = keyof typeof GATES;
const ORDER: GateName[] = ["lint", "typecheck", "test", "audit"];

// Cache policy, deliberate per function (README "Function caching"): the engine caches a call for 7 days
// by default, keyed on the source, the arguments and the parent (with its chained settings). Pure gates
// keep that default; gates that read a network database (advisories, vulnerability DB) or judge
// ignore-entry expiry against the clock re-run after 24h at most; side effects and live reads
// (registry, AWS, audit trail) are "never"; so is `lighthouse`, which judges a live page that changes
// without the source or the arguments changing (a cached verdict would outlive the deploy it judged). A gate that could not judge (ERROR: Postgres never ready,
// a tool crash) fails its call instead of returning, so that flake is never served from the cache;
// `ci` returns every gate's report even then, so it is "session", and the exec cache still replays
// every unchanged command. `with*` only copy state: the default.
// `sast` is 24h whatever its rules: every sast.ignore entry has an expiry judged against the clock, and
// a registry ruleset (p/default) changes on semgrep.dev without the source changing (its exec also
// carries the date, so the exec cache replays a registry scan for one day at most). Local rules alone
// would be pure, but the expiry makes them clock-bound too.
// Per-call memo: the runtime rebuilds this object for every call, and a memo lives for one call.
const contexts = new WeakMap<Shipshape, Promise<GateContext>>();

/** Quality gates, supply chain and deploys for a Node/TypeScript service. */
@object()
// No notifications and no approver: who approved a deploy is the deploy module's to record.
export class Shipshape implements Omit<Settings, keyof NotificationSettings | "approver"> {
  /** The service's source directory. */
  @func() source: Directory;
  /** Path of the Shipshape config file, relative to the source. */
  @func() configPath: string;
  // Chained settings (src/settings.ts): plain fields, so they travel with the object but are not API fields.
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
  awsRoleArn?: string;
  awsWebIdentityToken?: Secret;
  awsIdTokenRequestUrl?: Secret;
  awsIdTokenRequestToken?: Secret;
  registryAddress?: string;
  registryUsername?: string;
  registryPassword?: Secret;
  registryPlainHttp?: boolean;
  cosignKey?: Secret;
  cosignPassword?: Secret;
  sigstoreIdToken?: Secret;
  sigstoreIdTokenRequestUrl?: Secret;
  sigstoreIdTokenRequestToken?: Secret;
  cosignPublicKey?: Secret;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  insecureIgnoreTlog?: boolean;
  auditDatabaseUrl?: Secret;
  auditTrail?: File;
  actor?: string;
  runUrl?: string;
  commitSha?: string;
  branch?: string;
  defaultBranch?: string;
  runVersion?: string;
  repoUrl?: string;

  constructor(
    /** The service's source directory (default: the repository root, without node_modules and .git). */
    @argument({ defaultPath: "/", ignore: ["**/node_modules", "**/.turbo", ".shipshape", ".git"] }) source: Directory,
    /** Path of the Shipshape config file, relative to the source. */
    configPath: string = "shipshape.yaml",
  ) {
    this.source = source;
    this.configPath = configPath;
  }

  /**
   * AWS credentials for ECR and ECS: static keys, or a role assumed with GitHub's OIDC token (replaces an earlier withAws).
   * @param accessKeyId Access key id (static keys).
   * @param secretAccessKey Secret access key (static keys).
   * @param sessionToken Session token, for temporary keys.
   * @param roleArn Role to assume with the web identity token (GitHub OIDC).
   * @param webIdentityToken GitHub OIDC token (audience sts.amazonaws.com), exchanged for the role's session.
   * @param idTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: lets a long deploy fetch fresh OIDC tokens.
   * @param idTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with idTokenRequestUrl.
   */
  @func()
  withAws(
    accessKeyId?: Secret,
    secretAccessKey?: Secret,
    sessionToken?: Secret,
    roleArn: string = "",
    webIdentityToken?: Secret,
    idTokenRequestUrl?: Secret,
    idTokenRequestToken?: Secret,
  ): Shipshape {
    // As the deploy module's credentials refuse it (deploy/src/aws/credentials.ts): the ECR login
    // would otherwise pick the keys without a word, and a team would believe its role was used.
    if ((accessKeyId || secretAccessKey || sessionToken) && (roleArn || webIdentityToken || idTokenRequestUrl || idTokenRequestToken))
      throw new Problem(
        "both static AWS keys and a web identity token/role were given; which one to use is ambiguous",
        "chain with-aws with either --role-arn and a web identity token (GitHub OIDC) or the --access-key-id/--secret-access-key pair, not both",
      );
    return Object.assign(
      this,
      awsSettings(accessKeyId, secretAccessKey, sessionToken, roleArn, webIdentityToken, idTokenRequestUrl, idTokenRequestToken),
    );
  }

  /**
   * A login for one registry that is not ECR (only ever sent to that registry), or plain HTTP to a local one.
   * @param address Registry host (and namespace), e.g. ghcr.io/acme.
   * @param username Username (empty for a registry open to this engine).
   * @param password Password or token.
   * @param plainHttp Talk plain HTTP to it (a local test registry only).
   */
  @func()
  withRegistry(address: string, username: string = "", password?: Secret, plainHttp: boolean = false): Shipshape {
    return Object.assign(this, registrySettings(address, username, password, plainHttp));
  }

  /**
   * How release and sign sign: a cosign key, or keyless with an OIDC identity (replaces an earlier withSigner).
   * @param key cosign private key (contents of cosign.key).
   * @param password Password of the cosign private key.
   * @param idToken OIDC identity token for keyless signing; it must outlive the build (prefer the request URL and token).
   * @param idTokenRequestUrl ACTIONS_ID_TOKEN_REQUEST_URL: keyless signing fetches a fresh OIDC token for each cosign run.
   * @param idTokenRequestToken ACTIONS_ID_TOKEN_REQUEST_TOKEN, with idTokenRequestUrl.
   */
  @func()
  withSigner(key?: Secret, password?: Secret, idToken?: Secret, idTokenRequestUrl?: Secret, idTokenRequestToken?: Secret): Shipshape {
    this.cosignKey = key;
    this.cosignPassword = password;
    this.sigstoreIdToken = idToken;
    this.sigstoreIdTokenRequestUrl = idTokenRequestUrl;
    this.sigstoreIdTokenRequestToken = idTokenRequestToken;
    return this;
  }

  /**
   * Who an image must be signed by, for verify and deploy: a cosign public key, or a keyless identity.
   * @param publicKey cosign public key (contents of cosign.pub).
   * @param certificateIdentity Keyless: the signer's identity, e.g. https://github.com/acme/api/.github/workflows/release.yml@refs/heads/main.
   * @param certificateOidcIssuer Keyless: the identity's issuer, e.g. https://token.actions.githubusercontent.com.
   * @param insecureIgnoreTlog Accept signatures without a transparency-log entry (key-based signing on private infrastructure).
   */
  @func()
  withVerifier(
    publicKey?: Secret,
    certificateIdentity: string = "",
    certificateOidcIssuer: string = "",
    insecureIgnoreTlog: boolean = false,
  ): Shipshape {
    return Object.assign(this, verifierSettings(publicKey, certificateIdentity, certificateOidcIssuer, insecureIgnoreTlog));
  }

  /**
   * Where deploys are recorded, and metrics read from: Postgres, or a JSON Lines trail to continue.
   * @param databaseUrl Postgres URL (table deployment_audit); without it records come back as JSON Lines.
   * @param trail An earlier JSON Lines trail to continue (e.g. the previous run's artifact).
   */
  @func()
  withAuditTrail(databaseUrl?: Secret, trail?: File): Shipshape {
    return Object.assign(this, auditSettings(databaseUrl, trail));
  }

  /**
   * Who runs what from where, for tags, provenance and the audit trail (a module cannot see CI's env).
   * @param actor Who ran it (GITHUB_ACTOR in Actions).
   * @param runUrl Link to the CI run; also the provenance's invocation ID and the AWS role session's name.
   * @param commitSha Commit built or deployed (default: HEAD of .git).
   * @param branch Branch being built (default: the checked-out branch); latest is only tagged from defaultBranch.
   * @param defaultBranch The repository's default branch.
   * @param version Release version, for semver tags and the audit trail (e.g. from the version function).
   * @param repoUrl Repository URL for commit links, e.g. https://github.com/acme/api.
   */
  @func()
  withRun(
    actor: string = "",
    runUrl: string = "",
    commitSha: string = "",
    branch: string = "",
    defaultBranch: string = "main",
    version: string = "",
    repoUrl: string = "",
  ): Shipshape {
    return Object.assign(this, runSettings({ actor, runUrl, commitSha, branch, defaultBranch, version, repoUrl }));
  }

  /** Run every quality gate concurrently (recorded when an audit trail is set); the report, failing the call with the table unless all passed. */
  @func({ cache: "session" })
  async ci(): Promise<CiReport> {
    const startedMs = Date.now();
    const core = ORDER.map((g) => this.runGate(g));
    const runs = await Promise.all([...core, ...(await this.optionalCiGates())]);
    // Session-cached, so one `dagger call ci` records once; the write is this process's, no exec to replay (src/trail/ci-trail.ts).
    const audit = await recordCi(
      this,
      runs.map((r) => r.outcome),
      startedMs,
    );
    const report = ciReportOf(runs.map(toReport), audit);
    progress("ci", `\n${report.table()}`);
    if (audit.note) progress("audit", audit.note);
    return report;
  }

  /** ESLint with zero warnings allowed, and Prettier --check: the report, failing the call when the gate fails. */
  @func()
  @check()
  async lint(): Promise<GateReport> {
    return this.reported(this.runGate("lint"));
  }

  /** The project's tsc --noEmit: diagnostics and SARIF, failing the call on type errors. */
  @func()
  @check()
  async typecheck(): Promise<GateReport> {
    return this.reported(this.runGate("typecheck"));
  }

  /** The project's tests against a Postgres service, with coverage thresholds: counts, JUnit and lcov. */
  @func()
  @check()
  async test(): Promise<GateReport> {
    return this.reported(this.runGate("test"));
  }

  /** Dependency audit at the configured severity: blocking advisories and the raw audit JSON. */
  @func({ cache: "24h" })
  @check()
  async audit(): Promise<GateReport> {
    return this.reported(this.runGate("audit"));
  }

  /**
   * Lighthouse budgets on a live page (performance, accessibility, best practices, SEO vs lighthouse.thresholds): lighthouse.json and .html.
   * @param url Page to audit (default: lighthouse.url, else lighthouse.environment's smoke.baseUrl).
   * @param environment Audit this environment's smoke.baseUrl (environments.<name>) instead.
   */
  @func({ cache: "never" })
  async lighthouse(url: string = "", environment: string = ""): Promise<GateReport> {
    return this.reported(this.lighthouseRun(url, environment));
  }

  /**
   * Lint SQL migrations with squawk: findings with file:line and fix, failing on unsafe or unapproved destructive changes.
   * @param base Only check migrations changed against this git ref (e.g. origin/main); empty checks all.
   * @param approveDestructive Allow destructive changes (DROP, TRUNCATE, RENAME...); set from the PR label migration-destructive-approved.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async migrations(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    base: string = "",
    approveDestructive: boolean = false,
  ): Promise<GateReport> {
    const gate = migrations({ base, approveDestructive, gitDir });
    return this.reported(this.runNamed("migrations", gate, (c) => c.migrations.enabled));
  }

  /**
   * Check that every commit in base..head follows Conventional Commits and, if required, is signed by an allowed signer: each offender listed.
   * @param base The commit or ref the range starts after (e.g. origin/main or the PR's base SHA).
   * @param head The last commit of the range.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async commits(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    base: string,
    head: string = "HEAD",
  ): Promise<GateReport> {
    return this.reported(this.commitsRun(base, head, gitDir));
  }

  /**
   * The next semantic version from the commits since the last release tag, with its changelog.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async version(@argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory): Promise<ReleaseVersion> {
    const { config } = await loadConfig(this.source, this.configPath);
    return releaseVersionOf(await computeVersion(config, gitDir, this.repoUrl ?? "", new Date()));
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
   * Scan the built image with Trivy (as a tarball, no registry): blocking vulnerabilities, trivy.json and SARIF.
   * @param platform Platform of the image to scan (default: the engine's).
   */
  @func({ cache: "24h" })
  @check()
  async scanImage(platform: string = ""): Promise<GateReport> {
    return this.reported(this.imageRun("scan", platform));
  }

  /** Scan the dependencies in the lockfile with Trivy (no build needed): blocking vulnerabilities and SARIF. */
  @func({ cache: "24h" })
  @check()
  async scanDependencies(): Promise<GateReport> {
    return this.reported(this.dependenciesRun());
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
   * Check the SBOM's licenses against the allow and deny lists: denied and unknown packages, the SBOM and SARIF.
   * @param platform Platform of the image (default: the engine's).
   */
  @func({ cache: "24h" })
  @check()
  async licenseCheck(platform: string = ""): Promise<GateReport> {
    return this.reported(this.imageRun("licenses", platform));
  }

  /**
   * Scan files and git history for committed secrets (gitleaks, redacted): where each is, never its value, and SARIF.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  @check()
  async secretScan(@argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory): Promise<GateReport> {
    return this.reported(this.secretsRun(gitDir));
  }

  /** Static analysis with Semgrep (sast.rules, p/default by default): findings by severity with sast.ignore, semgrep.json and Semgrep's SARIF. */
  @func({ cache: "24h" })
  @check()
  async sast(): Promise<GateReport> {
    return this.reported(this.sastRun());
  }

  /**
   * Build every platform and publish one multi-arch image under each tag (withRegistry, or withAws for ECR); returns repo@sha256:digest.
   * @param registry Registry host and namespace (default: publish.registry), e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
   * @param repository Repository in the registry (default: publish.repository, else the package name).
   * @param gitDir The repository's .git directory alone (default: the context's), for the commit and branch.
   */
  @func({ cache: "never" })
  async publish(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    registry: string = "",
    repository: string = "",
  ): Promise<string> {
    const { project } = await this.context();
    return (await publishImage(project, this.source, gitDir, this.publishTarget(project.config, registry, repository))).ref;
  }

  /**
   * Sign an image by digest with cosign, as withSigner says (key, or keyless).
   * @param ref Image reference with digest (repo@sha256:...); a tag alone is refused.
   */
  @func({ cache: "never" })
  async sign(ref: string): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const signing = await this.signing(ref);
    return (await signImage(config, ref, signing)).ref;
  }

  /**
   * Verify an image's cosign signature by digest, as withVerifier says; fails unless the requested digest is signed.
   * @param ref Image reference with digest (repo@sha256:...).
   * @param provenance Also require a SLSA v1 provenance attestation for the digest, by the same signer.
   * @param builderId With --provenance: the builder.id the provenance must name; empty accepts any.
   */
  @func({ cache: "never" })
  async verify(ref: string, provenance: boolean = false, builderId: string = ""): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const v = await verifyImage(config, ref, {
      provenance,
      builderId,
      publicKey: this.cosignPublicKey,
      identity: this.certificateIdentity ?? "",
      issuer: this.certificateOidcIssuer ?? "",
      insecureIgnoreTlog: this.insecureIgnoreTlog ?? false,
      creds: registryCredsFor(this, ref),
      allowHttpRegistry: this.plainHttpFor(ref),
    });
    if (!v.verified)
      throw new Error(
        `${ref} is not verified: ${v.reason}\nhint: sign it with the matching key or identity (dagger call shipshape with-signer ... sign), and deploy only what verifies`,
      );
    return v.reason;
  }

  /**
   * Scan, license-check and secret-scan; only if all pass, publish, sign (withSigner) and attest the SBOMs and provenance.
   * @param registry Registry host and namespace (default: publish.registry).
   * @param repository Repository in the registry (default: publish.repository, else the package name).
   * @param builderId URI of the builder for the SLSA provenance, e.g. https://github.com/o/r/.github/workflows/release.yml@refs/heads/main.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func({ cache: "never" })
  async release(
    @argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory,
    registry: string = "",
    repository: string = "",
    builderId: string = "",
  ): Promise<Release> {
    const idTokens = await sigstoreTokens(this.sigstoreIdTokenRequestUrl, this.sigstoreIdTokenRequestToken);
    // Checked before anything is pushed: an unsigned image must never reach the registry.
    if (!this.cosignKey && !this.sigstoreIdToken && !idTokens) {
      throw new Error(
        "release needs a signing identity: an image is never published unsigned\nhint: chain with-signer --key=file://cosign.key --password=env://COSIGN_PASSWORD, or in GitHub Actions with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
      );
    }
    if (!this.cosignKey && !idTokens && this.sigstoreIdToken)
      assertUsableToken((await secretText(this.sigstoreIdToken)) ?? "", new Date(), "the build");
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
    const published = await publishImage(project, this.source, gitDir, this.publishTarget(project.config, registry, repository));
    const provenance = await provenanceOf(project, this.source, published, {
      configPath: this.configPath,
      builderId,
      invocationId: this.runUrl ?? "",
      startedOn,
      finishedOn: new Date(),
    });
    const signed = await signImage(
      project.config,
      published.ref,
      { ...(await this.signing(published.ref, idTokens)) },
      { sboms, provenance },
    );
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
   * Post the gate results as one pull-request comment, updated on every run (never fails the job); links from withRun.
   * @param repository owner/name, as in GITHUB_REPOSITORY.
   * @param pullNumber The pull request's number.
   * @param githubToken Token with pull-requests: write (GITHUB_TOKEN in Actions).
   */
  @func({ cache: "never" })
  async prComment(repository: string, pullNumber: number, githubToken: Secret): Promise<string> {
    const { config } = await loadConfig(this.source, this.configPath);
    const token = (await secretText(githubToken)) ?? "";
    const gates = async () => (await Promise.all(ORDER.map((g) => this.runGate(g)))).map((r) => r.outcome);
    const target = { repository, pullNumber, token, runUrl: this.runUrl ?? "", commitSha: this.commitSha ?? "" };
    return commentGates(config, target, gates);
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

  /** Where publish pushes, with the registry's credentials and this chain's commit, branch and version. */
  private publishTarget(config: ShipshapeConfig, registry: string, repository: string) {
    const creds = registryCredsFor(this, registry || config.publish.registry || "");
    const run = {
      sha: this.commitSha ?? "",
      branch: this.branch ?? "",
      defaultBranch: this.defaultBranch || "main",
      version: this.runVersion ?? "",
    };
    return { registry, repository, ...run, creds };
  }

  /** The withSigner identity for signing `ref`, with its registry's credentials. */
  private async signing(ref: string, tokens?: TokenSource) {
    const idTokens = tokens ?? (await sigstoreTokens(this.sigstoreIdTokenRequestUrl, this.sigstoreIdTokenRequestToken));
    return {
      key: this.cosignKey,
      password: this.cosignPassword,
      idToken: this.sigstoreIdToken,
      idTokens,
      creds: registryCredsFor(this, ref),
      allowHttpRegistry: this.plainHttpFor(ref),
    };
  }

  /** Plain HTTP only to the withRegistry registry that asked for it, with or without a login. */
  private plainHttpFor(ref: string): boolean {
    return Boolean(this.registryPlainHttp) && isRegistryOf(this, ref);
  }

  /** One generator run; with measureCoverage, today's line coverage from the test gate itself. */
  private async generated(target: Pick<GenerationRequest, "repo" | "ref">, measureCoverage: boolean = false) {
    const measuredLines = measureCoverage ? (await this.runGate("test")).outcome.metrics["coverage.lines"] : undefined;
    return generation({ source: this.source, configPath: this.configPath, ...target, measuredLines });
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

  private lighthouseRun(url: string, environment: string): Promise<GateRun> {
    return runGate(
      "lighthouse",
      () => loadConfig(this.source, this.configPath),
      ({ config }) =>
        lighthouseAudit(
          { lighthouse: config.lighthouse, environments: config.environments, image: config.images.lighthouse },
          { url, environment },
        ),
    );
  }

  /** Gates ci runs only when shipshape.yaml asks: lighthouse.ci (it needs a live URL). A bad config is every core gate's report already. */
  private async optionalCiGates(): Promise<Promise<GateRun>[]> {
    const config = await loadConfig(this.source, this.configPath).then(
      ({ config }) => config,
      () => undefined,
    );
    // sast is opt-in too (sast.enabled): a ci row only when enabled.
    return [...(config?.lighthouse.ci ? [this.lighthouseRun("", "")] : []), ...(config?.sast.enabled ? [this.sastRun()] : [])];
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

  private sastRun(): Promise<GateRun> {
    const load = () => loadConfig(this.source, this.configPath).then(({ config }) => config);
    return this.runEnabled(
      "sast",
      load,
      (c) => c.sast.enabled,
      (c) => sast(c, this.source),
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

  /** A gate's report; an ERROR (it could not judge) fails the call, so the engine never caches it. */
  private async reported(run: Promise<GateRun>): Promise<GateReport> {
    const { outcome, files } = await run;
    if (outcome.status === "error") throw new Error(renderTable([outcome]));
    return gateReportOf(outcome, files);
  }
}

/** Fresh sigstore-audience OIDC tokens from GitHub's token request URL and token, when both were given. */
async function sigstoreTokens(requestUrl?: Secret, requestToken?: Secret): Promise<TokenSource | undefined> {
  const [url, token] = await Promise.all([secretText(requestUrl), secretText(requestToken)]);
  if (!url && !token) return undefined;
  if (!url || !token)
    throw new Error(
      "keyless signing needs both the OIDC token request URL and its token\nhint: chain with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    );
  return githubIdTokens({ requestUrl: url, requestToken: token, audience: SIGSTORE_AUDIENCE });
}

function toReport(run: GateRun): GateReport {
  return gateReportOf(run.outcome, run.files);
}
