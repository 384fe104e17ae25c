/**
 * Shipshape: a hardened CI/CD pipeline for Node/TypeScript services, as typed Dagger functions.
 *
 * The root object is the table of contents. `ci` runs every quality gate concurrently and returns the
 * combined report; each gate is its own function (and a `dagger check`) returning its report, which
 * fails the call when the gate failed. Credentials and run context are chained state set once with
 * `with*` (see deploy/src/settings.ts); `release` publishes and signs. Deploys are the deploy
 * module's (deploy/, shipshape-deploy), which takes the digest `release` returns: kept apart so a
 * gate call never loads the AWS SDK, pg or the deploy code (the runtime imports and type-checks
 * every file under a module's src/ on every call). For the same reason this file is the API alone:
 * each function loads what it does from lib/calls/ when it is called (src/calls.ts). Settings come
 * from an optional shipshape.yaml at the repository root, which both modules read.
 */
import {
  argument,
  check,
  func,
  generate,
  object,
  type Changeset,
  type Container,
  type Directory,
  type File,
  type Secret,
} from "@dagger.io/dagger";
import { Problem } from "../deploy/src/project/problem.js";
import {
  auditSettings,
  awsSettings,
  registrySettings,
  runSettings,
  verifierSettings,
  type NotificationSettings,
  type Settings,
} from "../deploy/src/settings.js";
import { calls } from "./calls.js";
import type { CiReport, GateReport } from "./report/gate-report.js";
import type { Release } from "./report/release.js";
import type { ReleaseVersion } from "./report/release-version.js";

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

/** Quality gates, supply chain and deploys for a Node/TypeScript service. */
@object()
// No notifications and no approver: who approved a deploy is the deploy module's to record.
export class Shipshape implements Omit<Settings, keyof NotificationSettings | "approver"> {
  /** The service's source directory. */
  @func() source: Directory;
  /** Path of the Shipshape config file, relative to the source. */
  @func() configPath: string;
  // Chained settings (deploy/src/settings.ts): plain fields, so they travel with the object but are not API fields.
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
    // As the deploy module's credentials refuse it (deploy/lib/aws/credentials.ts): the ECR login
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
    return (await calls("gates")).ci(this);
  }

  /** ESLint with zero warnings allowed, and Prettier --check: the report, failing the call when the gate fails. */
  @func()
  @check()
  async lint(): Promise<GateReport> {
    return (await calls("gates")).gate(this, "lint");
  }

  /** The project's tsc --noEmit: diagnostics and SARIF, failing the call on type errors. */
  @func()
  @check()
  async typecheck(): Promise<GateReport> {
    return (await calls("gates")).gate(this, "typecheck");
  }

  /** The project's tests against a Postgres service, with coverage thresholds: counts, JUnit and lcov. */
  @func()
  @check()
  async test(): Promise<GateReport> {
    return (await calls("gates")).gate(this, "test");
  }

  /** Dependency audit at the configured severity: blocking advisories and the raw audit JSON. */
  @func({ cache: "24h" })
  @check()
  async audit(): Promise<GateReport> {
    return (await calls("gates")).gate(this, "audit");
  }

  /**
   * Lighthouse budgets on a live page (performance, accessibility, best practices, SEO vs lighthouse.thresholds): lighthouse.json and .html.
   * @param url Page to audit (default: lighthouse.url, else lighthouse.environment's smoke.baseUrl).
   * @param environment Audit this environment's smoke.baseUrl (environments.<name>) instead.
   */
  @func({ cache: "never" })
  async lighthouse(url: string = "", environment: string = ""): Promise<GateReport> {
    return (await calls("checks")).lighthouse(this, url, environment);
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
    return (await calls("history")).migrations(this, gitDir, base, approveDestructive);
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
    return (await calls("history")).commits(this, gitDir, base, head);
  }

  /**
   * The next semantic version from the commits since the last release tag, with its changelog.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  async version(@argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory): Promise<ReleaseVersion> {
    return (await calls("history")).version(this, gitDir);
  }

  /**
   * Build the service's image from its Dockerfile, or from a generated hardened one when it has none.
   * @param platform Target platform, e.g. linux/arm64 (default: the engine's).
   */
  @func()
  async build(platform: string = ""): Promise<Container> {
    return (await calls("image")).build(this, platform);
  }

  /** The Dockerfile the build uses: the project's, or the generated hardened one to export and keep. */
  @func()
  async dockerfile(): Promise<File> {
    return (await calls("image")).dockerfile(this);
  }

  /**
   * Scan the built image with Trivy (as a tarball, no registry): blocking vulnerabilities, trivy.json and SARIF.
   * @param platform Platform of the image to scan (default: the engine's).
   */
  @func({ cache: "24h" })
  @check()
  async scanImage(platform: string = ""): Promise<GateReport> {
    return (await calls("image")).scanImage(this, platform);
  }

  /** Scan the dependencies in the lockfile with Trivy (no build needed): blocking vulnerabilities and SARIF. */
  @func({ cache: "24h" })
  @check()
  async scanDependencies(): Promise<GateReport> {
    return (await calls("image")).scanDependencies(this);
  }

  /**
   * The built image's SBOM (CycloneDX JSON, or SPDX JSON with sbom.format: spdx; by syft).
   * @param platform Platform of the image (default: the engine's).
   */
  @func()
  async sbom(platform: string = ""): Promise<File> {
    return (await calls("image")).sbom(this, platform);
  }

  /**
   * Check the SBOM's licenses against the allow and deny lists: denied and unknown packages, the SBOM and SARIF.
   * @param platform Platform of the image (default: the engine's).
   */
  @func({ cache: "24h" })
  @check()
  async licenseCheck(platform: string = ""): Promise<GateReport> {
    return (await calls("image")).licenseCheck(this, platform);
  }

  /**
   * Scan files and git history for committed secrets (gitleaks, redacted): where each is, never its value, and SARIF.
   * @param gitDir The repository's .git directory alone (default: the context's), for history.
   */
  @func()
  @check()
  async secretScan(@argument({ defaultPath: "/", ignore: ["*", "!.git", "!.git/**"] }) gitDir: Directory): Promise<GateReport> {
    return (await calls("checks")).secretScan(this, gitDir);
  }

  /** Static analysis with Semgrep (sast.rules, p/default by default): findings by severity with sast.ignore, semgrep.json and Semgrep's SARIF. */
  @func({ cache: "24h" })
  @check()
  async sast(): Promise<GateReport> {
    return (await calls("checks")).sast(this);
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
    return (await calls("release")).publish(this, gitDir, registry, repository);
  }

  /**
   * Sign an image by digest with cosign, as withSigner says (key, or keyless).
   * @param ref Image reference with digest (repo@sha256:...); a tag alone is refused.
   */
  @func({ cache: "never" })
  async sign(ref: string): Promise<string> {
    return (await calls("release")).sign(this, ref);
  }

  /**
   * Verify an image's cosign signature by digest, as withVerifier says; fails unless the requested digest is signed.
   * @param ref Image reference with digest (repo@sha256:...).
   * @param provenance Also require a SLSA v1 provenance attestation for the digest, by the same signer.
   * @param builderId With --provenance: the builder.id the provenance must name; empty accepts any.
   */
  @func({ cache: "never" })
  async verify(ref: string, provenance: boolean = false, builderId: string = ""): Promise<string> {
    return (await calls("release")).verify(this, ref, provenance, builderId);
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
    return (await calls("release")).release(this, gitDir, registry, repository, builderId);
  }

  /**
   * Post the gate results as one pull-request comment, updated on every run (never fails the job); links from withRun.
   * @param repository owner/name, as in GITHUB_REPOSITORY.
   * @param pullNumber The pull request's number.
   * @param githubToken Token with pull-requests: write (GITHUB_TOKEN in Actions).
   */
  @func({ cache: "never" })
  async prComment(repository: string, pullNumber: number, githubToken: Secret): Promise<string> {
    return (await calls("gates")).prComment(this, repository, pullNumber, githubToken);
  }

  /** The effective configuration (shipshape.yaml with every default filled in), as YAML. */
  @func()
  async config(): Promise<string> {
    return (await calls("config")).config(this);
  }

  /**
   * Missing adoption files (shipshape.yaml, hardened Dockerfile, thin workflows) as a changeset for dagger generate; never overwrites.
   * @param repo Shipshape's GitHub repository for the workflows' uses: (default: from the workspace's install record), e.g. acme/shipshape.
   * @param ref Commit SHA of Shipshape the workflows pin (default: the install record's pin).
   */
  @func()
  @generate()
  async scaffold(repo: string = "", ref: string = ""): Promise<Changeset> {
    return (await calls("generate")).scaffold(this, repo, ref);
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
    return (await calls("generate")).init(this, force, repo, ref, measureCoverage);
  }

  /**
   * What init would write, as a summary and a unified diff against the files that exist; changes nothing.
   * @param repo Shipshape's GitHub repository for the workflows' uses: (default: from the workspace's install record), e.g. acme/shipshape.
   * @param ref Commit SHA of Shipshape the workflows pin (default: the install record's pin).
   * @param measureCoverage Run the test gate now and set coverage.global.lines to the level the tests reach today.
   */
  @func()
  async initDiff(repo: string = "", ref: string = "", measureCoverage: boolean = false): Promise<string> {
    return (await calls("generate")).initDiff(this, repo, ref, measureCoverage);
  }
}
