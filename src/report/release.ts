/** What `release` produced: the signed image by digest, its tags, each platform's SBOM, provenance and the gates' reports. */
import { func, object, type Directory, type File } from "@dagger.io/dagger";
import { GateReport } from "./gate-report.js";

/** One platform of a released multi-arch image: its own manifest, and the SBOM attested to it. */
@object()
export class ReleasePlatform {
  /** The platform, e.g. linux/arm64. */
  @func() platform!: string;
  /** This platform's manifest by digest (repo@sha256:...), as `cosign download attestation --platform` finds it. */
  @func() ref!: string;
  /** The SBOM of this platform's image (CycloneDX or SPDX JSON, per sbom.format), attested to ref. */
  @func() sbom!: File;
}

/** A published, signed and attested release. */
@object()
export class Release {
  /** The published image by digest (repo@sha256:...): what to deploy. */
  @func() ref!: string;
  /** Every tag pushed for it. */
  @func() tags!: string[];
  /** Every published platform, each judged (scan, licenses) and SBOM-attested on its own manifest. */
  @func() platforms!: ReleasePlatform[];
  /** The supply-chain gates that had to pass first: scan and licenses per platform, then secrets. */
  @func() gates!: GateReport[];
  /** Every gate's files (SARIF, Trivy JSON) under <gate>/, and each platform's SBOM under sbom/. */
  @func() files!: Directory;
  /** The SLSA v1 provenance predicate attested to the image (JSON); empty when none was made. */
  @func() provenance!: string;

  // The files, provenance.slsa.json (when made) and release.json. Only plain fields of the nested
  // platforms are read: a nested object's File arrives as its ID string (executor.js buildClass).
  /** Everything CI keeps from a release, in one directory to export. */
  @func()
  bundle(): Directory {
    const json = { ref: this.ref, tags: this.tags, platforms: this.platforms.map((p) => ({ platform: p.platform, ref: p.ref })) };
    const dir = this.files.withNewFile("release.json", JSON.stringify(json, null, 2) + "\n");
    return this.provenance ? dir.withNewFile("provenance.slsa.json", this.provenance) : dir;
  }
}
