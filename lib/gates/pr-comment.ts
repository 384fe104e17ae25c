/** The gate table posted to a pull request as one comment, updated on every run (prComment). */
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { upsertPrComment, type PrCommentResult } from "../github/pr-comment.js";
import { ciSummary, type GateRow } from "../github/summary.js";

/** Posts (or updates) the one Shipshape comment on a pull request; a failure is a line, never an exception. */
export async function commentGates(
  config: ShipshapeConfig,
  req: { repository: string; pullNumber: number; token: string; runUrl: string; commitSha: string },
  runGates: () => Promise<GateRow[]>,
): Promise<string> {
  if (!config.notifications.github.prComment) return "pull-request comments are off (notifications.github.prComment: false)";
  const body = ciSummary({
    gates: await runGates(),
    ...(req.runUrl ? { runUrl: req.runUrl } : {}),
    ...(req.commitSha ? { commitSha: req.commitSha } : {}),
  });
  const r: PrCommentResult = await upsertPrComment({
    repository: req.repository,
    pullNumber: req.pullNumber,
    body,
    token: req.token,
    apiUrl: config.notifications.github.apiUrl,
  });
  if (r.ok) return `comment ${r.action ?? "posted"}${r.url ? `: ${r.url}` : ""}${r.truncated ? " (cut to GitHub's limit)" : ""}`;
  return `comment not posted: ${r.error ?? "unknown error"}${r.hint ? `\nhint: ${r.hint}` : ""}`;
}
