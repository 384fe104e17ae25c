/**
 * The two ECS services of a stepped canary: checks that they are wired to the right target groups
 * (before anything changes), and the canary service's own updates. ecs.ts updateService() has no
 * desired count, and the canary service is scaled up and down with each run, so it is called here.
 */
import { UpdateServiceCommand, type DeploymentConfiguration, type ECSClient, type Service } from "@aws-sdk/client-ecs";
import { Problem } from "../../../src/project/problem.js";
import { ecsOf, send, type EcsOptions } from "../aws.js";
import type { TargetGroups } from "./weights.js";

const tgName = (arn: string) =>
  arn
    .split(":")
    .pop()
    ?.replace(/^targetgroup\//, "") ?? arn;

/** Problems that would make the canary mean nothing or fight ECS for the listener rule. */
export function checkServices(main: Service, canary: Service, tg: TargetGroups): void {
  const mainName = main.serviceName ?? "?";
  const canaryName = canary.serviceName ?? "?";
  if (main.serviceArn === canary.serviceArn) {
    throw new Problem(`steppedCanary.canaryService is the main service ${mainName}`, "create a second service for the canary");
  }
  const serves = (s: Service, arn: string) => (s.loadBalancers ?? []).some((lb) => lb.targetGroupArn === arn);
  if (!serves(main, tg.stable)) {
    throw new Problem(
      `service ${mainName} is not registered to the stable target group ${tgName(tg.stable)}`,
      "set steppedCanary.stableTargetGroupArn to the main service's target group",
    );
  }
  if (!serves(canary, tg.canary)) {
    throw new Problem(
      `canary service ${canaryName} is not registered to the canary target group ${tgName(tg.canary)}`,
      "create the canary service with a load balancer entry for steppedCanary.canaryTargetGroupArn (the same container and port)",
    );
  }
  for (const s of [main, canary]) {
    const strategy = s.deploymentConfiguration?.strategy ?? "ROLLING";
    const native = strategy !== "ROLLING" || (s.loadBalancers ?? []).some((lb) => lb.advancedConfiguration);
    if (native) {
      throw new Problem(
        `service ${s.serviceName ?? "?"} uses ECS-native traffic shifting (${strategy}), which would re-weight listener rules alongside Shipshape`,
        "give it the ROLLING strategy without advancedConfiguration; the stepped canary drives the weights itself",
      );
    }
    const controller = s.deploymentController?.type ?? "ECS";
    if (controller !== "ECS") {
      throw new Problem(
        `service ${s.serviceName ?? "?"} uses the ${controller} deployment controller, which has no ECS service deployments to watch`,
        "switch it to the ECS controller (UpdateService deploymentController)",
      );
    }
  }
}

/**
 * Keeps the service's settings, with the circuit breaker forced on so a broken canary undoes itself,
 * and the environment's alarms rolling its deployment back as ECS does for the other strategies.
 */
function safeConfiguration(service: Service, alarms: readonly string[]): DeploymentConfiguration {
  const current = service.deploymentConfiguration ?? {};
  return {
    ...current,
    deploymentCircuitBreaker: { ...current.deploymentCircuitBreaker, enable: true, rollback: true },
    ...(alarms.length > 0 ? { alarms: { alarmNames: [...alarms], enable: true, rollback: true } } : {}),
  };
}

/** Puts the new revision on the canary service at `desiredCount` tasks; returns the service deployment to watch. */
export async function startCanaryService(
  client: ECSClient,
  canary: Service,
  taskDefinitionArn: string,
  desiredCount: number,
  alarms: readonly string[],
  opts?: EcsOptions,
): Promise<string> {
  const out = await send(ecsOf(client, opts), "ecs:UpdateService", () =>
    client.send(
      new UpdateServiceCommand({
        cluster: canary.clusterArn,
        service: canary.serviceArn ?? canary.serviceName,
        taskDefinition: taskDefinitionArn,
        desiredCount,
        deploymentConfiguration: safeConfiguration(canary, alarms),
      }),
    ),
  );
  const arn = out.service?.currentServiceDeployment;
  if (!arn) throw new Problem("ECS started no service deployment for the canary service", "check its events in the ECS console");
  return arn;
}

/** Back to no tasks: the canary service only costs money while a canary runs. */
export async function scaleCanaryToZero(client: ECSClient, canary: Service, opts?: EcsOptions): Promise<void> {
  await send(ecsOf(client, opts), "ecs:UpdateService", () =>
    client.send(
      new UpdateServiceCommand({ cluster: canary.clusterArn, service: canary.serviceArn ?? canary.serviceName, desiredCount: 0 }),
    ),
  );
}
