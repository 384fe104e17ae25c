/** What a deploy did: outcome, revisions, digest, every gate decision and the timeline of every step. */
import { func, object } from "@dagger.io/dagger";
import type { DeployReport } from "../deploy/deploy.js";
import { describePause, type GateDecision } from "../deploy/hooks.js";

/** One gate decision: a smoke check run, an analysis, an approval, or a PAUSE hook that timed out. */
@object()
export class DeployDecision {
  /** When it was taken, ISO 8601. */
  @func() at: string;
  /** smoke, analysis, approval or hook-timeout. */
  @func() gate: string;
  /** ECS lifecycle stage it was taken at (e.g. POST_TEST_TRAFFIC_SHIFT), or "after rollout" / "before deploy". */
  @func() stage: string;
  /** Production traffic step (1-based) for linear and canary; 0 when not at a step. */
  @func() step: number;
  /** passed, failed, inconclusive, waiting, approved, aborted, timed out or skipped. */
  @func() verdict: string;
  /** One line: why, with the numbers that decided it. */
  @func() reason: string;
  /** The values the gate saw, "name=value" ("error-rate=0.05"; "none" for no data). */
  @func() values: string[];

  constructor(d: GateDecision) {
    this.at = d.at;
    this.gate = d.gate;
    this.stage = d.stage;
    this.step = d.step;
    this.verdict = d.verdict;
    this.reason = d.reason;
    this.values = d.values.map((v) => `${v.name}=${v.value === null ? "none" : String(v.value)}`);
  }
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

const ICON: Record<string, string> = { succeeded: "✅", "rolled back": "↩️", paused: "⏸️" };

@object()
export class Deployment {
  /** Environment name from shipshape.yaml. */
  @func() environment: string;
  /** The image deployed, by digest. */
  @func() image: string;
  /** succeeded, rolled back, failed, or paused (waiting at a gate for promote or abort). */
  @func() result: string;
  /** One line: why it ended this way. */
  @func() reason: string;
  /** rolling, blue-green, linear or canary. */
  @func() strategy: string;
  /** Task definition revision deployed. */
  @func() taskDefinition: string;
  /** Task definition revision it replaced (and returned to on rollback). */
  @func() previousTaskDefinition: string;
  /** The ECS service deployment ARN. */
  @func() serviceDeploymentArn: string;
  /** Where it waits when paused ("PRE_PRODUCTION_TRAFFIC_SHIFT step 2/10 (10% production traffic)"); empty otherwise. */
  @func() pausedAt: string;
  /** Every gate decision, in order. */
  @func() decisions: DeployDecision[];
  /** Every step, "<ISO time> <what happened>". */
  @func() timeline: string[];

  constructor(r: DeployReport) {
    this.environment = r.environment;
    this.image = r.image;
    this.result = r.result;
    this.reason = r.reason;
    this.strategy = r.strategy;
    this.taskDefinition = r.taskDefinitionArn;
    this.previousTaskDefinition = r.previousTaskDefinitionArn ?? "";
    this.serviceDeploymentArn = r.serviceDeploymentArn;
    this.pausedAt = r.pause ? describePause(r.pause) : "";
    this.decisions = r.decisions.map((d) => new DeployDecision(d));
    this.timeline = r.timeline.map((e) => `${e.at} ${e.message}`);
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
      `## ${icon} Deploy to ${this.environment}: ${this.result}`,
      "",
      `- **Image:** \`${this.image}\``,
      `- **Strategy:** ${this.strategy}`,
      `- **Revision:** \`${this.taskDefinition}\`${this.previousTaskDefinition ? ` (was \`${this.previousTaskDefinition}\`)` : ""}`,
      `- **Why:** ${this.reason}`,
      ...(this.pausedAt ? [`- **Paused at:** ${this.pausedAt}: run \`promote\` or \`abort\``] : []),
      "",
      ...decisions,
      "### Timeline",
      "",
      "| Time | Step |",
      "|---|---|",
      ...this.timeline.map((l) => `| ${l.slice(0, l.indexOf(" "))} | ${cell(l.slice(l.indexOf(" ") + 1))} |`),
      "",
    ].join("\n");
  }
}
