import { describe, expect, it } from "vitest";
import {
  lineStarts,
  oneLine,
  positionFromBytes,
  positionFromOffset,
  splitStatements,
  statementAt,
} from "../../../lib/release/migrations/sql.js";
import { readMigrationSource } from "../../../lib/release/migrations/source.js";

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);

describe("splitStatements", () => {
  it("cuts at semicolons and starts each statement at its first token", () => {
    expect(texts("-- lead\nSELECT 1;\n\n/* c */ SELECT 2; SELECT 3")).toEqual(["SELECT 1;", "SELECT 2;", "SELECT 3"]);
  });

  it("ignores semicolons in strings, quoted identifiers, comments and dollar quotes", () => {
    const sql = [
      "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y');",
      'ALTER TABLE "we;ird" ADD COLUMN c int; -- trailing; comment',
      "DO $do$ BEGIN PERFORM 1; END $do$;",
      "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;",
      "/* outer /* nested; */ still comment; */ SELECT $1;",
    ].join("\n");
    expect(texts(sql)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y');",
      'ALTER TABLE "we;ird" ADD COLUMN c int;',
      "DO $do$ BEGIN PERFORM 1; END $do$;",
      "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;",
      "SELECT $1;",
    ]);
  });

  it("blanks comments and quoted contents in code, keeping offsets", () => {
    const [s] = splitStatements("ALTER TABLE t /* DROP CONSTRAINT */ ADD CHECK (c <> 'DROP CONSTRAINT');");
    expect(s?.code).toHaveLength(s?.text.length ?? -1);
    expect(s?.code).not.toMatch(/DROP/);
    expect(s?.code).toMatch(/^ALTER TABLE t +ADD CHECK \(c <> ' +'\);$/);
  });

  it("survives unterminated quotes and comments (squawk reports those)", () => {
    expect(texts("SELECT 'oops; DROP TABLE x;")).toEqual(["SELECT 'oops; DROP TABLE x;"]);
    expect(texts("SELECT 1; /* never closed; ")).toEqual(["SELECT 1;"]);
  });

  it("a file of comments only has no statements", () => {
    expect(splitStatements("-- nothing\n/* here */\n")).toEqual([]);
  });
});

describe("positions", () => {
  const text = "SELECT 1;\n/* é */ DROP TABLE t;\r\nDROP TABLE u;\n";
  const starts = lineStarts(text);

  it("converts squawk's byte offsets to character columns", () => {
    // squawk: line 1 (0-based), byte 9 — é is two bytes
    expect(positionFromBytes(text, starts, 2, 9)).toEqual({ offset: 18, line: 2, column: 9 });
    expect(positionFromBytes(text, starts, 3, 0)).toEqual({ offset: 33, line: 3, column: 1 });
    expect(statementAt(splitStatements(text), 18)?.text).toBe("DROP TABLE t;");
  });

  it("does not count a BOM as a column (squawk counts its 3 bytes)", () => {
    const bom = "\uFEFFDROP TABLE t;";
    expect(positionFromBytes(bom, lineStarts(bom), 1, 3)).toEqual({ offset: 1, line: 1, column: 1 });
    expect(positionFromOffset(bom, lineStarts(bom), 1)).toEqual({ offset: 1, line: 1, column: 1 });
  });

  it("maps offsets to lines; a CR stays on its line", () => {
    expect(positionFromOffset(text, starts, 32)).toEqual({ offset: 32, line: 2, column: 23 });
    expect(positionFromOffset(text, starts, 33)).toEqual({ offset: 33, line: 3, column: 1 });
  });

  it("oneLine collapses whitespace and cuts long statements", () => {
    expect(oneLine("ALTER TABLE t\n  DROP COLUMN c;")).toBe("ALTER TABLE t DROP COLUMN c;");
    expect(oneLine("x".repeat(200), 10)).toBe(`${"x".repeat(9)}…`);
  });
});

describe("readMigrationSource", () => {
  const bytes = (s: string, enc: BufferEncoding = "utf8") => new Uint8Array(Buffer.from(s, enc));

  it("classifies empty, binary, non-UTF-8 and SQL files", () => {
    expect(readMigrationSource("a.sql", bytes(""))).toEqual({ kind: "empty", file: "a.sql" });
    expect(readMigrationSource("a.sql", bytes(" \n\t\n"))).toEqual({ kind: "empty", file: "a.sql" });
    expect(readMigrationSource("a.sql", bytes("\uFEFF\n"))).toEqual({ kind: "empty", file: "a.sql" });
    expect(readMigrationSource("a.sql", new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x41]))).toEqual({ kind: "binary", file: "a.sql" });
    expect(readMigrationSource("a.sql", bytes("-- caf\xe9\nDROP TABLE t;", "latin1"))).toEqual({ kind: "not-utf8", file: "a.sql" });
    expect(readMigrationSource("a.sql", bytes("\uFEFFSELECT 1;"))).toEqual({ kind: "sql", file: "a.sql", text: "\uFEFFSELECT 1;" });
  });
});
