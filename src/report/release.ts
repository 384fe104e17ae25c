/** What `release` produced: the signed image by digest, its tags, SBOM, provenance and the gates' reports. */
import { func, object, type Directory, type File } from "@dagger.io/dagger";
import { GateReport } from "./gate-report.js";

@object()
export class Release {
  /** The published image by digest (repo@sha256:...): what to deploy. */
  @func() ref: string;
  /** Every tag pushed for it. */
  @func() tags: string[];
  /** The image's SBOM (CycloneDX or SPDX JSON, per sbom.format), also attested to the image. */
  @func() sbom: File;
  /** The supply-chain gates that had to pass first (scan, licenses, secrets). */
  @func() gates: GateReport[];
  /** Every gate's files (SARIF, Trivy JSON, SBOM) under <gate>/. */
  @func() files: Directory;
  /** The SLSA v1 provenance predicate attested to the image (JSON); empty when none was made. */
  @func() provenance: string;

  constructor(ref: string, tags: string[], sbom: File, gates: GateReport[], files: Directory, provenance: string = "") {
    this.ref = ref;
    this.tags = tags;
    this.sbom = sbom;
    this.gates = gates;
    this.files = files;
    this.provenance = provenance;
  }

  // <gate>/ files, the SBOM, provenance.slsa.json (when made) and release.json (digest ref and tags).
  /** Everything CI keeps from a release, in one directory to export. */
  @func()
  async bundle(): Promise<Directory> {
    const sbomName = (await this.sbom.name()) || "sbom.json";
    const dir = this.files
      .withFile(sbomName, this.sbom)
      .withNewFile("release.json", JSON.stringify({ ref: this.ref, tags: this.tags }, null, 2) + "\n");
    return this.provenance ? dir.withNewFile("provenance.slsa.json", this.provenance) : dir;
  }
}
