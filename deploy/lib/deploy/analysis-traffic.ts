/**
 * Whose traffic the analysis judges: the new revision's own (the canary) and, where one still
 * serves production next to it, the previous revision's (the baseline). Service-wide numbers
 * dilute a canary: at 5 % of the traffic, 15 % errors read 0.75 % for the whole service.
 *
 * The context is read again at EVERY sample, because ECS-native blue/green (and linear, canary)
 * registers each new revision on whichever of the two target groups is idle, so the target
 * group of "the new revision" swaps on every deploy. ECS says which group a revision uses in
 * `ServiceRevision.resolvedConfiguration.loadBalancers[].targetGroupArn` ("the resolved load
 * balancer configuration for a service revision ... which target groups serve traffic";
 * aws-sdk-js-v3 codegen/sdk-codegen/aws-models/ecs.json, ServiceRevisionLoadBalancer), and how
 * much production traffic each revision gets in `ServiceDeployment.targetServiceRevision` /
 * `sourceServiceRevisions[].requestedProductionTrafficWeight` (ServiceRevisionSummary).
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  type ECSClient,
  type ServiceRevision,
} from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";
import { ecsOf, send, type EcsOptions } from "./aws.js";
import type { AnalysisContext, RevisionTraffic } from "./analysis-context.js";
import { revisionName } from "./taskdef.js";

export { steppedTrafficContext, type AnalysisContext, type RevisionTraffic, type TrafficTargets } from "./analysis-context.js";

/** The target group ECS reports for a revision: the resolved one, else the only one configured (rolling). */
function targetGroupOf(r: ServiceRevision | undefined): string | undefined {
  const resolved = r?.resolvedConfiguration?.loadBalancers?.find((lb) => lb.targetGroupArn)?.targetGroupArn;
  if (resolved) return resolved;
  // Without blue/green's advancedConfiguration there is one target group, shared by every revision.
  const lb = r?.loadBalancers?.find((l) => l.targetGroupArn);
  return lb && !lb.advancedConfiguration ? lb.targetGroupArn : undefined;
}

const traffic = (r: ServiceRevision | undefined, percent: number | undefined): RevisionTraffic => {
  const td = r?.taskDefinition;
  const tg = targetGroupOf(r);
  return {
    ...(td ? { taskDefinitionArn: td, revision: revisionName(td) } : {}),
    ...(tg ? { targetGroupArn: tg } : {}),
    ...(percent === undefined ? {} : { productionPercent: percent }),
  };
};

/**
 * Native ECS deployments: the service deployment's target revision is the canary; a source
 * revision that still has production traffic (and its own target group) is the baseline.
 */
export function ecsTrafficContext(client: ECSClient, serviceDeploymentArn: string, opts?: EcsOptions): AnalysisContext {
  const ecs = ecsOf(client, opts);
  return {
    async targets() {
      const out = await send(ecs, "ecs:DescribeServiceDeployments", () =>
        client.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] })),
      );
      const sd = out.serviceDeployments?.find((d) => d.serviceDeploymentArn === serviceDeploymentArn);
      const target = sd?.targetServiceRevision;
      if (!sd || !target?.arn)
        throw new Problem(
          `ECS reports no target revision for service deployment ${serviceDeploymentArn}`,
          "the deployment may have been deleted from ECS's history; rerun the deploy",
        );
      const sources = (sd.sourceServiceRevisions ?? []).filter((s) => s.arn);
      const arns = [target.arn, ...sources.map((s) => s.arn ?? "")];
      const revs = await send(ecs, "ecs:DescribeServiceRevisions", () =>
        client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: arns })),
      );
      const byArn = new Map((revs.serviceRevisions ?? []).map((r) => [r.serviceRevisionArn ?? "", r]));
      const canary = traffic(byArn.get(target.arn), target.requestedProductionTrafficWeight);
      // The previous revision counts as a baseline only while it serves production on a group of its own.
      const serving = sources
        .map((s) => traffic(byArn.get(s.arn ?? ""), s.requestedProductionTrafficWeight))
        .filter((b) => (b.productionPercent ?? 0) > 0 && b.targetGroupArn !== undefined && b.targetGroupArn !== canary.targetGroupArn);
      const [baseline] = serving;
      return baseline ? { canary, baseline } : { canary };
    },
  };
}
