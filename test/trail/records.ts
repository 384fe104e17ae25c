/** Records as a real run would write them, built with the product's own builders. */
import { completeRecord, startRecord, type RunStart } from "../../deploy/lib/trail/builders.js";
import type { AuditRecord } from "../../deploy/lib/trail/record.js";

export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST}`;
export const REV = (n: number) => `arn:aws:ecs:eu-west-1:123456789012:task-definition/api:${n}`;

export function run(runId: string, over: Partial<RunStart> = {}): RunStart {
  return {
    runId,
    environment: "production",
    strategy: "canary",
    version: "1.4.2",
    image: IMAGE,
    actor: "octocat",
    approver: "release-manager",
    commitSha: "0123456789abcdef0123456789abcdef01234567",
    commitMessage: "feat: faster checkout\n\nCloses #42",
    commitTimestamp: "2026-11-20T09:00:00+01:00",
    runUrl: `https://github.com/acme/api/actions/runs/${runId.replace(/\D/g, "") || "1"}`,
    fromRevision: REV(41),
    ...over,
  };
}

/** A started and a completed record for one run, `minutes` apart, starting at `at`. */
export function pair(runId: string, at: string, outcome: AuditRecord["outcome"], over: Partial<RunStart> = {}): [AuditRecord, AuditRecord] {
  const t = Date.parse(at);
  const started = startRecord(run(runId, over), { now: () => t });
  const completed = completeRecord(
    started,
    {
      outcome,
      reason: outcome === "succeeded" ? "deployment completed" : "alarm api-5xx went into ALARM",
      ...(outcome === "rolled back" ? { rollbackReason: "alarm api-5xx went into ALARM" } : {}),
      toRevision: REV(42),
      serviceDeploymentArn: "arn:aws:ecs:eu-west-1:123456789012:service-deployment/main/api/abc123",
      decisions: [
        {
          at: new Date(t + 60_000).toISOString(),
          gate: "analysis",
          stage: "canary 10%",
          verdict: outcome === "succeeded" ? "pass" : "fail",
          reason: "error rate vs threshold",
          values: { errorRate: outcome === "succeeded" ? 0.01 : 0.09, threshold: 0.05, samples: 12 },
        },
      ],
    },
    { now: () => t + 5 * 60_000 },
  );
  return [started, completed];
}
