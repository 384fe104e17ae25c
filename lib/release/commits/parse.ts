/**
 * Conventional Commits parsing shared by the commit check and the version bump, with the parser
 * options of the conventional-changelog-conventionalcommits preset: the preset commitlint's
 * config-conventional uses, and the one semantic-release needs (`preset: "conventionalcommits"`)
 * to understand `feat!:`. semantic-release's *default* preset, angular, has no `!` in its header
 * pattern and only knows the `BREAKING CHANGE` keyword; since the check accepts `!`, versioning
 * must honour it too.
 */
import { CommitParser, type Commit as ParsedMessage, type ParserOptions } from "conventional-commits-parser";

export type { ParsedMessage };

// Copied from conventional-changelog-conventionalcommits src/parser.js and constants.js
// (conventional-changelog@340ad83): the preset package itself is not a dependency.
const PRESET: ParserOptions = {
  headerPattern: /^(\w*)(?:\((.*)\))?!?: (.*)$/,
  breakingHeaderPattern: /^(\w*)(?:\((.*)\))?!: (.*)$/,
  headerCorrespondence: ["type", "scope", "subject"],
  noteKeywords: ["BREAKING CHANGE", "BREAKING-CHANGE"],
  revertPattern: /^(?:Revert|revert:)\s"?([\s\S]+?)"?\s*This reverts commit (\w*)\./i,
  revertCorrespondence: ["header", "hash"],
  issuePrefixes: ["#"],
};

// commitlint's @commitlint/parse turns the `-field-` meta syntax off (fieldPattern: null);
// semantic-release keeps the parser default. An explicit undefined overrides that default too.
const lintParser = new CommitParser({ ...PRESET, fieldPattern: undefined });
const releaseParser = new CommitParser(PRESET);

export function parseForLint(message: string): ParsedMessage {
  return lintParser.parse(message);
}

export function parseForRelease(message: string): ParsedMessage {
  return releaseParser.parse(message);
}

/** The header's type/scope/subject as strings or undefined (the parser's fields are loosely typed). */
export function field(parsed: ParsedMessage, name: "type" | "scope" | "subject"): string | undefined {
  const value = parsed[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A breaking change: a `!` header or a BREAKING CHANGE / BREAKING-CHANGE footer (any case, as the parser matches). */
export function breakingNotes(parsed: ParsedMessage): string[] {
  return parsed.notes.filter((n) => /^BREAKING[ -]CHANGE$/i.test(n.title)).map((n) => n.text);
}
