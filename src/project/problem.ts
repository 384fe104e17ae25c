/**
 * Bad input the user can fix: one line of cause and one line of fix hint, never a stack trace.
 * Gates turn it into an ERROR report; the CLI shows `cause` and `hint` as they are.
 */
export class Problem extends Error {
  constructor(
    readonly cause_: string,
    readonly hint: string,
  ) {
    super(`${cause_}\nhint: ${hint}`);
    this.name = "Problem";
  }
}

/** One line out of anything thrown: a Problem keeps its cause, anything else its first line. */
export function describeError(e: unknown): { cause: string; hint: string } {
  if (e instanceof Problem) return { cause: e.cause_, hint: e.hint };
  const withHint = e as { message?: unknown; hint?: unknown };
  const message = typeof withHint.message === "string" ? withHint.message : String(e);
  const [first = "unknown error", ...rest] = message.split("\n");
  const hintLine = rest.find((l) => l.startsWith("hint: "));
  const hint = typeof withHint.hint === "string" ? withHint.hint : (hintLine?.slice(6) ?? "");
  return { cause: first, hint };
}
