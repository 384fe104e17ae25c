/** History reading and the commit check, against real git repositories built in temp folders. */
import { mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeError } from "../../deploy/src/project/problem.js";
import { checkCommits, renderCommitsMarkdown } from "../../lib/release/commits/check.js";
import {
  gitLogCommand,
  gitProblem,
  isShallowCommand,
  lastReleaseTagCommand,
  parseGitLog,
  parseIsShallow,
  parseLastReleaseTag,
  shallowProblem,
} from "../../deploy/lib/release/commits/git.js";
import { GitRepo, run } from "../helpers/git-repo.js";

const short = (hash: string) => hash.slice(0, 7);
const TYPES = "feat, fix, docs, style, refactor, perf, test, build, ci, chore, revert";
const FETCH_ALL = "fetch the full history: actions/checkout with `fetch-depth: 0` (or `git fetch --unshallow --tags`)";

describe("reading history", () => {
  it("parses every field of git log over a range, merges and multi-line messages included", () => {
    const repo = GitRepo.init();
    const base = repo.commit("chore: init");
    repo.tag("v1.0.0");
    const feat = repo.commit("feat(api): add order export\n\nBody line.\n\nCloses #12");
    const merge = repo.mergeBranch("topic", ["fix(db): close pool"]);
    const fix = repo.git("rev-parse", "topic");
    const log = run(gitLogCommand("v1.0.0..HEAD"), repo.dir);
    expect(log.status).toBe(0);
    const who = { author: "Ada Lovelace", email: "ada@example.com" };
    expect(parseGitLog(log.stdout)).toEqual([
      { hash: merge, parents: [feat, fix], ...who, date: "2026-01-01T10:04:00+00:00", message: "Merge branch 'topic'" },
      { hash: fix, parents: [feat], ...who, date: "2026-01-01T10:03:00+00:00", message: "fix(db): close pool" },
      {
        hash: feat,
        parents: [base],
        ...who,
        date: "2026-01-01T10:02:00+00:00",
        message: "feat(api): add order export\n\nBody line.\n\nCloses #12",
      },
    ]);
    expect(parseGitLog("")).toEqual([]);
  });

  it("takes the highest v-semver release tag reachable from HEAD, where git's own picks go wrong", () => {
    const repo = GitRepo.init();
    repo.commit("feat: one");
    repo.tag("v0.9.0");
    repo.commit("feat: two");
    repo.tag("v1.0.0");
    repo.tag("release-7");
    repo.commit("feat: three");
    repo.tag("v1.1.0-rc.1");
    repo.git("checkout", "--quiet", "-b", "other");
    repo.commit("feat: elsewhere");
    repo.tag("v3.0.0");
    repo.git("checkout", "--quiet", "main");
    const tags = run(lastReleaseTagCommand(), repo.dir);
    expect(tags.stdout).toBe("release-7\nv0.9.0\nv1.0.0\nv1.1.0-rc.1\n");
    expect(parseLastReleaseTag(tags.stdout)).toEqual({ tag: "v1.0.0", version: "1.0.0" });
    // Both alternatives pick the release candidate.
    expect(run(["git", "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"], repo.dir).stdout).toBe("v1.1.0-rc.1\n");
    expect(run(["git", "tag", "--merged", "HEAD", "--sort=-v:refname"], repo.dir).stdout).toBe("v1.1.0-rc.1\nv1.0.0\nv0.9.0\nrelease-7\n");
  });

  it("finds no release tag in a repository without tags", () => {
    const repo = GitRepo.init();
    repo.commit("feat: one");
    const tags = run(lastReleaseTagCommand(), repo.dir);
    expect([tags.status, tags.stdout]).toEqual([0, ""]);
    expect(parseLastReleaseTag(tags.stdout)).toBeUndefined();
  });
});

describe("git's real errors as Problems", () => {
  it("a base ref that does not exist", () => {
    const repo = GitRepo.init();
    repo.commit("feat: one");
    const log = run(gitLogCommand("v9.9.9..HEAD"), repo.dir);
    expect([log.status, log.stderr]).toEqual([128, "fatal: bad revision 'v9.9.9..HEAD'\n"]);
    const hint = "check the branch or tag name; a remote branch needs its remote prefix (origin/main) and must have been fetched";
    expect(describeError(gitProblem(log.stderr))).toEqual({ cause: 'base ref "v9.9.9" does not exist in this clone', hint });
    // Without the trailing "--" git words it differently; same Problem.
    const bare = run(["git", "log", "origin/nope..HEAD"], repo.dir);
    expect(bare.stderr.split("\n")[0]).toBe(
      "fatal: ambiguous argument 'origin/nope..HEAD': unknown revision or path not in the working tree.",
    );
    expect(describeError(gitProblem(bare.stderr))).toEqual({ cause: 'base ref "origin/nope" does not exist in this clone', hint });
    const head = run(gitLogCommand("main..topic"), repo.dir);
    expect(describeError(gitProblem(head.stderr)).cause).toBe('range "main..topic" names a ref that does not exist in this clone');
  });

  it("a shallow clone: tags vanish silently and the base is cut off", () => {
    const repo = GitRepo.init();
    repo.commit("feat: one");
    repo.tag("v1.0.0");
    repo.commit("fix: two");
    const clone = repo.shallowClone();
    const shallow = run(isShallowCommand(), clone);
    expect(shallow.stdout).toBe("true\n");
    expect(parseIsShallow(shallow.stdout)).toBe(true);
    expect(parseIsShallow(run(isShallowCommand(), repo.dir).stdout)).toBe(false);
    // No error, no tag: versioning would restart at 1.0.0, hence shallowProblem up front.
    expect(run(lastReleaseTagCommand(), clone)).toEqual({ status: 0, stdout: "", stderr: "" });
    expect(describeError(shallowProblem())).toEqual({
      cause: "the repository is a shallow clone, so older commits and release tags are missing",
      hint: FETCH_ALL,
    });
    const log = run(gitLogCommand("HEAD~1..HEAD"), clone);
    expect([log.status, log.stderr]).toEqual([128, "fatal: bad revision 'HEAD~1..HEAD'\n"]);
    expect(describeError(gitProblem(log.stderr, { shallow: true }))).toEqual({
      cause: '"HEAD~1..HEAD" is not in this shallow clone',
      hint: FETCH_ALL,
    });
  });

  it("not a git repository, dubious ownership, no commits yet", () => {
    const plain = mkdtempSync(join(tmpdir(), "shipshape-nogit-"));
    const outside = run(gitLogCommand("HEAD"), plain, { GIT_CEILING_DIRECTORIES: dirname(plain) });
    expect([outside.status, outside.stderr]).toEqual([128, "fatal: not a git repository (or any of the parent directories): .git\n"]);
    expect(describeError(gitProblem(outside.stderr))).toEqual({
      cause: "the source directory is not a git repository",
      hint: "pass the repository root with its .git directory (do not exclude .git from the source)",
    });

    const repo = GitRepo.init();
    const dir = realpathSync(repo.dir);
    // git's own test switch for a repository owned by someone else (a bind mount in a container).
    const foreign = run(gitLogCommand("HEAD"), repo.dir, { GIT_TEST_ASSUME_DIFFERENT_OWNER: "1" });
    expect(foreign.stderr.split("\n")[0]).toBe(`fatal: detected dubious ownership in repository at '${dir}'`);
    expect(describeError(gitProblem(foreign.stderr))).toEqual({
      cause: `git refuses "${dir}": it is owned by another user`,
      hint: `run \`git config --global --add safe.directory ${dir}\` first`,
    });

    // No commits yet: each command words it its own way.
    const noCommits = {
      cause: "the repository has no commits yet",
      hint: "commit something first; release history starts at the first commit",
    };
    const empty = run(gitLogCommand("HEAD"), repo.dir);
    expect(empty.stderr).toBe("fatal: bad revision 'HEAD'\n");
    expect(describeError(gitProblem(empty.stderr))).toEqual(noCommits);
    const tags = run(lastReleaseTagCommand(), repo.dir);
    expect(tags.stderr).toBe("fatal: malformed object name HEAD\n");
    expect(describeError(gitProblem(tags.stderr))).toEqual(noCommits);
    const bare = run(["git", "log"], repo.dir);
    expect(bare.stderr).toBe("fatal: your current branch 'main' does not have any commits yet\n");
    expect(describeError(gitProblem(bare.stderr))).toEqual(noCommits);
  });
});

describe("checkCommits", () => {
  it("lists every malformed message with its exact problems and ignores what commitlint ignores", () => {
    const repo = GitRepo.init();
    repo.commit("chore: init");
    repo.tag("v1.0.0");
    const feat = repo.commit("feat(api): add order export");
    repo.mergeBranch("topic", ["fix(db): close pool on shutdown", "Feat: Add login"]);
    repo.mergeBranch("edited", ["docs: readme"], "merged the edited branch."); // 2 parents: ignored whatever it says
    repo.commit("feature: add search");
    repo.commit("update readme");
    repo.commit("fix: handle empty cart.");
    repo.commit(`feat: ${"x".repeat(106)}`);
    repo.commit("feat(api)!: drop v1 endpoints");
    repo.commit("perf: cache prices\n\nBREAKING CHANGE: needs node 22");
    repo.commit(`docs: guide\n\n${"y".repeat(101)}\nsee https://example.com/${"z".repeat(100)}`);
    repo.revert(feat);
    repo.commit("fixup! feat: add search");
    repo.commit("chore(release): 1.1.0 [skip ci]");
    repo.commit("Initial commit");
    const commits = parseGitLog(run(gitLogCommand("v1.0.0..HEAD"), repo.dir).stdout);
    const hash = (header: string) => short(commits.find((c) => c.message.startsWith(header))?.hash ?? "");
    const result = checkCommits(commits);
    expect(result).toEqual({
      status: "failed",
      checked: 12,
      ignored: 5,
      offenders: [
        { hash: hash("Initial commit"), header: "Initial commit", problems: ["type may not be empty", "subject may not be empty"] },
        { hash: hash("docs: guide"), header: "docs: guide", problems: ["body line 1 is 101 characters, max 100"] },
        { hash: hash("feat: xxx"), header: `feat: ${"x".repeat(106)}`, problems: ["header is 112 characters, max 100"] },
        { hash: hash("fix: handle"), header: "fix: handle empty cart.", problems: ["subject may not end with a period"] },
        { hash: hash("update readme"), header: "update readme", problems: ["type may not be empty", "subject may not be empty"] },
        { hash: hash("feature:"), header: "feature: add search", problems: [`type "feature" is not one of ${TYPES}`] },
        {
          hash: hash("Feat:"),
          header: "Feat: Add login",
          problems: [
            'type "Feat" must be lower-case',
            `type "Feat" is not one of ${TYPES}`,
            'subject "Add login" must start with a lower-case letter',
          ],
        },
      ],
      cause: "7 of 12 commits do not follow Conventional Commits",
      hint: "write headers as type(scope): subject, e.g. `feat(api): add order export`, and reword them with git rebase -i",
    });
    expect(renderCommitsMarkdown({ ...result, offenders: result.offenders.slice(5) })).toBe(
      [
        "### ❌ Commit messages",
        "",
        "7 of 12 commits do not follow Conventional Commits",
        "",
        "| Commit | Header | Problems |",
        "|---|---|---|",
        `| \`${hash("feature:")}\` | \`feature: add search\` | type "feature" is not one of ${TYPES} |`,
        `| \`${hash("Feat:")}\` | \`Feat: Add login\` | type "Feat" must be lower-case<br>type "Feat" is not one of ${TYPES}<br>subject "Add login" must start with a lower-case letter |`,
        "",
        "**Fix:** write headers as type(scope): subject, e.g. `feat(api): add order export`, and reword them with git rebase -i",
        "",
      ].join("\n"),
    );
  });

  it("passes a clean history, breaking markers and git's revert message included", () => {
    const repo = GitRepo.init();
    const feat = repo.commit("feat(api): add order export");
    repo.commit("fix!: reject negative totals");
    repo.commit("refactor: split cart\n\nBREAKING CHANGE: Cart.total() is now async");
    repo.mergeBranch("topic", ["test: cover refunds"]);
    repo.revert(feat);
    const result = checkCommits(parseGitLog(run(gitLogCommand("HEAD"), repo.dir).stdout));
    expect(result).toEqual({
      status: "passed",
      checked: 4,
      ignored: 2,
      offenders: [],
      cause: "4 commits follow Conventional Commits (2 merge/revert/fixup commits ignored)",
      hint: "",
    });
    expect(renderCommitsMarkdown(result)).toBe(
      "### ✅ Commit messages\n\n4 commits follow Conventional Commits (2 merge/revert/fixup commits ignored)\n",
    );
    expect(checkCommits([]).cause).toBe("no commits to check");
  });
});
