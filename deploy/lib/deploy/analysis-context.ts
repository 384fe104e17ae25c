/**
 * What the judge needs from the deploy, in one object (AnalysisContext): whose traffic is the new
 * revision's (the canary) and whose the previous revision's (the baseline), read again before
 * every sample. Free of the AWS SDK so loading the config stays light; the ECS reading of it is
 * analysis-traffic.ts.
 */

/** One revision's traffic: what the query placeholders are filled with. */
export interface RevisionTraffic {
  /** Task definition "family:revision", e.g. "app:7" ({{revision}}). */
  revision?: string;
  taskDefinitionArn?: string;
  /** The target group this revision's tasks are registered with ({{targetGroupArn}}). */
  targetGroupArn?: string;
  /** Percent of production traffic ECS routes to it now, when known. */
  productionPercent?: number;
}

export interface TrafficTargets {
  canary: RevisionTraffic;
  /** The revision still serving production next to the canary; absent once the canary has it all. */
  baseline?: RevisionTraffic;
}

/** What the judge needs from the deploy, in one object: where the new revision's traffic is now. */
export interface AnalysisContext {
  /** Called before every sample: ECS swaps target groups, so nothing here is cached. */
  targets(signal: AbortSignal): Promise<TrafficTargets>;
}

/** The placeholders a query may use, filled per sample from a RevisionTraffic. */
export const TRAFFIC_PLACEHOLDERS = ["targetGroup", "targetGroupArn", "targetGroupName", "revision", "taskDefinitionArn"] as const;
export type TrafficPlaceholder = (typeof TRAFFIC_PLACEHOLDERS)[number];

/** `arn:…:targetgroup/api-green/fedc…` → `targetgroup/api-green/fedc…`, the ALB metrics' TargetGroup dimension value. */
export const targetGroupDimension = (arn: string): string => arn.replace(/^arn:[^:]*:elasticloadbalancing:[^:]*:[^:]*:/, "");

export function placeholderValues(t: RevisionTraffic): Partial<Record<TrafficPlaceholder, string>> {
  const dimension = t.targetGroupArn === undefined ? undefined : targetGroupDimension(t.targetGroupArn);
  const v: Partial<Record<TrafficPlaceholder, string>> = {};
  if (t.targetGroupArn !== undefined) v.targetGroupArn = t.targetGroupArn;
  if (dimension !== undefined) {
    v.targetGroup = dimension;
    v.targetGroupName = dimension.split("/")[1] ?? dimension;
  }
  if (t.revision !== undefined) v.revision = t.revision;
  if (t.taskDefinitionArn !== undefined) v.taskDefinitionArn = t.taskDefinitionArn;
  return v;
}

/** A stepped canary's step, when the caller knows it: the revisions on each side and the canary's share. */
export interface SteppedRevisions {
  taskDefinitionArn: string;
  previousTaskDefinitionArn: string;
  weight: number;
}

const revisionOf = (arn: string): string => arn.split("/").pop() ?? arn;

/** The stepped canary's groups are fixed by its config: canary vs stable, both behind one rule. */
export function steppedTrafficContext(
  canary: { canaryTargetGroupArn: string; stableTargetGroupArn: string },
  step?: SteppedRevisions,
): AnalysisContext {
  const side = (targetGroupArn: string, td: string | undefined, percent: number | undefined): RevisionTraffic => ({
    targetGroupArn,
    ...(td ? { taskDefinitionArn: td, revision: revisionOf(td) } : {}),
    ...(percent === undefined ? {} : { productionPercent: percent }),
  });
  return {
    targets: async () => ({
      canary: side(canary.canaryTargetGroupArn, step?.taskDefinitionArn, step?.weight),
      baseline: side(canary.stableTargetGroupArn, step?.previousTaskDefinitionArn, step ? 100 - step.weight : undefined),
    }),
  };
}
