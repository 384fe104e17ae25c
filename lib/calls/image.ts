/** The service's image: the build, its Dockerfile and SBOM, and the gates judged from it (Trivy, licenses). */
import type { GateRun } from "../../deploy/lib/gates/gate.js";
import { builtImage, buildContext, licenseCheck, sbomOf, scanDependencies, scanImage } from "../../deploy/lib/gates/image.js";
import type { ImageCalls } from "../../src/calls.js";
import type { Shipshape } from "../../src/index.js";
import { context, reported, runNamed } from "./run.js";

/** Trivy's scan or the license check of the image built for `platform`, reported as `name`. */
export const imageRun = (s: Shipshape, gate: "scan" | "licenses", platform: string, name: string = gate): Promise<GateRun> =>
  runNamed(
    s,
    name,
    async ({ project, source }) => {
      const image = await builtImage(project, source, platform);
      return gate === "scan" ? scanImage(project.config, image, source) : licenseCheck(project.config, sbomOf(project.config, image));
    },
    (c) => (gate === "scan" ? c.scan.enabled : c.licenses.enabled),
  );

export const calls: ImageCalls = {
  async build(s, platform) {
    const { project } = await context(s);
    return builtImage(project, s.source, platform);
  },
  async dockerfile(s) {
    const { project } = await context(s);
    return buildContext(project, s.source).file("Dockerfile");
  },
  scanImage: (s, platform) => reported(imageRun(s, "scan", platform)),
  scanDependencies: (s) =>
    reported(
      runNamed(
        s,
        "dependencies",
        ({ project, source }) => scanDependencies(project.config, source),
        (c) => c.scan.enabled,
      ),
    ),
  async sbom(s, platform) {
    const { project } = await context(s);
    return sbomOf(project.config, await builtImage(project, s.source, platform));
  },
  licenseCheck: (s, platform) => reported(imageRun(s, "licenses", platform)),
};
