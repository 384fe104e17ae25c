/** A Secret's value for an SDK or HTTP call in this process, trimmed (env:// and file:// values often end in a newline); blank means absent. */
import type { Secret } from "@dagger.io/dagger";
import { Problem } from "../../src/project/problem.js";

export const secretText = async (s?: Secret): Promise<string | undefined> => (s ? (await s.plaintext()).trim() || undefined : undefined);

// \p{Cc}: C0 controls (LF, CR, TAB, ESC...), DEL and C1.
const CONTROL = /\p{Cc}/u;

/**
 * A credential goes into an HTTP header, a login or a signature, and none of them can hold a line
 * break: Node refuses the header with `TypeError [ERR_INVALID_CHAR]: Invalid character in header
 * content` (lib/_http_common.js checkInvalidHeaderChar), and a registry login would silently use
 * the wrong value. A value with one inside (after its ends are trimmed) is almost always two
 * values pasted together, so it is refused naming the credential, never showing it.
 */
export function checkCredential(name: string, value: string): string {
  const at = value.search(CONTROL);
  if (at < 0) return value;
  const code = value.codePointAt(at)!;
  const what =
    code === 0x0a || code === 0x0d ? "a line break" : `a control character (U+${code.toString(16).toUpperCase().padStart(4, "0")})`;
  throw new Problem(
    `the ${name} has ${what} inside it (character ${at + 1} of ${value.length}), so it cannot be sent as a credential`,
    `pass the ${name} alone on one line: check the env var or file it is read from (two pasted values, or a CRLF file)`,
  );
}

/** secretText, refused when the value holds a line break or control character (checkCredential). */
export const credentialText = async (name: string, s?: Secret): Promise<string | undefined> => {
  const value = await secretText(s);
  return value === undefined ? undefined : checkCredential(name, value);
};
