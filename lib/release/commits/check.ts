/**
 * Commit messages checked the way commitlint with @commitlint/config-conventional does (commitlint
 * @1fd1be0): the same parser options, the same default ignores and every rule that config sets
 * to error. Warning-level rules (body/footer-leading-blank) never fail commitlint, so they are left out.
 */
import semver from "semver";
import type { Commit } from "../../../deploy/lib/release/commits/git.js";
import { field, parseForLint } from "./parse.js";

/** config-conventional's type-enum, in the order people usually read it. */
export const COMMIT_TYPES = ["feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert"] as const;

export const EXAMPLE_HEADER = "feat(api): add order export";

export interface CheckOptions {
  /** header-max-length; config-conventional uses 100 (also for body and footer lines). */
  maxLength?: number;
}

export interface CommitOffender {
  /** Short hash, 7 characters. */
  hash: string;
  header: string;
  problems: string[];
}

export interface CommitCheckResult {
  status: "passed" | "failed";
  checked: number;
  ignored: number;
  offenders: CommitOffender[];
  cause: string;
  hint: string;
}

/**
 * @commitlint/is-ignored's default wildcards, verbatim: merges (also "Merge X into Y", merge tags,
 * Azure/Bitbucket "Merged ..."), git's own `Revert "..."`/`Reapply "..."`, amend!/fixup!/squash!
 * and auto merges. "Initial commit" is *not* among them, so it is checked like any other message.
 */
const WILDCARDS = [
  /^((Merge pull request)|(Merge (.*?) into (.*?)|(Merge branch (.*?)))(?:\r?\n)*$)/m,
  /^(Merge tag (.*?))(?:\r?\n)*$/m,
  /^(R|r)evert (.*)/,
  /^(R|r)eapply (.*)/,
  /^(amend|fixup|squash)!/,
  /^(Merged (.*?)(in|into) (.*)|Merged PR (.*): (.*))/,
  /^Merge remote-tracking branch(\s*)(.*)/,
  /^Automatic merge(.*)/,
  /^Auto-merged (.*?) into (.*)/,
];

/** The last default: a release commit whose header is only a version, e.g. "chore(release): 1.2.0 [skip ci]". */
function isSemverHeader(message: string): boolean {
  const stripped = (message.split("\n")[0] ?? "")
    .replace(/^chore(\([^)]+\))?:/, "")
    .replace(/\[(skip|ci)(-|\s)(ci|skip)\]/i, "")
    .replace(/\((skip|ci)(-|\s)(ci|skip)\)/i, "")
    .trim();
  return semver.valid(stripped) !== null;
}

/**
 * commitlint only sees messages; a commit with two parents is a merge whatever its message says
 * (GitHub lets people edit it), and its content is checked through the merged commits.
 */
export function isIgnoredCommit(commit: Commit): boolean {
  const message = commit.message.trimEnd();
  return commit.parents.length > 1 || message.trim() === "" || WILDCARDS.some((w) => w.test(message)) || isSemverHeader(message);
}

/** Lines over the limit; like commitlint's max-line-length, a line holding a URL is exempt. */
function longLines(section: "body" | "footer", text: string | null, max: number): string[] {
  return (text ?? "")
    .split(/\r?\n/)
    .flatMap((line, i) =>
      line.length > max && !/\bhttps?:\/\/\S+/.test(line) ? [`${section} line ${i + 1} is ${line.length} characters, max ${max}`] : [],
    );
}

export function commitProblems(message: string, max = 100): string[] {
  const parsed = parseForLint(message);
  const header = parsed.header ?? "";
  const type = field(parsed, "type");
  const subject = field(parsed, "subject");
  const problems: string[] = [];
  if (!type) problems.push("type may not be empty");
  else {
    if (type !== type.toLowerCase()) problems.push(`type "${type}" must be lower-case`);
    // commitlint reports both for "Feat": the enum is compared as written.
    if (!(COMMIT_TYPES as readonly string[]).includes(type)) problems.push(`type "${type}" is not one of ${COMMIT_TYPES.join(", ")}`);
  }
  if (!subject) problems.push("subject may not be empty");
  // subject-case "never sentence/start/pascal/upper-case" on a subject starting with a letter: all
  // four hold exactly when the first letter is already upper case (quoted words do not count,
  // but a quote cannot come first here). charAt, like commitlint's upperFirst.
  else if (/^[\p{Ll}\p{Lu}\p{Lt}]/iu.test(subject) && subject.charAt(0).toUpperCase() === subject.charAt(0)) {
    problems.push(`subject "${subject}" must start with a lower-case letter`);
  }
  const colon = header.indexOf(":");
  if (!(colon > 0 && colon === header.length - 1) && header.endsWith(".") && !header.endsWith("..."))
    problems.push("subject may not end with a period");
  if (header.length > max) problems.push(`header is ${header.length} characters, max ${max}`);
  if (header !== header.trim()) problems.push("header may not start or end with whitespace");
  return [...problems, ...longLines("body", parsed.body, max), ...longLines("footer", parsed.footer, max)];
}

export function checkCommits(commits: Commit[], opts: CheckOptions = {}): CommitCheckResult {
  const max = opts.maxLength ?? 100;
  const linted = commits.filter((c) => !isIgnoredCommit(c));
  const offenders = linted.flatMap((c) => {
    const problems = commitProblems(c.message, max);
    return problems.length ? [{ hash: c.hash.slice(0, 7), header: c.message.split("\n")[0] ?? "", problems }] : [];
  });
  const ignored = commits.length - linted.length;
  const skipped = ignored ? ` (${ignored} merge/revert/fixup ${ignored === 1 ? "commit" : "commits"} ignored)` : "";
  if (offenders.length === 0) {
    const cause =
      linted.length === 0
        ? `no commits to check${skipped}`
        : `${linted.length} ${linted.length === 1 ? "commit follows" : "commits follow"} Conventional Commits${skipped}`;
    return { status: "passed", checked: linted.length, ignored, offenders, cause, hint: "" };
  }
  return {
    status: "failed",
    checked: linted.length,
    ignored,
    offenders,
    cause: `${offenders.length} of ${linted.length} commits do not follow Conventional Commits`,
    hint: `write headers as type(scope): subject, e.g. \`${EXAMPLE_HEADER}\`, and reword them with git rebase -i`,
  };
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/`/g, "'");

export function renderCommitsMarkdown(result: CommitCheckResult): string {
  const head = `### ${result.status === "passed" ? "✅" : "❌"} Commit messages\n\n${result.cause}`;
  if (result.status === "passed") return `${head}\n`;
  const rows = result.offenders.map((o) => `| \`${o.hash}\` | \`${cell(o.header)}\` | ${o.problems.map(cell).join("<br>")} |`);
  return [head, "", "| Commit | Header | Problems |", "|---|---|---|", ...rows, "", `**Fix:** ${result.hint}`].join("\n") + "\n";
}
