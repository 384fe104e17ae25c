/**
 * Next version and changelog from real git histories. Expected bumps are semantic-release's: each
 * case was also run through @semantic-release/commit-analyzer 13.0.1 (preset conventionalcommits)
 * and the changelog through conventional-changelog-writer 9.3.0 with the conventionalcommits 10.4.1
 * preset, which gave the same results.
 */
import { describe, expect, it } from "vitest";
import { describeError } from "../../deploy/src/project/problem.js";
import {
  type Commit,
  gitLogCommand,
  lastReleaseTagCommand,
  parseGitLog,
  parseLastReleaseTag,
} from "../../deploy/lib/release/commits/git.js";
import { renderChangelog } from "../../lib/release/version/changelog.js";
import { type NextVersion, imageTags, nextVersion } from "../../lib/release/version/next.js";
import { GitRepo, run } from "../helpers/git-repo.js";

const short = (hash: string) => hash.slice(0, 7);

/** What the release step does: last release tag, commits since, next version. */
function release(repo: GitRepo): { commits: Commit[]; next: NextVersion } {
  const last = parseLastReleaseTag(run(lastReleaseTagCommand(), repo.dir).stdout);
  const log = run(gitLogCommand(last ? `${last.tag}..HEAD` : "HEAD"), repo.dir);
  if (log.status !== 0) throw new Error(log.stderr);
  const commits = parseGitLog(log.stdout);
  return { commits, next: nextVersion(last?.tag, commits) };
}

/** A repository whose last release is `tag`, then these commits; returns their hashes too. */
function releasedAt(tag: string, messages: string[]): { repo: GitRepo; hashes: string[] } {
  const repo = GitRepo.init();
  repo.commit("chore: init");
  repo.tag(tag);
  return { repo, hashes: messages.map((m) => repo.commit(m)) };
}

describe("nextVersion", () => {
  it("first release with no tags is 1.0.0", () => {
    const repo = GitRepo.init();
    repo.commit("chore: init");
    const fix = repo.commit("fix: first bug");
    expect(release(repo).next).toEqual({
      current: null,
      next: { version: "1.0.0", gitTag: "v1.0.0", imageTags: ["1.0.0", "1.0", "1"] },
      bump: "patch",
      reasons: [`patch: fix: first bug (${short(fix)})`],
    });
  });

  it("0.x: a feature is a minor, a breaking change goes to 1.0.0 (no 0.x special case)", () => {
    const feat = releasedAt("v0.3.1", ["feat: add search"]);
    expect(release(feat.repo).next).toEqual({
      current: "0.3.1",
      next: { version: "0.4.0", gitTag: "v0.4.0", imageTags: ["0.4.0", "0.4"] },
      bump: "minor",
      reasons: [`minor: feat: add search (${short(feat.hashes[0]!)})`],
    });
    const breaking = releasedAt("v0.3.1", ["feat(api)!: drop v1 endpoints"]);
    expect(release(breaking.repo).next).toEqual({
      current: "0.3.1",
      next: { version: "1.0.0", gitTag: "v1.0.0", imageTags: ["1.0.0", "1.0", "1"] },
      bump: "major",
      reasons: [`major: feat(api)!: drop v1 endpoints (${short(breaking.hashes[0]!)})`],
    });
  });

  it("breaking changes via !, BREAKING CHANGE: and BREAKING-CHANGE: footers", () => {
    for (const message of [
      "refactor!: async cart",
      "fix: totals\n\nBREAKING CHANGE: totals are cents",
      "perf: cache\n\nBREAKING-CHANGE: needs redis",
    ]) {
      const { repo, hashes } = releasedAt("v1.3.0", ["fix: small", message]);
      expect(release(repo).next).toEqual({
        current: "1.3.0",
        next: { version: "2.0.0", gitTag: "v2.0.0", imageTags: ["2.0.0", "2.0", "2"] },
        bump: "major",
        reasons: [`major: ${message.split("\n")[0]} (${short(hashes[1]!)})`, `patch: fix: small (${short(hashes[0]!)})`],
      });
    }
  });

  it("fix and perf are patches; chore, docs and the other types release nothing", () => {
    const { repo, hashes } = releasedAt("v1.3.0", ["perf: faster checkout", "docs: readme"]);
    expect(release(repo).next).toMatchObject({
      next: { version: "1.3.1" },
      bump: "patch",
      reasons: [`patch: perf: faster checkout (${short(hashes[0]!)})`],
    });
    const quiet = releasedAt("v1.3.0", [
      "chore: deps",
      "docs: readme",
      "style: format",
      "refactor: split",
      "test: more",
      "build: esm",
      "ci: cache",
    ]);
    expect(release(quiet.repo).next).toEqual({ current: "1.3.0", next: null, bump: "none", reasons: [] });
  });

  it("a feature reverted in the same range cancels out; a revert of a released feature is a patch", () => {
    const { repo, hashes } = releasedAt("v1.3.0", ["feat: add search", "docs: readme"]);
    const revert = repo.revert(hashes[0]!);
    expect(release(repo).next).toEqual({
      current: "1.3.0",
      next: null,
      bump: "none",
      reasons: [`none: feat: add search (${short(hashes[0]!)}) is reverted by ${short(revert)}`],
    });

    const old = GitRepo.init();
    const feat = old.commit("feat: add search");
    old.tag("v1.3.0");
    const undo = old.revert(feat);
    expect(release(old).next).toMatchObject({
      next: { version: "1.3.1" },
      bump: "patch",
      reasons: [`patch: Revert "feat: add search" (${short(undo)})`],
    });
  });

  it("merged branches count through their commits; the merge commit itself releases nothing", () => {
    const { repo } = releasedAt("v1.3.0", []);
    const merge = repo.mergeBranch("topic", ["feat(ui): dark mode"]);
    const feat = repo.git("rev-parse", "topic");
    const { commits, next } = release(repo);
    expect(commits.map((c) => c.hash)).toEqual([merge, feat]);
    expect(next).toMatchObject({ next: { version: "1.4.0" }, bump: "minor", reasons: [`minor: feat(ui): dark mode (${short(feat)})`] });
  });

  it("a pre-release tag is not the base; passing one, or a non-semver tag, is a Problem", () => {
    const { repo, hashes } = releasedAt("v1.3.0", ["feat: add search"]);
    repo.tag("v1.4.0-rc.1");
    repo.commit("fix: typo");
    const { commits, next } = release(repo);
    expect(commits).toHaveLength(2);
    expect(next).toMatchObject({ current: "1.3.0", next: { version: "1.4.0" }, bump: "minor" });
    expect(next.reasons[1]).toBe(`minor: feat: add search (${short(hashes[0]!)})`);
    const problem = (tag: string) => {
      try {
        nextVersion(tag, commits);
        return undefined;
      } catch (e) {
        return describeError(e);
      }
    };
    expect(problem("v1.4.0-rc.1")).toEqual({
      cause: 'last release tag "v1.4.0-rc.1" is a pre-release',
      hint: "pass the last release tag; parseLastReleaseTag skips pre-releases",
    });
    expect(problem("latest")).toEqual({
      cause: 'last release tag "latest" is not a semantic version',
      hint: "tag releases as v<major>.<minor>.<patch>, e.g. v1.4.0",
    });
  });

  it("image tags: full, minor and major, without a bare 0 for 0.x", () => {
    expect(imageTags("1.4.0")).toEqual(["1.4.0", "1.4", "1"]);
    expect(imageTags("0.4.2")).toEqual(["0.4.2", "0.4"]);
  });
});

describe("renderChangelog", () => {
  it("groups like the conventionalcommits preset, with links when the repository URL is known", () => {
    const { repo, hashes } = releasedAt("v1.3.0", [
      "feat(api): add order export",
      "fix: zeta",
      "fix(db): close pool on shutdown",
      "feat(api)!: drop v1 endpoints",
      "perf: cache prices\n\nBREAKING CHANGE: needs node 22\nand redis 7",
      "chore!: drop node 18",
      "docs: readme",
      "feat: add search",
    ]);
    repo.revert(hashes[7]!);
    const { commits, next } = release(repo);
    const [feat, zeta, pool, drop, perf, chore] = hashes.map((h) => short(h));
    const link = (h: string | undefined) => `([${h}](https://github.com/acme/shop/commit/${hashes.find((x) => x.startsWith(h ?? "-"))}))`;
    expect(renderChangelog(next, commits, { repoUrl: "https://github.com/acme/shop/", date: "2026-01-02" })).toBe(
      [
        "## [2.0.0](https://github.com/acme/shop/compare/v1.3.0...v2.0.0) (2026-01-02)",
        "",
        "### ⚠ BREAKING CHANGES",
        "",
        "* drop node 18",
        "* **api:** drop v1 endpoints",
        "* needs node 22",
        "  and redis 7",
        "",
        "### Features",
        "",
        `* **api:** add order export ${link(feat)}`,
        `* **api:** drop v1 endpoints ${link(drop)}`,
        "",
        "### Bug Fixes",
        "",
        `* **db:** close pool on shutdown ${link(pool)}`,
        `* zeta ${link(zeta)}`,
        "",
        "### Performance Improvements",
        "",
        `* cache prices ${link(perf)}`,
        "",
        "### Miscellaneous Chores",
        "",
        `* drop node 18 ${link(chore)}`,
        "",
      ].join("\n"),
    );
  });

  it("plain hashes without a repository URL, a Reverts section, nothing when there is no release", () => {
    const old = GitRepo.init();
    const feat = old.commit("feat: add search");
    old.tag("v1.3.0");
    const undo = old.revert(feat);
    const { commits, next } = release(old);
    expect(renderChangelog(next, commits, { date: "2026-01-02" })).toBe(
      `## 1.3.1 (2026-01-02)\n\n### Reverts\n\n* Revert "feat: add search" ${short(undo)}\n`,
    );
    const quiet = releasedAt("v1.3.0", ["docs: readme"]);
    const none = release(quiet.repo);
    expect(renderChangelog(none.next, none.commits, { date: "2026-01-02" })).toBe("");
  });
});
