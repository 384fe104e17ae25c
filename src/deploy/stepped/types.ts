/** The shapes a stepped canary takes in and gives back; the Dagger wiring and the audit trail use them. */
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { EnvironmentConfig } from "../config.js";
import type { LockInfo } from "../lock.js";
import type { DeployResult, TimelineEvent } from "../watch.js";
import type { SteppedCanaryConfig } from "./config.js";
import type { TrafficChange } from "./traffic.js";

export type { TrafficChange };

export interface SteppedCanaryClients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
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
}

/** What the gate is asked to judge: the canary has held `weight` percent since `since`. */
export interface GateStep {
  /** 1-based. */
  step: number;
  steps: number;
  weight: number;
  pauseMinutes: number;
  since: string;
  taskDefinitionArn: string;
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
}
