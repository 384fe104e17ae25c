/**
 * publish: the image for every configured platform as one multi-arch manifest, under each tag
 * of the tag strategy; returns the digest reference, which is what gets signed and deployed.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import type { Project } from "../../deploy/lib/project/load.js";
import { describeError, Problem } from "../../deploy/src/project/problem.js";
import { baseImagesOf } from "../../deploy/lib/supply/build/dockerfile.js";
import { buildProvenance, DEFAULT_BUILDER_ID } from "../../deploy/lib/supply/provenance/slsa.js";
import { assertDigestRef } from "../../deploy/lib/supply/signing/commands.js";
import { defaultRepository, imageRef, imageTags } from "../../deploy/lib/supply/publish/tags.js";
import { gitContainer, safeGit } from "../../deploy/lib/gates/git.js";
import { buildContext, builtImage } from "../../deploy/lib/gates/image.js";
import { checkSha } from "../../deploy/lib/release/commits/git.js";
import { progress, waitingFor } from "../../deploy/lib/gates/progress.js";
import { registryAuth, type RegistryCredentials } from "../../deploy/lib/gates/registry.js";
import { run } from "../../deploy/lib/gates/workspace.js";

export interface PublishOptions {
  registry: string;
  repository: string;
  sha: string;
  branch: string;
  defaultBranch: string;
  version: string;
  creds: RegistryCredentials;
}

/** Commit and branch of the checkout when the caller did not say (CI usually does). */
async function revision(project: Project, gitDir: Directory): Promise<{ sha: string; branch: string }> {
  if (!(await gitDir.exists(".git")))
    throw new Problem(
      "no commit SHA for the image tags: there is no .git and with-run --commit-sha was not given",
      "chain with-run --commit-sha=$GITHUB_SHA --branch=$GITHUB_REF_NAME",
    );
  const step = await run(gitContainer(project.config, gitDir), safeGit(["git", "rev-parse", "HEAD", "--abbrev-ref", "HEAD"]));
  const [sha = "", branch = ""] = step.stdout.trim().split("\n");
  if (step.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(sha))
    throw new Problem(
      `could not read the commit from .git: ${step.stderr.trim().split("\n")[0] ?? ""}`,
      "chain with-run --commit-sha=$GITHUB_SHA",
    );
  return { sha, branch };
}

/**
 * When the commit was made, as RFC 3339 UTC: the `created` label. Commit time, not wall-clock time,
 * like SOURCE_DATE_EPOCH in reproducible builds: rebuilding the same commit gives the same labels,
 * so the same image config and digest, and the layer cache stays valid. Undefined (with a note)
 * when there is no .git or the commit is not in it (a shallow clone): no label beats a made-up one.
 */
async function commitTime(project: Project, gitDir: Directory, sha: string): Promise<string | undefined> {
  const omit = (why: string) => {
    progress("publish", `no org.opencontainers.image.created label: ${why}`);
    return undefined;
  };
  if (!(await gitDir.exists(".git"))) return omit("there is no .git to read the commit time from");
  // A checked hex SHA after --end-of-options: a value from with-run --commit-sha is never read as a git option.
  const commit = checkSha("--commit-sha", sha);
  const step = await run(gitContainer(project.config, gitDir), safeGit(["git", "show", "-s", "--format=%ct", "--end-of-options", commit]));
  const seconds = Number(step.stdout.trim());
  if (step.exitCode !== 0 || !Number.isInteger(seconds) || step.stdout.trim() === "") {
    return omit(`commit ${sha.slice(0, 12)} is not in .git (a shallow clone?)`);
  }
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** package.json's repository URL, as a browsable https URL. */
function sourceUrl(project: Project): string | undefined {
  const repo = (project.pkg as { repository?: unknown }).repository;
  const url =
    typeof repo === "string"
      ? repo
      : typeof repo === "object" && repo && "url" in repo && typeof repo.url === "string"
        ? repo.url
        : undefined;
  return url?.replace(/^git\+/, "").replace(/\.git$/, "");
}

/** OCI labels that tie the image to its source; `created` is the commit's time, never the build's. */
export function ociLabels(source: string | undefined, sha: string, created: string | undefined): Record<string, string> {
  return {
    "org.opencontainers.image.revision": sha,
    ...(source ? { "org.opencontainers.image.source": source } : {}),
    ...(created ? { "org.opencontainers.image.created": created } : {}),
  };
}

export interface Published {
  /** repository@sha256:… */
  ref: string;
  tags: string[];
  /** The commit built, and its branch ("" when unknown). */
  sha: string;
  branch: string;
  /** The org.opencontainers.image.created label, when the commit time was known. */
  created: string | undefined;
  platforms: string[];
  version: string;
}

export async function publishImage(project: Project, source: Directory, gitDir: Directory, opts: PublishOptions): Promise<Published> {
  const cfg = project.config.publish;
  const registry = opts.registry || cfg.registry;
  if (!registry)
    throw new Problem("no registry to publish to", "pass --registry=<host>[/namespace], or set publish.registry in shipshape.yaml");
  const repository = opts.repository || cfg.repository || defaultRepository(project.pkg.name);
  const rev = opts.sha ? { sha: opts.sha, branch: opts.branch } : await revision(project, gitDir);
  const tags = imageTags({
    sha: rev.sha,
    branch: rev.branch || undefined,
    defaultBranch: opts.defaultBranch,
    version: opts.version || undefined,
    strategy: cfg.tags,
  });
  const auth = await registryAuth(project.config, registry, opts.creds, { repository, tags });
  progress("publish", `building ${cfg.platforms.join(", ")}`);
  const labels = ociLabels(sourceUrl(project), rev.sha, await commitTime(project, gitDir, rev.sha));
  const variants = await Promise.all(
    cfg.platforms.map(async (p) => Object.entries(labels).reduce((c, [k, v]) => c.withLabel(k, v), await builtImage(project, source, p))),
  );
  let publisher = dag.container();
  if (auth) publisher = publisher.withRegistryAuth(auth.host, auth.username, auth.secret);
  let digestRef = "";
  for (const tag of tags) {
    const address = imageRef(registry, repository, tag);
    progress("publish", address);
    let published: string;
    try {
      published = await waitingFor(
        "publish",
        `the registry to take ${address}`,
        publisher.publish(address, { platformVariants: variants }),
      );
    } catch (e) {
      throw new Problem(
        `the registry refused ${address}: ${describeError(e).cause}`,
        "check the registry credentials and that they may push to this repository",
      );
    }
    // publish answers name:tag@sha256:…; every tag names the same manifest.
    digestRef = assertDigestRef(published).ref;
  }
  return {
    ref: digestRef,
    tags,
    sha: rev.sha,
    branch: rev.branch,
    created: labels["org.opencontainers.image.created"],
    platforms: [...cfg.platforms],
    version: opts.version,
  };
}

export interface ProvenanceRun {
  configPath: string;
  /** URI of who ran the build (e.g. the release workflow at its ref); "" for DEFAULT_BUILDER_ID. */
  builderId: string;
  /** e.g. the CI run URL; "" derives one from the commit and start time. */
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
}

/** The SLSA v1 provenance predicate of a published image, as the JSON `cosign attest --predicate` reads. */
export async function provenanceOf(project: Project, source: Directory, published: Published, run: ProvenanceRun): Promise<string> {
  const dockerfile = await buildContext(project, source).file("Dockerfile").contents();
  const { repository } = assertDigestRef(published.ref);
  const predicate = buildProvenance({
    repository: sourceUrl(project) ?? "",
    ref: published.branch,
    revision: published.sha,
    platforms: published.platforms,
    configPath: run.configPath,
    baseImages: baseImagesOf(dockerfile),
    parameters: { image: repository, ...(published.version ? { version: published.version } : {}) },
    internal: { tags: published.tags, ...(published.created ? { created: published.created } : {}) },
    builderId: run.builderId || DEFAULT_BUILDER_ID,
    invocationId: run.invocationId,
    startedOn: run.startedOn,
    finishedOn: run.finishedOn,
  });
  return JSON.stringify(predicate, null, 2) + "\n";
}
