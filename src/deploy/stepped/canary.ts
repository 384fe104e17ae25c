/**
 * A stepped canary: the new revision runs on the canary service, takes growing shares of an ALB
 * listener rule's traffic (5 → 20 → 50 → 100), and is judged by `gate` after each pause. Only once
 * every step passed is the main service moved to it, while the canary carries all traffic.
 *
 * Traffic safety comes first on every way out: on a ROLLBACK verdict or any error the weights go
 * back to stable 100 / canary 0 BEFORE the canary service is scaled down, and the main service is
 * not touched. A crash (the process killed) cannot run that path: the canary then keeps its share
 * until the next run, which resets the weights under the deploy lock before it does anything else
 * (the lock of the crashed run blocks that until it expires, or until it is removed by hand).
 */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { Problem } from "../../project/problem.js";
import type { EcsOptions } from "../aws.js";
import type { EnvironmentConfig } from "../config.js";
import { describeService } from "../ecs.js";
import { withDeployLock } from "../lock.js";
import { assertDeployable } from "../deploy.js";
import type { SteppedCanaryConfig } from "./config.js";
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
}

/** The lock must outlive the slowest honest run: canary up, every pause, promotion and its rollback. */
function lockMinutes(env: EnvironmentConfig, canary: SteppedCanaryConfig): number {
  const pauses = canary.steps.reduce((sum, s) => sum + s.pauseMinutes, 0);
  return 4 * env.progressDeadlineMinutes + pauses + 10;
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
  return withDeployLock(
    clients.ecs,
    { serviceArn: found.serviceArn, runId: req.runId, ttlMinutes: lockMinutes(env, req.canary) },
    async (lock) => {
      const report = await new CanaryRun(clients, req, gate, opts).run();
      return lock.tookOver ? { ...report, tookOverLock: lock.tookOver } : report;
    },
    opts,
  );
}
