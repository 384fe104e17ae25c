/**
 * SNS signs with the deploy's own AWS identity (withAws): static keys or the GitHub OIDC role
 * session, exchanged only when SNS is actually used, for the topic's region.
 */
import { credentialsFor, type AwsCredentials } from "../gates/aws-auth.js";
import { sdkPublisher, type SnsPublisher } from "./sns.js";

export const snsWithIdentity =
  (aws: AwsCredentials, environment: string) =>
  async (region: string): Promise<SnsPublisher> =>
    sdkPublisher(region, await credentialsFor(region, aws, environment));
