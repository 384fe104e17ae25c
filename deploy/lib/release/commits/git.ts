/**
 * Reading release history with real git: the exact argv, pure parsers of what git prints, and
 * git's real stderr mapped to Problems. The stderr texts were captured from git 2.39 on temp
 * repositories (see test/release/commits.test.ts, which runs them again).
 */
import semver from "semver";
import { badArgument, printable, printableLine, Problem, quoted } from "../../../src/project/problem.js";

export interface Commit {
  hash: string;
  parents: string[];
  author: string;
  email: string;
  /** Author date, ISO 8601 with offset. */
  date: string;
  /** Full message (%B) without trailing newlines. */
  message: string;
}

const LOG_FIELDS = ["%H", "%P", "%an", "%ae", "%aI", "%B"];

/**
 * Commits of a range, newest first (the order semantic-release analyses them in).
 * - `-z` ends each commit with NUL and `%x00` separates its fields: git cuts a message at its first
 *   NUL, so no message, however it was made, can forge a field or a commit;
 * - `--no-show-signature` keeps gpg output out of %B when log.showSignature is set;
 * - `--end-of-options` keeps a range starting with "-" from being read as an option
 *   (`--output=<file>` would write a file), and the trailing `--` makes a missing ref fail as
 *   "bad revision" instead of being taken for a path.
 */
export function gitLogCommand(range: string): string[] {
  return ["git", "log", "--no-show-signature", "-z", `--format=${LOG_FIELDS.join("%x00")}`, "--end-of-options", range, "--"];
}

/**
 * gitLogCommand's output. Everything a committer wrote is made printable here, where it enters,
 * so no check, changelog or report downstream can pass a terminal escape on.
 */
export function parseGitLog(stdout: string): Commit[] {
  const parts = stdout.split("\0");
  if (parts.at(-1) === "") parts.pop();
  if (parts.length % LOG_FIELDS.length !== 0) {
    throw new Problem(
      `git log printed ${parts.length} fields, not a multiple of ${LOG_FIELDS.length}: the history cannot be read reliably`,
      "run `git log -z` locally; a git older than 2.24 or a log.* setting may change its output",
    );
  }
  const commits: Commit[] = [];
  for (let i = 0; i < parts.length; i += LOG_FIELDS.length) {
    const [hash = "", parents = "", author = "", email = "", date = "", message = ""] = parts.slice(i, i + LOG_FIELDS.length);
    commits.push({
      hash: hash.replace(/^\n/, ""),
      parents: parents.split(" ").filter(Boolean),
      author: printableLine(author),
      email: printableLine(email),
      date,
      message: printable(message).replace(/\n+$/, ""),
    });
  }
  return commits;
}

export type RefArgument = "--base" | "--head";

const REF_EXAMPLE = "origin/main (or the pull request's base SHA)";
// git allows longer refs, but nothing a CI passes comes near this; it bounds what is echoed.
const MAX_REF = 256;
const ZERO_SHA = /^0{40}$|^0{64}$/;

/**
 * What can be told about a ref argument before git sees it. "" is what an unset
 * $GITHUB_BASE_REF gives on a push: a check over it would pass having checked nothing.
 */
export function checkRefArgument(arg: RefArgument, value: string): string {
  if (value.trim() === "") {
    throw arg === "--base"
      ? badArgument.empty(arg, "which commits to check (an empty $GITHUB_BASE_REF on a push?)", REF_EXAMPLE)
      : badArgument.empty(arg, "where the range of commits ends", "HEAD");
  }
  if (value.length > MAX_REF) throw badArgument.tooLong(arg, value, MAX_REF);
  if (value.startsWith("-")) throw badArgument.optionLike(arg, value, REF_EXAMPLE);
  // git's check-ref-format refuses these too; here they are a typo or an injection, not a ref.
  if (/[\s\p{Cc}]/u.test(value)) throw badArgument.unprintable(arg, value, REF_EXAMPLE);
  if (value.includes("..")) {
    throw new Problem(`${arg} ${quoted(value)} is a range, not one ref`, "pass the start of the range as --base and its end as --head");
  }
  if (ZERO_SHA.test(value)) {
    throw new Problem(
      `${arg} is the all-zero SHA, which GitHub sends when a push creates the branch: there is no earlier commit to compare with`,
      "compare with the default branch instead, e.g. --base origin/main",
    );
  }
  return value;
}

/** A full or abbreviated commit SHA (what a CI passes as github.sha): hex only, so never an option. */
export function checkSha(arg: string, value: string): string {
  if (!/^[0-9a-f]{7,64}$/i.test(value)) {
    throw new Problem(`${arg} ${quoted(value)} is not a commit SHA`, "pass 7 to 64 hex digits, e.g. the CI's commit SHA (github.sha)");
  }
  return value.toLowerCase();
}

/**
 * Resolves a checked ref to the commit it names; prints the SHA. `^{commit}` refuses a tree or
 * blob, `--quiet` makes "no such commit" exit 1 without a message (other failures exit 128).
 */
export function verifyCommitCommand(ref: string): string[] {
  return ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`];
}

export function noCommitsProblem(): Problem {
  return new Problem("the repository has no commits yet", "commit something first; release history starts at the first commit");
}

/** verifyCommitCommand exited 1: the argument names nothing in this clone. */
export function unknownRefProblem(arg: RefArgument, value: string, shallow: boolean): Problem {
  if (shallow) return new Problem(`${arg} ${quoted(value)} is not in this shallow clone`, FETCH_ALL);
  return new Problem(
    `${arg} ${quoted(value)} is not a commit in this clone`,
    "check the branch, tag or SHA; a remote branch needs its remote prefix (origin/main) and must have been fetched",
  );
}

/**
 * Every tag reachable from HEAD, as semantic-release lists them (`git tag --merged <branch>`).
 * The choice is made in parseLastReleaseTag, not by git: `git describe --match "v[0-9]*"` returns
 * the *nearest* tag, so a v2.0.0-rc.1 made after v1.4.0 would win, and it fails outright when
 * there is no tag; `--sort=-v:refname` puts v1.0.0-rc.1 *above* v1.0.0 unless versionsort.suffix
 * is configured. semver ordering in JS has neither problem.
 */
export function lastReleaseTagCommand(): string[] {
  return ["git", "tag", "--merged", "HEAD"];
}

export interface ReleaseTag {
  tag: string;
  version: string;
}

/**
 * The highest `v<semver>` release tag, as semantic-release's get-last-release picks it with the
 * default tagFormat "v${version}": pre-release tags are skipped (they only count on a pre-release
 * branch, which Shipshape does not model), the rest ordered by semver, not by date.
 */
export function parseLastReleaseTag(stdout: string): ReleaseTag | undefined {
  const releases = stdout
    .split("\n")
    .map((tag) => tag.trim())
    .filter((tag) => tag.startsWith("v"))
    .flatMap((tag) => {
      const version = semver.valid(semver.clean(tag.slice(1)));
      return version && !semver.prerelease(version) ? [{ tag, version }] : [];
    });
  return releases.sort((a, b) => semver.rcompare(a.version, b.version))[0];
}

/** Prints "true" or "false"; run it before anything that needs history. */
export function isShallowCommand(): string[] {
  return ["git", "rev-parse", "--is-shallow-repository"];
}

export function parseIsShallow(stdout: string): boolean {
  return stdout.trim() === "true";
}

const FETCH_ALL = "fetch the full history: actions/checkout with `fetch-depth: 0` (or `git fetch --unshallow --tags`)";

/**
 * A shallow clone has neither the older commits nor their tags, and `git tag --merged HEAD` then
 * prints nothing without failing: a release would silently restart at 1.0.0. So versioning
 * refuses a shallow clone up front.
 */
export function shallowProblem(): Problem {
  return new Problem("the repository is a shallow clone, so older commits and release tags are missing", FETCH_ALL);
}

/**
 * git's stderr (exit 128) as a Problem. `shallow` comes from isShallowCommand: a base ref that is
 * unknown in a shallow clone was most likely cut off, not misspelled.
 */
export function gitProblem(stderr: string, opts: { shallow?: boolean } = {}): Problem {
  const first = stderr.split("\n").find((line) => line.startsWith("fatal: ")) ?? stderr.trim().split("\n")[0] ?? "";
  const unknown = /^fatal: (?:bad revision|ambiguous argument) '([^']*)'/.exec(first);
  // `git log HEAD --` in a repository without commits says "bad revision 'HEAD'".
  if (unknown && unknown[1] !== "HEAD") {
    const ref = unknown[1] ?? "";
    if (opts.shallow) return new Problem(`${quoted(ref)} is not in this shallow clone`, FETCH_ALL);
    // HEAD always resolves once there is a commit, so with "<base>..HEAD" the base is what is missing.
    const [base, head = "HEAD"] = ref.split(/\.{2,3}/);
    const cause =
      head === "HEAD"
        ? `base ref ${quoted(base ?? "")} does not exist in this clone`
        : `range ${quoted(ref)} names a ref that does not exist in this clone`;
    return new Problem(
      cause,
      "check the branch or tag name; a remote branch needs its remote prefix (origin/main) and must have been fetched",
    );
  }
  if (first.startsWith("fatal: not a git repository")) {
    return new Problem(
      "the source directory is not a git repository",
      "pass the repository root with its .git directory (do not exclude .git from the source)",
    );
  }
  const dubious = /^fatal: detected dubious ownership in repository at '([^']*)'/.exec(first);
  if (dubious) {
    return new Problem(
      `git refuses ${quoted(dubious[1] ?? "")}: it is owned by another user`,
      `run \`git config --global --add safe.directory ${dubious[1]}\` first`,
    );
  }
  if (unknown || /^fatal: your current branch '.*' does not have any commits yet|^fatal: malformed object name HEAD/.test(first)) {
    return noCommitsProblem();
  }
  return new Problem(
    first.replace(/^fatal: /, "git failed: ") || "git failed without a message",
    "run the same git command locally to see the full error",
  );
}
