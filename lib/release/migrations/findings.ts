/**
 * Turns squawk's violations plus our own statement checks into findings a reviewer can act on:
 * ranked (severity.ts), located in editor coordinates, with the offending statement and the
 * expand/contract way to ship the same change.
 */
import type { MigrationSource, SkippedFile } from "./source.js";
import { skippedNote } from "./source.js";
import type { SquawkViolation } from "./squawk.js";
import { rulePolicy, type MigrationSeverity, type ShipshapeRule } from "../../../deploy/lib/release/migrations/severity.js";
import { lineStarts, positionFromBytes, positionFromOffset, splitStatements, statementAt, type Statement } from "./sql.js";

export interface MigrationFinding {
  file: string;
  rule: string;
  severity: MigrationSeverity;
  destructive: boolean;
  /** 1-based line and UTF-16 column (what editors and SARIF count). */
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  message: string;
  /** The statement at the location, as written (trimmed); "" when the file text is unknown. */
  statement: string;
  guidance: string;
}

interface ParsedFile {
  text: string;
  starts: number[];
  statements: Statement[];
}

function parseFile(text: string): ParsedFile {
  return { text, starts: lineStarts(text), statements: splitStatements(text) };
}

/** squawk echoes paths without a leading "./". */
const normalize = (file: string) => file.replace(/\\/g, "/").replace(/^(\.\/)+/, "");

function fromSquawk(v: SquawkViolation, parsed: ParsedFile | undefined): MigrationFinding {
  const { severity, destructive, guidance } = rulePolicy(v.rule, v.help);
  const base = { file: normalize(v.file), rule: v.rule, severity, destructive, message: v.message, guidance };
  if (parsed === undefined) return { ...base, line: v.line, column: v.byteOffset + 1, statement: "" };
  const start = positionFromBytes(parsed.text, parsed.starts, v.line, v.byteOffset);
  const end = positionFromBytes(parsed.text, parsed.starts, v.endLine, v.endByteOffset);
  const statement = statementAt(parsed.statements, start.offset)?.text.trim() ?? "";
  return { ...base, line: start.line, column: start.column, endLine: end.line, endColumn: end.column, statement };
}

interface OwnCheck {
  rule: ShipshapeRule;
  message: string;
  /** Offsets into the statement's code where the check fires. */
  matches(code: string): number[];
}

const atStart = (re: RegExp) => (code: string) => (re.test(code) ? [0] : []);

const OWN_CHECKS: OwnCheck[] = [
  {
    rule: "shipshape/truncate",
    message: "TRUNCATE deletes every row, with no WHERE and no undo once committed, under an ACCESS EXCLUSIVE lock.",
    matches: atStart(/^TRUNCATE\b/i),
  },
  {
    rule: "shipshape/drop-schema",
    message: "DROP SCHEMA removes the schema; with CASCADE, every table in it and all their data.",
    matches: atStart(/^DROP\s+SCHEMA\b/i),
  },
  {
    rule: "shipshape/drop-constraint",
    message:
      "Dropping a constraint removes a guarantee the data and the running code may rely on; a unique or primary key constraint takes its index with it.",
    matches: (code) => (/^ALTER\s+TABLE\b/i.test(code) ? [...code.matchAll(/\bDROP\s+CONSTRAINT\b/gi)].map((m) => m.index) : []),
  },
];

function ownFindings(file: string, parsed: ParsedFile, exclude: ReadonlySet<string>): MigrationFinding[] {
  const out: MigrationFinding[] = [];
  for (const statement of parsed.statements) {
    for (const check of OWN_CHECKS) {
      if (exclude.has(check.rule)) continue;
      const { severity, destructive, guidance } = rulePolicy(check.rule);
      for (const at of check.matches(statement.code)) {
        const pos = positionFromOffset(parsed.text, parsed.starts, statement.start + at);
        out.push({
          file,
          rule: check.rule,
          severity,
          destructive,
          line: pos.line,
          column: pos.column,
          message: check.message,
          statement: statement.text.trim(),
          guidance,
        });
      }
    }
  }
  return out;
}

function notUtf8(file: string): MigrationFinding {
  const { severity, destructive, guidance } = rulePolicy("shipshape/not-utf8");
  return {
    file,
    rule: "shipshape/not-utf8",
    severity,
    destructive,
    line: 1,
    column: 1,
    message: "The file is not UTF-8 text, so it was not checked.",
    statement: "",
    guidance,
  };
}

export function compareFindings(a: MigrationFinding, b: MigrationFinding): number {
  // Code-point order, like migration tools sort file names; not locale order.
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0);
}

/**
 * All findings for the files read by readMigrationSource and squawk's report on the "sql" ones.
 * `excludeRules` filters our own checks; squawk's rules were already excluded on its command line.
 */
export function collectFindings(
  sources: readonly MigrationSource[],
  violations: readonly SquawkViolation[],
  excludeRules: readonly string[] = [],
): { findings: MigrationFinding[]; skipped: SkippedFile[] } {
  const exclude = new Set(excludeRules);
  const parsed = new Map<string, ParsedFile>();
  const findings: MigrationFinding[] = [];
  const skipped: SkippedFile[] = [];
  for (const source of sources) {
    const file = normalize(source.file);
    if (source.kind === "sql") {
      const p = parseFile(source.text);
      parsed.set(file, p);
      findings.push(...ownFindings(file, p, exclude));
    } else if (source.kind === "not-utf8") findings.push(notUtf8(file));
    else {
      const note = skippedNote(source);
      if (note !== undefined) skipped.push({ ...note, file });
    }
  }
  for (const v of violations) findings.push(fromSquawk(v, parsed.get(normalize(v.file))));
  return { findings: findings.sort(compareFindings), skipped };
}
