/**
 * Shipshape's tests in a real engine: every function run on the fixture service and on its
 * broken variants. `dagger call -m dagger/tests all` runs them all; each is also a check.
 */
import { argument, check, dag, Directory, func, object } from "@dagger.io/dagger";

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

  constructor(@argument({ defaultPath: "/test/fixtures", ignore: ["**/node_modules", "**/coverage"] }) fixtures: Directory) {
    this.fixtures = fixtures;
  }

  /** Run every test concurrently; fail listing each test that failed. */
  @func()
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

  private service(): Directory {
    return this.fixtures.directory("service");
  }

  private variant(name: string): Directory {
    return this.service().withDirectory(".", this.fixtures.directory(`variants/${name}`));
  }
}
