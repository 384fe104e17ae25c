/**
 * `npm audit --json`. Three shapes reach us:
 *  - arborist v2 report {auditReportVersion: 2, vulnerabilities, metadata} (npm >= 7), exit 0 or 1;
 *  - an error object {message, statusCode?, error:{summary, detail}} with NO auditReportVersion,
 *    exit 1 - e.g. the registry refusing POST .../advisories/bulk with 405. npm 11 has no
 *    fallback to audits/quick any more (arborist audit-report.js), so that is the final answer;
 *  - npm 6's {actions, advisories, metadata}, which pnpm and yarn 1 also print (fromNpm6Report).
 */
import { z } from "zod";
import {
  advisoryId,
  asRecord,
  countsFrom,
  dedupe,
  errorFrom,
  oneLine,
  parseJson,
  SEVERITIES,
  statusFrom,
  str,
  type Advisory,
  type AuditOutput,
  type AuditResult,
} from "./result.js";

const Severity = z.enum(SEVERITIES);

/** A via entry is an advisory object, or a string: "vulnerable because it depends on <name>". */
const Via = z.union([
  z.string(),
  z.looseObject({
    source: z.union([z.number(), z.string()]).optional(),
    name: z.string(),
    title: z.string(),
    url: z.string(),
    severity: Severity,
  }),
]);

const ReportV2 = z.looseObject({
  auditReportVersion: z.literal(2),
  vulnerabilities: z.record(
    z.string(),
    z.looseObject({
      name: z.string(),
      severity: Severity,
      isDirect: z.boolean(),
      via: z.array(Via),
      // true | false | {name, version, isSemVerMajor}
      fixAvailable: z.union([z.boolean(), z.looseObject({})]),
    }),
  ),
  metadata: z.looseObject({ vulnerabilities: z.record(z.string(), z.number()) }),
});

export function parseNpmAudit(out: AuditOutput): AuditResult {
  const text = out.stdout.trim();
  if (text === "") return errorFrom("npm audit", out.stderr ?? "", "printed nothing on stdout");
  const json = asRecord(parseJson(text));
  if (!json) return errorFrom("npm audit", out.stderr ?? "", `printed no JSON object: ${oneLine(text, 120)}`);

  if ("auditReportVersion" in json) {
    const r = ReportV2.safeParse(json);
    if (!r.success) return shapeError("npm audit", r.error);
    const advisories: Advisory[] = [];
    for (const vuln of Object.values(r.data.vulnerabilities)) {
      for (const via of vuln.via) {
        if (typeof via === "string") continue; // metavulnerability: the advisory is listed under `via`
        advisories.push({
          id: advisoryId(via.url, via.source),
          package: via.name,
          severity: via.severity,
          title: via.title,
          url: via.url,
          fixAvailable: vuln.fixAvailable !== false,
          direct: r.data.vulnerabilities[via.name]?.isDirect ?? vuln.isDirect,
        });
      }
    }
    const list = dedupe(advisories);
    return { kind: "report", counts: countsFrom(r.data.metadata.vulnerabilities, list), advisories: list };
  }
  if ("advisories" in json) return fromNpm6Report(json, "npm audit", false);

  // Error object: npm printed why the audit could not run.
  const err = asRecord(json.error);
  const message = str(json.message) ?? str(err?.summary) ?? str(err?.message) ?? str(err?.code);
  if (!message) return { kind: "error", message: "npm audit: JSON has neither auditReportVersion nor an error message" };
  const statusCode = typeof json.statusCode === "number" ? json.statusCode : statusFrom(message);
  return { kind: "error", message: `npm audit: ${oneLine(message)}`, ...(statusCode ? { statusCode } : {}) };
}

/** One advisory of the npm 6 API (also inside yarn 1's auditAdvisory lines). */
export const Npm6AdvisorySchema = z.looseObject({
  id: z.union([z.number(), z.string()]),
  module_name: z.string(),
  severity: Severity,
  title: z.string(),
  url: z.string().optional(),
  github_advisory_id: z.string().optional(),
  patched_versions: z.string().optional(),
  cves: z.array(z.string()).optional(),
  findings: z.array(z.looseObject({ paths: z.array(z.string()).optional() })).optional(),
});
export type Npm6Advisory = z.infer<typeof Npm6AdvisorySchema>;

const Npm6Report = z.looseObject({
  advisories: z.record(z.string(), Npm6AdvisorySchema),
  metadata: z.looseObject({ vulnerabilities: z.record(z.string(), z.number()).optional() }).optional(),
});

/**
 * npm 6 / pnpm style report. Paths are "a>b>c"; pnpm prefixes the importer (". > a@1.0.0"),
 * so a direct dependency has 2 segments there and 1 segment in npm 6 / yarn 1 paths.
 */
export function fromNpm6Report(json: unknown, tool: string, pathsHaveImporter: boolean): AuditResult {
  const r = Npm6Report.safeParse(json);
  if (!r.success) return shapeError(tool, r.error);
  const advisories = Object.values(r.data.advisories).map((a) =>
    npm6Advisory(
      a,
      (a.findings ?? []).flatMap((f) => f.paths ?? []),
      pathsHaveImporter,
    ),
  );
  const list = dedupe(advisories);
  return { kind: "report", counts: countsFrom(r.data.metadata?.vulnerabilities, list), advisories: list };
}

export function npm6Advisory(a: Npm6Advisory, paths: string[], pathsHaveImporter: boolean): Advisory {
  const directLen = pathsHaveImporter ? 2 : 1;
  return {
    id: a.github_advisory_id ?? advisoryId(a.url, a.id),
    package: a.module_name,
    severity: a.severity,
    title: a.title,
    url: a.url ?? "",
    // The npm 6 API says "<0.0.0" when no version is patched.
    fixAvailable: a.patched_versions !== undefined && a.patched_versions !== "<0.0.0",
    direct: paths.some((p) => p.split(">").length === directLen),
    ...(a.cves && a.cves.length > 0 ? { aliases: a.cves } : {}),
  };
}

export function shapeError(tool: string, error: z.ZodError): AuditResult {
  const issue = error.issues[0];
  const where = issue ? issue.path.join(".") || "(root)" : "(root)";
  return { kind: "error", message: `${tool}: output has an unexpected shape at ${where}: ${issue?.message ?? "invalid"}` };
}
