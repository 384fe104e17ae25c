/** The shapes a stepped canary takes in and gives back; the Dagger wiring and the audit trail use them. */
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { EnvironmentConfig } from "../config.js";
import type { MigrationResult } from "../ecs.js";
import type { GateDecision } from "../hooks.js";
import type { LockInfo } from "../lock.js";
import type { AbandonedRun } from "../recover.js";
import type { DeployResult, TimelineEvent } from "../watch.js";
import type { SteppedCanaryConfig } from "./config.js";
import type { TrafficChange } from "./traffic.js";

export type { TrafficChange };

export interface SteppedCanaryClients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  /** For the environment's alarms (alarms: and the analysis' cloudwatchAlarm metrics); required when there are any. */
  cloudwatch?: CloudWatchClient;
}

export interface SteppedCanaryRequest {
  environment: string;
  /** The environment: cluster, main service, region, container, overrides, deadlines. */
  config: EnvironmentConfig;
  canary: SteppedCanaryConfig;
  /** repository@sha256:<64 hex>. */
  image: string;
  runId: string;
  approved?: boolean;
  /** CloudWatch alarms besides the environment's: one in ALARM fails the step. */
  alarms?: string[];
  /** Ask the gate once (step 0, weight 0) before the canary gets any traffic: smoke checks on its own route. */
  checkBeforeTraffic?: boolean;
}

/** What the gate is asked to judge: the canary has held `weight` percent since `since` (step 0: no traffic yet). */
export interface GateStep {
  /** 1-based; 0 for the check before any traffic. */
  step: number;
  steps: number;
  weight: number;
  pauseMinutes: number;
  since: string;
  taskDefinitionArn: string;
  /** What the main (stable) service runs: the baseline. */
  previousTaskDefinitionArn: string;
  stableTargetGroupArn: string;
  canaryTargetGroupArn: string;
}

export interface GateVerdict {
  action: "CONTINUE" | "ROLLBACK";
  reason: string;
  /** The numbers the verdict rests on (error rate, p99 …), kept in the report. */
  values: Record<string, number>;
}

export type CanaryGate = (step: GateStep) => Promise<GateVerdict>;

export interface CanaryDecision {
  at: string;
  step: number;
  weight: number;
  verdict: GateVerdict["action"];
  reason: string;
  values: Record<string, number>;
}

export interface SteppedCanaryReport {
  environment: string;
  image: string;
  result: DeployResult;
  reason: string;
  taskDefinitionArn: string;
  previousTaskDefinitionArn: string;
  /** The main service's deployment, once promotion started. */
  serviceDeploymentArn?: string;
  timeline: TimelineEvent[];
  decisions: CanaryDecision[];
  /** Every weight change this run made, in order. */
  traffic: TrafficChange[];
  tookOverLock?: LockInfo;
  /** What this run found and ended before starting: a dead run's canary, its deployment, its hook. */
  recovered: GateDecision[];
  abandoned?: AbandonedRun;
  migration?: MigrationResult;
}
