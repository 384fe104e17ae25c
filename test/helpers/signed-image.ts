/**
 * What a deploy needs before ECS: the image's signature (cosign's verify output for the fake ECS
 * image) and an ECR login to read it, as the real registry requires.
 */
import { GetAuthorizationTokenCommand, type ECRClient } from "@aws-sdk/client-ecr";
import type { AwsClientStub } from "aws-sdk-client-mock";
import { DIGEST, IMAGE } from "../deploy/fake-ecs.js";

/** `cosign verify` stdout for IMAGE signed at DIGEST. */
export const VERIFIED = JSON.stringify([
  {
    critical: { identity: { "docker-reference": IMAGE.split("@")[0] }, image: { "docker-manifest-digest": DIGEST }, type: "x" },
    optional: {},
  },
]);

/** ECR answers GetAuthorizationToken with a token valid for an hour (of the test's clock). */
export function allowEcrLogin(ecr: AwsClientStub<ECRClient>): void {
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: Buffer.from("AWS:ecr-token").toString("base64"),
        proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        expiresAt: new Date(Date.now() + 3600_000),
      },
    ],
  });
}
