/**
 * Examples of composing Shipshape's two modules from another Dagger module: the CI module
 * (`dag.shipshape()`: gates, release) and the deploy module (`dag.shipshapeDeploy()`: deploys,
 * status, metrics). Credentials and run context are chained once with with*, gates return their
 * report (sync fails the call when the gate failed), and the deploy module's environment(name) is
 * the deploy target.
 */
import { argument, dag, Directory, File, func, object, Secret } from "@dagger.io/dagger";

@object()
export class Examples {
  /** Shipshape_ci: run every gate and get the Markdown summary, whatever the outcome (markdown never fails). */
  @func()
  async shipshapeCi(@argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory): Promise<string> {
    return dag.shipshape({ source }).ci().markdown();
  }

  /** Shipshape_test: the JUnit XML of the test gate, for a test-report uploader (read whether or not it passed). */
  @func()
  shipshapeTestJunit(@argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory): File {
    return dag.shipshape({ source }).test().files().file("junit.xml");
  }

  /** Shipshape_lint: gate only on lint, with a custom config file; sync fails this call when lint failed. */
  @func()
  async shipshapeLintWithConfig(
    @argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory,
  ): Promise<string> {
    const report = dag.shipshape({ source, configPath: "shipshape.yaml" }).lint().sync();
    return `${await report.status()}: ${await report.summary()}`;
  }

  /**
   * Shipshape_release then deploy: publish and sign with the CI module (withRegistry, withSigner),
   * then deploy that digest to staging with the deploy module (withRegistry to read it back,
   * withVerifier, withAws) and return the step-summary Markdown (the call fails if staging ended
   * rolled back).
   */
  @func({ cache: "never" })
  async shipshapeReleaseAndDeploy(
    @argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory,
    registry: string,
    registryUsername: string,
    registryPassword: Secret,
    cosignKey: Secret,
    cosignPassword: Secret,
    cosignPublicKey: Secret,
    awsRoleArn: string,
    awsWebIdentityToken: Secret,
  ): Promise<string> {
    const ref = await dag
      .shipshape({ source })
      .withRegistry(registry, { username: registryUsername, password: registryPassword })
      .withSigner({ key: cosignKey, password: cosignPassword })
      .release({ registry })
      .ref();
    return dag
      .shipshapeDeploy({ source })
      .withRegistry(registry, { username: registryUsername, password: registryPassword })
      .withVerifier({ publicKey: cosignPublicKey, insecureIgnoreTlog: true })
      .withAws({ roleArn: awsRoleArn, webIdentityToken: awsWebIdentityToken })
      .environment("staging")
      .deploy(ref)
      .markdown();
  }

  /** Shipshape_environment: what runs in an environment now, and its delivery metrics from a Postgres audit trail (the deploy module). */
  @func({ cache: "never" })
  async shipshapeEnvironmentStatus(
    @argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory,
    name: string,
    awsRoleArn: string,
    awsWebIdentityToken: Secret,
    auditDatabaseUrl: Secret,
  ): Promise<string> {
    const env = dag
      .shipshapeDeploy({ source })
      .withAws({ roleArn: awsRoleArn, webIdentityToken: awsWebIdentityToken })
      .withAuditTrail({ databaseUrl: auditDatabaseUrl })
      .environment(name);
    return `${await env.status()}\n\n${await env.metrics().markdown()}`;
  }
}
