/**
 * A unified diff (`diff -u` / `git diff` format) of two texts, so a re-run of the generator shows
 * exactly what it would change. Line-based LCS: the files it compares are a few hundred lines at
 * most, and a dependency for this would be one more package in every cold start.
 */

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

const CONTEXT = 3;

/** The edit script from `a` to `b`, as kept, removed and added lines with their line numbers. */
function editScript(a: string[], b: string[]): Op[] {
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", line: a[i++]!, a: i, b: ++j });
    // Removals first on a tie, as diff and git print a changed line: - old, then + new.
    else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ kind: "-", line: a[i++]!, a: i, b: j });
    else ops.push({ kind: "+", line: b[j++]!, a: i, b: j });
  }
  return ops;
}

const lines = (text: string) => (text === "" ? [] : text.replace(/\n$/, "").split("\n"));

/**
 * `--- a/<path>` / `+++ b/<path>` and its hunks; empty when the texts are equal. `before`
 * undefined is a new file (`--- /dev/null`), as git prints it.
 */
export function unifiedDiff(path: string, before: string | undefined, after: string): string {
  if (before === after) return "";
  const ops = editScript(lines(before ?? ""), lines(after));
  const changed = ops.map((op, k) => (op.kind === " " ? -1 : k)).filter((k) => k >= 0);
  const hunks: string[] = [];
  let start = 0;
  while (start < changed.length) {
    // A hunk: changes closer than twice the context share one, with CONTEXT lines around.
    let end = start;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * CONTEXT) end++;
    const from = Math.max(0, changed[start]! - CONTEXT);
    const to = Math.min(ops.length - 1, changed[end]! + CONTEXT);
    const slice = ops.slice(from, to + 1);
    const aLines = slice.filter((o) => o.kind !== "+").length;
    const bLines = slice.filter((o) => o.kind !== "-").length;
    const first = slice[0]!;
    // Line numbers as diff prints them: the hunk's first line in each file (0 for an empty side).
    const aStart = aLines === 0 ? first.a : first.kind === "+" ? first.a + 1 : first.a;
    const bStart = bLines === 0 ? first.b : first.kind === "-" ? first.b + 1 : first.b;
    hunks.push(`@@ -${aStart},${aLines} +${bStart},${bLines} @@`, ...slice.map((o) => `${o.kind}${o.line}`));
    start = end + 1;
  }
  const header = [before === undefined ? "--- /dev/null" : `--- a/${path}`, `+++ b/${path}`];
  return `${[...header, ...hunks].join("\n")}\n`;
}
