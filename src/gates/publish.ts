/**
 * publish: the image for every configured platform as one multi-arch manifest, under each tag
 * of the tag strategy; returns the digest reference, which is what gets signed and deployed.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import type { Project } from "../project/load.js";
import { describeError, Problem } from "../project/problem.js";
import { assertDigestRef } from "../supply/signing/commands.js";
import { defaultRepository, imageRef, imageTags } from "../supply/publish/tags.js";
import { gitContainer, safeGit } from "./git.js";
import { builtImage } from "./image.js";
import { progress } from "./progress.js";
import { registryAuth, type RegistryCredentials } from "./registry.js";
import { run } from "./workspace.js";

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
      "no commit SHA for the image tags: there is no .git and --sha was not given",
      "pass --sha=$GITHUB_SHA (and --branch=$GITHUB_REF_NAME)",
    );
  const step = await run(gitContainer(project.config, gitDir), safeGit(["git", "rev-parse", "HEAD", "--abbrev-ref", "HEAD"]));
  const [sha = "", branch = ""] = step.stdout.trim().split("\n");
  if (step.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(sha))
    throw new Problem(`could not read the commit from .git: ${step.stderr.trim().split("\n")[0] ?? ""}`, "pass --sha=$GITHUB_SHA");
  return { sha, branch };
}

/** OCI labels that tie the image to its source; no build timestamp, which would break reproducibility. */
function ociLabels(project: Project, sha: string): Record<string, string> {
  const repo = (project.pkg as { repository?: unknown }).repository;
  const url =
    typeof repo === "string"
      ? repo
      : typeof repo === "object" && repo && "url" in repo && typeof repo.url === "string"
        ? repo.url
        : undefined;
  return {
    "org.opencontainers.image.revision": sha,
    ...(url ? { "org.opencontainers.image.source": url.replace(/^git\+/, "").replace(/\.git$/, "") } : {}),
  };
}

export async function publishImage(
  project: Project,
  source: Directory,
  gitDir: Directory,
  opts: PublishOptions,
): Promise<{ ref: string; tags: string[] }> {
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
  const labels = ociLabels(project, rev.sha);
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
      published = await publisher.publish(address, { platformVariants: variants });
    } catch (e) {
      throw new Problem(
        `the registry refused ${address}: ${describeError(e).cause}`,
        "check the registry credentials and that they may push to this repository",
      );
    }
    // publish answers name:tag@sha256:…; every tag names the same manifest.
    digestRef = assertDigestRef(published).ref;
  }
  return { ref: digestRef, tags };
}
