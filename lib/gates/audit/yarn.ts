/**
 * yarn 1 `yarn audit --json` and yarn berry `yarn npm audit --json` (both NDJSON, unrelated shapes).
 *
 * yarn 1.22: one {"type":"auditAdvisory"} line per advisory AND dependency path, then one
 * {"type":"auditSummary"}. It always POSTs to https://registry.yarnpkg.com/-/npm/v1/security/audits
 * (hard-coded), which the registry now refuses with 405 -> {"type":"error"} line; a 5xx crashes it
 * with nothing on stdout and a ResponseError on stderr.
 *
 * yarn 4: one {"value": <package>, "children": {ID, Issue, URL, Severity, ...}} line per advisory,
 * and NOTHING at all when there is no vulnerability - so an empty stdout means "clean" only with
 * exit code 0. It says nothing about fixes. Without --all --recursive it only checks the current
 * workspace's direct dependencies.
 */
import { z } from "zod";
import { npm6Advisory, Npm6AdvisorySchema } from "./npm.js";
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

const ClassicAdvisoryLine = z.looseObject({
  resolution: z.looseObject({ path: z.string() }),
  advisory: Npm6AdvisorySchema,
});

export function parseYarnClassicAudit(out: AuditOutput): AuditResult {
  const advisories: Advisory[] = [];
  let summary: unknown;
  let errorLine: string | undefined;
  // yarn 1 writes its {"type":"error"} line to stderr.
  for (const line of [...out.stdout.split(/\r?\n/), ...(out.stderr ?? "").split(/\r?\n/)]) {
    const ev = asRecord(parseJson(line));
    if (!ev) continue; // blank or cut-off line; a missing auditSummary catches truncation
    if (ev.type === "auditAdvisory") {
      const r = ClassicAdvisoryLine.safeParse(ev.data);
      if (!r.success)
        return { kind: "error", message: `yarn audit: auditAdvisory line has an unexpected shape: ${r.error.issues[0]?.message ?? ""}` };
      advisories.push(npm6Advisory(r.data.advisory, [r.data.resolution.path], false));
    } else if (ev.type === "auditSummary") {
      summary = asRecord(ev.data)?.vulnerabilities;
    } else if (ev.type === "error" && errorLine === undefined) {
      errorLine = (str(ev.data) ?? "").split(/\r?\n/)[0];
    }
  }
  if (summary === undefined) {
    if (errorLine) {
      const statusCode = statusFrom(errorLine);
      return { kind: "error", message: `yarn audit: ${oneLine(errorLine)}`, ...(statusCode ? { statusCode } : {}) };
    }
    return errorFrom("yarn audit", out.stderr ?? "", "printed no auditSummary line (output truncated?)");
  }
  const list = dedupe(advisories);
  return { kind: "report", counts: countsFrom(summary, list), advisories: list };
}

const BerryLine = z.looseObject({
  value: z.string(),
  children: z.looseObject({
    ID: z.union([z.number(), z.string()]),
    Issue: z.string(),
    URL: z.string(),
    Severity: z.enum(SEVERITIES),
    Dependents: z.array(z.string()).optional(),
  }),
});

export function parseYarnBerryAudit(out: AuditOutput): AuditResult {
  const text = out.stdout.trim();
  if (text === "") {
    if (out.exitCode === 0) return { kind: "report", counts: countsFrom(undefined, []), advisories: [] };
    return errorFrom("yarn npm audit", out.stderr ?? "", "printed nothing on stdout and did not exit 0");
  }
  const advisories: Advisory[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const json = parseJson(line);
    // Non-JSON on stdout is yarn's own error report ("➤ YN0035: Package not found ...").
    if (json === undefined) return errorFrom("yarn npm audit", `${text}\n${out.stderr ?? ""}`, "unreadable output");
    const r = BerryLine.safeParse(json);
    if (!r.success) return { kind: "error", message: `yarn npm audit: line has an unexpected shape: ${oneLine(line, 120)}` };
    const c = r.data.children;
    advisories.push({
      id: advisoryId(c.URL, c.ID),
      package: r.data.value,
      severity: c.Severity,
      title: c.Issue,
      url: c.URL,
      fixAvailable: false, // not reported by yarn 4: false means "not known to be fixable"
      direct: (c.Dependents ?? []).some((d) => d.includes("@workspace:")),
    });
  }
  const list = dedupe(advisories);
  return { kind: "report", counts: countsFrom(undefined, list), advisories: list };
}
