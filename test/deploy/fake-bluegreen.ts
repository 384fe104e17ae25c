/**
 * ECS-native blue/green as the analysis sees it, behind aws-sdk-client-mock: a service with two
 * target groups whose roles SWAP on every deploy, and the two ECS reads the analysis makes.
 *
 * Modelled after the ECS API model and docs (aws-sdk-js-v3 codegen/sdk-codegen/aws-models/ecs.json;
 * "Amazon ECS blue/green service deployments workflow"): the service's load balancer names a
 * `targetGroupArn` and an `advancedConfiguration.alternateTargetGroupArn`; each new service
 * revision is registered with the group that does not serve production and takes production
 * traffic by re-weighting the listener rule, so after the deploy the other group serves, and the
 * next deploy goes to the first one again. A revision's own group is reported in
 * `ServiceRevision.resolvedConfiguration.loadBalancers[].targetGroupArn`, its configured ones in
 * `loadBalancers[]` (identical for both revisions, so useless to tell them apart); traffic per
 * revision in `ServiceDeployment.targetServiceRevision` / `sourceServiceRevisions[]`
 * `.requestedProductionTrafficWeight`. Unknown ARNs come back as `failures` (reason MISSING), as
 * DescribeServiceDeployments and DescribeServiceRevisions report them.
 *
 * `serve()` publishes the ALB's per-target-group metrics into a FakeCloudWatch, splitting requests
 * by the weights and failing each revision's share at its own error rate.
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
  type DescribeServiceDeploymentsCommandInput,
  type DescribeServiceRevisionsCommandInput,
  type ServiceDeployment,
  type ServiceRevision,
} from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import type { FakeCloudWatch } from "./fake-cloudwatch.js";
import { ALB_WITH_ADVANCED_CONFIG, arnOf, CLUSTER, SERVICE } from "./fake-ecs.js";

export const BLUE = ALB_WITH_ADVANCED_CONFIG.targetGroupArn;
export const GREEN = ALB_WITH_ADVANCED_CONFIG.advancedConfiguration.alternateTargetGroupArn;
export const ALB_DIMENSION = "app/web/0123456789abcdef";
const dimension = (arn: string) => arn.split(":").pop() ?? arn;

interface Revision {
  arn: string;
  taskDefinition: string;
  targetGroup: string;
}

export class FakeBlueGreen {
  readonly mock = mockClient(ECSClient);
  readonly client = new ECSClient({ region: "us-east-1", credentials: { accessKeyId: "AKIAFAKEFAKEFAKEFAKE", secretAccessKey: "fake" } });
  readonly calls: string[] = [];
  /** Error rate of each revision's own requests ("app:3" → 0.15). */
  readonly errorRates = new Map<string, number>();
  private readonly revisions = new Map<string, Revision>();
  private readonly deployments = new Map<string, { target: Revision; source: Revision; weight: number; done: boolean }>();
  private serving: Revision;
  private seq = 0;

  constructor(firstTaskDefinition = "app:1") {
    this.serving = this.revision(firstTaskDefinition, BLUE);
    this.mock
      .on(DescribeServiceDeploymentsCommand)
      .callsFake(async (i: DescribeServiceDeploymentsCommandInput) => this.describeDeployments(i));
    this.mock.on(DescribeServiceRevisionsCommand).callsFake(async (i: DescribeServiceRevisionsCommandInput) => this.describeRevisions(i));
  }

  /** A new revision on the idle target group, with no production traffic yet; returns its service deployment ARN. */
  deploy(taskDefinition: string): string {
    const idle = this.serving.targetGroup === BLUE ? GREEN : BLUE;
    const target = this.revision(taskDefinition, idle);
    const arn = arnOf(`service-deployment/${CLUSTER}/${SERVICE}/${(++this.seq).toString(16).padStart(20, "0")}`);
    this.deployments.set(arn, { target, source: this.serving, weight: 0, done: false });
    return arn;
  }

  /** Production percent on the new revision (the listener rule's weights). */
  shift(arn: string, percent: number): void {
    const d = this.deployments.get(arn);
    if (!d) throw new Error(`no deployment ${arn}`);
    d.weight = percent;
  }

  /** All traffic on the new revision; its group now serves, so the next deploy takes the other. */
  complete(arn: string): void {
    const d = this.deployments.get(arn);
    if (!d) throw new Error(`no deployment ${arn}`);
    Object.assign(d, { weight: 100, done: true });
    this.serving = d.target;
  }

  /** Every 10 s, `perTick` requests split by the current weights into each group's ALB metrics. */
  serve(cw: FakeCloudWatch, perTick = 400): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      const live = [...this.deployments.values()].find((d) => !d.done);
      const shares: [Revision, number][] = live
        ? [
            [live.target, live.weight],
            [live.source, 100 - live.weight],
          ]
        : [[this.serving, 100]];
      for (const [rev, percent] of shares) {
        const requests = Math.round((perTick * percent) / 100);
        if (requests === 0) continue;
        const dims = { TargetGroup: dimension(rev.targetGroup), LoadBalancer: ALB_DIMENSION };
        cw.put({ namespace: "AWS/ApplicationELB", metricName: "RequestCount", dimensions: dims }, requests);
        const errors = Math.round(requests * (this.errorRates.get(rev.taskDefinition) ?? 0));
        if (errors > 0) cw.put({ namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", dimensions: dims }, errors);
      }
      timer = setTimeout(tick, 10_000);
    };
    tick();
    return () => clearTimeout(timer);
  }

  restore(): void {
    this.mock.restore();
  }

  private revision(taskDefinition: string, targetGroup: string): Revision {
    const r = {
      arn: arnOf(`service-revision/${CLUSTER}/${SERVICE}/${(++this.seq).toString(16).padStart(20, "0")}`),
      taskDefinition,
      targetGroup,
    };
    this.revisions.set(r.arn, r);
    return r;
  }

  private describeDeployments(i: DescribeServiceDeploymentsCommandInput) {
    this.calls.push("DescribeServiceDeployments");
    const arns = i.serviceDeploymentArns ?? [];
    const found = arns.flatMap((arn): ServiceDeployment[] => {
      const d = this.deployments.get(arn);
      if (!d) return [];
      return [
        {
          serviceDeploymentArn: arn,
          status: d.done ? "SUCCESSFUL" : "IN_PROGRESS",
          targetServiceRevision: { arn: d.target.arn, requestedProductionTrafficWeight: d.weight },
          sourceServiceRevisions: [{ arn: d.source.arn, requestedProductionTrafficWeight: 100 - d.weight }],
        },
      ];
    });
    return { serviceDeployments: found, failures: arns.filter((a) => !this.deployments.has(a)).map((arn) => ({ arn, reason: "MISSING" })) };
  }

  private describeRevisions(i: DescribeServiceRevisionsCommandInput) {
    this.calls.push("DescribeServiceRevisions");
    const arns = i.serviceRevisionArns ?? [];
    const found = arns.flatMap((arn): ServiceRevision[] => {
      const r = this.revisions.get(arn);
      if (!r) return [];
      return [
        {
          serviceRevisionArn: arn,
          taskDefinition: arnOf(`task-definition/${r.taskDefinition}`),
          // The configured pair is the same for every revision; only the resolved group says whose is whose.
          loadBalancers: [ALB_WITH_ADVANCED_CONFIG],
          resolvedConfiguration: {
            loadBalancers: [
              {
                targetGroupArn: r.targetGroup,
                productionListenerRule: ALB_WITH_ADVANCED_CONFIG.advancedConfiguration.productionListenerRule,
              },
            ],
          },
        },
      ];
    });
    return { serviceRevisions: found, failures: arns.filter((a) => !this.revisions.has(a)).map((arn) => ({ arn, reason: "MISSING" })) };
  }
}
