/**
 * Just enough Postgres lexing to cut a migration into statements: squawk reports a position, and
 * reviewers need the statement there; our own checks (TRUNCATE, DROP CONSTRAINT) need statement
 * text with comments and quoted text blanked so `'DROP CONSTRAINT'` in a string never matches.
 *
 * Not a parser: SQL-standard function bodies (`BEGIN ATOMIC ... END`) contain bare semicolons and
 * are cut at each one. That only shortens the statement shown; squawk's own findings are unaffected.
 */

export interface Statement {
  /** Character offsets into the file text: first token (leading comments skipped) to just past the `;`. */
  start: number;
  end: number;
  /** The statement as written, comments inside it included. */
  text: string;
  /** Same length as `text`, with comments and the contents of quoted strings and identifiers blanked. */
  code: string;
}

const IDENT_CHAR = /[A-Za-z0-9_$]/;
const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/** Spaces for everything but line breaks, so offsets and line numbers survive the blanking. */
function blank(s: string): string {
  return s.replace(/[^\r\n]/g, " ");
}

/** End (exclusive) of the quoted token starting at `i`, given its closing quote; doubled quotes escape. */
function quotedEnd(sql: string, i: number, quote: string, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (backslashEscapes && c === "\\") j += 2;
    else if (c === quote && sql[j + 1] === quote) j += 2;
    else if (c === quote) return j + 1;
    else j += 1;
  }
  return sql.length; // unterminated: squawk reports the syntax error, we just stop
}

function blockCommentEnd(sql: string, i: number): number {
  let depth = 0; // Postgres block comments nest
  let j = i;
  while (j < sql.length) {
    if (sql.startsWith("/*", j)) {
      depth += 1;
      j += 2;
    } else if (sql.startsWith("*/", j)) {
      depth -= 1;
      j += 2;
      if (depth === 0) return j;
    } else j += 1;
  }
  return sql.length;
}

export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let code = "";
  let start = -1;
  const close = (end: number) => {
    if (start >= 0) statements.push({ start, end, text: sql.slice(start, end), code: code.slice(start, end) });
    start = -1;
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? "";
    const prev = i > 0 ? (sql[i - 1] ?? "") : "";
    let next = i + 1;
    let masked: string | undefined; // undefined: the characters are code
    if (sql.startsWith("--", i)) {
      const nl = sql.indexOf("\n", i);
      next = nl < 0 ? sql.length : nl;
      masked = blank(sql.slice(i, next));
    } else if (sql.startsWith("/*", i)) {
      next = blockCommentEnd(sql, i);
      masked = blank(sql.slice(i, next));
    } else if (c === "'" || c === '"') {
      // E'...' strings take backslash escapes; a bare e before the quote is not part of a longer word.
      const escapeString = c === "'" && /[eE]/.test(prev) && !IDENT_CHAR.test(sql[i - 2] ?? "");
      next = quotedEnd(sql, i, c, escapeString);
      const closed = next - i >= 2 && sql[next - 1] === c;
      masked = c + blank(sql.slice(i + 1, closed ? next - 1 : next)) + (closed ? c : "");
    } else if (c === "$" && !IDENT_CHAR.test(prev)) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 64))?.[0];
      if (tag !== undefined) {
        const closing = sql.indexOf(tag, i + tag.length);
        next = closing < 0 ? sql.length : closing + tag.length;
        masked = tag + blank(sql.slice(i + tag.length, closing < 0 ? next : closing)) + (closing < 0 ? "" : tag);
      }
    }
    const isComment = masked !== undefined && masked.trim() === "";
    if (start < 0 && !isComment && !/\s/.test(c) && c !== ";") start = i;
    code += masked ?? sql.slice(i, next);
    if (masked === undefined && c === ";") close(next);
    i = next;
  }
  close(sql.length);
  return statements;
}

/** The statement holding `offset`, or else the last one starting before it. */
export function statementAt(statements: readonly Statement[], offset: number): Statement | undefined {
  let best: Statement | undefined;
  for (const s of statements) {
    if (s.start > offset) break;
    best = s;
    if (offset < s.end) break;
  }
  return best;
}

/** Character offset of each line's first character; lines end at "\n" (a "\r" before it stays on the line). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

export interface TextPosition {
  /** Character offset into the text. */
  offset: number;
  /** 1-based line and UTF-16 column, as editors and SARIF count. */
  line: number;
  column: number;
}

/**
 * Squawk counts columns in UTF-8 bytes from the start of the line (a BOM counts too); editors and
 * SARIF count UTF-16 code units. Converts a 1-based line and a byte offset into it.
 */
export function positionFromBytes(text: string, starts: readonly number[], line: number, byteOffset: number): TextPosition {
  const index = Math.min(Math.max(line, 1), starts.length) - 1;
  const lineStart = starts[index] ?? 0;
  const lineEnd = starts[index + 1] ?? text.length;
  const bytes = Buffer.from(text.slice(lineStart, lineEnd), "utf8");
  const chars = bytes.subarray(0, Math.max(0, byteOffset)).toString("utf8").length;
  // An invisible BOM is no column in an editor.
  const bom = index === 0 && text.startsWith("\uFEFF") && chars > 0 ? 1 : 0;
  return { offset: lineStart + chars, line: index + 1, column: chars - bom + 1 };
}

export function positionFromOffset(text: string, starts: readonly number[], offset: number): TextPosition {
  let index = 0;
  while (index + 1 < starts.length && (starts[index + 1] ?? Infinity) <= offset) index += 1;
  const bom = index === 0 && text.startsWith("\uFEFF") && offset > 0 ? 1 : 0;
  return { offset, line: index + 1, column: offset - (starts[index] ?? 0) - bom + 1 };
}

/** One line for tables and messages: whitespace runs collapsed, cut at `max` characters. */
export function oneLine(sql: string, max = 160): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
