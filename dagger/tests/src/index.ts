/**
 * Shipshape's tests in a real engine: every function of its two modules, the CI module
 * (`dag.shipshape()`) and the deploy module (`dag.shipshapeDeploy()`, deploy/), run on the fixture
 * service and on its broken variants. `dagger call -m dagger/tests all` runs them all; each is
 * also a check.
 */
import { argument, check, dag, Directory, func, object, Secret } from "@dagger.io/dagger";

/**
 * The repository's accepted secret-scan findings (shipshape.yaml secrets.baseline): fake test
 * credentials that stay in git history. A secret scan or release of the fixture service reads this
 * repository's history (the service lives in it), so it needs the same baseline.
 */
const SECRETS_BASELINE = ".gitleaks-baseline.json";

type Report = {
  status(): Promise<unknown>;
  cause(): Promise<string>;
  summary(): Promise<string>;
  passed(): Promise<boolean>;
  sync(): { gate(): Promise<string> };
};

/** What both modules' reports have (a GateReport; the deploy module's HealthReport, whose status is lowercase). */
type Judged = Pick<Report, "status" | "cause" | "summary">;

async function expectStatus(name: string, report: Judged, want: string, causeLike?: RegExp): Promise<void> {
  const status = String(await report.status()).toUpperCase();
  if (status !== want) throw new Error(`${name}: expected ${want}, got ${status}: ${await report.summary()}`);
  if (causeLike && !causeLike.test(await report.cause()))
    throw new Error(`${name}: cause "${await report.cause()}" does not match ${causeLike}`);
}

/** The error a call fails with; fails itself when the call succeeds. */
async function rejection(name: string, call: Promise<unknown>): Promise<string> {
  const outcome = await call.then(
    () => undefined,
    (e: unknown) => String(e),
  );
  if (outcome === undefined) throw new Error(`${name} should have failed`);
  return outcome;
}

/** A gate that passed: passed() is true and sync() returns the report (what `dagger call <gate>` selects). */
async function expectPassed(name: string, report: Report): Promise<void> {
  await expectStatus(name, report, "PASSED");
  if (!(await report.passed())) throw new Error(`${name}: PASSED but passed() is false`);
  await report.sync().gate();
}

/** A gate that failed: FAILED with that cause, passed() false, and sync() fails the call with the gate's table row. */
async function expectFailed(name: string, gate: string, report: Report, causeLike?: RegExp): Promise<void> {
  await expectStatus(name, report, "FAILED", causeLike);
  if (await report.passed()) throw new Error(`${name}: FAILED but passed() is true`);
  const error = await rejection(`${name} sync`, report.sync().gate());
  if (!new RegExp(`${gate}\\s+FAILED`).test(error)) throw new Error(`${name}: sync failed without the table row: ${error.slice(0, 300)}`);
}

/** shipshape.yaml of the fixture service with one deploy target (no AWS is reached: every deploy test is refused first; both modules read it). */
const STAGING = "environments:\n  staging: { cluster: main, service: api, region: us-east-1, containerName: app }\n";
const TAG_ONLY = "registry.example.com/api:latest";
/** A public image by digest that no key of these tests signed (dagger v0.21.8's alpine, sdk/typescript/runtime/tsdistconsts). */
const UNSIGNED = "docker.io/library/alpine@sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412";

@object()
export class Tests {
  /** The fixture service and its broken variants (test/fixtures in this repository). */
  @func() fixtures: Directory;
  /** The repository's secret-scan baseline alone (what the fixture's secret scans need from the root). */
  @func() baseline: Directory;

  constructor(
    @argument({ defaultPath: "/test/fixtures", ignore: ["**/node_modules", "**/coverage"] }) fixtures: Directory,
    // Decorator options must be literals: the SDK's scanner evaluates them without running the module.
    @argument({ defaultPath: "/", ignore: ["*", "!.gitleaks-baseline.json"] }) baseline: Directory,
  ) {
    this.fixtures = fixtures;
    this.baseline = baseline;
  }

  /**
   * Run every test concurrently; fail listing each test that failed. Never cached: a run must run
   * them (the Shipshape functions they call keep their own cache policies).
   */
  @func({ cache: "never" })
  async all(): Promise<string> {
    const tests: [string, () => Promise<void>][] = [
      ["ciPassesOnService", () => this.ciPassesOnService()],
      ["lintFailsOnLintError", () => this.lintFailsOnLintError()],
      ["lintFailsOnFormatError", () => this.lintFailsOnFormatError()],
      ["typecheckFailsOnTypeError", () => this.typecheckFailsOnTypeError()],
      ["testFailsOnFailingTest", () => this.testFailsOnFailingTest()],
      ["testFailsOnLowCoverage", () => this.testFailsOnLowCoverage()],
      ["testErrorsWithoutTestScript", () => this.testErrorsWithoutTestScript()],
      ["ciFailsWithTable", () => this.ciFailsWithTable()],
      ["gatesPassOnService", () => this.gatesPassOnService()],
      ["migrationsPassOnService", () => this.migrationsPassOnService()],
      ["migrationsBlockDropTable", () => this.migrationsBlockDropTable()],
      ["commitsJudgeTheRange", () => this.commitsJudgeTheRange()],
      ["versionFollowsTheCommits", () => this.versionFollowsTheCommits()],
      ["dockerfileIsHardened", () => this.dockerfileIsHardened()],
      ["dockerfileIsTheProjects", () => this.dockerfileIsTheProjects()],
      ["buildRunsAsNonRoot", () => this.buildRunsAsNonRoot()],
      ["buildTargetsArm64", () => this.buildTargetsArm64()],
      ["scanImageWritesSarif", () => this.scanImageWritesSarif()],
      ["dependencyAndLicenseGatesJudge", () => this.dependencyAndLicenseGatesJudge()],
      ["sbomIsCycloneDx", () => this.sbomIsCycloneDx()],
      ["secretScanFindsRedacted", () => this.secretScanFindsRedacted()],
      ["secretScanPassesOnThisRepository", () => this.secretScanPassesOnThisRepository()],
      ["sastFailsOnARuleMatch", () => this.sastFailsOnARuleMatch()],
      ["lighthouseRefusesAnUnreachablePage", () => this.lighthouseRefusesAnUnreachablePage()],
      ["releaseSignsAndVerifies", () => this.releaseSignsAndVerifies()],
      ["publishThenSignVerifies", () => this.publishThenSignVerifies()],
      ["publishToEcrChecksTheAwsKeys", () => this.publishToEcrChecksTheAwsKeys()],
      ["ciRunIsRecordedAndMeasured", () => this.ciRunIsRecordedAndMeasured()],
      ["environmentRefusesUnknownName", () => this.environmentRefusesUnknownName()],
      ["deployRefusesTagOnlyImage", () => this.deployRefusesTagOnlyImage()],
      ["deployVerifiesTheSignatureFirst", () => this.deployVerifiesTheSignatureFirst()],
      ["deployRefusalIsAudited", () => this.deployRefusalIsAudited()],
      ["deployRefusalIsAnnounced", () => this.deployRefusalIsAnnounced()],
      ["rollbackNeedsAwsCredentials", () => this.rollbackNeedsAwsCredentials()],
      ["promoteAndAbortCheckAwsCredentials", () => this.promoteAndAbortCheckAwsCredentials()],
      ["metricsReadTheTrail", () => this.metricsReadTheTrail()],
      ["configFillsDefaults", () => this.configFillsDefaults()],
      ["adoptionFilesForANewService", () => this.adoptionFilesForANewService()],
      ["prCommentNeverFails", () => this.prCommentNeverFails()],
      ["monitorAndRescanRefuseBadRepository", () => this.monitorAndRescanRefuseBadRepository()],
    ];
    const results = await Promise.allSettled(tests.map(([, t]) => t()));
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${tests[i]![0]}: ${String(r.reason).split("\n")[0]}`] : []));
    if (failed.length) throw new Error(`${failed.length} of ${tests.length} tests failed:\n${failed.join("\n")}`);
    return `${tests.length} tests passed`;
  }

  /** ci passes on the clean fixture service (Postgres, coverage and audit included), and its sync returns the report. */
  @func()
  @check()
  async ciPassesOnService(): Promise<void> {
    const report = dag.shipshape({ source: this.service() }).ci();
    if (!(await report.passed())) throw new Error(`ci did not pass on the clean service:\n${await report.table()}`);
    await report.sync().table();
  }

  /** lint fails on an ESLint error: FAILED, passed() false, and lint().sync() fails the call. */
  @func()
  @check()
  async lintFailsOnLintError(): Promise<void> {
    await expectFailed("lint", "lint", dag.shipshape({ source: this.variant("lint-error") }).lint(), /1 error/);
  }

  /** lint fails on an unformatted file. */
  @func()
  @check()
  async lintFailsOnFormatError(): Promise<void> {
    await expectFailed("lint", "lint", dag.shipshape({ source: this.variant("format-error") }).lint(), /not formatted/);
  }

  /** typecheck fails on a type error. */
  @func()
  @check()
  async typecheckFailsOnTypeError(): Promise<void> {
    await expectFailed("typecheck", "typecheck", dag.shipshape({ source: this.variant("type-error") }).typecheck(), /1 type error/);
  }

  /** test fails on a failing test. */
  @func()
  @check()
  async testFailsOnFailingTest(): Promise<void> {
    await expectFailed("test", "test", dag.shipshape({ source: this.variant("failing-test") }).test(), /1 test failed/);
  }

  /** test fails when coverage is below 75%. */
  @func()
  @check()
  async testFailsOnLowCoverage(): Promise<void> {
    await expectFailed("test", "test", dag.shipshape({ source: this.variant("low-coverage") }).test(), /coverage below policy/);
  }

  /** Without a test script the gate cannot judge: an ERROR fails the call itself (never a cached report). */
  @func()
  @check()
  async testErrorsWithoutTestScript(): Promise<void> {
    const error = await rejection(
      "test",
      dag
        .shipshape({ source: this.variant("no-test-script") })
        .test()
        .status(),
    );
    if (!/test\s+ERROR/.test(error)) throw new Error(`test should fail the call as ERROR, got: ${error.slice(0, 300)}`);
  }

  /** ci fails, with the summary table, when a gate fails; its table and passed() still read the report. */
  @func()
  @check()
  async ciFailsWithTable(): Promise<void> {
    const report = dag.shipshape({ source: this.variant("type-error") }).ci();
    const outcome = await rejection("ci", report.sync().table());
    if (!/typecheck\s+FAILED/.test(outcome)) throw new Error(`ci should fail with the table, got: ${outcome.slice(0, 500)}`);
    if (await report.passed()) throw new Error("ci passed() is true with a type error");
    if (!/typecheck\s+FAILED/.test(await report.table())) throw new Error("ci's table does not show the failed typecheck");
  }

  /** Each quality gate, called on its own, passes on the clean service. */
  @func()
  @check()
  async gatesPassOnService(): Promise<void> {
    const ship = dag.shipshape({ source: this.service() });
    await expectPassed("lint", ship.lint());
    await expectPassed("typecheck", ship.typecheck());
    await expectPassed("test", ship.test());
    await expectPassed("audit", ship.audit());
  }

  /** migrations pass on the service's safe migrations. */
  @func()
  @check()
  async migrationsPassOnService(): Promise<void> {
    await expectPassed("migrations", dag.shipshape({ source: this.service() }).migrations());
  }

  /** migrations block a DROP TABLE unless approved. */
  @func()
  @check()
  async migrationsBlockDropTable(): Promise<void> {
    const source = this.service().withFile("migrations/003_drop.sql", this.fixtures.file("migrations/unsafe/01_drop_table.sql"));
    await expectFailed("migrations", "migrations", dag.shipshape({ source }).migrations(), /ban-drop-table|destructive/i);
    await expectPassed("migrations approved", dag.shipshape({ source }).migrations({ approveDestructive: true }));
  }

  /** commits fails on a range with a non-conventional commit, naming it, and passes on a conventional one. */
  @func()
  @check()
  async commitsJudgeTheRange(): Promise<void> {
    const ship = dag.shipshape({ source: this.service() });
    const gitDir = this.history();
    const bad = ship.commits("v1.0.0", { gitDir });
    await expectFailed("commits", "commits", bad);
    const findings = await bad.findings();
    if (!findings.some((f) => f.includes("updated some things")))
      throw new Error(`commits did not name the offender: ${findings.join(", ")}`);
    await expectPassed("commits", ship.commits("v1.0.0", { gitDir, head: "conventional" }));
  }

  /** version reads the last release tag and the commits since: a feat after v1.0.0 is 1.1.0. */
  @func()
  @check()
  async versionFollowsTheCommits(): Promise<void> {
    const version = dag
      .shipshape({ source: this.service() })
      .withRun({ repoUrl: "https://github.com/acme/api" })
      .version({ gitDir: this.history() });
    const [current, next] = await Promise.all([version.current(), version.next()]);
    if (!/1\.0\.0$/.test(current) || !/1\.1\.0$/.test(next)) throw new Error(`version: ${current} -> ${next}, expected 1.0.0 -> 1.1.0`);
    if (!/add health endpoint/.test(await version.changelog())) throw new Error("the changelog lacks the feat commit");
  }

  /**
   * Without a Dockerfile, the generated one is multi-stage, non-root, with a HEALTHCHECK and a
   * digest-pinned base. (The fixture service has its own Dockerfile, which build would use.)
   */
  @func()
  @check()
  async dockerfileIsHardened(): Promise<void> {
    const text = await dag.shipshape({ source: this.serviceWithoutDockerfile() }).dockerfile().contents();
    for (const want of [
      /^# Generated by Shipshape/m,
      /^FROM node:[^\s]+@sha256:[0-9a-f]{64} AS /m,
      /^USER (?!root|0\b)/m,
      /^HEALTHCHECK /m,
      /--omit=dev|--prod/,
    ]) {
      if (!want.test(text)) throw new Error(`generated Dockerfile lacks ${want}:\n${text}`);
    }
  }

  /** With a Dockerfile, build uses the project's own, unchanged. */
  @func()
  @check()
  async dockerfileIsTheProjects(): Promise<void> {
    const [used, own] = await Promise.all([
      dag.shipshape({ source: this.service() }).dockerfile().contents(),
      this.service().file("Dockerfile").contents(),
    ]);
    if (used !== own) throw new Error(`dockerfile is not the project's own Dockerfile:\n${used}`);
  }

  /** The built image runs as a non-root user, from the generated Dockerfile and from the project's. */
  @func()
  @check()
  async buildRunsAsNonRoot(): Promise<void> {
    for (const [which, source] of [
      ["generated Dockerfile", this.serviceWithoutDockerfile()],
      ["project Dockerfile", this.service()],
    ] as const) {
      const uid = (await dag.shipshape({ source }).build().withExec(["id", "-u"]).stdout()).trim();
      if (uid === "0" || uid === "") throw new Error(`the image from the ${which} runs as uid ${uid || "?"}`);
    }
  }

  /** build honours the platform argument (multi-arch through emulation where needed). */
  @func()
  @check()
  async buildTargetsArm64(): Promise<void> {
    const platform = String(await dag.shipshape({ source: this.service() }).build({ platform: "linux/arm64" }).platform());
    if (platform !== "linux/arm64") throw new Error(`expected linux/arm64, got ${platform}`);
  }

  /** scanImage returns Trivy's JSON and a SARIF 2.1.0 file whatever the verdict (an ERROR fails the call). */
  @func()
  @check()
  async scanImageWritesSarif(): Promise<void> {
    const report = dag.shipshape({ source: this.service() }).scanImage();
    await report.status();
    const names = await report.files().glob("**/*.sarif");
    if (names.length === 0) throw new Error("no SARIF file in the scan report");
    const sarif = JSON.parse(await report.files().file(names[0]!).contents()) as { version?: string };
    if (sarif.version !== "2.1.0") throw new Error(`SARIF version ${String(sarif.version)}`);
  }

  /**
   * scanDependencies and licenseCheck judge the service (a verdict, not an ERROR, which would fail
   * the call): the advisory database changes, so either verdict is accepted, with its files.
   */
  @func()
  @check()
  async dependencyAndLicenseGatesJudge(): Promise<void> {
    const ship = dag.shipshape({ source: this.service() });
    for (const [name, report] of [
      ["scanDependencies", ship.scanDependencies()],
      ["licenseCheck", ship.licenseCheck()],
    ] as const) {
      const status = String(await report.status()).toUpperCase();
      if (status !== "PASSED" && status !== "FAILED") throw new Error(`${name}: ${status}: ${await report.summary()}`);
      if ((await report.files().entries()).length === 0) throw new Error(`${name} returned no files`);
    }
  }

  /** sbom is CycloneDX JSON listing the service's packages. */
  @func()
  @check()
  async sbomIsCycloneDx(): Promise<void> {
    const bom = JSON.parse(await dag.shipshape({ source: this.service() }).sbom().contents()) as {
      bomFormat?: string;
      components?: unknown[];
    };
    if (bom.bomFormat !== "CycloneDX" || (bom.components ?? []).length === 0)
      throw new Error(`not a CycloneDX SBOM with components: ${bom.bomFormat ?? "?"}, ${(bom.components ?? []).length} components`);
  }

  /**
   * sast runs the pinned Semgrep with a rule kept in the repository (no semgrep.dev needed) and fails
   * on its ERROR (HIGH) match, with semgrep.json and Semgrep's SARIF in its files.
   */
  @func()
  @check()
  async sastFailsOnARuleMatch(): Promise<void> {
    const rule =
      "rules:\n  - id: no-eval\n    pattern: eval(...)\n    message: eval of a string\n    languages: [typescript]\n    severity: ERROR\n";
    const source = this.service()
      .withNewFile("shipshape.yaml", "sast:\n  enabled: true\n  rules: [.semgrep/rules.yaml]\n")
      .withNewFile(".semgrep/rules.yaml", rule)
      .withNewFile("src/run.ts", "export const run = (code: string): unknown => eval(code);\n");
    const report = dag.shipshape({ source }).sast();
    await expectFailed("sast", "sast", report);
    const findings = await report.findings();
    if (!findings.some((f) => /^src\/run\.ts:1 HIGH \S*no-eval: eval of a string$/.test(f)))
      throw new Error(`expected the eval in src/run.ts: ${findings.join(", ")}`);
    const files = await report.files().entries();
    if (!files.includes("sast.sarif") || !files.includes("semgrep.json"))
      throw new Error(`expected sast.sarif and semgrep.json: ${files.join(", ")}`);
  }

  /**
   * lighthouse runs the pinned image's real Chromium and Lighthouse against a port nothing listens on: an
   * ERROR that fails the call with Lighthouse's own load error, never a pass. (A page that passes needs a
   * URL the engine reaches; the gate takes a URL, not a service, so the passing case is tested on the host.)
   */
  @func()
  @check()
  async lighthouseRefusesAnUnreachablePage(): Promise<void> {
    const error = await rejection(
      "lighthouse of a closed port",
      dag.shipshape({ source: this.service() }).lighthouse({ url: "http://127.0.0.1:9/" }).passed(),
    );
    if (!/lighthouse could not load http:\/\/127\.0\.0\.1:9\//.test(error))
      throw new Error(`lighthouse should name the page it could not load, got: ${error.slice(0, 300)}`);
  }

  /** secretScan fails on a (fake) key in the files, names where it is, and never prints its value. */
  @func()
  @check()
  async secretScanFindsRedacted(): Promise<void> {
    // Made at run time (a fresh one each run), so no file of this repository holds a findable key.
    const key = `AKIA${this.randomKeyPart()}`;
    // With the repository's baseline, history (this repository's) is clean: the file above is the only finding.
    const source = this.withRepositoryBaseline(this.service()).withNewFile("src/leak.ts", `export const accessKeyId = "${key}";\n`);
    const report = dag.shipshape({ source }).secretScan();
    await expectFailed("secretScan", "secrets", report);
    const findings = await report.findings();
    const leak = /(^|\/)src\/leak\.ts:1 aws-access-token/;
    if (findings.length === 0 || !findings.every((f) => leak.test(f)))
      throw new Error(`expected the key in src/leak.ts alone: ${findings.join(", ")}`);
    const text = [await report.summary(), await report.cause(), await report.log(), ...findings].join("\n");
    if (text.includes(key)) throw new Error("the secret scan printed the secret");
    if ((await rejection("secretScan sync", report.sync().gate())).includes(key)) throw new Error("the failed call printed the secret");
  }

  /**
   * Shipshape's own secret scan of this repository, files and history, as `dagger call secret-scan`
   * runs it here: only the baselined fake test keys are in history, so it passes.
   */
  @func()
  @check()
  async secretScanPassesOnThisRepository(): Promise<void> {
    const report = dag.shipshape().secretScan();
    await expectPassed("secretScan", report);
    const summary = await report.summary();
    if (summary !== "no secrets in files and history") throw new Error(`history was not scanned: ${summary}`);
  }

  /**
   * release publishes to ttl.sh (an anonymous registry whose images expire), signs by digest with a
   * generated key (withSigner), and verify accepts that key and refuses another (withVerifier). Never cached: it pushes.
   */
  @func({ cache: "never" })
  @check()
  async releaseSignsAndVerifies(): Promise<void> {
    const [signer, other] = await Promise.all([this.keyPair("signer"), this.keyPair("other")]);
    const ship = this.runOnMain(dag.shipshape({ source: this.withRepositoryBaseline(this.service()) }));
    const repository = `shipshape-tests-${Date.now().toString(36)}`;
    const release = ship.withSigner({ key: signer.key, password: signer.password }).release({ registry: "ttl.sh", repository });
    const ref = await release.ref();
    if (!/^ttl\.sh\/.+@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`release returned ${ref}, not a digest reference`);
    if ((await release.gates()).length === 0) throw new Error("release returned no gate reports");
    await ship.withVerifier({ publicKey: signer.pub, insecureIgnoreTlog: true }).verify(ref);
    await rejection("verify with another key", ship.withVerifier({ publicKey: other.pub, insecureIgnoreTlog: true }).verify(ref));
  }

  /**
   * publish pushes without signing; sign then signs that digest, and verify accepts it. The
   * withRegistry login is for another registry, so it is never sent to ttl.sh. Never cached: it pushes.
   */
  @func({ cache: "never" })
  @check()
  async publishThenSignVerifies(): Promise<void> {
    const signer = await this.keyPair("publisher");
    const ship = this.runOnMain(dag.shipshape({ source: this.service() })).withRegistry("ghcr.io/acme", {
      username: "shipshape-tests",
      password: dag.setSecret("shipshape-tests-ghcr-password", `p-${Date.now()}`),
    });
    const repository = `shipshape-tests-publish-${Date.now().toString(36)}`;
    const ref = await ship.publish({ registry: "ttl.sh", repository });
    if (!/^ttl\.sh\/.+@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`publish returned ${ref}, not a digest reference`);
    const verifier = ship.withVerifier({ publicKey: signer.pub, insecureIgnoreTlog: true });
    await rejection("verify before signing", verifier.verify(ref));
    const signed = await ship.withSigner({ key: signer.key, password: signer.password }).sign(ref);
    if (!signed.includes("@sha256:")) throw new Error(`sign returned ${signed}`);
    await verifier.verify(ref);
  }

  /**
   * The CI module's withAws is for publishing to ECR: temporary keys without their session token
   * are refused naming it, before any AWS call. Never cached: it pushes when it gets that far.
   */
  @func({ cache: "never" })
  @check()
  async publishToEcrChecksTheAwsKeys(): Promise<void> {
    const error = await rejection(
      "publish to ECR with temporary keys alone",
      this.runOnMain(dag.shipshape({ source: this.service() }))
        .withAws({
          // Made at run time, so no file of this repository holds something a secret scan would report.
          accessKeyId: dag.setSecret("shipshape-tests-aws-publish-key", `ASIA${this.randomKeyPart()}`),
          secretAccessKey: dag.setSecret("shipshape-tests-aws-publish-secret", this.randomKeyPart().repeat(2)),
        })
        .publish({ registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com", repository: "shipshape-tests" }),
    );
    if (!/temporary but no session token/.test(error)) throw new Error(`publish should ask for the session token: ${error.slice(0, 300)}`);
  }

  /**
   * A ci run recorded by the CI module (withAuditTrail, a JSON Lines trail: gates off, so none runs)
   * is read by the deploy module's metrics: the two modules share the trail's format.
   */
  @func()
  @check()
  async ciRunIsRecordedAndMeasured(): Promise<void> {
    const gatesOff = ["lint", "typecheck", "test", "audit"].map((g) => `  ${g}: { enabled: false }`).join("\n");
    const source = this.service().withNewFile("shipshape.yaml", `gates:\n${gatesOff}\n`);
    const report = dag
      .shipshape({ source })
      .withAuditTrail({ trail: dag.directory().withNewFile("audit.jsonl", "").file("audit.jsonl") })
      .withRun({ actor: "dagger-tests" })
      .ci();
    if ((await report.auditStorage()) !== "jsonl") throw new Error(`ci run not recorded as JSON Lines: ${await report.audit()}`);
    const records = (await report.auditTrail().contents()).trim().split("\n");
    if (records.length !== 1) throw new Error(`expected one ci record, got ${records.length}`);
    const markdown = await dag.shipshapeDeploy({ source }).withAuditTrail({ trail: report.auditTrail() }).metrics().markdown();
    if (!/Pipeline: ci runs/.test(markdown))
      throw new Error(`the deploy module's metrics do not show the ci run:\n${markdown.slice(0, 500)}`);
  }

  /** An environment shipshape.yaml does not define is refused by its verbs, with the known names (the deploy module). */
  @func()
  @check()
  async environmentRefusesUnknownName(): Promise<void> {
    const ship = dag.shipshapeDeploy({ source: this.staged() });
    if ((await ship.environment("staging").name()) !== "staging") throw new Error("environment(staging) is not named staging");
    // The verb judges the name (so a mistyped deploy is still recorded and announced), naming the known ones.
    const error = await rejection("environment(nowhere).status", ship.environment("nowhere").status());
    if (!/nowhere[\s\S]*known: staging/.test(error)) throw new Error(`status should refuse the unknown name, got: ${error.slice(0, 300)}`);
  }

  /** monitor and rescan refuse a repository that is not owner/name before any check or AWS call: an ERROR report, one line. */
  @func()
  @check()
  async monitorAndRescanRefuseBadRepository(): Promise<void> {
    const env = dag.shipshapeDeploy({ source: this.staged() }).environment("staging");
    const token = dag.setSecret("shipshape-tests-github-token", `ghs_${Date.now()}`);
    await expectStatus("monitor", env.monitor(token, "not-a-repository"), "ERROR", /is not a repository name/);
    await expectStatus("rescan", env.rescan(token, "not-a-repository"), "ERROR", /is not a repository name/);
  }

  /** deploy refuses an image referenced by tag alone, before any AWS call, failing the call. */
  @func()
  @check()
  async deployRefusesTagOnlyImage(): Promise<void> {
    const error = await rejection(
      "deploy of a tag",
      dag.shipshapeDeploy({ source: this.staged() }).environment("staging").deploy(TAG_ONLY).result(),
    );
    if (!/digest/i.test(error)) throw new Error(`deploy should refuse a tag-only image, got: ${error.slice(0, 300)}`);
  }

  /**
   * deploy verifies the digest's signature before its first ECS call (withVerifier): a public image no
   * key of ours signed is refused naming it, with the AWS keys given (long-term ones: no AWS call is
   * needed to use them) and a withRegistry login for another registry, which docker.io never gets.
   */
  @func()
  @check()
  async deployVerifiesTheSignatureFirst(): Promise<void> {
    const verifier = await this.keyPair("deploy-verifier");
    const deployment = dag
      .shipshapeDeploy({ source: this.staged() })
      .withAws({
        // Made at run time, so no file of this repository holds something a secret scan would report.
        accessKeyId: dag.setSecret("shipshape-tests-aws-static-key", `AKIA${this.randomKeyPart()}`),
        secretAccessKey: dag.setSecret("shipshape-tests-aws-static-secret", this.randomKeyPart().repeat(2)),
      })
      .withRegistry("ghcr.io/acme", {
        username: "shipshape-tests",
        password: dag.setSecret("shipshape-tests-deploy-ghcr-password", `p-${Date.now()}`),
      })
      .withVerifier({ publicKey: verifier.pub, insecureIgnoreTlog: true })
      .environment("staging")
      .deploy(UNSIGNED, { failOnError: false });
    const [result, reason] = await Promise.all([deployment.result(), deployment.reason()]);
    if (result !== "failed" || !reason.includes(`refusing to deploy ${UNSIGNED}`))
      throw new Error(`an image we never signed should be refused by the signature check, got ${result}: ${reason}`);
  }

  /** A deploy refused before any change still leaves its started and completed audit records. */
  @func()
  @check()
  async deployRefusalIsAudited(): Promise<void> {
    const deployment = this.refusedDeploy();
    const result = await deployment.result();
    if (result !== "failed" || !/digest/i.test(await deployment.reason()))
      throw new Error(`expected a failed deploy refusing the tag, got ${result}: ${await deployment.reason()}`);
    const records = (await deployment.auditTrail().contents())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { phase: string; actor?: string });
    if (records.map((r) => r.phase).join(",") !== "started,completed")
      throw new Error(`audit trail phases: ${records.map((r) => r.phase).join(",")}`);
    if (records[0]!.actor !== "dagger-tests") throw new Error(`withRun's actor is not recorded: ${records[0]!.actor ?? "none"}`);
  }

  /** withNotifications: the refused deploy is announced to the webhook, and the outcome is in notifications. */
  @func()
  @check()
  async deployRefusalIsAnnounced(): Promise<void> {
    const source = this.staged().withNewFile(
      "shipshape.yaml",
      `${STAGING}notifications:\n  attempts: 1\n  timeoutSeconds: 2\n  deadlineSeconds: 5\n`,
    );
    const ship = dag.shipshapeDeploy({ source }).withNotifications({
      // Nothing listens there: the delivery fails, and the deploy's outcome does not change.
      webhookUrl: dag.setSecret("shipshape-tests-webhook-url", "http://127.0.0.1:9/shipshape"),
      webhookSecret: dag.setSecret("shipshape-tests-webhook-secret", `s-${Date.now()}`),
    });
    const deployment = ship.environment("staging").deploy(TAG_ONLY, { failOnError: false });
    const notifications = await deployment.notifications();
    if (!notifications.some((n) => /webhook/.test(n))) throw new Error(`no webhook outcome: ${notifications.join(", ")}`);
    if ((await deployment.result()) !== "failed") throw new Error("a failed notification changed the deploy's outcome");
  }

  /** rollback and status without withAws name the missing credentials; failOnError=false returns the audited Deployment. */
  @func()
  @check()
  async rollbackNeedsAwsCredentials(): Promise<void> {
    const env = this.runOnMain(dag.shipshapeDeploy({ source: this.staged() })).environment("staging");
    const deployment = env.rollback({ failOnError: false });
    if ((await deployment.result()) !== "failed" || !/no AWS credentials/.test(await deployment.reason()))
      throw new Error(`rollback without AWS: ${await deployment.result()}: ${await deployment.reason()}`);
    if ((await deployment.kind()) !== "rollback") throw new Error(`rollback's Deployment is a ${await deployment.kind()}`);
    const error = await rejection("rollback", env.rollback({ to: "3" }).result());
    if (!/no AWS credentials/.test(error)) throw new Error(`rollback should fail naming the credentials: ${error.slice(0, 300)}`);
    const status = await rejection("status", env.status());
    if (!/no AWS credentials/.test(status)) throw new Error(`status should fail naming the credentials: ${status.slice(0, 300)}`);
  }

  /** withAws credentials are checked before AWS is asked: a role without its token, temporary keys without their session token. */
  @func()
  @check()
  async promoteAndAbortCheckAwsCredentials(): Promise<void> {
    const ship = dag.shipshapeDeploy({ source: this.staged() });
    const promote = await rejection(
      "promote",
      ship.withAws({ roleArn: "arn:aws:iam::123456789012:role/deployer" }).environment("staging").promote().result(),
    );
    if (!/no web identity token/.test(promote)) throw new Error(`promote should ask for the web identity token: ${promote.slice(0, 300)}`);
    // Made at run time, so no file of this repository holds something a secret scan would report.
    const temporary = ship.withAws({
      accessKeyId: dag.setSecret("shipshape-tests-aws-key", `ASIA${this.randomKeyPart()}`),
      secretAccessKey: dag.setSecret("shipshape-tests-aws-secret", this.randomKeyPart().repeat(2)),
    });
    const aborted = temporary.environment("staging").abort({ failOnError: false });
    if (!/session token/.test(await aborted.reason())) throw new Error(`abort should ask for the session token: ${await aborted.reason()}`);
  }

  /** The deploy module's metrics (its root's, and one environment's) read the JSON Lines trail a deploy returned (withAuditTrail) and chart it. */
  @func()
  @check()
  async metricsReadTheTrail(): Promise<void> {
    const ship = dag.shipshapeDeploy({ source: this.staged() }).withAuditTrail({ trail: this.refusedDeploy().auditTrail() });
    const report = ship.metrics();
    const names = await report.files().entries();
    if (!names.includes("staging.svg") || !names.includes("metrics.json")) throw new Error(`metrics files: ${names.join(", ")}`);
    if (!/staging/.test(await report.markdown())) throw new Error("the metrics table does not name the environment");
    const one = ship.environment("staging").metrics({ period: "day" });
    if (!/staging/.test(await one.markdown())) throw new Error("environment(staging).metrics does not name the environment");
  }

  /** config is the effective configuration: shipshape.yaml with every default filled in. */
  @func()
  @check()
  async configFillsDefaults(): Promise<void> {
    const yaml = await dag.shipshape({ source: this.staged() }).config();
    for (const want of [/^gates:/m, /^environments:/m, /^ {2}staging:/m])
      if (!want.test(yaml)) throw new Error(`config lacks ${want}:\n${yaml.slice(0, 500)}`);
  }

  /** A service without shipshape.yaml: init, scaffold and initDiff all offer it, pinned to the given Shipshape. */
  @func()
  @check()
  async adoptionFilesForANewService(): Promise<void> {
    const ship = dag.shipshape({ source: this.service() });
    const pin = { repo: "acme/shipshape", ref: "0123456789abcdef0123456789abcdef01234567" };
    const written = await ship.init(pin).entries();
    if (!written.includes("shipshape.yaml")) throw new Error(`init does not write shipshape.yaml: ${written.join(", ")}`);
    const added = await ship.scaffold(pin).addedPaths();
    if (!added.includes("shipshape.yaml")) throw new Error(`scaffold does not add shipshape.yaml: ${added.join(", ")}`);
    if (!/shipshape\.yaml/.test(await ship.initDiff(pin))) throw new Error("initDiff does not mention shipshape.yaml");
  }

  /** prComment never fails the job: an unreachable GitHub API is reported in its result (gates off, so none runs). */
  @func()
  @check()
  async prCommentNeverFails(): Promise<void> {
    const gatesOff = ["lint", "typecheck", "test", "audit"].map((g) => `  ${g}: { enabled: false }`).join("\n");
    const source = this.service().withNewFile(
      "shipshape.yaml",
      `gates:\n${gatesOff}\nnotifications:\n  github: { apiUrl: "http://127.0.0.1:9" }\n`,
    );
    const result = await dag
      .shipshape({ source })
      .withRun({ runUrl: "https://github.com/acme/api/actions/runs/1", commitSha: "0123456789abcdef0123456789abcdef01234567" })
      .prComment("acme/api", 1, dag.setSecret("shipshape-tests-github-token", `t-${Date.now()}`));
    if (!/^comment not posted/.test(result)) throw new Error(`prComment against nowhere: ${result}`);
  }

  /** A deploy of staging refused before any change (a tag, not a digest), with withRun's actor. */
  private refusedDeploy() {
    return dag
      .shipshapeDeploy({ source: this.staged() })
      .withRun({ actor: "dagger-tests" })
      .environment("staging")
      .deploy(TAG_ONLY, { failOnError: false });
  }

  /**
   * The run context of a build of main (publish tags from it; the fixture's own commit is whatever
   * this repository's is), on either module's root.
   */
  private runOnMain<T extends { withRun(opts?: { commitSha?: string; branch?: string; defaultBranch?: string }): T }>(ship: T): T {
    return ship.withRun({ commitSha: "0123456789abcdef0123456789abcdef01234567", branch: "main", defaultBranch: "main" });
  }

  /**
   * A small repository's history alone (the .git directory, as the gitDir arguments take it): v1.0.0,
   * then a conventional feat (tagged "conventional") and a commit that is not conventional.
   */
  private history(): Directory {
    const git = "git -c user.name=tests -c user.email=tests@example.com";
    const script = [
      "set -e",
      "git init -q -b main /repo && cd /repo",
      `${git} commit -q --allow-empty -m "chore: start"`,
      "git tag v1.0.0",
      `${git} commit -q --allow-empty -m "feat: add health endpoint"`,
      "git tag conventional",
      `${git} commit -q --allow-empty -m "updated some things"`,
    ].join("\n");
    const repo = dag
      .container()
      .from("alpine:3.21")
      .withExec(["apk", "add", "--no-cache", "git"])
      .withExec(["sh", "-c", script])
      .directory("/repo/.git");
    return dag.directory().withDirectory(".git", repo);
  }

  private randomKeyPart(): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    return Array.from({ length: 16 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("");
  }

  private async keyPair(name: string): Promise<{ key: Secret; password: Secret; pub: Secret }> {
    const password = `pw-${name}-${Date.now()}`;
    const out = dag
      .container()
      .from("ghcr.io/sigstore/cosign/cosign:v3.1.2")
      .withEnvVariable("COSIGN_PASSWORD", password)
      .withDirectory("/keys", dag.directory(), { owner: "65532" })
      .withWorkdir("/keys")
      .withExec(["generate-key-pair"], { useEntrypoint: true })
      .directory("/keys");
    return {
      key: dag.setSecret(`cosign-key-${name}`, await out.file("cosign.key").contents()),
      password: dag.setSecret(`cosign-password-${name}`, password),
      pub: dag.setSecret(`cosign-pub-${name}`, await out.file("cosign.pub").contents()),
    };
  }

  private service(): Directory {
    return this.fixtures.directory("service");
  }

  /** The service with a staging environment in its shipshape.yaml. */
  private staged(): Directory {
    return this.service().withNewFile("shipshape.yaml", STAGING);
  }

  /** The service with no Dockerfile, so build and dockerfile use the generated hardened one. */
  private serviceWithoutDockerfile(): Directory {
    return this.service().withoutFile("Dockerfile");
  }

  /**
   * A Shipshape call on the fixture scans this repository's history (the fixture lives in it, and
   * history defaults to the context's .git): it needs the repository's baseline for the fake test
   * keys committed there. The service has no shipshape.yaml of its own.
   */
  private withRepositoryBaseline(source: Directory): Directory {
    return source
      .withFile(SECRETS_BASELINE, this.baseline.file(SECRETS_BASELINE))
      .withNewFile("shipshape.yaml", `secrets:\n  baseline: ${SECRETS_BASELINE}\n`);
  }

  private variant(name: string): Directory {
    return this.service().withDirectory(".", this.fixtures.directory(`variants/${name}`));
  }
}
