/**
 * Trivy command lines (trivy@dc3c56e docs/guide/references/configuration/cli/). Pure, so the
 * Dagger wiring and the tests see the same argv. `withExec` does not run the image ENTRYPOINT,
 * hence the leading "trivy".
 *
 * Flow: one `trivyDbCommand` fills the cache dir, each scan then runs with --skip-db-update
 * and writes a raw JSON report (no --severity, --ignore-unfixed or ignore file: judgeScan applies
 * the policy and reports what it let through), and `trivySarifCommand` converts that JSON with
 * the same severities and ignore file for code scanning, without scanning twice.
 * No --exit-code is passed, so Trivy exits 0 with findings and non-zero only when it failed.
 */
import { parse as parseSemver } from "semver";
import { Problem } from "../../../src/project/problem.js";
import type { ScanSeverity } from "../config.js";

/**
 * Where Trivy would otherwise read `./.trivyignore` from its working directory and silently apply
 * it; a missing or empty file is an empty ignore list (pkg/result/ignore.go ParseIgnoreFile).
 */
export const NO_IGNORE_FILE = "/dev/null";

export interface TrivyScanOptions {
  /** Path of the JSON report to write. */
  output: string;
  /**
   * Trivy cache (DB and scan cache): the directory the DB step filled, in the container's own
   * filesystem. Not a cache volume: its contents are outside the exec cache, and on a SHARED one
   * concurrent scans fight over the scan cache's lock (see lib/gates/image.ts).
   */
  cacheDir: string;
  /** VEX sources, each given with its own --vex: OpenVEX file paths, or "oci"/"repo" (those need the network). */
  vex?: readonly string[];
  /** Ignore file Trivy applies itself; defaults to none, so the JSON stays raw for judgeScan. */
  ignoreFile?: string;
  /** Go duration; Trivy's default of 5m is short for large images. */
  timeout?: string;
}

/** Flags shared by image and fs scans, in the notes' pipeline order. */
function scanFlags(opts: TrivyScanOptions): string[] {
  return [
    "--scanners",
    "vuln",
    "--format",
    "json",
    "--output",
    opts.output,
    "--ignorefile",
    opts.ignoreFile ?? NO_IGNORE_FILE,
    ...(opts.vex ?? []).flatMap((v) => ["--vex", v]),
    // Lists what the VEX suppressed under Results[].ExperimentalModifiedFindings (v0.55+), so the
    // report can show each suppression and its justification instead of a silent absence.
    ...(opts.vex?.length ? ["--show-suppressed"] : []),
    // Default true since v0.67.0: every package in the JSON, megabytes the gate never reads.
    "--list-all-pkgs=false",
    "--cache-dir",
    opts.cacheDir,
    "--skip-db-update",
    "--skip-java-db-update",
    // Offline: no Maven Central look-ups, no version check or telemetry to check.trivy.dev.
    "--offline-scan",
    "--skip-version-check",
    "--disable-telemetry",
    "--timeout",
    opts.timeout ?? "10m",
    "-q",
  ];
}

/** Scan an image tarball (docker save or OCI layout, e.g. Dagger's Container.asTarball()). */
export function trivyImageCommand(opts: TrivyScanOptions & { input: string }): string[] {
  return ["trivy", "image", "--input", opts.input, ...scanFlags(opts)];
}

/** Scan a directory's lockfiles and installed packages. */
export function trivyFsCommand(opts: TrivyScanOptions & { path: string }): string[] {
  return ["trivy", "fs", ...scanFlags(opts), opts.path];
}

export interface TrivyDbOptions {
  cacheDir: string;
  /**
   * The Java index DB instead of the vulnerability DB. Scans skip its update too, and Trivy loads
   * it only on meeting a jar; without it that scan fails ("'--skip-java-db-update' cannot be
   * specified on the first run", pkg/javadb/client.go), so warm it for images that may hold jars.
   */
  java?: boolean;
  /** Mirrors to pull the DB from, in priority order; Trivy's defaults when unset. */
  repositories?: readonly string[];
}

/** The one networked step: fills the cache so every scan can run with --skip-db-update. */
export function trivyDbCommand(opts: TrivyDbOptions): string[] {
  const [only, repoFlag] = opts.java ? ["--download-java-db-only", "--java-db-repository"] : ["--download-db-only", "--db-repository"];
  const repos = opts.repositories?.length ? [repoFlag, opts.repositories.join(",")] : [];
  return [
    "trivy",
    "image",
    only,
    ...repos,
    "--cache-dir",
    opts.cacheDir,
    "--skip-version-check",
    "--disable-telemetry",
    "--timeout",
    "10m",
    "-q",
  ];
}

export interface TrivySarifOptions {
  /** The JSON report of a scan. */
  report: string;
  output: string;
  severities: readonly ScanSeverity[];
  /** The rendered trivyIgnoreYaml (a .yaml name, or Trivy reads it as a plain .trivyignore). */
  ignoreFile?: string;
}

/**
 * SARIF from the JSON report with the gate's severities and ignores. `convert` has no
 * --ignore-unfixed (that flag belongs to scans only), so with scan.ignoreUnfixed the SARIF
 * still lists unfixed findings; judgeScan is the verdict. Nor does it accept the scan-only
 * --skip-version-check/--disable-telemetry (trivy_convert.md lists neither).
 */
export function trivySarifCommand(opts: TrivySarifOptions): string[] {
  return [
    "trivy",
    "convert",
    "--format",
    "sarif",
    "--output",
    opts.output,
    "--severity",
    opts.severities.join(","),
    "--ignorefile",
    opts.ignoreFile ?? NO_IGNORE_FILE,
    "-q",
    opts.report,
  ];
}

/**
 * The error in Trivy's stderr: log.Fatal prints "<time>\tFATAL\tFatal error\t<err>"
 * (cmd/trivy/main.go, pkg/log/handler.go), even with -q; otherwise the first non-empty line.
 */
export function trivyError(stderr: string): string | undefined {
  const fatal = /\tFATAL\t(?:Fatal error\t)?(.+)/.exec(stderr);
  return (
    fatal?.[1]?.trim() ??
    stderr
      .split("\n")
      .find((l) => l.trim())
      ?.trim()
  );
}

/** Releases published by the hijacked release bot, March 2026 (GHSA-69fq-xp46-6x23, CVE-2026-33634). */
export const COMPROMISED_TRIVY_VERSIONS = ["0.69.4", "0.69.5", "0.69.6"] as const;

/**
 * Accepts "0.74.0", "v0.74.0", an image tag, or `trivy --version` output ("Version: 0.74.0");
 * returns the bare version. Throws a Problem for a compromised release, or when no version can
 * be read (fail closed: an unreadable version cannot be told apart from a compromised one).
 */
export function assertTrivyVersion(version: string): string {
  const found = /(?:^|[\s:v])(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(version.trim());
  const parsed = found?.[1] === undefined ? null : parseSemver(found[1]);
  if (parsed === null) {
    throw new Problem(
      `cannot read a Trivy version from ${JSON.stringify(version.slice(0, 60))}`,
      "pin the Trivy image to a release tag and digest, e.g. aquasec/trivy:0.74.0@sha256:<digest>",
    );
  }
  const core = `${parsed.major}.${parsed.minor}.${parsed.patch}`;
  if ((COMPROMISED_TRIVY_VERSIONS as readonly string[]).includes(core)) {
    throw new Problem(
      `Trivy ${parsed.version} is a compromised release (GHSA-69fq-xp46-6x23: malicious 0.69.4-0.69.6 builds steal credentials)`,
      "pin a safe release by digest (e.g. aquasec/trivy:0.74.0@sha256:<digest>) and rotate any secret the compromised image could read",
    );
  }
  return parsed.version;
}
