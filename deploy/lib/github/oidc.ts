/**
 * GitHub Actions' OIDC ID tokens, fetched fresh on demand (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN):
 * for an AWS role session (aws/credentials.ts) and for keyless signing. No AWS code here, so the CI
 * module's signing path loads none.
 */
import { fetchFailure } from "../deploy/fetch-error.js";
import { Problem } from "../../src/project/problem.js";

/** A source of fresh tokens: each call may return a new one (ID tokens last minutes). */
export type TokenSource = () => Promise<string>;

export interface GithubIdTokenOptions {
  /** ACTIONS_ID_TOKEN_REQUEST_URL */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN: lasts the job (hours), unlike the ID tokens it buys (minutes). */
  requestToken: string;
  /** The audience the token is for (sts.amazonaws.com for AWS, sigstore for keyless signing). */
  audience: string;
  timeoutMs?: number;
}

/** Fresh GitHub OIDC tokens on demand, as @actions/core's getIDToken fetches them. */
export function githubIdTokens(o: GithubIdTokenOptions): TokenSource {
  return async () => {
    let url: URL;
    try {
      url = new URL(o.requestUrl.trim());
    } catch {
      throw new Problem("the OIDC token request URL is not a URL", "pass ACTIONS_ID_TOKEN_REQUEST_URL as it is in the job's environment");
    }
    url.searchParams.set("audience", o.audience);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { authorization: `Bearer ${o.requestToken.trim()}`, accept: "application/json" },
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      });
    } catch (e) {
      throw new Problem(`GitHub's OIDC token endpoint is unreachable: ${fetchFailure(e)}`, "rerun; the runner must reach GitHub");
    }
    if (!res.ok)
      throw new Problem(
        `GitHub's OIDC token endpoint answered ${res.status}`,
        res.status === 401 || res.status === 403
          ? "the request token is no longer valid (it lasts the job) or the job lacks `permissions: id-token: write`"
          : "rerun; GitHub may be having trouble",
      );
    const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
    if (typeof body?.value !== "string" || body.value === "")
      throw new Problem("GitHub's OIDC token endpoint answered without a token", "rerun; GitHub may be having trouble");
    return body.value;
  };
}
