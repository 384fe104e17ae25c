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

/*
 * Text a user or a committer wrote, made safe to echo. Every character a terminal or viewer would
 * act on becomes a visible escape: C0/C1 controls (ESC starts colour, cursor and OSC 8 hyperlink
 * sequences; a lone CR overwrites the line), DEL, and the bidi overrides that make text read
 * differently than it is ("Trojan Source").
 */
const CONTROLS = "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";
const UNSAFE = new RegExp(`[${CONTROLS}]`, "gu");
const UNSAFE_LINE = new RegExp(`[${CONTROLS}\\t\\n]`, "gu");

const escapeChar = (c: string): string => {
  const code = c.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
};

/** Multi-line text (a commit message): newlines and tabs stay, CRLF becomes LF, the rest is escaped. */
export function printable(text: string): string {
  return text.replace(/\r\n/g, "\n").replace(UNSAFE, escapeChar);
}

/** One-line text (a name, a ref): tabs and newlines are escaped too. */
export function printableLine(text: string): string {
  return text.replace(UNSAFE_LINE, escapeChar);
}

const MAX_QUOTED = 80;

/** A name echoed in a message: quoted, escaped, and cut so one huge value cannot flood the log. */
export function quoted(value: string): string {
  const cut = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}…` : value;
  return `"${printableLine(cut).replace(/"/g, '\\"')}"`;
}

/**
 * The catalogue of bad arguments the functions share (`--base`, `--head`, ...): one cause that
 * names the argument and quotes the value, one hint. `example` is a value that would work.
 */
export const badArgument = {
  empty: (arg: string, meaning: string, example: string) =>
    new Problem(`${arg} is empty, so Shipshape cannot tell ${meaning}`, `pass ${arg} ${example}`),
  optionLike: (arg: string, value: string, example: string) =>
    new Problem(`${arg} ${quoted(value)} starts with "-", so a tool would read it as an option`, `pass a name, e.g. ${arg} ${example}`),
  unprintable: (arg: string, value: string, example: string) =>
    new Problem(`${arg} ${quoted(value)} contains spaces or control characters`, `pass it without them, e.g. ${arg} ${example}`),
  tooLong: (arg: string, value: string, max: number) =>
    new Problem(`${arg} is ${value.length} characters long, more than ${max}`, `pass a shorter ${arg}`),
};
