/**
 * Examples of composing Shipshape from another Dagger module.
 */
import { argument, dag, Directory, File, func, object, Secret } from "@dagger.io/dagger";

@object()
export class Examples {
  /** Shipshape_ci: run every gate and get the Markdown summary, whatever the outcome. */
  @func()
  async shipshapeCi(@argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory): Promise<string> {
    return dag.shipshape({ source }).ciReport().markdown();
  }

  /** Shipshape_testReport: the JUnit XML of the test gate, for a test-report uploader. */
  @func()
  shipshapeTestJunit(@argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory): File {
    return dag.shipshape({ source }).testReport().files().file("junit.xml");
  }

  /** Shipshape_lintReport: gate only on lint, with a custom config file. */
  @func()
  async shipshapeLintWithConfig(
    @argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory,
  ): Promise<string> {
    const report = dag.shipshape({ source, configPath: "shipshape.yaml" }).lintReport();
    return `${await report.status()}: ${await report.summary()}`;
  }

  /**
   * Shipshape_release then deploy: publish and sign, then deploy that digest to staging and
   * return the step-summary Markdown (the call fails if staging ended rolled back).
   */
  @func({ cache: "never" })
  async shipshapeReleaseAndDeploy(
    @argument({ defaultPath: "/test/fixtures/service", ignore: ["**/node_modules"] }) source: Directory,
    registry: string,
    cosignKey: Secret,
    cosignPassword: Secret,
    cosignPublicKey: Secret,
    awsRoleArn: string,
    awsWebIdentityToken: Secret,
  ): Promise<string> {
    const ship = dag.shipshape({ source });
    const ref = await ship.release({ registry, cosignKey, cosignPassword }).ref();
    return ship.deploy("staging", ref, { cosignPublicKey, insecureIgnoreTlog: true, awsRoleArn, awsWebIdentityToken }).markdown();
  }
}
