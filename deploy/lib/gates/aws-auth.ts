/**
 * AWS clients for the deploy functions, from Secrets only: static keys, or a GitHub OIDC token
 * exchanged for a role session (renewed before it expires, from fresh tokens when the token
 * request URL is given). The SDK's own retries are off everywhere: ours back off and explain.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { ECSClient } from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Secret } from "@dagger.io/dagger";
import { awsCredentials, runIdentityOf, type CredentialProvider } from "../aws/credentials.js";
import { webIdentityOf } from "../aws/web-identity.js";
import { secretText } from "./secret-text.js";

export interface AwsCredentials {
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
  /** GitHub's OIDC token (audience sts.amazonaws.com), exchanged with AssumeRoleWithWebIdentity. */
  awsWebIdentityToken?: Secret;
  awsRoleArn?: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN: fresh OIDC tokens for a deploy that outlives one session. */
  awsIdTokenRequestUrl?: Secret;
  awsIdTokenRequestToken?: Secret;
  /** The CI run's URL: names the role session (shipshape-<repo>-<run id>) so CloudTrail shows which run did what. */
  runUrl?: string;
}

/** The credential provider for one environment's region; the first identity is fetched now, while a short-lived token is valid. */
export async function credentialsFor(region: string, aws: AwsCredentials, environment: string): Promise<CredentialProvider> {
  const { webIdentityToken } = await webIdentityOf(aws);
  const credentials = awsCredentials({
    region,
    accessKeyId: await secretText(aws.awsAccessKeyId),
    secretAccessKey: await secretText(aws.awsSecretAccessKey),
    sessionToken: await secretText(aws.awsSessionToken),
    ...(webIdentityToken ? { webIdentityToken } : {}),
    ...(aws.awsRoleArn ? { roleArn: aws.awsRoleArn } : {}),
    run: runIdentityOf(aws.runUrl, environment),
  });
  await credentials();
  return credentials;
}

export interface AwsClients {
  /** The identity every client signs with (the assumed role's session, with OIDC), for other AWS users such as the ECR login. */
  credentials: CredentialProvider;
  ecs: ECSClient;
  elb: () => ElasticLoadBalancingV2Client;
  /** One CloudWatch client per region (a metric may live in another region than the service). */
  cloudwatch: (region: string | undefined) => CloudWatchClient;
}

export async function awsClients(region: string, aws: AwsCredentials, environment: string): Promise<AwsClients> {
  const credentials = await credentialsFor(region, aws, environment);
  const cloudwatch = new Map<string, CloudWatchClient>();
  return {
    credentials,
    ecs: new ECSClient({ region, maxAttempts: 1, credentials }),
    elb: () => new ElasticLoadBalancingV2Client({ region, maxAttempts: 1, credentials }),
    cloudwatch: (r) => {
      const at = r ?? region;
      let client = cloudwatch.get(at);
      if (!client) cloudwatch.set(at, (client = new CloudWatchClient({ region: at, maxAttempts: 1, credentials })));
      return client;
    },
  };
}
