/**
 * syft command line (anchore/syft README, cmd/syft/internal/commands/scan.go). The image is FROM
 * scratch with the binary at /syft and no PATH, so the argv names it absolutely.
 */
import type { SbomFormat } from "../config.js";

export interface SbomFormatInfo {
  /** syft's `-o` output name. */
  syft: string;
  /** File name in reports and on the release. */
  fileName: string;
  /** `cosign attest --type` for this predicate (cosign doc/cosign_attest.md). */
  attestationType: "cyclonedx" | "spdxjson";
  /** predicateType cosign writes into the in-toto statement for that type. */
  predicateType: string;
}

export const SBOM_FORMAT_INFO: Record<SbomFormat, SbomFormatInfo> = {
  cyclonedx: {
    syft: "cyclonedx-json",
    fileName: "sbom.cdx.json",
    attestationType: "cyclonedx",
    predicateType: "https://cyclonedx.org/bom",
  },
  spdx: { syft: "spdx-json", fileName: "sbom.spdx.json", attestationType: "spdxjson", predicateType: "https://spdx.dev/Document" },
};

export function syftCommand(opts: { input: string; output: string; format?: SbomFormat }): string[] {
  const format = SBOM_FORMAT_INFO[opts.format ?? "cyclonedx"].syft;
  // oci-archive: the tarball Container.asTarball writes (OCI media types by default).
  return ["/syft", "scan", `oci-archive:${opts.input}`, "-o", `${format}=${opts.output}`, "-q"];
}
