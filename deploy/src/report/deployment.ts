/** What a deploy did: outcome, revisions, digest, every gate decision and the timeline of every step. */
import { dag, func, object, type Directory, type File } from "@dagger.io/dagger";

/** One gate decision: a smoke check run, an analysis, an approval, or a PAUSE hook that timed out. */
@object()
export class DeployDecision {
  /** When it was taken, ISO 8601. */
  @func() at!: string;
  /** smoke, analysis, approval or hook-timeout. */
  @func() gate!: string;
  /** ECS lifecycle stage it was taken at (e.g. POST_TEST_TRAFFIC_SHIFT), or "after rollout" / "before deploy". */
  @func() stage!: string;
  /** Production traffic step (1-based) for linear and canary; 0 when not at a step. */
  @func() step!: number;
  /** passed, failed, inconclusive, waiting, approved, aborted, timed out or skipped. */
  @func() verdict!: string;
  /** One line: why, with the numbers that decided it. */
  @func() reason!: string;
  /** The values the gate saw, "name=value" ("error-rate=0.05"; "none" for no data). */
  @func() values!: string[];
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

const ICON: Record<string, string> = { succeeded: "✅", "rolled back": "↩️", paused: "⏸️" };
const title = (kind: string, env: string): string =>
  ({ rollback: `Rollback of ${env}`, promote: `Promotion of ${env}`, abort: `Abort of ${env}` })[kind] ?? `Deploy to ${env}`;

/** What a deploy, rollback, promote or abort did: outcome, revisions, gate decisions, timeline and audit records. */
@object()
export class Deployment {
  /** What the run did: deploy, rollback, promote or abort. */
  @func() kind!: string;
  /** Environment name from shipshape.yaml. */
  @func() environment!: string;
  /** The image deployed, by digest. */
  @func() image!: string;
  /** succeeded, rolled back, failed, or paused (waiting at a gate for promote or abort). */
  @func() result!: string;
  /** One line: why it ended this way. */
  @func() reason!: string;
  /** rolling, blue-green, linear, canary or stepped-canary. */
  @func() strategy!: string;
  /** Task definition revision deployed. */
  @func() taskDefinition!: string;
  /** Task definition revision it replaced (and returned to on rollback). */
  @func() previousTaskDefinition!: string;
  /** The ECS service deployment ARN. */
  @func() serviceDeploymentArn!: string;
  /** Where it waits when paused ("PRE_PRODUCTION_TRAFFIC_SHIFT step 2/10 (10% production traffic)"); empty otherwise. */
  @func() pausedAt!: string;
  /** Every gate decision, in order. */
  @func() decisions!: DeployDecision[];
  /** Every step, "<ISO time> <what happened>". */
  @func() timeline!: string[];
  /** This run's audit records (started, completed) as JSON Lines, plus any earlier trail given; keep it when there is no database. */
  @func() auditTrail!: File;
  /** Where the audit records went: postgres (and the JSON Lines), or jsonl only. */
  @func() auditStorage!: string;
  /** Problems that did not change the outcome: audit storage fallbacks. */
  @func() warnings!: string[];
  /** One line per notification target: delivered, skipped or not delivered (and why). */
  @func() notifications!: string[];

  /** deployment.json, summary.md and audit.jsonl: what a CI job keeps (export, then fail the job on result). */
  @func()
  files(): Directory {
    const json = {
      kind: this.kind,
      environment: this.environment,
      image: this.image,
      result: this.result,
      reason: this.reason,
      strategy: this.strategy,
      taskDefinition: this.taskDefinition,
      previousTaskDefinition: this.previousTaskDefinition,
      serviceDeploymentArn: this.serviceDeploymentArn,
      pausedAt: this.pausedAt,
      decisions: this.decisions.map((d) => ({ ...d })),
      timeline: this.timeline,
      auditStorage: this.auditStorage,
      warnings: this.warnings,
      notifications: this.notifications,
    };
    return dag
      .directory()
      .withNewFile("deployment.json", `${JSON.stringify(json, null, 2)}\n`)
      .withNewFile("summary.md", this.markdown())
      .withFile("audit.jsonl", this.auditTrail);
  }

  /** The deployment as Markdown, for a GitHub step summary. */
  @func()
  markdown(): string {
    const icon = ICON[this.result] ?? "❌";
    const decisions =
      this.decisions.length === 0
        ? []
        : [
            "### Gate decisions",
            "",
            "| Time | Gate | Stage | Step | Verdict | Values | Why |",
            "|---|---|---|---|---|---|---|",
            ...this.decisions.map(
              (d) =>
                `| ${d.at} | ${d.gate} | ${d.stage} | ${d.step || ""} | ${d.verdict} | ${cell(d.values.join(", "))} | ${cell(d.reason)} |`,
            ),
            "",
          ];
    return [
      `## ${icon} ${title(this.kind, this.environment)}: ${this.result}`,
      "",
      `- **Image:** \`${this.image}\``,
      `- **Strategy:** ${this.strategy}`,
      `- **Revision:** \`${this.taskDefinition}\`${this.previousTaskDefinition ? ` (was \`${this.previousTaskDefinition}\`)` : ""}`,
      `- **Why:** ${this.reason}`,
      ...(this.pausedAt ? [`- **Paused at:** ${this.pausedAt}: run \`promote\` or \`abort\``] : []),
      "",
      ...decisions,
      ...(this.warnings.length ? ["### Warnings", "", ...this.warnings.map((w) => `- ${w}`), ""] : []),
      ...(this.notifications.length ? ["### Notifications", "", ...this.notifications.map((n) => `- ${n}`), ""] : []),
      "### Timeline",
      "",
      "| Time | Step |",
      "|---|---|",
      ...this.timeline.map((l) => `| ${l.slice(0, l.indexOf(" "))} | ${cell(l.slice(l.indexOf(" ") + 1))} |`),
      "",
    ].join("\n");
  }
}
