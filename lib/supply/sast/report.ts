/**
 * Semgrep's JSON report (`--json-output`) and SARIF (`--sarif-output`), read as semgrep-interfaces
 * semgrep_output_v1.atd defines them (`cli_output`, `cli_match`, `cli_error`): unknown fields are
 * tolerated (new ones arrive with most releases), missing required ones are refused, never guessed.
 */
import { z } from "zod";
import { Problem } from "../../../deploy/src/project/problem.js";
import { repoRelative } from "../../../deploy/src/report/paths.js";
import type { SastSeverity } from "../../../deploy/lib/supply/sast/config.js";

/**
 * match_severity onto Semgrep's current scale (the atd: "Error -> High, Warning -> Medium");
 * EXPERIMENT and INVENTORY are deprecated informational levels.
 */
const SEVERITY: Record<string, SastSeverity> = {
  CRITICAL: "CRITICAL",
  HIGH: "HIGH",
  ERROR: "HIGH",
  MEDIUM: "MEDIUM",
  WARNING: "MEDIUM",
  LOW: "LOW",
  INFO: "INFO",
  EXPERIMENT: "INFO",
  INVENTORY: "INFO",
};

export interface SastFinding {
  ruleId: string;
  /** Repository-relative. */
  path: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: SastSeverity;
  /** As the rule wrote it (ERROR, WARNING, ...), for the report. */
  semgrepSeverity: string;
  message: string;
  /** Set by a `nosemgrep` comment on the line (only listed with --disable-nosem). */
  nosemgrep: boolean;
  /** The rule's page (metadata.shortlink or source), when it has one. */
  link?: string;
}

export interface SemgrepError {
  code: number;
  /** error_severity: error always fails the run; warn only with --strict; info never. */
  level: "error" | "warn" | "info";
  type: string;
  message: string;
  path?: string;
}

export interface SemgrepReport {
  version: string;
  findings: SastFinding[];
  errors: SemgrepError[];
  /** Files scanned (paths.scanned); undefined when a Semgrep version leaves the list out. */
  scanned: number | undefined;
}

const position = z.looseObject({ line: z.int(), col: z.int() });
const match = z.looseObject({
  check_id: z.string(),
  path: z.string(),
  start: position,
  end: position,
  extra: z.looseObject({
    message: z.string(),
    severity: z.string(),
    metadata: z.looseObject({ shortlink: z.string().optional(), source: z.string().optional() }).optional(),
    is_ignored: z.boolean().optional(),
  }),
});
const error = z.looseObject({
  code: z.int(),
  level: z.enum(["error", "warn", "info"]),
  // A string before 1.45.0; since then error_type, which is a name or [name, details] (PartialParsing).
  type: z.union([z.string(), z.tuple([z.string()]).rest(z.unknown())]),
  message: z.string().optional(),
  path: z.string().optional(),
});
const output = z.looseObject({
  version: z.string().optional(),
  results: z.array(match),
  errors: z.array(error),
  paths: z.looseObject({ scanned: z.array(z.string()).optional() }).optional(),
});

const FIX_PARSE = "check images.semgrep: Shipshape reads the report of Semgrep 1.x (--json-output)";

export function parseSemgrepJson(text: string): SemgrepReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Problem("semgrep.json is not JSON", FIX_PARSE);
  }
  const parsed = output.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Problem(
      `semgrep.json is not a Semgrep report: ${issue?.path.join(".") || "top level"} ${issue?.message ?? ""}`.trim(),
      FIX_PARSE,
    );
  }
  const findings = parsed.data.results.map((r): SastFinding => {
    const severity = SEVERITY[r.extra.severity];
    if (severity === undefined) {
      throw new Problem(
        `semgrep.json has a finding of unknown severity ${r.extra.severity} (${r.check_id})`,
        "pin images.semgrep to a Semgrep release Shipshape knows (see src/images.ts), or report the new severity",
      );
    }
    const link = r.extra.metadata?.shortlink ?? r.extra.metadata?.source;
    return {
      ruleId: r.check_id,
      path: repoRelative(r.path),
      line: r.start.line,
      column: r.start.col,
      endLine: r.end.line,
      endColumn: r.end.col,
      severity,
      semgrepSeverity: r.extra.severity,
      message: r.extra.message,
      nosemgrep: r.extra.is_ignored === true,
      ...(link ? { link } : {}),
    };
  });
  const errors = parsed.data.errors.map((e): SemgrepError => ({
    code: e.code,
    level: e.level,
    type: typeof e.type === "string" ? e.type : e.type[0],
    message: (e.message ?? "").trim(),
    ...(e.path ? { path: repoRelative(e.path) } : {}),
  }));
  return { version: parsed.data.version ?? "", findings, errors, scanned: parsed.data.paths?.scanned?.length };
}

/** What the SARIF rewrite needs of each result; the rest of Semgrep's SARIF passes through untouched. */
const sarif = z.looseObject({
  version: z.literal("2.1.0"),
  runs: z
    .array(
      z.looseObject({
        results: z.array(
          z.looseObject({
            ruleId: z.string(),
            locations: z
              .array(
                z.looseObject({
                  physicalLocation: z
                    .looseObject({
                      artifactLocation: z.looseObject({ uri: z.string() }).optional(),
                      region: z.looseObject({ startLine: z.int().optional() }).optional(),
                    })
                    .optional(),
                }),
              )
              .optional(),
          }),
        ),
      }),
    )
    .min(1),
});

export interface SarifResultKey {
  ruleId: string;
  path: string;
  line: number | undefined;
}

/**
 * Semgrep's own SARIF (rules with help and links, for GitHub code scanning), with repository-relative
 * URIs and without the results `drop` says Shipshape let through (sast.ignore), so code scanning
 * does not alert on what the gate accepted. Refused if it is not SARIF 2.1.0.
 */
export function rewriteSemgrepSarif(text: string, drop: (key: SarifResultKey) => boolean): string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Problem("semgrep.sarif is not JSON", "check images.semgrep: Shipshape reads Semgrep's --sarif-output");
  }
  const parsed = sarif.safeParse(raw);
  if (!parsed.success)
    throw new Problem("semgrep.sarif is not a SARIF 2.1.0 log", "check images.semgrep: Shipshape reads Semgrep's --sarif-output");
  for (const run of parsed.data.runs) {
    for (const result of run.results) {
      for (const loc of result.locations ?? []) {
        const artifact = loc.physicalLocation?.artifactLocation;
        if (artifact) artifact.uri = encodeURI(repoRelative(uriPath(artifact.uri)));
      }
    }
    run.results = run.results.filter((result) => {
      const where = result.locations?.[0]?.physicalLocation;
      const path = uriPath(where?.artifactLocation?.uri ?? "");
      return !drop({ ruleId: result.ruleId, path, line: where?.region?.startLine });
    });
  }
  return JSON.stringify(parsed.data, null, 2) + "\n";
}

/** A SARIF artifact URI as the path it names (percent-decoded where it is well-formed). */
function uriPath(uri: string): string {
  try {
    return decodeURI(uri);
  } catch {
    return uri;
  }
}
