/**
 * Plain words for why node's fetch failed. It throws a bare `TypeError: fetch failed` and keeps
 * the reason (ECONNREFUSED, ENOTFOUND, ...) in `cause`, which is what a user needs to see.
 */
const WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ETIMEDOUT: "connect timed out",
  UND_ERR_SOCKET: "connection closed",
};

export function fetchFailure(e: unknown): string {
  const cause = (e as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return WORDS[code] === undefined ? code : `${WORDS[code]} (${code})`;
  if (cause instanceof Error) return cause.message;
  return e instanceof Error ? e.message : String(e);
}
