/**
 * publish: the image for every configured platform as one multi-arch manifest, under each tag
 * of the tag strategy; returns the digest reference, which is what gets signed and deployed.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import type { Project } from "../project/load.js";
import { Problem } from "../project/problem.js";
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
  const variants = await Promise.all(cfg.platforms.map((p) => builtImage(project, source, p)));
  let publisher = dag.container();
  if (auth) publisher = publisher.withRegistryAuth(auth.host, auth.username, auth.secret);
  let digestRef = "";
  for (const tag of tags) {
    const address = imageRef(registry, repository, tag);
    progress("publish", address);
    const published = await publisher.publish(address, { platformVariants: variants });
    // publish answers name:tag@sha256:…; every tag names the same manifest.
    digestRef = assertDigestRef(published).ref;
  }
  return { ref: digestRef, tags };
}
