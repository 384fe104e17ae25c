/**
 * The web identity a with-aws chain names, read the same way for every AWS user (the deploy's
 * clients, the ECR login): GitHub's token request, whose URL and token come together or not at all
 * (one alone is refused, never a silent fall-back to --web-identity-token), else the token as given.
 */
import type { Secret } from "@dagger.io/dagger";
import { Problem } from "../../src/project/problem.js";
import { credentialText } from "../gates/secret-text.js";
import { githubOidcTokenSource, type TokenSource } from "./credentials.js";

export interface WebIdentitySettings {
  awsWebIdentityToken?: Secret | undefined;
  awsIdTokenRequestUrl?: Secret | undefined;
  awsIdTokenRequestToken?: Secret | undefined;
}

export interface WebIdentity {
  /** A token source that fetches fresh GitHub tokens, the token given, or nothing. */
  webIdentityToken: string | TokenSource | undefined;
  /** The request's URL and token, when the chain gave them (they key a cached role session). */
  requestUrl?: string;
  requestToken?: string;
}

export async function webIdentityOf(s: WebIdentitySettings): Promise<WebIdentity> {
  const requestUrl = await credentialText("OIDC token request URL", s.awsIdTokenRequestUrl);
  const requestToken = await credentialText("OIDC token request token", s.awsIdTokenRequestToken);
  if ((requestUrl === undefined) !== (requestToken === undefined))
    throw new Problem(
      "with-aws was given only one of --id-token-request-url and --id-token-request-token",
      "pass both: --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    );
  if (requestUrl && requestToken)
    return { webIdentityToken: githubOidcTokenSource({ requestUrl, requestToken }), requestUrl, requestToken };
  return { webIdentityToken: await credentialText("web identity token", s.awsWebIdentityToken) };
}
