/** Image tags per build, and the `publish:` config section. */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configErrorMap, formatZodIssues } from "../../deploy/lib/config/errors.js";
import { Problem } from "../../deploy/src/project/problem.js";
import {
  PublishConfigSchema,
  branchTag,
  defaultRepository,
  floatingTagFilters,
  imageRef,
  imageTags,
  isExactTag,
  type TagStrategy,
} from "../../deploy/lib/supply/publish/tags.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ALL: TagStrategy = { sha: true, branch: true, semver: true, latest: true };
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function issues(schema: z.ZodType, input: unknown): string[] {
  const r = schema.safeParse(input, { error: configErrorMap });
  return r.success ? [] : formatZodIssues(r.error, schema);
}

describe("imageTags", () => {
  it("gives sha, branch and latest on the default branch", () => {
    expect(imageTags({ sha: SHA, branch: "main", defaultBranch: "main", strategy: ALL })).toEqual(["sha-0123456", "branch-main", "latest"]);
  });

  it("gives exact, minor and major tags for a release, exact first", () => {
    expect(imageTags({ sha: SHA, branch: "main", defaultBranch: "main", version: "v1.4.0", strategy: ALL })).toEqual([
      "1.4.0",
      "1.4",
      "1",
      "sha-0123456",
      "branch-main",
      "latest",
    ]);
  });

  it("never tags the major alone for 0.x", () => {
    expect(imageTags({ sha: SHA, defaultBranch: "main", version: "0.4.2", strategy: ALL })).toEqual(["0.4.2", "0.4", "sha-0123456"]);
  });

  it("gives a pre-release only its exact tag: no floating tags, not even latest", () => {
    expect(imageTags({ sha: SHA, branch: "main", defaultBranch: "main", version: "1.0.0-rc.1", strategy: ALL })).toEqual([
      "1.0.0-rc.1",
      "sha-0123456",
      "branch-main",
    ]);
  });

  it("keeps build metadata with _ since + is not allowed in tags", () => {
    expect(imageTags({ sha: SHA, defaultBranch: "main", version: "1.2.3+build.7", strategy: { ...ALL, sha: false } })).toEqual([
      "1.2.3_build.7",
      "1.2",
      "1",
    ]);
  });

  it("gives latest only on the default branch", () => {
    expect(imageTags({ sha: SHA, branch: "feature/x", defaultBranch: "main", strategy: ALL })).toEqual(["sha-0123456", "branch-feature-x"]);
    expect(imageTags({ sha: SHA, branch: "refs/heads/main", defaultBranch: "main", strategy: ALL })).toContain("latest");
  });

  it("gives a detached HEAD neither a branch tag nor latest", () => {
    for (const branch of [undefined, "", "HEAD"]) {
      expect(imageTags({ sha: SHA, branch, defaultBranch: "HEAD", strategy: ALL })).toEqual(["sha-0123456"]);
    }
  });

  it("honours the toggles", () => {
    expect(
      imageTags({ sha: SHA, branch: "main", defaultBranch: "main", version: "2.0.0", strategy: { ...ALL, semver: false, latest: false } }),
    ).toEqual(["sha-0123456", "branch-main"]);
  });

  it("refuses bad input and an empty tag list with a Problem", () => {
    expect(() => imageTags({ sha: "not-a-sha", defaultBranch: "main", strategy: ALL })).toThrow(/is not a git commit SHA/);
    expect(() => imageTags({ sha: SHA, defaultBranch: "main", version: "1.4", strategy: ALL })).toThrow(/"1.4" is not semver/);
    const none = () => imageTags({ sha: SHA, defaultBranch: "main", strategy: { ...ALL, sha: false } });
    expect(none).toThrow(Problem);
    expect(none).toThrow(/no tag to publish/);
  });

  it("lowercases the commit SHA", () => {
    expect(imageTags({ sha: SHA.toUpperCase(), defaultBranch: "main", strategy: ALL })).toEqual(["sha-0123456"]);
  });
});

describe("branchTag", () => {
  it("slugs slashes, uppercase and unicode into the docker tag charset", () => {
    expect(branchTag("feature/JIRA-123_Add.Login")).toBe("branch-feature-jira-123_add.login");
    expect(branchTag("Déjà-vu/über")).toBe("branch-deja-vu-uber");
    expect(branchTag("--.weird..//name..")).toBe("branch-weird..-name");
    expect(branchTag("fix/🔥-hot")).toBe("branch-fix-hot");
  });

  it("hashes a name with nothing left to slug, so it stays distinct", () => {
    const a = branchTag("日本語");
    expect(a).toMatch(/^branch-[0-9a-f]{8}$/);
    expect(branchTag("中文")).not.toBe(a);
  });

  it("cuts 200-char names to 128 and keeps them apart by hash", () => {
    const long = "feature/" + "a".repeat(200);
    const tag = branchTag(long);
    expect(tag.length).toBeLessThanOrEqual(128);
    expect(tag).toMatch(DOCKER_TAG);
    expect(tag).toMatch(/^branch-feature-a+-[0-9a-f]{8}$/);
    expect(branchTag(long + "b")).not.toBe(tag);
  });

  it("always yields a valid docker tag", () => {
    for (const name of ["a", "A/B/C", "x".repeat(500), "...", "-", "émoji😀/ñ", "release/1.0", "  spaces  here "]) {
      expect(branchTag(name)).toMatch(DOCKER_TAG);
    }
  });
});

describe("tag classes", () => {
  it("tells exact tags from floating ones", () => {
    expect(["sha-0123456", "1.4.0", "1.0.0-rc.1", "1.2.3_build.7"].every(isExactTag)).toBe(true);
    expect(["1.4", "1", "latest", "branch-main"].some(isExactTag)).toBe(false);
  });

  it("leaves latest and branch tags movable, within ECR's filter charset", () => {
    expect(floatingTagFilters(ALL)).toEqual(["latest", "branch-*"]);
    expect(floatingTagFilters({ ...ALL, latest: false, branch: false })).toEqual([]);
    for (const f of floatingTagFilters(ALL)) expect(f).toMatch(/^[0-9a-zA-Z._*-]{1,128}$/);
  });
});

describe("repository and refs", () => {
  it("derives the repository from package.json's name", () => {
    expect(defaultRepository("@Acme/API")).toBe("acme/api");
    expect(defaultRepository("my service")).toBe("my-service");
    expect(() => defaultRepository(undefined)).toThrow(/no repository name/);
    expect(() => defaultRepository("@@@")).toThrow(/makes no valid repository name/);
  });

  it("joins registry, repository and tag", () => {
    expect(imageRef("ghcr.io/org/", "api", "sha-0123456")).toBe("ghcr.io/org/api:sha-0123456");
  });
});

describe("PublishConfigSchema", () => {
  it("defaults to every tag, an immutable scanned ECR repository and two platforms", () => {
    expect(PublishConfigSchema.parse({})).toEqual({
      tags: { sha: true, branch: true, semver: true, latest: true },
      ecr: { createRepository: true, immutableTags: true, scanOnPush: true },
      platforms: ["linux/amd64", "linux/arm64"],
    });
  });

  it("accepts ECR and ghcr registries and arm variants", () => {
    const cfg = PublishConfigSchema.parse({
      registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      repository: "team/api",
      platforms: ["linux/arm/v7", "linux/amd64"],
    });
    expect(cfg.registry).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com");
    expect(issues(PublishConfigSchema, { registry: "ghcr.io/org", repository: "my_api.v2" })).toEqual([]);
    expect(issues(PublishConfigSchema, { registry: "localhost:5000" })).toEqual([]);
  });

  it("explains bad values in plain words", () => {
    expect(issues(PublishConfigSchema, { registry: "https://ghcr.io/org" })).toEqual([
      'registry: expected a registry host like "123456789012.dkr.ecr.us-east-1.amazonaws.com" or "ghcr.io/org" (lowercase, no https://, no tag), got "https://ghcr.io/org"',
    ]);
    expect(issues(PublishConfigSchema, { repository: "Team/API" })).toEqual([
      'repository: expected a lowercase repository name like "api" or "team/api", got "Team/API"',
    ]);
    expect(issues(PublishConfigSchema, { platforms: ["linux/x86_64"] })).toEqual([
      'platforms[0]: expected a platform like "linux/amd64" or "linux/arm/v7", got "linux/x86_64"',
    ]);
    expect(issues(PublishConfigSchema, { platforms: [] })).toEqual(["platforms: expected at least 1, got []"]);
    expect(issues(PublishConfigSchema, { platforms: ["linux/amd64", "linux/amd64"] })).toEqual([
      "platforms: expected each platform once, got a duplicate",
    ]);
    expect(issues(PublishConfigSchema, { tags: { latset: false } })).toEqual(['tags.latset: unknown key; did you mean "latest"?']);
    expect(issues(PublishConfigSchema, { ecr: { immutableTags: "yes" } })).toEqual([
      'ecr.immutableTags: expected true or false, got "yes"',
    ]);
  });

  it("describes every field, for the JSON Schema", () => {
    type Node = { description?: string; properties?: Record<string, Node>; items?: Node };
    const missing: string[] = [];
    const walk = (node: Node, path: string): void => {
      if (!node.description) missing.push(path);
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}.${key}`);
      if (node.items) walk(node.items, `${path}[]`);
    };
    walk(z.toJSONSchema(PublishConfigSchema, { target: "draft-2020-12", io: "input" }) as Node, "publish");
    expect(missing).toEqual([]);
  });
});
