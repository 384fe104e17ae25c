/**
 * The ignore matcher against the cases the engine's patternmatcher documents (patternmatcher_test.go
 * semantics: last match wins, parents match, `**` spans segments) and the patterns Shipshape uses.
 */
import { describe, expect, it } from "vitest";
import { ignored, mayReinclude } from "./ignore.js";

describe("ignored (moby/patternmatcher MatchesOrParentMatches)", () => {
  it("keeps only .git with ['*', '!.git', '!.git/**'] (Shipshape's gitDir)", () => {
    const p = ["*", "!.git", "!.git/**"];
    expect(ignored(".git/HEAD", p)).toBe(false);
    expect(ignored(".git/refs/heads/main", p)).toBe(false);
    expect(ignored("src/index.ts", p)).toBe(true);
    expect(ignored("package.json", p)).toBe(true);
    expect(ignored(".gitignore", p)).toBe(true);
  });

  it("drops .git only when told to: the engine adds no default of its own", () => {
    const without = ["**/node_modules", "**/.turbo", ".shipshape"];
    expect(ignored(".git/HEAD", without)).toBe(false);
    expect(ignored(".git/HEAD", [...without, ".git"])).toBe(true);
    expect(ignored(".gitignore", [...without, ".git"])).toBe(false);
  });

  it("matches a pattern against every parent directory, at any depth for **/", () => {
    expect(ignored("node_modules/a/index.js", ["**/node_modules"])).toBe(true);
    expect(ignored("packages/api/node_modules/a/index.js", ["**/node_modules"])).toBe(true);
    expect(ignored("packages/xnode_modules/a.js", ["**/node_modules"])).toBe(false);
    expect(ignored("a/.shipshape/x", [".shipshape"])).toBe(false);
  });

  it("re-includes with a later negation, and a later pattern excludes again", () => {
    expect(ignored("docs/guide.md", ["*", "!**/*.md"])).toBe(false);
    expect(ignored("docs/guide.txt", ["*", "!**/*.md"])).toBe(true);
    expect(ignored("docs/guide.md", ["*", "!**/*.md", "docs"])).toBe(true);
  });

  it("keeps * and ? within one segment", () => {
    expect(ignored("a/b.log", ["*.log"])).toBe(false);
    expect(ignored("b.log", ["*.log"])).toBe(true);
    expect(ignored("ab/c", ["a?"])).toBe(true);
    expect(ignored("a/b/c", ["a?"])).toBe(false);
  });
});

describe("mayReinclude", () => {
  it("walks an ignored directory only when a negation leads into it", () => {
    expect(mayReinclude("node_modules", ["*", "!.git", "!.git/**"])).toBe(false);
    expect(mayReinclude(".git", ["*", "!.git", "!.git/**"])).toBe(true);
    expect(mayReinclude("docs", ["*", "!**/*.md"])).toBe(true);
    expect(mayReinclude("src", ["**/node_modules"])).toBe(false);
  });
});
