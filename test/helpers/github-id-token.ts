/**
 * GitHub Actions OIDC ID tokens as the fakes hand them out and read them back: JWT-shaped (header,
 * claims, signature; base64url), issuer token.actions.githubusercontent.com, `exp` minutes after
 * `iat` (GitHub's last 5 minutes). Shared by the wire-level fake (test/aws/fake-sts.ts) and the
 * SDK-mock fake (test/helpers/fake-sts.ts), which each keep what they issued.
 */
const b64url = (s: string) => Buffer.from(s).toString("base64url");

export interface IdTokenClaims {
  aud: string;
  sub: string;
  exp: number;
}

/** A token for `sub` and `aud`, valid `lifetimeMs` from now (Date's, so fake time ages it). */
export function githubIdToken(o: { aud: string; sub: string; lifetimeMs: number; jti: string; signature: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: "https://token.actions.githubusercontent.com",
    aud: o.aud,
    sub: o.sub,
    iat: now,
    exp: now + o.lifetimeMs / 1000,
    jti: o.jti,
  };
  return `${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.${b64url(o.signature)}`;
}

/** The claims of a token (no signature check: the fakes recognise their own tokens by keeping them). */
export const claimsOf = (token: string): IdTokenClaims =>
  JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as IdTokenClaims;
