/** Small Markdown helpers for GitHub-rendered text built from event data we do not control. */

/** One table cell: pipes escaped, newlines flattened, HTML tags neutralised so a reason cannot break the table. */
export const cell = (text: string): string => text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Inline code; a backtick inside would end the span early. */
export const code = (text: string): string => `\`${text.replace(/`/g, "'").replace(/\r?\n/g, " ")}\``;

/** `[label](url)` for plain http(s) URLs; anything else is shown as text so it cannot inject a link. */
export function mdLink(url: string | undefined, label: string): string {
  const text = cell(label).replace(/[[\]]/g, "");
  if (url === undefined || !URL.canParse(url)) return text;
  const href = new URL(url);
  if (href.protocol !== "https:" && href.protocol !== "http:") return text;
  return `[${text}](${href.href.replace(/\(/g, "%28").replace(/\)/g, "%29").replace(/ /g, "%20")})`;
}

/**
 * Cuts Markdown to `max` characters at a line boundary and appends `note`, so a long report still
 * renders (GitHub rejects a comment over its limit outright instead of cutting it).
 */
export function truncateMarkdown(text: string, max: number, note: string): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const tail = `\n\n${note}\n`;
  // Room for closing what the cut leaves open: a fence, and a few <details>.
  const reserve = 200;
  let cut = text.slice(0, Math.max(0, max - tail.length - reserve));
  const newline = cut.lastIndexOf("\n");
  if (newline > cut.length / 2) cut = cut.slice(0, newline);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  // A cut inside a fenced block or <details> would swallow the note.
  const fences = (cut.match(/^```/gm) ?? []).length;
  const open = (cut.match(/<details>/g) ?? []).length - (cut.match(/<\/details>/g) ?? []).length;
  const closers = ((fences % 2 === 1 ? "\n```" : "") + "\n\n</details>".repeat(Math.max(0, open))).slice(0, reserve);
  return { text: cut + closers + tail, truncated: true };
}
