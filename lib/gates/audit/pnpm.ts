/**
 * `pnpm audit --json`. Seen here (see test/parsers/fixtures-test-audit/README.md):
 *  - pnpm 9 POSTs /-/npm/v1/security/audits, pnpm 10 tries audits/quick then audits; both print
 *    the registry's npm 6 style report, paths prefixed with the importer (". > lodash@4.17.20");
 *  - pnpm 12 POSTs advisories/bulk and prints its own npm 6 style report (no actions/muted);
 *  - on an endpoint error pnpm 9/10 print {"error":{"code","message"}} on stdout, pnpm 12 prints
 *    nothing on stdout and a boxed message on stderr.
 */
import { fromNpm6Report } from "./npm.js";
import { asRecord, errorFrom, oneLine, parseJson, statusFrom, str, type AuditOutput, type AuditResult } from "./result.js";

export function parsePnpmAudit(out: AuditOutput): AuditResult {
  const text = out.stdout.trim();
  if (text === "") return errorFrom("pnpm audit", out.stderr ?? "", "printed nothing on stdout");
  const json = asRecord(parseJson(text));
  if (!json) return errorFrom("pnpm audit", out.stderr ?? "", `printed no JSON object: ${oneLine(text, 120)}`);
  const err = asRecord(json.error);
  if (err) {
    const message = [str(err.code), str(err.message)].filter(Boolean).join(": ") || "unknown error";
    const statusCode = statusFrom(message);
    return { kind: "error", message: `pnpm audit: ${oneLine(message)}`, ...(statusCode ? { statusCode } : {}) };
  }
  return fromNpm6Report(json, "pnpm audit", true);
}
