/**
 * Errors no retry can fix, and the per-sample filling of query placeholders. A FatalProblem (a
 * broken query, an unknown metric or dimension, a missing permission or alarm) fails the metric
 * on the first sample, so the deploy rolls back at once instead of after consecutiveErrorLimit
 * more intervals. Timeouts, 5xx and throttling stay ordinary Problems: transient, counted.
 */
import { Problem } from "../../src/project/problem.js";
import type { TrafficPlaceholder } from "./analysis-context.js";

export class FatalProblem extends Problem {
  readonly fatal = true;
}

export type QueryVars = Partial<Record<TrafficPlaceholder, string>>;

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** A query as a cause can quote it: on one line, clipped. */
export const quoted = (query: string) => JSON.stringify(clip(query.replace(/\s+/g, " ").trim()));

/**
 * Fills {{name}} with this sample's values: escaped for a double-quoted PromQL string ("promql"),
 * or as they are (CloudWatch dimension values). A placeholder without a value is fatal: the
 * query would otherwise read nothing, or somebody else's traffic, for the whole analysis.
 */
export function fillPlaceholders(template: string, vars: QueryVars, as: "promql" | "raw"): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = vars[key as TrafficPlaceholder];
    if (value === undefined)
      throw new FatalProblem(
        `the query ${quoted(template)} uses {{${key}}}, which this deploy cannot fill here`,
        key.startsWith("targetGroup")
          ? "{{targetGroup}} needs a load balancer target group ECS reports for the revision (or the stepped canary's groups)"
          : "{{revision}} needs an ECS-native deployment, whose service revisions name their task definitions",
      );
    return as === "promql" ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"') : value;
  });
}
