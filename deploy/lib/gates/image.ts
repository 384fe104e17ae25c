/**
 * The image gates: build (the project's Dockerfile, or a generated hardened one), Trivy scan of
 * the image as a tarball (no registry needed), syft SBOM, and the license policy over it.
 */
import { dag, type Container, type Directory, type File, type Platform } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../config/schema.js";
import { imageRef, TOOL_IMAGES } from "../images.js";
import type { Project } from "../project/load.js";
import { describeError, Problem } from "../../src/project/problem.js";
import { blockingNote, plural, tail } from "../../src/report/outcome.js";
import { toSarif } from "../../src/report/sarif.js";
import { generateDockerfile, generateDockerignore, startCommandFrom } from "../supply/build/dockerfile.js";
import { judgeLicenses, licenseDiagnostics } from "../supply/licenses/policy.js";
import { parseSbom } from "../supply/licenses/sbom.js";
import { SBOM_FORMAT_INFO, syftCommand } from "../supply/sbom/commands.js";
import { assertTrivyVersion, trivyDbCommand, trivyError, trivyFsCommand, trivyImageCommand } from "../supply/trivy/commands.js";
import { judgeScan, scanDiagnostics } from "../supply/trivy/policy.js";
import { parseTrivyJson } from "../supply/trivy/report.js";
import { suppressedDiagnostics, suppressedLine, vexMountPath } from "../supply/trivy/vex.js";
import { REPORTS_DIR, SOURCE_DIR } from "./commands.js";
import type { Verdict } from "./gate.js";
import { progress, waitingFor } from "./progress.js";
import { nodeImage, readFile, run } from "./workspace.js";

const SCAN_DIR = "/scan";
/**
 * Trivy's cache dir, in the container's own filesystem, on purpose not a cache volume:
 * - The DB download below writes the DB into that exec's output, so whenever the exec cache
 *   replays the download (same day), the DB comes with it. A cache volume's contents are not part
 *   of any exec's cached result: once the engine pruned the volume, a replayed download left the
 *   scans with no DB ("--skip-db-update cannot be specified on the first run").
 * - Each scan then opens its scan cache (fanal/fanal.db, bbolt, exclusive lock, 5s timeout:
 *   trivy pkg/cache/fs.go) in its own copy of that layer, so concurrent scans (dagger check runs
 *   scan-image and scan-dependencies together; a release scans every platform) never contend. On
 *   one SHARED volume the second gave up with "cache may be in use by another process"; LOCKED
 *   would serialize them, and PRIVATE is the same as LOCKED in engine v0.21.8
 *   (core/container_exec.go cacheSharingModeLocksWrites).
 * The price is a scan cache that starts empty in every scan; a scan runs only when its input
 * changed (the exec cache replays the rest), and the DB is downloaded once a day, as before.
 */
const TRIVY_CACHE = "/trivy";

/** The Dockerfile the build uses when the project has none, for users to export and keep. */
export function generatedDockerfile(project: Project): string {
  return generateDockerfile({
    pm: project.pm,
    nodeImage: nodeImage(project),
    buildScript: project.pkg.scripts?.build ? "build" : undefined,
    startCommand: startCommandFrom(project.pkg),
    port: 8080,
    healthPath: "/healthz",
  });
}

export function buildContext(project: Project, source: Directory): Directory {
  if (project.entries.includes("Dockerfile")) return source;
  progress("build", "no Dockerfile: using the generated hardened one (export it with `dockerfile`)");
  return source.withNewFile("Dockerfile", generatedDockerfile(project)).withNewFile(".dockerignore", generateDockerignore());
}

/** Builds and waits for the build, so a broken Dockerfile is one clear line, not a later surprise. */
export async function builtImage(project: Project, source: Directory, platform: string): Promise<Container> {
  try {
    return await buildImage(project, source, platform).sync();
  } catch (e) {
    const { cause } = describeError(e);
    throw new Problem(
      `the image did not build${platform ? ` for ${platform}` : ""}: ${cause}`,
      "run docker build . locally to see the failing step; a platform without base images fails the same way",
    );
  }
}

export function buildImage(project: Project, source: Directory, platform: string): Container {
  const ctr = buildContext(project, source).dockerBuild(platform ? { platform: platform as Platform } : {});
  // Reproducible labels only: a build timestamp would change the image on every run (publish adds
  // org.opencontainers.image.created from the commit time, which is as stable as the source).
  let labelled = ctr.withLabel("org.opencontainers.image.title", project.pkg.name ?? "app");
  const version = (project.pkg as { version?: unknown }).version;
  if (typeof version === "string") labelled = labelled.withLabel("org.opencontainers.image.version", version);
  return labelled;
}

function trivy(config: ShipshapeConfig): Container {
  const tag = config.images.trivy?.tag ?? TOOL_IMAGES.trivy.tag;
  assertTrivyVersion(tag);
  const day = new Date().toISOString().slice(0, 10);
  return (
    dag
      .container()
      .from(imageRef("trivy", config.images.trivy))
      // The DB step is cached like any exec: the date makes it refresh once a day, not never.
      .withEnvVariable("SHIPSHAPE_TRIVY_DB_DAY", day)
      .withExec(trivyDbCommand({ cacheDir: TRIVY_CACHE }))
      .withExec(["mkdir", "-p", REPORTS_DIR])
  );
}

/**
 * The scan.vex documents mounted into the Trivy container, with their paths there. A listed file
 * that is missing is an error, not a skip: the findings it should suppress would fail the gate
 * for a reason nobody could see, or (worse, with a typo in a renamed file) stop being suppressed.
 */
async function withVex(config: ShipshapeConfig, ctr: Container, source: Directory | undefined): Promise<{ ctr: Container; vex: string[] }> {
  const paths = config.scan.vex ?? [];
  if (paths.length === 0) return { ctr, vex: [] };
  if (!source) throw new Error("scan.vex is set but the scan was not given the source to read the VEX files from");
  let mounted = ctr;
  const vex: string[] = [];
  for (const [i, path] of paths.entries()) {
    if (!(await source.exists(path))) {
      throw new Problem(`the VEX file ${path} listed in scan.vex does not exist in the source`, `add ${path}, or remove it from scan.vex`);
    }
    vex.push(vexMountPath(i, path));
    mounted = mounted.withFile(vex[i]!, source.file(path));
  }
  return { ctr: mounted, vex };
}

/** @param source the repository, for the scan.vex documents; needed only when scan.vex is set. */
export async function scanImage(
  config: ShipshapeConfig,
  image: Container,
  source?: Directory,
): Promise<{ verdict: Verdict; files: Directory }> {
  const { ctr, vex } = await withVex(config, trivy(config), source);
  const cmd = trivyImageCommand({
    input: `${SCAN_DIR}/image.tar`,
    output: `${REPORTS_DIR}/trivy.json`,
    cacheDir: TRIVY_CACHE,
    vex,
    timeout: "15m",
  });
  return trivyScan(config, ctr.withFile(`${SCAN_DIR}/image.tar`, image.asTarball()), cmd, "the image");
}

/** Dependencies from the lockfile (filesystem mode): no build needed, so it is fast on every PR. */
export async function scanDependencies(config: ShipshapeConfig, source: Directory): Promise<{ verdict: Verdict; files: Directory }> {
  const { ctr, vex } = await withVex(config, trivy(config), source);
  const cmd = trivyFsCommand({ path: SOURCE_DIR, output: `${REPORTS_DIR}/trivy.json`, cacheDir: TRIVY_CACHE, vex, timeout: "15m" });
  return trivyScan(config, ctr.withMountedDirectory(SOURCE_DIR, source), cmd, "the dependencies");
}

async function trivyScan(
  config: ShipshapeConfig,
  ctr: Container,
  cmd: string[],
  what: string,
): Promise<{ verdict: Verdict; files: Directory }> {
  const cfg = config.scan;
  progress("scan", cmd.join(" "));
  const step = await waitingFor(
    "scan",
    `Trivy on ${what} (today's vulnerability DB download when not cached, then the scan)`,
    run(ctr, cmd),
  );
  const report = await readFile(step.ctr, `${REPORTS_DIR}/trivy.json`);
  // Without --exit-code Trivy exits 0 whatever it finds: non-zero means it did not scan.
  if (step.exitCode !== 0 || report === undefined) {
    throw new Problem(
      `trivy could not scan ${what}: ${trivyError(step.stderr) ?? `exit code ${step.exitCode}`}`,
      "check that the image builds and that the vulnerability DB could be downloaded (network, images.trivy)",
    );
  }
  const parsed = parseTrivyJson(report);
  const v = judgeScan(parsed.findings, cfg, new Date());
  const c = v.counts;
  const counted = `${c.CRITICAL} critical, ${c.HIGH} high, ${c.MEDIUM} medium, ${c.LOW} low`;
  const suppressed = parsed.suppressed;
  const sarif = toSarif({ name: "Trivy", informationUri: "https://trivy.dev" }, [
    ...scanDiagnostics(v),
    ...suppressedDiagnostics(suppressed),
  ]);
  return {
    verdict: {
      status: v.status,
      summary:
        counted +
        (v.ignored.length ? `; ${v.ignored.length} ignored` : "") +
        (suppressed.length ? `; ${suppressed.length} suppressed by VEX` : "") +
        (v.status === "failed"
          ? blockingNote(
              v.blocking,
              v.cause,
              v.expired.map((e) => e.id),
            )
          : ""),
      cause: v.status === "passed" ? "" : v.cause,
      hint: v.status === "passed" ? "" : v.hint,
      metrics: {
        critical: c.CRITICAL,
        high: c.HIGH,
        medium: c.MEDIUM,
        low: c.LOW,
        blocking: v.blocking.length,
        suppressed: suppressed.length,
      },
      // Blocking findings first; what VEX suppressed is listed too, with its justification.
      findings: [
        ...v.blocking.map((f) => `${f.pkg} ${f.installed} ${f.severity} ${f.id}${f.fixed ? ` (fixed in ${f.fixed})` : " (no fix)"}`),
        ...suppressed.map(suppressedLine),
      ].slice(0, 20),
      log: v.status === "passed" ? "" : tail(step.stderr),
    },
    files: dag
      .directory()
      .withNewFile("trivy.json", report)
      .withNewFile("scan.sarif", JSON.stringify(sarif, null, 2) + "\n"),
  };
}

/** The image's SBOM in the configured format (sbom.format: CycloneDX JSON by default, or SPDX JSON). */
export function sbomOf(config: ShipshapeConfig, image: Container): File {
  const format = config.sbom.format;
  const out = `${REPORTS_DIR}/${SBOM_FORMAT_INFO[format].fileName}`;
  return dag
    .container()
    .from(imageRef("syft", config.images.syft))
    .withEnvVariable("SYFT_CHECK_FOR_APP_UPDATE", "false")
    .withFile(`${SCAN_DIR}/image.tar`, image.asTarball())
    .withDirectory(REPORTS_DIR, dag.directory())
    .withExec(syftCommand({ input: `${SCAN_DIR}/image.tar`, output: out, format }))
    .file(out);
}

export async function licenseCheck(config: ShipshapeConfig, sbom: File): Promise<{ verdict: Verdict; files: Directory }> {
  const cfg = config.licenses;
  const text = await sbom.contents();
  // Either format: the SBOM is read by its content, so a format switch needs no other setting.
  const { format, components } = parseSbom(text);
  const v = judgeLicenses(components, cfg, new Date());
  const sarif = toSarif({ name: "shipshape-licenses" }, licenseDiagnostics(v, cfg.failOnUnknown));
  return {
    verdict: {
      status: v.status,
      summary:
        `${plural(v.allowed, "package")} allowed, ${v.denied.length} denied, ${v.unknown.length} unknown` +
        (v.excepted.length ? `, ${v.excepted.length} excepted` : "") +
        (v.status === "failed" ? ` — ${v.cause}` : ""),
      cause: v.status === "passed" ? "" : v.cause,
      hint: v.status === "passed" ? "" : v.hint,
      metrics: { allowed: v.allowed, denied: v.denied.length, unknown: v.unknown.length, excepted: v.excepted.length },
      findings: licenseDiagnostics(v, cfg.failOnUnknown)
        .slice(0, 20)
        .map((d) => d.message),
      log: "",
    },
    files: dag
      .directory()
      .withNewFile(SBOM_FORMAT_INFO[format].fileName, text)
      .withNewFile("licenses.sarif", JSON.stringify(sarif, null, 2) + "\n"),
  };
}
