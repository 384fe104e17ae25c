/**
 * A declared license string read as an SPDX expression tree whose leaves are SPDX licenses,
 * proprietary (npm's UNLICENSED) or unknown text, then flattened to the alternatives a user can
 * pick from (OR of ANDs).
 */
import spdxCorrect from "spdx-correct";
import parseSpdx from "spdx-expression-parse";

export type Leaf =
  /** `id` is canonical: "GPL-2.0+", "Apache-2.0 WITH LLVM-exception"; `base` drops the exception. */
  { kind: "spdx"; id: string; base: string } | { kind: "proprietary"; text: string } | { kind: "unknown"; text: string };

export type Tree = Leaf | { op: "AND" | "OR"; left: Tree; right: Tree };

// npm: "UNLICENSED" means "no license granted", i.e. proprietary. spdx-correct turns it into the
// Unlicense (public domain), the opposite, so it never reaches spdx-correct.
const UNLICENSED = /^unlicen[sc]ed$/i;
const SEE_LICENSE = /^see licen[sc]e in\b/i;

function fromSpdx(info: parseSpdx.Info): Tree {
  if ("conjunction" in info) {
    return { op: info.conjunction === "and" ? "AND" : "OR", left: fromSpdx(info.left), right: fromSpdx(info.right) };
  }
  const base = `${info.license}${info.plus ? "+" : ""}`;
  return { kind: "spdx", base, id: info.exception ? `${base} WITH ${info.exception}` : base };
}

function tryParse(text: string): Tree | undefined {
  try {
    return fromSpdx(parseSpdx(text));
  } catch {
    return undefined;
  }
}

/** Top-level pieces around upper-case AND/OR (SPDX operators), respecting parentheses. */
function splitTopLevel(text: string): { parts: string[]; ops: ("AND" | "OR")[] } {
  const parts: string[] = [];
  const ops: ("AND" | "OR")[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0) {
      const m = /^\s+(AND|OR)\s+/.exec(text.slice(i));
      if (m && (m[1] === "AND" || m[1] === "OR")) {
        parts.push(text.slice(start, i));
        ops.push(m[1]);
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  parts.push(text.slice(start));
  return { parts, ops };
}

/** SPDX precedence: AND binds tighter than OR. */
function combine(trees: Tree[], ops: ("AND" | "OR")[]): Tree {
  const ors: Tree[] = [];
  let current = trees[0] as Tree;
  ops.forEach((op, i) => {
    const next = trees[i + 1] as Tree;
    if (op === "AND") current = { op: "AND", left: current, right: next };
    else {
      ors.push(current);
      current = next;
    }
  });
  ors.push(current);
  return ors.reduce((left, right) => ({ op: "OR", left, right }));
}

/**
 * Reads a declared license: a valid expression as is; then piece by piece around AND/OR; then
 * spdx-correct for names like "Apache 2" or "MIT License". Whatever is left is an unknown leaf.
 */
export function resolveLicense(raw: string): Tree {
  let text = raw.trim();
  // "(MIT)" but not "(MIT) AND (ISC)", whose inside is unbalanced.
  while (/^\(.*\)$/.test(text) && balanced(text.slice(1, -1))) text = text.slice(1, -1).trim();
  if (UNLICENSED.test(text)) return { kind: "proprietary", text };
  if (text === "" || text === "NONE" || text === "NOASSERTION") return { kind: "unknown", text };
  const parsed = tryParse(text);
  if (parsed) return parsed;
  const { parts, ops } = splitTopLevel(text);
  if (parts.length > 1) return combine(parts.map(resolveLicense), ops);
  // Guarded: spdx-correct would guess "SEE LICENSE IN LICENSE-MIT" to be MIT.
  if (SEE_LICENSE.test(text)) return { kind: "unknown", text };
  const corrected = spdxCorrect(text, { upgrade: true });
  const fixed = corrected === null ? undefined : tryParse(corrected);
  return fixed ?? { kind: "unknown", text };
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const ch of text) {
    if (ch === "(") depth++;
    else if (ch === ")" && --depth < 0) return false;
  }
  return depth === 0;
}

/** Canonical text of a tree, for reports ("Apache 2" shows as "Apache-2.0"). */
export function treeText(tree: Tree, parent?: "AND" | "OR"): string {
  if (!("op" in tree)) return tree.kind === "spdx" ? tree.id : tree.text || "(none)";
  const text = `${treeText(tree.left, tree.op)} ${tree.op} ${treeText(tree.right, tree.op)}`;
  return parent !== undefined && parent !== tree.op ? `(${text})` : text;
}

/** Cap on alternatives: an expression with more is judged unknown rather than blowing up. */
export const MAX_ALTERNATIVES = 64;

/** OR of ANDs: each inner list is one way to comply. Undefined past MAX_ALTERNATIVES. */
export function alternatives(tree: Tree): Leaf[][] | undefined {
  if (!("op" in tree)) return [[tree]];
  const left = alternatives(tree.left);
  const right = alternatives(tree.right);
  if (left === undefined || right === undefined) return undefined;
  const out = tree.op === "OR" ? [...left, ...right] : left.flatMap((l) => right.map((r) => [...l, ...r]));
  return out.length > MAX_ALTERNATIVES ? undefined : out;
}
