/**
 * STS AssumeRoleWithWebIdentity behind aws-sdk-client-mock, for the function-level tests (the
 * wire-level fake is in test/aws/credentials.test.ts). It keeps the tokens it issued like
 * GitHub's OIDC provider and the roles' trust policies like IAM, and refuses as STS does: the
 * SDK's own exception classes for modelled errors (InvalidIdentityToken, ExpiredToken), an
 * STSServiceException named by the Query-protocol code for the rest (AccessDenied, ValidationError).
 */
import {
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  InvalidIdentityTokenException,
  STSClient,
  STSServiceException,
  type AssumeRoleWithWebIdentityCommandInput,
  type AssumeRoleWithWebIdentityCommandOutput,
} from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { claimsOf, githubIdToken } from "./github-id-token.js";

export const ACCOUNT = "123456789012";
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/deployer`;
const meta = { httpStatusCode: 400, requestId: "c6104cbe-af31-11e0-8154-cbc7ccf896c7" };
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

const queryError = (name: string, message: string, httpStatusCode = 400) =>
  new STSServiceException({ name, $fault: "client", $metadata: { ...meta, httpStatusCode }, message });

export interface IssuedSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export class FakeSts {
  readonly mock = mockClient(STSClient);
  readonly calls: AssumeRoleWithWebIdentityCommandInput[] = [];
  /** Every key, secret and token handed out: none of them may show up in a message. */
  readonly secrets: string[] = [];
  readonly sessions: IssuedSession[] = [];
  /** Role → the token `sub` its trust policy allows. */
  readonly roles = new Map<string, string>();
  private readonly issued = new Set<string>();
  private seq = 0;

  constructor() {
    this.mock.on(AssumeRoleWithWebIdentityCommand).callsFake((i: AssumeRoleWithWebIdentityCommandInput) => this.assume(i));
  }

  /** A token shaped and scoped like GitHub's: JWT, audience sts.amazonaws.com, valid 5 minutes from now. */
  issue(sub: string, aud = "sts.amazonaws.com", lifetimeMs = 300_000): string {
    const jti = String(++this.seq);
    const token = githubIdToken({ aud, sub, lifetimeMs, jti, signature: `signature-${this.seq}` });
    this.issued.add(token);
    this.secrets.push(token);
    return token;
  }

  restore(): void {
    this.mock.restore();
  }

  private assume(input: AssumeRoleWithWebIdentityCommandInput): AssumeRoleWithWebIdentityCommandOutput {
    this.calls.push({ ...input });
    const session = input.RoleSessionName ?? "";
    if (!SESSION_NAME.test(session))
      throw queryError(
        "ValidationError",
        `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    const token = input.WebIdentityToken ?? "";
    if (!this.issued.has(token))
      throw new InvalidIdentityTokenException({
        message:
          "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
        $metadata: meta,
      });
    const claims = claimsOf(token);
    if (claims.aud !== "sts.amazonaws.com")
      throw new InvalidIdentityTokenException({ message: "Incorrect token audience", $metadata: meta });
    const now = Math.floor(Date.now() / 1000);
    if (now >= claims.exp)
      throw new ExpiredTokenException({
        message: `Token expired: current date/time ${now} must be before the expiration date/time${claims.exp}`,
        $metadata: meta,
      });
    if (this.roles.get(input.RoleArn ?? "") !== claims.sub)
      throw queryError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403);
    const n = this.sessions.length + 1;
    const issued: IssuedSession = {
      accessKeyId: `ASIA${String(n).padStart(16, "Q")}`,
      secretAccessKey: `session-secret-${n}-wJalrXUtnFEMIK7MDENGbPxRfiCY`,
      sessionToken: `IQoJb3JpZ2luX2VjEXAMPLESESSION${n}`,
    };
    this.sessions.push(issued);
    this.secrets.push(issued.accessKeyId, issued.secretAccessKey, issued.sessionToken);
    const role = (input.RoleArn ?? "").split("/").pop() ?? "";
    return {
      $metadata: { httpStatusCode: 200 },
      Credentials: {
        AccessKeyId: issued.accessKeyId,
        SecretAccessKey: issued.secretAccessKey,
        SessionToken: issued.sessionToken,
        Expiration: new Date((now + (input.DurationSeconds ?? 3600)) * 1000),
      },
      SubjectFromWebIdentityToken: claims.sub,
      AssumedRoleUser: {
        Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
        AssumedRoleId: `AROACLKWSDQRAOEXAMPLE:${session}`,
      },
      Provider: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
      Audience: "sts.amazonaws.com",
    };
  }
}
