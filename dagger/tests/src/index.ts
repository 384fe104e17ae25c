/**
 * Shipshape's tests in a real engine: every function run on the fixture service and on its
 * broken variants. `dagger call -m dagger/tests all` runs them all; each is also a check.
 */
import { argument, check, dag, Directory, func, object, Secret } from "@dagger.io/dagger";

/**
 * The repository's accepted secret-scan findings (shipshape.yaml secrets.baseline): fake test
 * credentials that stay in git history. A secret scan or release of the fixture service reads this
 * repository's history (the service lives in it), so it needs the same baseline.
 */
const SECRETS_BASELINE = ".gitleaks-baseline.json";

type Report = { status(): Promise<unknown>; cause(): Promise<string>; summary(): Promise<string> };

async function expectStatus(name: string, report: Report, want: string, causeLike?: RegExp): Promise<void> {
  const status = String(await report.status()).toUpperCase();
  if (status !== want) throw new Error(`${name}: expected ${want}, got ${status}: ${await report.summary()}`);
  if (causeLike && !causeLike.test(await report.cause()))
    throw new Error(`${name}: cause "${await report.cause()}" does not match ${causeLike}`);
}

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
      ["migrationsPassOnService", () => this.migrationsPassOnService()],
      ["migrationsBlockDropTable", () => this.migrationsBlockDropTable()],
      ["dockerfileIsHardened", () => this.dockerfileIsHardened()],
      ["dockerfileIsTheProjects", () => this.dockerfileIsTheProjects()],
      ["buildRunsAsNonRoot", () => this.buildRunsAsNonRoot()],
      ["buildTargetsArm64", () => this.buildTargetsArm64()],
      ["scanImageWritesSarif", () => this.scanImageWritesSarif()],
      ["sbomIsCycloneDx", () => this.sbomIsCycloneDx()],
      ["secretScanFindsRedacted", () => this.secretScanFindsRedacted()],
      ["secretScanPassesOnThisRepository", () => this.secretScanPassesOnThisRepository()],
      ["releaseSignsAndVerifies", () => this.releaseSignsAndVerifies()],
      ["deployRefusesTagOnlyImage", () => this.deployRefusesTagOnlyImage()],
      ["deployRefusalIsAudited", () => this.deployRefusalIsAudited()],
      ["metricsReadTheTrail", () => this.metricsReadTheTrail()],
    ];
    const results = await Promise.allSettled(tests.map(([, t]) => t()));
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`${tests[i]![0]}: ${String(r.reason).split("\n")[0]}`] : []));
    if (failed.length) throw new Error(`${failed.length} of ${tests.length} tests failed:\n${failed.join("\n")}`);
    return `${tests.length} tests passed`;
  }

  /** ci passes on the clean fixture service (Postgres, coverage and audit included). */
  @func()
  @check()
  async ciPassesOnService(): Promise<void> {
    const report = dag.shipshape({ source: this.service() }).ciReport();
    if (!(await report.passed())) throw new Error(`ci did not pass on the clean service:\n${await report.table()}`);
  }

  /** lint fails on an ESLint error. */
  @func()
  @check()
  async lintFailsOnLintError(): Promise<void> {
    await expectStatus("lint", dag.shipshape({ source: this.variant("lint-error") }).lintReport(), "FAILED", /1 error/);
  }

  /** lint fails on an unformatted file. */
  @func()
  @check()
  async lintFailsOnFormatError(): Promise<void> {
    await expectStatus("lint", dag.shipshape({ source: this.variant("format-error") }).lintReport(), "FAILED", /not formatted/);
  }

  /** typecheck fails on a type error. */
  @func()
  @check()
  async typecheckFailsOnTypeError(): Promise<void> {
    await expectStatus("typecheck", dag.shipshape({ source: this.variant("type-error") }).typecheckReport(), "FAILED", /1 type error/);
  }

  /** test fails on a failing test. */
  @func()
  @check()
  async testFailsOnFailingTest(): Promise<void> {
    await expectStatus("test", dag.shipshape({ source: this.variant("failing-test") }).testReport(), "FAILED", /1 test failed/);
  }

  /** test fails when coverage is below 75%. */
  @func()
  @check()
  async testFailsOnLowCoverage(): Promise<void> {
    await expectStatus("test", dag.shipshape({ source: this.variant("low-coverage") }).testReport(), "FAILED", /coverage below policy/);
  }

  /** test reports an error when there is no test script. */
  @func()
  @check()
  async testErrorsWithoutTestScript(): Promise<void> {
    await expectStatus("test", dag.shipshape({ source: this.variant("no-test-script") }).testReport(), "ERROR", /no "test" script/);
  }

  /** ci fails, with the summary table, when a gate fails. */
  @func()
  @check()
  async ciFailsWithTable(): Promise<void> {
    const outcome = await dag
      .shipshape({ source: this.variant("type-error") })
      .ci()
      .then(() => "passed")
      .catch((e: unknown) => String(e));
    if (outcome === "passed" || !/typecheck\s+FAILED/.test(outcome))
      throw new Error(`ci should fail with the table, got: ${outcome.slice(0, 500)}`);
  }

  /** migrations pass on the service's safe migrations. */
  @func()
  @check()
  async migrationsPassOnService(): Promise<void> {
    await expectStatus("migrations", dag.shipshape({ source: this.service() }).migrationsReport(), "PASSED");
  }

  /** migrations block a DROP TABLE unless approved. */
  @func()
  @check()
  async migrationsBlockDropTable(): Promise<void> {
    const source = this.service().withFile("migrations/003_drop.sql", this.fixtures.file("migrations/unsafe/01_drop_table.sql"));
    await expectStatus("migrations", dag.shipshape({ source }).migrationsReport(), "FAILED", /ban-drop-table|destructive/i);
    await expectStatus("migrations approved", dag.shipshape({ source }).migrationsReport({ approveDestructive: true }), "PASSED");
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

  /** scanImageReport returns Trivy's JSON and a SARIF 2.1.0 file whatever the verdict. */
  @func()
  @check()
  async scanImageWritesSarif(): Promise<void> {
    const report = dag.shipshape({ source: this.service() }).scanImageReport();
    const status = String(await report.status()).toUpperCase();
    if (status === "ERROR") throw new Error(`scan errored: ${await report.summary()}`);
    const names = await report.files().glob("**/*.sarif");
    if (names.length === 0) throw new Error("no SARIF file in the scan report");
    const sarif = JSON.parse(await report.files().file(names[0]!).contents()) as { version?: string };
    if (sarif.version !== "2.1.0") throw new Error(`SARIF version ${String(sarif.version)}`);
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

  /** secretScan fails on a (fake) key in the files, names where it is, and never prints its value. */
  @func()
  @check()
  async secretScanFindsRedacted(): Promise<void> {
    // Made at run time (a fresh one each run), so no file of this repository holds a findable key.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const key = `AKIA${Array.from({ length: 16 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join("")}`;
    // With the repository's baseline, history (this repository's) is clean: the file above is the only finding.
    const source = this.withRepositoryBaseline(this.service()).withNewFile("src/leak.ts", `export const accessKeyId = "${key}";\n`);
    const report = dag.shipshape({ source }).secretScanReport();
    await expectStatus("secretScan", report, "FAILED");
    const findings = await report.findings();
    const leak = /(^|\/)src\/leak\.ts:1 aws-access-token/;
    if (findings.length === 0 || !findings.every((f) => leak.test(f)))
      throw new Error(`expected the key in src/leak.ts alone: ${findings.join(", ")}`);
    const text = [await report.summary(), await report.cause(), await report.log(), ...findings].join("\n");
    if (text.includes(key)) throw new Error("the secret scan printed the secret");
  }

  /**
   * Shipshape's own secret scan of this repository, files and history, as `dagger call secret-scan`
   * runs it here: only the baselined fake test keys are in history, so it passes.
   */
  @func()
  @check()
  async secretScanPassesOnThisRepository(): Promise<void> {
    const report = dag.shipshape().secretScanReport();
    await expectStatus("secretScan", report, "PASSED");
    const summary = await report.summary();
    if (summary !== "no secrets in files and history") throw new Error(`history was not scanned: ${summary}`);
  }

  /**
   * release publishes to ttl.sh (an anonymous registry whose images expire), signs by digest with a
   * generated key, and verify accepts that key and refuses another. Never cached: it pushes.
   */
  @func({ cache: "never" })
  @check()
  async releaseSignsAndVerifies(): Promise<void> {
    const [signer, other] = await Promise.all([this.keyPair("signer"), this.keyPair("other")]);
    const ship = dag.shipshape({ source: this.withRepositoryBaseline(this.service()) });
    const repository = `shipshape-tests-${Date.now().toString(36)}`;
    const release = ship.release({
      registry: "ttl.sh",
      repository,
      sha: "0123456789abcdef0123456789abcdef01234567",
      branch: "main",
      cosignKey: signer.key,
      cosignPassword: signer.password,
    });
    const ref = await release.ref();
    if (!/^ttl\.sh\/.+@sha256:[0-9a-f]{64}$/.test(ref)) throw new Error(`release returned ${ref}, not a digest reference`);
    await ship.verify(ref, { cosignPublicKey: signer.pub, insecureIgnoreTlog: true });
    const wrong = await ship
      .verify(ref, { cosignPublicKey: other.pub, insecureIgnoreTlog: true })
      .then(() => "verified")
      .catch((e: unknown) => String(e));
    if (wrong === "verified") throw new Error("verify accepted a signature made with another key");
  }

  /** deploy refuses an image referenced by tag alone, before any AWS call. */
  @func()
  @check()
  async deployRefusesTagOnlyImage(): Promise<void> {
    const source = this.service().withNewFile(
      "shipshape.yaml",
      "environments:\n  staging: { cluster: main, service: api, region: us-east-1, containerName: app }\n",
    );
    const outcome = await dag
      .shipshape({ source })
      .deploy("staging", "registry.example.com/api:latest")
      .result()
      .then(() => "deployed")
      .catch((e: unknown) => String(e));
    if (!/digest/i.test(outcome)) throw new Error(`deploy should refuse a tag-only image, got: ${outcome.slice(0, 300)}`);
  }

  /** A deploy refused before any change still leaves its started and completed audit records. */
  @func()
  @check()
  async deployRefusalIsAudited(): Promise<void> {
    const deployment = this.refusedDeploy();
    const result = await deployment.result();
    if (result !== "failed" || !/unknown environment/.test(await deployment.reason()))
      throw new Error(`expected a failed deploy naming the unknown environment, got ${result}: ${await deployment.reason()}`);
    const phases = (await deployment.auditTrail().contents())
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { phase: string; outcome: string }).phase);
    if (phases.join(",") !== "started,completed") throw new Error(`audit trail phases: ${phases.join(",")}`);
  }

  /** metrics reads a JSON Lines trail a deploy returned and draws a chart for its environment. */
  @func()
  @check()
  async metricsReadTheTrail(): Promise<void> {
    const report = dag.shipshape({ source: this.service() }).metrics({ auditTrail: this.refusedDeploy().auditTrail() });
    const names = await report.files().entries();
    if (!names.includes("nowhere.svg") || !names.includes("metrics.json")) throw new Error(`metrics files: ${names.join(", ")}`);
    if (!/nowhere/.test(await report.markdown())) throw new Error("the metrics table does not name the environment");
  }

  private refusedDeploy() {
    return dag
      .shipshape({ source: this.service() })
      .deploy("nowhere", `registry.example.com/api@sha256:${"ab".repeat(32)}`, { failOnError: false, actor: "dagger-tests" });
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
