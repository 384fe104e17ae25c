/**
 * syft command line (anchore/syft README, cmd/syft/internal/commands/scan.go). The image is FROM
 * scratch with the binary at /syft and no PATH, so the argv names it absolutely.
 */
export function syftCommand(opts: { input: string; output: string }): string[] {
  // oci-archive: the tarball Container.asTarball writes (OCI media types by default).
  return ["/syft", "scan", `oci-archive:${opts.input}`, "-o", `cyclonedx-json=${opts.output}`, "-q"];
}
