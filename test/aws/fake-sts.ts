/**
 * STS and GitHub's OIDC token endpoint as real HTTP servers on 127.0.0.1, for the real SDK clients
 * (test/aws/credentials.test.ts, test/supply/ecr-role.test.ts). Modelled on the real APIs: STS's
 * AssumeRoleWithWebIdentity over the query protocol, unsigned, refusing a token GitHub did not
 * issue, with the wrong audience, expired, or whose `sub` the role's trust policy does not allow,
 * and answering errors as STS's XML; GitHub hands out JWT-shaped tokens that last 5 minutes, only
 * for the job's request token. Time is Date's, so tests on fake time expire tokens and sessions.
 * Sources: the STS API reference for AssumeRoleWithWebIdentity (DurationSeconds 900 s up to the
 * role's MaxSessionDuration, 3600 by default; errors InvalidIdentityToken, ExpiredTokenException,
 * AccessDenied, ValidationError), as the aws-sdk-js-v3 client-sts model carries it; GitHub's
 * "About security hardening with OpenID Connect" for the token's iss, aud and sub claims.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { claimsOf, githubIdToken } from "../helpers/github-id-token.js";

export const ACCOUNT = "123456789012";
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/deployer`;
export const PROD_SUB = "repo:acme/shop:environment:production";
export const REQUEST_TOKEN = "ghs_requesttoken_0123456789abcdefghij";

export interface Answer {
  status: number;
  type: string;
  body: string;
}

export async function listen(handler: (req: IncomingMessage, body: string) => Answer): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const out = handler(req, body);
      res.writeHead(out.status, { "content-type": out.type, "x-amzn-requestid": "c6104cbe-af31-11e0-8154-cbc7ccf896c7" });
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// --- GitHub: the OIDC token endpoint of a workflow run --------------------------------------------

export class FakeGithub {
  readonly issued = new Set<string>();
  requests = 0;
  sub = PROD_SUB;
  private seq = 0;

  /** `secrets` collects every token handed out, for the tests' never-shown checks. */
  constructor(private readonly secrets: Set<string>) {}

  /** A token as GitHub signs it: JWT-shaped, audience as asked, valid for 5 minutes from now. */
  issue(aud = "sts.amazonaws.com", sub = this.sub, lifetimeMs = 300_000): string {
    // Unique, as GitHub's are: two tokens issued at the same second are still two tokens.
    const jti = `${++this.seq}-${randomUUID()}`;
    const token = githubIdToken({ aud, sub, lifetimeMs, jti, signature: `signature-${this.seq}` });
    this.issued.add(token);
    this.secrets.add(token);
    return token;
  }

  handle(req: IncomingMessage): Answer {
    this.requests++;
    const url = new URL(req.url ?? "/", "http://x");
    if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`)
      return { status: 401, type: "application/json", body: '{"message":"Bad credentials"}' };
    return { status: 200, type: "application/json", body: JSON.stringify({ value: this.issue(url.searchParams.get("audience") ?? "") }) };
  }
}

// --- STS: AssumeRoleWithWebIdentity over the query protocol ----------------------------------------

export interface StsCall {
  authorization: string | undefined;
  params: URLSearchParams;
}

/** A role session STS handed out: what AWS services accept until it expires. */
export interface StsSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  roleSessionName: string;
}

export class FakeSts {
  readonly calls: StsCall[] = [];
  /** Role → the `sub` its trust policy allows, and its MaxSessionDuration. */
  readonly roles = new Map([[ROLE, { sub: PROD_SUB, maxSessionSeconds: 3600 }]]);
  /** Every session issued, by access key id. */
  readonly sessions = new Map<string, StsSession>();
  private readonly failures: { code: string; message: string; status: number }[] = [];
  private seq = 0;

  constructor(
    private readonly github: FakeGithub,
    private readonly secrets: Set<string>,
  ) {}

  fail(times: number, code: string, message: string, status = 400): void {
    for (let i = 0; i < times; i++) this.failures.push({ code, message, status });
  }

  handle(req: IncomingMessage, body: string): Answer {
    const params = new URLSearchParams(body);
    this.calls.push({ authorization: req.headers.authorization, params });
    const error = (code: string, message: string, status = 400) => ({
      status,
      type: "text/xml",
      body:
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code>` +
        `<Message>${message}</Message></Error><RequestId>${this.seq}-req</RequestId></ErrorResponse>`,
    });
    const injected = this.failures.shift();
    if (injected) return error(injected.code, injected.message, injected.status);
    if (params.get("Action") !== "AssumeRoleWithWebIdentity") return error("InvalidAction", "Could not find operation");
    const token = params.get("WebIdentityToken") ?? "";
    if (!this.github.issued.has(token))
      return error(
        "InvalidIdentityToken",
        "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
      );
    const claims = claimsOf(token);
    if (claims.aud !== "sts.amazonaws.com") return error("InvalidIdentityToken", "Incorrect token audience");
    const now = Math.floor(Date.now() / 1000);
    if (now >= claims.exp)
      return error("ExpiredTokenException", `Token expired: current date/time ${now} must be before the expiration date/time${claims.exp}`);
    const role = this.roles.get(params.get("RoleArn") ?? "");
    if (!role || role.sub !== claims.sub) return error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403);
    const duration = Number(params.get("DurationSeconds") ?? 3600);
    if (duration < 900)
      return error(
        "ValidationError",
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
      );
    if (duration > role.maxSessionSeconds)
      return error("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    const n = ++this.seq;
    const keyId = `ASIA${String(n).padStart(16, "Q")}`;
    const secret = `session-secret-${n}-wJalrXUtnFEMIK7MDENGbPxRfiCY`;
    const sessionToken = `IQoJb3JpZ2luX2VjEXAMPLESESSION${n}`;
    this.secrets.add(keyId).add(secret).add(sessionToken);
    const session = params.get("RoleSessionName") ?? "";
    const roleName = (params.get("RoleArn") ?? "").split("/").pop() ?? "";
    const expiration = new Date((now + duration) * 1000);
    this.sessions.set(keyId, { accessKeyId: keyId, secretAccessKey: secret, sessionToken, expiration, roleSessionName: session });
    return {
      status: 200,
      type: "text/xml",
      body: `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>${claims.sub}</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${roleName}/${session}</Arn><AssumedRoleId>AROACLKWSDQRAOEXAMPLE:${session}</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>${sessionToken}</SessionToken>
      <SecretAccessKey>${secret}</SecretAccessKey>
      <Expiration>${expiration.toISOString()}</Expiration>
      <AccessKeyId>${keyId}</AccessKeyId>
    </Credentials>
    <Provider>arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${n}-req</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
    };
  }
}
