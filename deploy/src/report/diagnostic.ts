/** One finding of a gate, in the shape every machine format (SARIF, Markdown) is rendered from. */
export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  /** Tool rule or code, e.g. "no-unused-vars", "TS2322", "prettier/format". */
  ruleId: string;
  severity: Severity;
  message: string;
  /** Path relative to the project root, forward slashes. */
  file?: string;
  /** 1-based line and column. */
  line?: number;
  column?: number;
  endLine?: number;
  endColumn?: number;
}
