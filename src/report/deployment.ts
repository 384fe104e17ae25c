/** What a deploy did: outcome, revisions, digest and the timeline of every step. */
import { func, object } from "@dagger.io/dagger";
import type { DeployReport } from "../deploy/deploy.js";

@object()
export class Deployment {
  /** Environment name from shipshape.yaml. */
  @func() environment: string;
  /** The image deployed, by digest. */
  @func() image: string;
  /** succeeded, rolled back or failed. */
  @func() result: string;
  /** One line: why it ended this way. */
  @func() reason: string;
  /** Task definition revision deployed. */
  @func() taskDefinition: string;
  /** Task definition revision it replaced (and returned to on rollback). */
  @func() previousTaskDefinition: string;
  /** The ECS service deployment ARN. */
  @func() serviceDeploymentArn: string;
  /** Every step, "<ISO time> <what happened>". */
  @func() timeline: string[];

  constructor(r: DeployReport) {
    this.environment = r.environment;
    this.image = r.image;
    this.result = r.result;
    this.reason = r.reason;
    this.taskDefinition = r.taskDefinitionArn;
    this.previousTaskDefinition = r.previousTaskDefinitionArn ?? "";
    this.serviceDeploymentArn = r.serviceDeploymentArn;
    this.timeline = r.timeline.map((e) => `${e.at} ${e.message}`);
  }

  /** The deployment as Markdown, for a GitHub step summary. */
  @func()
  markdown(): string {
    const icon = this.result === "succeeded" ? "✅" : this.result === "rolled back" ? "↩️" : "❌";
    return [
      `## ${icon} Deploy to ${this.environment}: ${this.result}`,
      "",
      `- **Image:** \`${this.image}\``,
      `- **Revision:** \`${this.taskDefinition}\`${this.previousTaskDefinition ? ` (was \`${this.previousTaskDefinition}\`)` : ""}`,
      `- **Why:** ${this.reason}`,
      "",
      "| Time | Step |",
      "|---|---|",
      ...this.timeline.map((l) => `| ${l.slice(0, l.indexOf(" "))} | ${l.slice(l.indexOf(" ") + 1).replace(/\|/g, "\\|")} |`),
      "",
    ].join("\n");
  }
}
