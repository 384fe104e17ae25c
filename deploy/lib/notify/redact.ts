/**
 * Webhook URLs are credentials (a Slack incoming webhook's path is its token), so a target is only
 * ever named by scheme and host, and anything we print is scrubbed of every secret we were given.
 */

/** `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com`; no path, query or userinfo. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "an unparseable URL";
  }
}

/** The pieces of a secret URL that could turn up in an error text on their own. */
function secretPieces(secret: string): string[] {
  const pieces = [secret];
  try {
    const u = new URL(secret);
    if (u.pathname.length > 1) pieces.push(u.pathname);
    if (u.search.length > 1) pieces.push(u.search);
    if (u.password) pieces.push(u.password);
    pieces.push(u.href); // normalised form, which is what URL errors quote
  } catch {
    // not a URL: the whole string is the secret
  }
  return pieces;
}

/** Replaces every secret (and for URLs, their path and query) with ***; longest first so pieces never leave a tail. */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  const pieces = secrets
    .filter((s): s is string => s !== undefined && s.length >= 4)
    .flatMap(secretPieces)
    .sort((a, b) => b.length - a.length);
  let out = text;
  for (const piece of pieces) out = out.split(piece).join("***");
  return out;
}
