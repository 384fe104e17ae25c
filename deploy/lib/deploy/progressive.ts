/**
 * What blue-green, linear and canary need from the live service before UpdateService is sent:
 * checked up front so a missing piece of load-balancer setup is one clear Problem naming it,
 * not a rollback halfway through with ECS's words.
 */
import type { ECSClient, Service } from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";
import type { EcsOptions } from "./aws.js";
import type { EnvironmentConfig } from "./config.js";
import { describeServiceDeployment } from "./ecs.js";
import { awaitingPauseHooks, gateStageOf, gateStages, isProgressive, stepCount } from "./hooks.js";

const ADVANCED = "alternateTargetGroupArn, productionListenerRule and roleArn";

/** Throws the first missing prerequisite of the environment's strategy. */
export function checkProgressiveSetup(service: Service, env: EnvironmentConfig): void {
  if (!isProgressive(env)) return;
  const name = service.serviceName ?? env.service;
  const lbs = service.loadBalancers ?? [];
  const serviceConnect = service.deployments?.some((d) => d.serviceConnectConfiguration?.enabled) ?? false;
  const bare = lbs.find((lb) => !lb.advancedConfiguration);
  if (bare) {
    throw new Problem(
      `${env.strategy} on service ${name} needs its load balancer's advancedConfiguration (target group ${bare.targetGroupArn ?? bare.loadBalancerName ?? "?"} has none)`,
      `set loadBalancers[].advancedConfiguration (${ADVANCED}) on the service, or deploy with strategy: rolling`,
    );
  }
  if (env.strategy !== "blue-green" && lbs.length === 0 && !serviceConnect) {
    throw new Problem(
      `${env.strategy} on service ${name} shifts traffic through a load balancer or Service Connect, and the service has neither`,
      `attach an ALB target group with advancedConfiguration (${ADVANCED}), or use strategy: blue-green or rolling`,
    );
  }
  if (env.smoke?.testUrl && !serviceConnect && !lbs.some((lb) => lb.advancedConfiguration?.testListenerRule)) {
    throw new Problem(
      `smoke.testUrl is set, but service ${name}'s load balancer has no test listener rule, so nothing answers there before production traffic`,
      "set loadBalancers[].advancedConfiguration.testListenerRule on the service, or remove smoke.testUrl",
    );
  }
  if (env.smoke?.testHeader && !serviceConnect) {
    throw new Problem(
      `smoke.testHeader is set, but service ${name} does not use Service Connect, whose test traffic rules the header relies on`,
      "enable Service Connect on the service, or use smoke.testUrl with the load balancer's test listener",
    );
  }
}

/** A deployment paused at a PAUSE hook must be promoted or aborted first: a new UpdateService would bury it. */
export async function assertNotPaused(client: ECSClient, service: Service, environment: string, opts?: EcsOptions): Promise<void> {
  const current = service.currentServiceDeployment;
  if (!current) return;
  const sd = await describeServiceDeployment(client, current, opts);
  if (!sd || sd.status !== "IN_PROGRESS" || awaitingPauseHooks(sd).length === 0) return;
  throw new Problem(
    `the current deployment of ${environment} is paused at ${gateStageOf(sd.lifecycleStage) ?? sd.lifecycleStage ?? "a PAUSE hook"}, waiting for a decision`,
    `promote it (dagger call shipshape-deploy environment --name=${environment} promote) or abort it (dagger call shipshape-deploy environment --name=${environment} abort) before deploying again`,
  );
}

/** How many times one of our hooks can fire in one deployment (PRE_PRODUCTION_TRAFFIC_SHIFT fires at every step). */
export function hooksPerDeployment(env: EnvironmentConfig): number {
  return gateStages(env).reduce((n, stage) => n + (stage === "PRE_PRODUCTION_TRAFFIC_SHIFT" ? stepCount(env) : 1), 0);
}
