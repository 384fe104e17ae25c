/**
 * A stepped canary: the new revision runs on the canary service, takes growing shares of an ALB
 * listener rule's traffic (5 → 20 → 50 → 100), and is judged by `gate` after each pause. Only once
 * every step passed is the main service moved to it, while the canary carries all traffic.
 *
 * Traffic safety comes first on every way out: on a ROLLBACK verdict or any error the weights go
 * back to stable 100 / canary 0 BEFORE the canary service is scaled down, and the main service is
 * not touched. A crash (the process killed) cannot run that path: the canary then keeps its share
 * until the next Shipshape command (deploy, status, rollback, abort, promote) ends it under the
 * deploy lock (inflight.ts), or the scheduled `monitor` does. The crashed run's lock blocks that
 * only until its short heartbeat TTL has passed (lease.ts); `abort` takes it at once.
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Problem } from "../../../src/project/problem.js";
import { ecsOf, type EcsOptions } from "../aws.js";
import type { EnvironmentConfig } from "../config.js";
import { describeService } from "../ecs.js";
import { withDeployLock } from "../lock.js";
import { assertDeployable, nativeAlarms } from "../deploy.js";
import { alarmCheck } from "./alarms.js";
import { Lease, steppedLockMinutes } from "./lease.js";
import { CanaryRun } from "./run.js";
import type { CanaryGate, SteppedCanaryClients, SteppedCanaryReport, SteppedCanaryRequest } from "./types.js";

export type * from "./types.js";

async function regionOf(client: ECSClient | ElasticLoadBalancingV2Client): Promise<string> {
  const region: unknown = await client.config.region();
  return typeof region === "string" ? region : "?";
}

/** Checks that need no AWS call, so a bad request costs nothing and changes nothing. */
async function precheck(clients: SteppedCanaryClients, req: SteppedCanaryRequest): Promise<void> {
  assertDeployable(req);
  const want = req.config.region;
  for (const [name, client] of [
    ["ECS", clients.ecs],
    ["ELB", clients.elb],
  ] as const) {
    const region = await regionOf(client);
    if (region !== want)
      throw new Problem(
        `environment ${req.environment} is in ${want}, but the ${name} client calls ${region}`,
        `build the ${name} client for ${want}`,
      );
  }
  const { canary } = req;
  for (const arn of [canary.listenerRuleArn, canary.listenerArn, canary.stableTargetGroupArn, canary.canaryTargetGroupArn]) {
    if (arn !== undefined && arn.split(":")[3] !== want) {
      throw new Problem(
        `${arn} is in ${arn.split(":")[3] ?? "?"}, not in the environment's region ${want}`,
        "use the load balancer in the service's region",
      );
    }
  }
  assertCanaryRoute(req.environment, req.config);
  if (nativeAlarms(req.config, req.alarms).length > 0 && !clients.cloudwatch)
    throw new Problem(
      `environment ${req.environment} has CloudWatch alarms, but the stepped canary was given no CloudWatch client to read them`,
      "pass a CloudWatch client for the environment's region",
    );
}

/**
 * Smoke checks must reach the canary's own targets: the shared baseUrl sends most requests to the
 * stable revision (95% at a 5% step), so a broken canary would pass. testUrl (a listener or port
 * whose rule forwards to the canary target group only) or testHeader (a rule with an http-header
 * condition forwarding there) is the canary's own route.
 */
export function assertCanaryRoute(environment: string, env: EnvironmentConfig): void {
  if (!env.smoke || env.smoke.testUrl || env.smoke.testHeader) return;
  throw new Problem(
    `environment ${environment} smoke-checks a stepped canary at the shared baseUrl, where most requests reach the stable revision and a broken canary passes`,
    "set smoke.testUrl to a listener or port that forwards to steppedCanary.canaryTargetGroupArn only, or smoke.testHeader to the header of a listener rule that does",
  );
}

export async function steppedCanaryDeploy(
  clients: SteppedCanaryClients,
  req: SteppedCanaryRequest,
  gate: CanaryGate,
  opts?: EcsOptions,
): Promise<SteppedCanaryReport> {
  await precheck(clients, req);
  const env = req.config;
  const found = await describeService(clients.ecs, { cluster: env.cluster, service: env.service }, opts);
  if (!found.serviceArn) throw new Problem(`ECS returned no ARN for service ${env.service}`, "rerun; check the ECS console");
  const alarms = nativeAlarms(env, req.alarms);
  const sleep = (ms: number) => ecsOf(clients.ecs, opts).clock.sleep(ms);
  const check = clients.cloudwatch && alarms.length > 0 ? alarmCheck(clients.cloudwatch, alarms, sleep) : undefined;
  return withDeployLock(
    clients.ecs,
    { serviceArn: found.serviceArn, runId: req.runId, ttlMinutes: steppedLockMinutes(env) },
    async (lock) => {
      const lease = new Lease(clients.ecs, lock, env, opts);
      const run = new CanaryRun(clients, req, gate, opts, lease, check);
      lease.start((why) => run.heartbeatLost(why));
      try {
        const report = await run.run();
        return lock.tookOver ? { ...report, tookOverLock: lock.tookOver } : report;
      } finally {
        await lease.stop(); // before the release: no beat may write the tag after it
      }
    },
    opts,
  );
}
