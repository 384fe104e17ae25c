/**
 * The OIDC identity token keyless signing hands Fulcio. GitHub's tokens live minutes, a
 * multi-arch build can take longer: a token minted before `dagger call` may be dead when cosign
 * signs. So with GitHub's request URL and token (which last the whole job) a fresh one is asked
 * for right before each cosign run, with the audience cosign's github-actions provider asks for
 * ("sigstore": pkg/providers/github/github.go and the providers.Provide(ctx, "sigstore") callers,
 * cosign v3.1.2); a token given as it is only gets its expiry checked, so that an expired one
 * fails in one line before cosign does.
 */
import { Problem } from "../../../src/project/problem.js";

export const SIGSTORE_AUDIENCE = "sigstore";

/** Signing with less than this left risks Fulcio refusing the token mid-request. */
const MIN_VALIDITY_MS = 30_000;

/** The token's `exp` claim, read without verification (Fulcio verifies); undefined when it is not a JWT. */
export function tokenExpiry(token: string): Date | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** Refuses a token that is expired, or about to be, at `now`. */
export function assertUsableToken(token: string, now: Date, what: string): void {
  const exp = tokenExpiry(token);
  if (exp && exp.getTime() - now.getTime() < MIN_VALIDITY_MS) {
    throw new Problem(
      `the OIDC identity token ${exp.getTime() <= now.getTime() ? "expired" : "expires"} at ${exp.toISOString()}, before ${what}`,
      "chain with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN: a fresh token is then fetched for every cosign run",
    );
  }
}
