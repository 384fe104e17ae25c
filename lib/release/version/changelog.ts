/**
 * Release notes in the layout of conventional-changelog-conventionalcommits' writer (what
 * semantic-release's release-notes-generator renders with that preset): breaking notes first,
 * then Features, Bug Fixes, Performance Improvements, Reverts; other types only when they carry a
 * breaking change. Issue references are left as written (no links).
 */
import type { Commit } from "../../../deploy/lib/release/commits/git.js";
import { field } from "../commits/parse.js";
import { analyseCommits, type NextVersion } from "./next.js";

export interface ChangelogOptions {
  /** e.g. https://github.com/acme/shop: links short hashes and the version heading. */
  repoUrl?: string;
  /** Release date, YYYY-MM-DD. */
  date: string;
}

// The preset's DEFAULT_COMMIT_TYPES, in its order (which is also the section order).
const SECTIONS: Array<[type: string, section: string, hidden: boolean]> = [
  ["feat", "Features", false],
  ["feature", "Features", false],
  ["fix", "Bug Fixes", false],
  ["perf", "Performance Improvements", false],
  ["revert", "Reverts", false],
  ["docs", "Documentation", true],
  ["style", "Styles", true],
  ["chore", "Miscellaneous Chores", true],
  ["refactor", "Code Refactoring", true],
  ["test", "Tests", true],
  ["build", "Build System", true],
  ["ci", "Continuous Integration", true],
];
const ORDER = [...new Set(SECTIONS.map(([, section]) => section))];

interface Line {
  scope: string;
  text: string;
  /** What the writer sorts by: scope and subject run together (conventional-changelog-writer's createComparator). */
  key: string;
}

/** "* **scope:** text", continuation lines indented like the preset's list(). */
const item = ({ scope, text }: Line) => `* ${scope ? `**${scope}:** ` : ""}${text.trim().replace(/\n(?=.)/g, "\n  ")}`;
const byKey = (a: Line, b: Line) => a.key.localeCompare(b.key);

/** Empty when there is no release. `commits`: the same list nextVersion was given. */
export function renderChangelog(next: NextVersion, commits: Commit[], opts: ChangelogOptions): string {
  if (!next.next) return "";
  const repo = opts.repoUrl?.replace(/\/+$/, "");
  const { version, gitTag } = next.next;
  // Like release-notes-generator: a compare link only when there is a previous tag.
  const title = repo && next.current ? `[${version}](${repo}/compare/v${next.current}...${gitTag})` : version;
  const notes: Line[] = [];
  const groups = new Map<string, Line[]>();
  for (const { commit, parsed } of analyseCommits(commits).kept) {
    const type = field(parsed, "type");
    const scope = field(parsed, "scope") ?? "";
    const key = parsed.revert ? "revert" : (type ?? "").toLowerCase();
    const entry = SECTIONS.find(([t]) => t === key);
    // Notes sort by title (one title here), then text.
    notes.push(...parsed.notes.map((n) => ({ scope, text: n.text, key: n.text })));
    if (parsed.notes.length === 0 && (!entry || entry[2])) continue;
    const section = entry?.[1] ?? type;
    if (!section) continue;
    const hash = commit.hash.slice(0, 7);
    const link = repo ? `([${hash}](${repo}/commit/${commit.hash}))` : hash;
    const subject = field(parsed, "subject") ?? parsed.header ?? "";
    groups.set(section, [...(groups.get(section) ?? []), { scope, text: `${subject} ${link}`, key: scope + subject }]);
  }
  const rank = (s: string) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length);
  const blocks = [
    `## ${title} (${opts.date})`,
    ...(notes.length ? [`### ⚠ BREAKING CHANGES\n\n${notes.sort(byKey).map(item).join("\n")}`] : []),
    ...[...groups]
      .sort(([a], [b]) => rank(a) - rank(b))
      .map(([section, lines]) => `### ${section}\n\n${lines.sort(byKey).map(item).join("\n")}`),
  ];
  return blocks.join("\n\n") + "\n";
}
