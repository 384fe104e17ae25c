/**
 * Which tags an image is published under, and the `publish:` section of shipshape.yaml.
 *
 * Exact tags (`sha-<7>`, `1.4.0`) name one build forever; floating tags (`branch-*`, `1.4`, `1`,
 * `latest`) move with every build. The split matters on registries with immutable tags, which
 * refuse to move a floating tag (see `floatingTagFilters` and ecr.ts `tagsRefusedBy`).
 */
import { createHash } from "node:crypto";
import semver from "semver";
import { z } from "zod";
import { expecting } from "../../config/errors.js";
import { Problem } from "../../../src/project/problem.js";

// --- config --------------------------------------------------------------------------------

const toggle = (what: string) => z.boolean().default(true).describe(what);

export const TagStrategySchema = z
  .strictObject({
    sha: toggle("Tag sha-<first 7 hex of the commit>: one exact tag per build, what deploys should use."),
    branch: toggle("Tag branch-<branch name, sanitised>: moves with the branch; skipped on a detached HEAD."),
    semver: toggle("With a release version, tag 1.4.0, 1.4 and 1 (not 0 alone for 0.x); pre-releases get only their exact tag."),
    latest: toggle("Tag latest, from the default branch only, and never for a pre-release version."),
  })
  .describe("Which tags each published image gets.");
export type TagStrategy = z.infer<typeof TagStrategySchema>;

/** os/arch[/variant]; the lists are closed so the common typo linux/x86_64 fails here, not in the engine. */
export const PLATFORM_PATTERN = /^(linux|windows)\/(amd64|arm64|arm|386|ppc64le|s390x|riscv64|mips64le|loong64)(\/(v[2-8]))?$/;

export const EcrPublishSchema = z
  .strictObject({
    createRepository: z.boolean().default(true).describe("Create the ECR repository on first publish when it does not exist."),
    immutableTags: z
      .boolean()
      .default(true)
      .describe(
        "Create the repository with immutable tags (floating tags stay movable); an existing mutable one is reported, not changed.",
      ),
    scanOnPush: z.boolean().default(true).describe("Create the repository with ECR basic scanning on push."),
  })
  .describe("Settings used when the registry is Amazon ECR; ignored for other registries.");

/** The OCI distribution spec's repository name grammar (ECR accepts the same). */
export const REPOSITORY_PATTERN = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

export const PublishConfigSchema = z
  .strictObject({
    registry: expecting(
      z
        .string()
        .regex(
          /^(?:localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)(?::\d{1,5})?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/,
        )
        .describe("Registry host, optionally with a namespace: 123456789012.dkr.ecr.us-east-1.amazonaws.com or ghcr.io/org."),
      'a registry host like "123456789012.dkr.ecr.us-east-1.amazonaws.com" or "ghcr.io/org" (lowercase, no https://, no tag)',
    ).optional(),
    repository: expecting(
      z
        .string()
        .max(256)
        .regex(REPOSITORY_PATTERN)
        .describe("Repository (image name) inside the registry, e.g. team/api; unset uses the package.json name without its @."),
      'a lowercase repository name like "api" or "team/api"',
    ).optional(),
    tags: TagStrategySchema.prefault({}),
    ecr: EcrPublishSchema.prefault({}),
    platforms: z
      .array(expecting(z.string().regex(PLATFORM_PATTERN).describe("A platform."), 'a platform like "linux/amd64" or "linux/arm/v7"'))
      .min(1)
      .refine((list) => new Set(list).size === list.length, "expected each platform once, got a duplicate")
      .default(["linux/amd64", "linux/arm64"])
      .describe("Platforms of the multi-arch image; each is built separately (non-native ones under emulation, which is slower)."),
  })
  .describe("Where and how the image is published.");
export type PublishConfig = z.infer<typeof PublishConfigSchema>;

// --- tags ----------------------------------------------------------------------------------

const MAX_TAG = 128;
const BRANCH_PREFIX = "branch-";

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/**
 * `branch-<slug>`: lowercase ASCII, anything else becomes `-`. Over-long names are cut and end
 * in a hash of the full name, so two long branches sharing a prefix still get distinct tags.
 */
export function branchTag(branch: string): string {
  const slug = branch
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents off: é -> e
    .toLowerCase()
    .replace(/[^a-z0-9_.]+/g, "-")
    .replace(/^[-_.]+|[-_.]+$/g, "");
  const room = MAX_TAG - BRANCH_PREFIX.length;
  if (slug === "") return `${BRANCH_PREFIX}${shortHash(branch)}`; // e.g. a branch named in CJK only
  if (slug.length <= room) return `${BRANCH_PREFIX}${slug}`;
  return `${BRANCH_PREFIX}${slug.slice(0, room - 9).replace(/[-_.]+$/, "")}-${shortHash(branch)}`;
}

export interface TagInput {
  sha: string;
  /** Undefined, "" or "HEAD" for a detached checkout; refs/heads/ is stripped. */
  branch?: string;
  defaultBranch: string;
  /** Release version (a leading v is fine); floating semver tags only for non-pre-releases. */
  version?: string;
  strategy: TagStrategy;
}

export function imageTags({ sha, branch, defaultBranch, version, strategy }: TagInput): string[] {
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) {
    throw new Problem(`"${sha.slice(0, 80)}" is not a git commit SHA`, "pass the full commit hash (git rev-parse HEAD)");
  }
  const name = branch?.replace(/^refs\/heads\//, "");
  const onBranch = name !== undefined && name !== "" && name !== "HEAD";
  const tags: string[] = [];
  const parsed = version === undefined ? undefined : semver.parse(version.trim().replace(/^v/, ""));
  if (parsed === null) throw new Problem(`version "${version}" is not semver`, 'use a version like "1.4.0" or "1.0.0-rc.1"');
  const prerelease = (parsed?.prerelease.length ?? 0) > 0;
  if (parsed && strategy.semver) {
    // `+` is not allowed in tags; `_` keeps build metadata apart from a pre-release's `-`.
    tags.push((parsed.build.length > 0 ? `${parsed.version}_${parsed.build.join(".")}` : parsed.version).slice(0, MAX_TAG));
    if (!prerelease) {
      tags.push(`${parsed.major}.${parsed.minor}`);
      if (parsed.major > 0) tags.push(String(parsed.major)); // 0.x promises no compatibility between minors
    }
  }
  if (strategy.sha) tags.push(`sha-${sha.slice(0, 7).toLowerCase()}`);
  if (strategy.branch && onBranch) tags.push(branchTag(name));
  if (strategy.latest && onBranch && name === defaultBranch && !prerelease) tags.push("latest");
  const unique = [...new Set(tags)];
  if (unique.length === 0) {
    throw new Problem("no tag to publish the image under", "enable publish.tags.sha, or build from a branch or with a version");
  }
  return unique;
}

/** Tags that name one build forever; everything else is expected to move. */
export function isExactTag(tag: string): boolean {
  return /^sha-[0-9a-f]{7}$/.test(tag) || /^\d+\.\d+\.\d+([-_].+)?$/.test(tag);
}

/**
 * Wildcards (ECR exclusion filters, at most 5) for the floating tags a strategy makes. `1.4`
 * and `1` cannot be told from `1.4.0` by a wildcard, so those stay immutable: ecr.ts reports them.
 */
export function floatingTagFilters(strategy: TagStrategy): string[] {
  return [...(strategy.latest ? ["latest"] : []), ...(strategy.branch ? [`${BRANCH_PREFIX}*`] : [])];
}

/** Repository from package.json's name: `@acme/api` becomes `acme/api`. */
export function defaultRepository(packageName: string | undefined): string {
  const name = packageName
    ?.replace(/^@/, "")
    .toLowerCase()
    .replace(/[^a-z0-9/._-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (!name || !REPOSITORY_PATTERN.test(name)) {
    const cause = packageName ? `package.json name "${packageName}" makes no valid repository name` : "no repository name for the image";
    throw new Problem(cause, 'set publish.repository in shipshape.yaml, e.g. "team/api"');
  }
  return name;
}

export function imageRef(registry: string, repository: string, tag: string): string {
  return `${registry.replace(/\/+$/, "")}/${repository}:${tag}`;
}
