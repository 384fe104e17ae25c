/**
 * Decides, before squawk runs, which migration files it can read. Squawk 2.66.0 aborts the WHOLE
 * run on one file that is not UTF-8 ("Error: stream did not contain valid UTF-8", exit 1, empty
 * stdout), so such files must never reach it.
 */

export type MigrationSource =
  | { kind: "sql"; file: string; text: string }
  /** Nothing a database would run: zero bytes or only whitespace. A note, not a failure. */
  | { kind: "empty"; file: string }
  /** NUL bytes: not SQL at all (a misnamed archive or dump). A note, not a failure. */
  | { kind: "binary"; file: string }
  /** Text, but not UTF-8 (e.g. Latin-1): psql could still run it, so it fails unchecked (see judge). */
  | { kind: "not-utf8"; file: string };

export interface SkippedFile {
  file: string;
  reason: "empty" | "binary";
  note: string;
}

// git's own binary heuristic: a NUL in the first 8000 bytes.
const BINARY_PROBE = 8000;

export function readMigrationSource(file: string, bytes: Uint8Array): MigrationSource {
  if (bytes.subarray(0, BINARY_PROBE).includes(0)) return { kind: "binary", file };
  let text: string;
  try {
    // ignoreBOM keeps a BOM in the text: squawk counts its 3 bytes in line 1's columns.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { kind: "not-utf8", file };
  }
  if (text.replace(/^\uFEFF/, "").trim() === "") return { kind: "empty", file };
  return { kind: "sql", file, text };
}

export function skippedNote(source: MigrationSource): SkippedFile | undefined {
  switch (source.kind) {
    case "empty":
      return { file: source.file, reason: "empty", note: "empty file: nothing to check" };
    case "binary":
      return { file: source.file, reason: "binary", note: "binary file (NUL bytes), not SQL: not checked" };
    default:
      return undefined;
  }
}
