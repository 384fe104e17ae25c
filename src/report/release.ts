/** What `release` produced: the signed image by digest, its tags, SBOM and the gates' reports. */
import { func, object, type Directory, type File } from "@dagger.io/dagger";
import { GateReport } from "./gate-report.js";

@object()
export class Release {
  /** The published image by digest (repo@sha256:...): what to deploy. */
  @func() ref: string;
  /** Every tag pushed for it. */
  @func() tags: string[];
  /** The image's SBOM (CycloneDX JSON), also attested to the image. */
  @func() sbom: File;
  /** The supply-chain gates that had to pass first (scan, licenses, secrets). */
  @func() gates: GateReport[];
  /** Every gate's files (SARIF, Trivy JSON, SBOM) under <gate>/. */
  @func() files: Directory;

  constructor(ref: string, tags: string[], sbom: File, gates: GateReport[], files: Directory) {
    this.ref = ref;
    this.tags = tags;
    this.sbom = sbom;
    this.gates = gates;
    this.files = files;
  }
}
