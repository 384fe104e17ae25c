/**
 * Every container image Shipshape runs, pinned in one place.
 *
 * A digest is only written here when a public source gives it (cited next to it): no registry is
 * reachable where this module is developed, so none can be resolved, and an invented digest would
 * make every pull fail. Users pin the rest through `images.<name>.digest` in shipshape.yaml.
 */
export const TOOL_IMAGES = {
  /**
   * Digest from dagger/dagger v0.21.8 `sdk/typescript/runtime/tsdistconsts/consts.go`
   * (`DefaultNodeImageRef`), the image the Dagger TypeScript runtime itself runs on.
   */
  node: {
    repository: "node",
    tag: "24.13.1-alpine",
    digest: "sha256:4f696fbf39f383c1e486030ba6b289a5d9af541642fc78ab197e584a113b9c03",
  },
  postgres: { repository: "postgres", tag: "16-alpine", digest: undefined },
  /**
   * Digest from dagger/dagger v0.21.8 `sdk/typescript/runtime/tsdistconsts/consts.go`
   * (`DefaultAlpineImageRef`); git is added with apk for the steps that read history, and gpg and
   * openssh-keygen (alpine's packages for gpg and ssh-keygen) when `commits` checks signatures.
   */
  alpine: {
    repository: "alpine",
    tag: "3.22.2",
    digest: "sha256:4b7ce07002c69e8f3d704a9c5d6fd3053be500b7f1c69fc0d80990c2ad8dd412",
  },
  /**
   * Tags have no "v". Trivy 0.69.4-0.69.6 were malicious releases (GHSA-69fq-xp46-6x23): refused
   * by assertTrivyVersion whatever tag is configured.
   */
  trivy: { repository: "aquasec/trivy", tag: "0.74.0", digest: undefined },
  /** FROM scratch: no shell, binary at /syft; tags have a "v". */
  syft: { repository: "anchore/syft", tag: "v1.51.0", digest: undefined },
  /** ko-built on distroless (no shell, uid 65532); tags have a "v". One cosign major per pipeline. */
  cosign: { repository: "ghcr.io/sigstore/cosign/cosign", tag: "v3.1.2", digest: undefined },
  /** Built on alpine with git and `safe.directory '*'`; tags have a "v" (gitleaks release.yml). */
  gitleaks: { repository: "zricethezav/gitleaks", tag: "v8.30.1", digest: undefined },
  /** Tags have no "v" (rust.yml metadata-action type=semver); same version as squawk-cli on npm. */
  squawk: { repository: "ghcr.io/sbdchd/squawk", tag: "2.66.0", digest: undefined },
  /**
   * Semgrep OSS; tags have no "v" (semgrep.dev/docs/kb/semgrep-code/run-specific-version:
   * `semgrep/semgrep:x.y.z`). 1.173.0 is the release of 2026-08-14 (semgrep/semgrep-interfaces
   * "Release Version 1.173.0"). No ENTRYPOINT (CMD semgrep --help), WORKDIR /src, root (its
   * Dockerfile). No public source gives this tag's digest: pin it with images.semgrep.digest.
   */
  semgrep: { repository: "semgrep/semgrep", tag: "1.173.0", digest: undefined },
  /**
   * The lighthouse gate's base: the pinned Node version's Debian (bookworm) variant, onto which
   * Debian's chromium package and `lighthouse@LIGHTHOUSE_VERSION` from npm are installed — the same
   * pair the real-tool test runs here. Official Node images publish `<version>-bookworm-slim` tags
   * (hub.docker.com/_/node); no public source gives this tag's digest. A published all-in-one image
   * was not chosen: none found ships Lighthouse 12.2.3 from a source as trusted as Docker's Node.
   */
  lighthouse: { repository: "node", tag: "24.13.1-bookworm-slim", digest: undefined },
} as const satisfies Record<string, ImagePin>;

/** Lighthouse from npm for the lighthouse gate; 12.2.3 is the version the real-tool test runs. */
export const LIGHTHOUSE_VERSION = "12.2.3";

export interface ImagePin {
  repository: string;
  tag: string;
  digest: string | undefined;
}

export type ToolName = keyof typeof TOOL_IMAGES;
export const TOOL_NAMES = Object.keys(TOOL_IMAGES) as ToolName[];

/**
 * `repository:tag[@digest]` for a tool. A pinned digest belongs to its pinned tag only: once the
 * tag changes (another Node version, a user's tag), only a digest the user configured applies.
 */
export function imageRef(name: ToolName, override?: { tag?: string; digest?: string }, tag?: string): string {
  const pin: ImagePin = TOOL_IMAGES[name];
  const t = override?.tag ?? tag ?? pin.tag;
  const digest = override?.digest ?? (t === pin.tag ? pin.digest : undefined);
  return `${pin.repository}:${t}${digest ? `@${digest}` : ""}`;
}
