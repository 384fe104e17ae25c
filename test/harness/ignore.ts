/**
 * The engine's ignore/exclude semantics for contextual directories (`@argument({ ignore })`) and
 * host uploads: moby/patternmatcher's MatchesOrParentMatches, which BuildKit's fsutil applies to
 * every path of an upload (patternmatcher.go: New, MatchesOrParentMatches, Pattern.compile).
 * Modelled, not copied:
 * - patterns are trimmed and path-cleaned; a leading `!` re-includes;
 * - they are read in order and the last one that matches decides;
 * - a pattern matches a path when it matches the path itself or any of its parent directories;
 * - `*` and `?` stay within one path segment; `**` spans any number of them (even none);
 * - `.git` is dropped only if a pattern says so: the engine adds nothing of its own
 *   (core/modfunc.go, LoadContextDir).
 */
import { posix } from "node:path";

interface Pattern {
  negate: boolean;
  test(path: string): boolean;
}

function compile(raw: string): Pattern | undefined {
  let p = raw.trim();
  if (!p) return undefined;
  p = posix.normalize(p).replace(/\/$/, "");
  const negate = p.startsWith("!");
  if (negate) p = p.slice(1);
  if (!p) throw new Error(`illegal exclusion pattern: "!"`);
  let re = "^";
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === "*" && p[i + 1] === "*") {
      i++;
      if (p[i + 1] === "/") i++;
      // `**` at the end takes everything; elsewhere any number of whole segments.
      re += i + 1 >= p.length ? ".*" : "(.*/)?";
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "\\" && i + 1 < p.length) re += "\\" + p[++i];
    else if (ch === "[" || ch === "]") re += ch;
    else re += /[.+()|{}$^]/.test(ch) ? "\\" + ch : ch;
  }
  const regexp = new RegExp(re + "$");
  // `**/foo` also matches `foo` at the top (patternmatcher's suffix match).
  const suffix = p.startsWith("**/") ? p.slice(3) : undefined;
  return { negate, test: (path) => regexp.test(path) || path === suffix };
}

/** True when `path` (relative, slash-separated) is excluded by `patterns`. */
export function ignored(path: string, patterns: string[]): boolean {
  const file = posix.normalize(path);
  const dirs = posix.dirname(file) === "." ? [] : posix.dirname(file).split("/");
  let excluded = false;
  for (const pattern of patterns.map(compile)) {
    if (!pattern || pattern.negate !== excluded) continue;
    const hit = pattern.test(file) || dirs.some((_, i) => pattern.test(dirs.slice(0, i + 1).join("/")));
    if (hit) excluded = !pattern.negate;
  }
  return excluded;
}

/**
 * Whether a negation could bring back something under `dir` (fsutil walks into an excluded
 * directory only then): a negation's literal prefix, up to its first wildcard, must lead into it.
 */
export function mayReinclude(dir: string, patterns: string[]): boolean {
  return patterns
    .map((p) => p.trim())
    .filter((p) => p.startsWith("!"))
    .some((p) => {
      const prefix = p.slice(1).split(/[*?[\\]/)[0]!;
      return prefix.startsWith(dir + "/") || `${dir}/`.startsWith(prefix);
    });
}
