/**
 * Release hygiene from git history, read in a git container: the conventional-commit check of a
 * range, and the next semantic version with its changelog since the last release tag.
 */
import { dag, type Directory } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../config/schema.js";
import { plural } from "../report/outcome.js";
import { checkCommits, renderCommitsMarkdown } from "../release/commits/check.js";
import {
  checkRefArgument,
  gitLogCommand,
  gitProblem,
  isShallowCommand,
  lastReleaseTagCommand,
  parseGitLog,
  parseIsShallow,
  parseLastReleaseTag,
  noCommitsProblem,
  shallowProblem,
  unknownRefProblem,
  verifyCommitCommand,
  type Commit,
  type RefArgument,
} from "../release/commits/git.js";
import { quoted } from "../project/problem.js";
import { renderChangelog } from "../release/version/changelog.js";
import { nextVersion, type NextVersion } from "../release/version/next.js";
import type { Verdict } from "./gate.js";
import { gitContainer, safeGit } from "./git.js";
import { progress } from "./progress.js";
import { run } from "./workspace.js";

async function git(config: ShipshapeConfig, source: Directory, cmd: string[]) {
  return run(gitContainer(config, source), safeGit(cmd));
}

async function log(config: ShipshapeConfig, source: Directory, range: string, shallow: boolean): Promise<Commit[]> {
  progress("history", `git log ${range}`);
  const step = await git(config, source, gitLogCommand(range));
  if (step.exitCode !== 0) throw gitProblem(step.stderr, { shallow });
  return parseGitLog(step.stdout);
}

async function isShallow(config: ShipshapeConfig, source: Directory): Promise<boolean> {
  const step = await git(config, source, isShallowCommand());
  if (step.exitCode !== 0) throw gitProblem(step.stderr);
  return parseIsShallow(step.stdout);
}

/** The commit a checked ref argument names, or the Problem that names the argument. */
async function resolveCommit(config: ShipshapeConfig, source: Directory, arg: RefArgument, ref: string, shallow: boolean): Promise<string> {
  const step = await git(config, source, verifyCommitCommand(ref));
  const sha = step.stdout.trim();
  if (step.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  if (step.exitCode !== 1) throw gitProblem(step.stderr, { shallow });
  // HEAD names nothing only before the first commit.
  throw arg === "--head" && ref === "HEAD" ? noCommitsProblem() : unknownRefProblem(arg, ref, shallow);
}

/**
 * A range that cannot be told (empty, option-like or unknown --base / --head) is an ERROR: it must
 * never pass having checked nothing. A range that is really empty passes, saying so.
 */
export async function commitsCheck(
  config: ShipshapeConfig,
  source: Directory,
  base: string,
  head: string,
): Promise<{ verdict: Verdict; files: Directory }> {
  checkRefArgument("--base", base);
  checkRefArgument("--head", head);
  const shallow = await isShallow(config, source);
  const headSha = await resolveCommit(config, source, "--head", head, shallow);
  const baseSha = await resolveCommit(config, source, "--base", base, shallow);
  const commits = baseSha === headSha ? [] : await log(config, source, `${base}..${head}`, shallow);
  const r = checkCommits(commits);
  const nothing = `nothing changed: ${baseSha === headSha ? "--base and --head are the same commit" : "--head is already in --base"} (${quoted(base)}..${quoted(head)})`;
  const summary =
    commits.length === 0
      ? `0 commits checked — ${nothing}`
      : `${plural(r.checked, "commit")} checked${r.ignored ? `, ${r.ignored} ignored (merges, reverts, fixups)` : ""}`;
  return {
    verdict: {
      status: r.status,
      summary: r.status === "passed" ? summary : `${summary} — ${r.cause}`,
      cause: r.status === "passed" ? "" : r.cause,
      hint: r.status === "passed" ? "" : r.hint,
      metrics: { checked: r.checked, ignored: r.ignored, offenders: r.offenders.length },
      findings: r.offenders.slice(0, 20).map((o) => `${o.hash} "${o.header}": ${o.problems.join("; ")}`),
      log: "",
    },
    files: dag.directory().withNewFile("commits.md", renderCommitsMarkdown(r)),
  };
}

export interface VersionResult {
  next: NextVersion;
  changelog: string;
}

/** A shallow clone would hide the tags and restart versioning at 1.0.0: refuse it instead. */
export async function computeVersion(config: ShipshapeConfig, source: Directory, repoUrl: string, today: Date): Promise<VersionResult> {
  if (await isShallow(config, source)) throw shallowProblem();
  const tags = await git(config, source, lastReleaseTagCommand());
  if (tags.exitCode !== 0) throw gitProblem(tags.stderr);
  const last = parseLastReleaseTag(tags.stdout);
  const commits = await log(config, source, last ? `${last.tag}..HEAD` : "HEAD", false);
  const next = nextVersion(last?.tag, commits);
  const changelog = renderChangelog(next, commits, { repoUrl: repoUrl || undefined, date: today.toISOString().slice(0, 10) });
  return { next, changelog };
}
