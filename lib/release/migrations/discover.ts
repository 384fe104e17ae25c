/**
 * Which migration files to check: all that match the globs, or only those a pull request changed.
 */
import picomatch from "picomatch";
import { Problem, quoted } from "../../../deploy/src/project/problem.js";
import { checkRefArgument } from "../../../deploy/lib/release/commits/git.js";

const normalize = (file: string) => file.replace(/\\/g, "/").replace(/^(\.\/)+/, "");

/** Files matching `globs` (a leading "!" excludes), restricted to `changed` when given; sorted, unique. */
export function selectMigrations(allFiles: readonly string[], globs: readonly string[], changed?: readonly string[]): string[] {
  const include = globs.filter((g) => !g.startsWith("!"));
  const ignore = globs.filter((g) => g.startsWith("!")).map((g) => g.slice(1));
  if (include.length === 0) return [];
  const isMatch = picomatch(include, { ignore });
  const only = changed === undefined ? undefined : new Set(changed.map(normalize));
  const picked = new Set(allFiles.map(normalize).filter((f) => isMatch(f) && (only === undefined || only.has(f))));
  // Code-point order: the order migration tools apply files in, whatever the locale.
  return [...picked].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Files changed on HEAD since it forked from `baseRef`:
 * - three dots diff against the merge base, so what the base branch gained meanwhile is not ours;
 * - ACMRT keeps added, copied, modified, renamed (new path) and type-changed files; deleted ones
 *   have nothing to lint;
 * - -z: paths NUL-terminated and unquoted (git otherwise octal-escapes non-ASCII names);
 * - --end-of-options and the trailing "--": the ref is never an option nor a path.
 * The gate only calls this with a --base given ("" checks every migration); the ref is checked
 * like the commit check's (empty, option-like, a range, spaces or control characters).
 */
export function changedFilesCommand(baseRef: string): string[] {
  checkRefArgument("--base", baseRef);
  return ["git", "diff", "--name-only", "-z", "--diff-filter=ACMRT", "--end-of-options", `${baseRef}...HEAD`, "--"];
}

export function parseChangedFiles(stdout: string): string[] {
  return stdout
    .split("\0")
    .filter((f) => f !== "")
    .map(normalize);
}

/**
 * "origin/main" -> fetch of main into refs/remotes/origin/main; anything else is fetched as named.
 * Only a ref of plain characters is pasted into the command: a hint is copied into shells.
 */
function fetchCommand(baseRef: string): string {
  if (!/^[\w./-]+$/.test(baseRef)) return "git fetch --no-tags origin <the base branch>";
  const remote = /^([\w.-]+)\/(.+)$/.exec(baseRef);
  return remote ? `git fetch --no-tags ${remote[1]} ${remote[2]}:refs/remotes/${baseRef}` : `git fetch --no-tags origin ${baseRef}`;
}

const FULL_HISTORY = "actions/checkout with fetch-depth: 0";

/**
 * The user-facing Problem for a failed changedFilesCommand, from git's stderr (git 2.39, C locale):
 * - ref unknown: "fatal: bad revision 'origin/main...HEAD'" (with the trailing --; without it,
 *   "fatal: ambiguous argument ...: unknown revision or path not in the working tree");
 * - shallow clone that has the ref but not the fork point: "fatal: origin/main...HEAD: no merge base".
 *   Fetching the base alone does not help there (its history stops at the shallow boundary);
 * - no repository: git diff falls back to --no-index and says "error: Could not access 'main...HEAD'".
 */
export function changedFilesProblem(stderr: string, baseRef: string): Problem {
  const first = stderr.trim().split("\n")[0] ?? "";
  if (/no merge base/i.test(stderr)) {
    return new Problem(
      `cannot tell which migrations changed: no common history with --base ${quoted(baseRef)} (shallow clone)`,
      `fetch the full history: git fetch --unshallow origin (in GitHub Actions: ${FULL_HISTORY})`,
    );
  }
  if (/bad revision|unknown revision|ambiguous argument/i.test(stderr)) {
    return new Problem(
      `cannot tell which migrations changed: --base ${quoted(baseRef)} does not exist in this clone`,
      `fetch it: ${fetchCommand(baseRef)}, and in a shallow clone git fetch --unshallow origin (in GitHub Actions: ${FULL_HISTORY})`,
    );
  }
  if (/could not access|not a git repository/i.test(stderr)) {
    return new Problem(
      "cannot tell which migrations changed: the source has no .git directory",
      "pass the whole checkout, .git included, or check all migrations by not setting a base ref",
    );
  }
  return new Problem(
    `cannot tell which migrations changed: ${first || "git diff failed"}`,
    "check that the base ref exists and the clone has its history",
  );
}
