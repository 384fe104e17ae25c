/**
 * Every cause Shipshape can print with its fix, read from the source with the TypeScript compiler:
 * each `new Problem(cause, hint)`, each `new ConfigError([cause], hint)` and each `new Error("…\nhint: …")`.
 * A template's `${…}` parts (a path, a count, a tool's message) are rendered as `…`, so
 * docs/TROUBLESHOOTING.md can list the exact text a user sees around them.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { DEPLOY_LIB_DIR, DEPLOY_SRC_DIR, LIB_DIR, moduleFiles, SRC_DIR } from "../harness/scan.js";

export interface Cause {
  /** Relative to its module's src/, or lib/ (gates/lint.ts): the area is its first segment. */
  file: string;
  /** Relative to the repository (lib/gates/lint.ts, deploy/lib/deploy/ecs.ts), as the docs cite it. */
  path: string;
  line: number;
  /** The cause as printed, `…` where a value goes; several when the cause is a conditional. */
  causes: string[];
  hint: string;
}

export const HOLE = "…";

/** The texts an expression can print, or [] when it is computed (a variable, a call's result). */
function texts(node: ts.Expression, consts: Map<string, ts.Expression>): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) {
    // Inside ${}, a constant string is text the user reads, and a choice between two is each
    // variant; anything else (a value, an optional clause) is one hole.
    let out = [node.head.text];
    for (const span of node.templateSpans) {
      const parts = spanTexts(span.expression, consts);
      out = out.flatMap((o) => parts.map((p) => o + p + span.literal.text));
    }
    return out.map((t) => t.replace(/…+/g, HOLE));
  }
  if (ts.isParenthesizedExpression(node)) return texts(node.expression, consts);
  if (ts.isConditionalExpression(node)) return [...texts(node.whenTrue, consts), ...texts(node.whenFalse, consts)];
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const [l, r] = [texts(node.left, consts), texts(node.right, consts)];
    return (l.length ? l : [HOLE]).flatMap((a) => (r.length ? r : [HOLE]).map((b) => (a + b).replace(/…+/g, HOLE)));
  }
  if (ts.isIdentifier(node) && consts.has(node.text)) return texts(consts.get(node.text)!, consts);
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && consts.has(node.expression.text)) {
    const fn = consts.get(node.expression.text)!;
    if (ts.isArrowFunction(fn) && !ts.isBlock(fn.body)) return texts(fn.body, consts);
  }
  return [];
}

/** What a `${}` prints: a constant's text, both words of `cond ? "a" : "b"`, else one hole. */
function spanTexts(node: ts.Expression, consts: Map<string, ts.Expression>): string[] {
  if (ts.isConditionalExpression(node)) {
    const [a, b] = [constantText(node.whenTrue, consts), constantText(node.whenFalse, consts)];
    return a === HOLE || b === HOLE ? [HOLE] : [a, b];
  }
  return [constantText(node, consts)];
}

/** A string constant's text (e.g. DEFAULT_CONFIG_PATH), else a hole. */
function constantText(node: ts.Expression, consts: Map<string, ts.Expression>): string {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  const value = ts.isIdentifier(node) ? consts.get(node.text) : undefined;
  if (value && (ts.isStringLiteral(value) || ts.isNoSubstitutionTemplateLiteral(value))) return value.text;
  return value && ts.isTemplateExpression(value) ? (texts(value, consts)[0] ?? HOLE) : HOLE;
}

export function problemsIn(path: string): Cause[] {
  const sf = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true);
  const consts = new Map<string, ts.Expression>();
  const out: Cause[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) consts.set(node.name.text, node.initializer);
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.arguments) {
      const [first, second] = node.arguments;
      const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      const src = [DEPLOY_SRC_DIR, DEPLOY_LIB_DIR, LIB_DIR].find((d) => path.startsWith(d)) ?? SRC_DIR;
      const file = relative(src, path);
      const repoPath = relative(join(SRC_DIR, ".."), path);
      const kind = node.expression.text;
      if (kind === "Problem" && first && second)
        out.push({ file, path: repoPath, line, causes: texts(first, consts), hint: texts(second, consts)[0] ?? "" });
      if (kind === "ConfigError" && first && second && ts.isArrayLiteralExpression(first) && first.elements[0])
        out.push({ file, path: repoPath, line, causes: texts(first.elements[0], consts), hint: texts(second, consts)[0] ?? "" });
      if (kind === "Error" && first) {
        const message = texts(first, consts).filter((t) => t.includes("\nhint: "));
        for (const m of message) {
          const [cause = "", hint = ""] = m.split("\nhint: ");
          out.push({ file, path: repoPath, line, causes: [cause.split("\n")[0]!], hint });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  // Constants first, wherever they are declared in the file.
  ts.forEachChild(sf, function collect(n: ts.Node): void {
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) consts.set(n.name.text, n.initializer);
    ts.forEachChild(n, collect);
  });
  visit(sf);
  return out;
}

/** Every cause in both modules' code (src/ and lib/ of each), in file order. */
export const allProblems = (): Cause[] =>
  [SRC_DIR, LIB_DIR, DEPLOY_SRC_DIR, DEPLOY_LIB_DIR]
    .flatMap((d) => moduleFiles(d))
    .sort()
    .flatMap(problemsIn);
