/**
 * The next version from commits since the last release tag, as semantic-release computes it
 * (sources read at semantic-release@8d905a5 and @semantic-release/commit-analyzer@b281a84):
 *  - commit-analyzer's default releaseRules: a commit with any note (BREAKING CHANGE footer, or
 *    the `!` header the parser turns into one) is major; feat minor; fix, perf and a revert patch;
 *    JSHint-style FEAT/FIX count too. The highest release type of all commits wins.
 *  - reverted commits: conventional-commits-filter drops a commit *and* its revert when both are
 *    in the range; a revert of something released earlier stays and is a patch.
 *  - lib/get-next-version.js: `semver.inc(lastRelease.version, type)` with no 0.x special case,
 *    so 0.3.1 + breaking is 1.0.0 and 0.3.1 + feat is 0.4.0; no release yet means FIRST_RELEASE,
 *    "1.0.0" (lib/definitions/constants.js).
 * Messages are parsed with the conventionalcommits preset's options (see ../commits/parse.ts).
 * Pre-release channels are not modelled: parseLastReleaseTag skips pre-release tags, and a
 * pre-release passed here is refused.
 */
import semver from "semver";
import { Problem } from "../../../deploy/src/project/problem.js";
import type { Commit } from "../../../deploy/lib/release/commits/git.js";
import { field, parseForRelease, type ParsedMessage } from "../commits/parse.js";

export type Bump = "major" | "minor" | "patch" | "none";

export interface ReleaseVersion {
  version: string;
  gitTag: string;
  /** Image tags, most specific first; never "latest" (that is a publishing decision). */
  imageTags: string[];
}

export interface NextVersion {
  /** Version of the last release tag, or null before the first release. */
  current: string | null;
  next: ReleaseVersion | null;
  bump: Bump;
  /** Why: one line per commit that counts or was cancelled by a revert, newest first. */
  reasons: string[];
}

export interface AnalysedCommit {
  commit: Commit;
  parsed: ParsedMessage;
}

export const FIRST_RELEASE = "1.0.0";
const RANK: Bump[] = ["none", "patch", "minor", "major"];
const short = (hash: string) => hash.slice(0, 7);

/** commit-analyzer's DEFAULT_RELEASE_RULES that can match Conventional Commits (emoji/tag rules cannot). */
export function releaseType(parsed: ParsedMessage): Bump {
  const type = field(parsed, "type");
  if (parsed.notes.length > 0) return "major";
  if (type === "feat" || type === "FEAT") return "minor";
  if (parsed.revert || type === "fix" || type === "perf" || type === "FIX") return "patch";
  return "none";
}

/**
 * Parsed commits without empty messages and without commit/revert pairs of the same range, in the
 * order given (git log order, newest first, is what the filter expects: the revert comes first).
 * Mirrors conventional-commits-filter's RevertedCommitsFilter: a revert matches the commit whose
 * header and full hash it names.
 */
export function analyseCommits(commits: Commit[]): { kept: AnalysedCommit[]; cancelled: Array<[AnalysedCommit, AnalysedCommit]> } {
  const kept: AnalysedCommit[] = [];
  const cancelled: Array<[AnalysedCommit, AnalysedCommit]> = [];
  const held: AnalysedCommit[] = [];
  let pendingReverts = 0;
  for (const commit of commits.filter((c) => c.message.trim() !== "")) {
    const item = { commit, parsed: parseForRelease(commit.message) };
    const header = (item.parsed.header ?? "").trim();
    const revert = held.find(
      ({ parsed: { revert: r } }) => r && (r.header ?? "").trim() === header && (r.hash ?? "").trim() === commit.hash,
    );
    if (revert) {
      held.splice(held.indexOf(revert), 1);
      pendingReverts--;
      cancelled.push([item, revert]);
    } else if (item.parsed.revert) {
      held.push(item);
      pendingReverts++;
    } else if (pendingReverts > 0) held.push(item);
    else kept.push(...held.splice(0), item);
  }
  return { kept: [...kept, ...held], cancelled };
}

/** 1.4.0 → 1.4.0, 1.4, 1. For 0.x no bare "0": docker/metadata-action's "Major version zero" advice. */
export function imageTags(version: string): string[] {
  const v = semver.parse(version);
  if (!v) throw new Problem(`"${version}" is not a semantic version`, "pass a version like 1.4.0");
  return [v.version, `${v.major}.${v.minor}`, ...(v.major > 0 ? [`${v.major}`] : [])];
}

export function releaseVersion(version: string): ReleaseVersion {
  return { version, gitTag: `v${version}`, imageTags: imageTags(version) };
}

/** `commits`: the range since `lastTag` (gitLogCommand's order, newest first). */
export function nextVersion(lastTag: string | undefined, commits: Commit[]): NextVersion {
  const current = lastTag === undefined ? null : semver.valid(semver.clean(lastTag));
  if (lastTag !== undefined && current === null) {
    throw new Problem(`last release tag "${lastTag}" is not a semantic version`, "tag releases as v<major>.<minor>.<patch>, e.g. v1.4.0");
  }
  if (current && semver.prerelease(current)) {
    throw new Problem(
      `last release tag "${lastTag}" is a pre-release`,
      "pass the last release tag; parseLastReleaseTag skips pre-releases",
    );
  }
  const { kept, cancelled } = analyseCommits(commits);
  let bump: Bump = "none";
  const reasons: string[] = [];
  for (const { commit, parsed } of kept) {
    const type = releaseType(parsed);
    if (type === "none") continue;
    reasons.push(`${type}: ${parsed.header ?? ""} (${short(commit.hash)})`);
    if (RANK.indexOf(type) > RANK.indexOf(bump)) bump = type;
  }
  for (const [reverted, revert] of cancelled) {
    reasons.push(`none: ${reverted.parsed.header ?? ""} (${short(reverted.commit.hash)}) is reverted by ${short(revert.commit.hash)}`);
  }
  if (bump === "none") return { current, next: null, bump, reasons };
  const version = current ? semver.inc(current, bump) : FIRST_RELEASE;
  if (!version) throw new Problem(`cannot increment ${current} by ${bump}`, "check the last release tag");
  return { current, next: releaseVersion(version), bump, reasons };
}
