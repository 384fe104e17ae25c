/**
 * Reading release history with real git: the exact argv, pure parsers of what git prints, and
 * git's real stderr mapped to Problems. The stderr texts were captured from git 2.39 on temp
 * repositories (see test/release/commits.test.ts, which runs them again).
 */
import semver from "semver";
import { Problem } from "../../project/problem.js";

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

// Unit separator between fields, record separator after each commit: control characters nobody
// types into a message, whereas newlines and markers like "---" do occur in bodies.
const FIELD = "\x1f";
const RECORD = "\x1e";

/**
 * Commits of a range, newest first (the order semantic-release analyses them in).
 * `--no-show-signature` keeps gpg output out of %B when log.showSignature is set; the trailing
 * `--` makes a missing ref fail as "bad revision" instead of being taken for a path.
 */
export function gitLogCommand(range: string): string[] {
  return ["git", "log", "--no-show-signature", `--format=%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%B${RECORD}`, range, "--"];
}

export function parseGitLog(stdout: string): Commit[] {
  return stdout
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.trim() !== "")
    .map((record) => {
      const [hash = "", parents = "", author = "", email = "", date = "", ...rest] = record.split(FIELD);
      return { hash, parents: parents.split(" ").filter(Boolean), author, email, date, message: rest.join(FIELD).replace(/\n+$/, "") };
    });
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
    if (opts.shallow) return new Problem(`${ref} is not in this shallow clone`, FETCH_ALL);
    // HEAD always resolves once there is a commit, so with "<base>..HEAD" the base is what is missing.
    const [base, head = "HEAD"] = ref.split(/\.{2,3}/);
    const cause =
      head === "HEAD" ? `base ref ${base} does not exist in this clone` : `range ${ref} names a ref that does not exist in this clone`;
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
      `git refuses ${dubious[1]}: it is owned by another user`,
      `run \`git config --global --add safe.directory ${dubious[1]}\` first`,
    );
  }
  if (unknown || /^fatal: your current branch '.*' does not have any commits yet|^fatal: malformed object name HEAD/.test(first)) {
    return new Problem("the repository has no commits yet", "commit something first; release history starts at the first commit");
  }
  return new Problem(
    first.replace(/^fatal: /, "git failed: ") || "git failed without a message",
    "run the same git command locally to see the full error",
  );
}
