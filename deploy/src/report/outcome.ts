/** What one gate concluded, as plain data: rendered to text, Markdown and report objects. */
export type GateStatusValue = "passed" | "failed" | "error" | "skipped";

export interface GateOutcome {
  gate: string;
  status: GateStatusValue;
  durationMs: number;
  /** One line, always set: what a person reads first. */
  summary: string;
  /** Why it did not pass; empty when it passed. */
  cause: string;
  /** What to do about it; empty when there is nothing to do. */
  hint: string;
  metrics: Record<string, number>;
  /** The first findings, one line each (file:line rule message). */
  findings: string[];
  /** Tail of the tool's output, for the cases a parsed report cannot explain. */
  log: string;
}

export const MAX_FINDINGS = 20;
const LOG_LINES = 40;

export function tail(text: string, lines = LOG_LINES): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

export function skipped(gate: string, why: string): GateOutcome {
  return { gate, status: "skipped", durationMs: 0, summary: why, cause: "", hint: "", metrics: {}, findings: [], log: "" };
}

export function errored(gate: string, durationMs: number, cause: string, hint: string, log = ""): GateOutcome {
  return { gate, status: "error", durationMs, summary: cause, cause, hint, metrics: {}, findings: [], log };
}

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * The tail of a failing scan's summary: what blocks, by id and package, and any expired ignore
 * entry, each said once (the counts come first); without either, the cause itself.
 */
export function blockingNote(blocking: { id: string; pkg: string }[], cause: string, expired: string[] = []): string {
  if (blocking.length === 0 && expired.length === 0) return cause ? ` — ${cause}` : "";
  const shown = blocking.slice(0, 3).map((b) => `${b.id} in ${b.pkg}`);
  const more = blocking.length > 3 ? ` and ${blocking.length - 3} more` : "";
  const parts = [
    ...(shown.length ? [`blocking: ${shown.join(", ")}${more}`] : []),
    ...(expired.length ? [`expired ignore entr${expired.length === 1 ? "y" : "ies"}: ${expired.join(", ")}`] : []),
  ];
  return ` — ${parts.join("; ")}`;
}
