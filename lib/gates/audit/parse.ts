/**
 * Entry point: the audit command's captured output -> AuditResult. Never throws: output that can't
 * be read is itself an audit error (status "error" in the verdict), never a pass.
 */
import { parseNpmAudit } from "./npm.js";
import { parsePnpmAudit } from "./pnpm.js";
import type { AuditOutput, AuditResult } from "./result.js";
import { parseYarnBerryAudit, parseYarnClassicAudit } from "./yarn.js";

export type { Advisory, AuditCounts, AuditOutput, AuditResult, AuditSeverity } from "./result.js";
export { parseNpmAudit } from "./npm.js";
export { parsePnpmAudit } from "./pnpm.js";
export { parseYarnBerryAudit, parseYarnClassicAudit } from "./yarn.js";

/**
 * npm: `npm audit --json [--omit=dev]`; pnpm: `pnpm audit --json [--prod]`;
 * yarn-classic: `yarn audit --json [--groups dependencies]`;
 * yarn-berry: `yarn npm audit --json --all --recursive [--environment production]`.
 */
export type AuditTool = "npm" | "pnpm" | "yarn" | "yarn-classic" | "yarn-berry";

/**
 * Pass stderr and the exit code too when you have them: yarn 1 reports endpoint errors on stderr,
 * pnpm 12 too, and yarn 4 prints nothing at all for a clean audit, so with stdout alone an empty
 * yarn 4 output can only be judged an error.
 */
export function parseAudit(tool: AuditTool, output: AuditOutput | string): AuditResult {
  const out = typeof output === "string" ? { stdout: output } : output;
  switch (tool) {
    case "npm":
      return parseNpmAudit(out);
    case "pnpm":
      return parsePnpmAudit(out);
    case "yarn": // "yarn" alone is yarn 1; berry is told apart by the caller (yarnrc.yml / packageManager)
    case "yarn-classic":
      return parseYarnClassicAudit(out);
    case "yarn-berry":
      return parseYarnBerryAudit(out);
  }
}
