/**
 * gitleaks JSON and SARIF reports, read only once they are proven redacted. A report that still
 * holds a secret is refused whole, so it can never be copied into a gate report, a log or an
 * exported artifact; the error names where the finding is, never what it is.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { Problem } from "../../../deploy/src/project/problem.js";
import { repoRelative } from "../../../deploy/src/report/paths.js";

export interface SecretFinding {
  rule: string;
  file: string;
  /** 1-based. */
  line: number;
  /** "" for `dir` scans. */
  commit: string;
  /** `<commit>:<file>:<rule>:<line>` (git) or `<file>:<rule>:<line>` (dir): the line for .gitleaksignore. */
  fingerprint: string;
  /**
   * What the secret looks like without its value: a hash of its columns, its entropy and the
   * redacted match. The same secret found by `dir` and by `git` has the same shape even when lines
   * above it moved (git reports the line of the commit that added it). "" when the report has none.
   */
  shape: string;
  /** Where it is, as gitleaks' baseline compares it with --redact (detect/baseline.go IsNew), minus the commit. */
  spot: string;
}

/** The fields gitleaks' IsNew compares under --redact, except Commit/Author/Email/Date/Message. */
export interface SpotFields {
  RuleID: string;
  Description?: string | undefined;
  File: string;
  StartLine: number;
  EndLine?: number | undefined;
  StartColumn?: number | undefined;
  EndColumn?: number | undefined;
  Entropy?: number | undefined;
}

export function spotOf(f: SpotFields): string {
  return JSON.stringify([
    f.RuleID,
    f.Description ?? "",
    repoPath(f.File),
    f.StartLine,
    f.EndLine ?? 0,
    f.StartColumn ?? 0,
    f.EndColumn ?? 0,
    f.Entropy ?? 0,
  ]);
}

/**
 * A repository-relative path. Shipshape runs `gitleaks dir .` inside /src so paths come back
 * relative (gitleaks walks its source with filepath.Walk and reports the walked path,
 * sources/directory.go and detect/directory.go at v8.26.0); this also undoes a scan of the
 * absolute /src or a "./" prefix, so an older report or baseline still lines up.
 */
export function repoPath(file: string): string {
  return repoRelative(file);
}

export const REDACTED = "REDACTED";

function unredacted(where: string): Problem {
  return new Problem(
    `the gitleaks report holds an unredacted secret (${where}); refusing to read it so it cannot reach a report`,
    "run gitleaks with --redact (100%, no percentage), delete the unredacted report, and rotate the secret if it left the machine",
  );
}

/** JSON.parse's own message quotes the text around the error, which may be a secret: it is dropped. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`the ${what} is not valid JSON (truncated?): ${text.length} characters`);
  }
}

function shapeError(what: string, error: z.ZodError): Error {
  const issue = error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "top level" : issue.path.join(".");
  return new Error(`the ${what} does not have the expected shape at ${where}: ${issue?.message ?? "invalid"}`);
}

const JsonFindingSchema = z.object({
  RuleID: z.string(),
  StartLine: z.number().int(),
  File: z.string(),
  Commit: z.string().optional(),
  Fingerprint: z.string().optional(),
  Description: z.string().optional(),
  EndLine: z.number().int().optional(),
  StartColumn: z.number().int().optional(),
  EndColumn: z.number().int().optional(),
  Entropy: z.number().optional(),
  Match: z.string(),
  Secret: z.string(),
  // Raw file content when present (gitleaks 8.2x declares it, omitempty); never redacted.
  Fragment: z.unknown().optional(),
});

function fingerprintOf(commit: string, file: string, rule: string, line: number): string {
  return commit ? `${commit}:${file}:${rule}:${line}` : `${file}:${rule}:${line}`;
}

/** A gitleaks `--report-format json` report (or a baseline). */
export function parseGitleaksJson(text: string): SecretFinding[] {
  const parsed = z.array(JsonFindingSchema).safeParse(parseJson(text, "gitleaks report"));
  if (!parsed.success) throw shapeError("gitleaks JSON report", parsed.error);
  return parsed.data.map((f) => {
    const where = `rule ${f.RuleID} in ${f.File}:${f.StartLine}`;
    // Full redaction replaces the secret with REDACTED everywhere in Match (report/finding.go Redact).
    if (f.Secret !== REDACTED || !f.Match.includes(REDACTED) || (f.Fragment !== undefined && f.Fragment !== null)) throw unredacted(where);
    const commit = f.Commit ?? "";
    const file = repoPath(f.File);
    const hash = createHash("sha256").update(
      JSON.stringify([f.StartColumn, f.EndColumn, f.EndLine === undefined ? 0 : f.EndLine - f.StartLine, f.Entropy, f.Match]),
    );
    return {
      rule: f.RuleID,
      file,
      line: f.StartLine,
      commit,
      // gitleaks' own fingerprint carries the path it was given; rebuilt so it is the repository's.
      fingerprint: fingerprintOf(commit, file, f.RuleID, f.StartLine),
      shape: hash.digest("hex").slice(0, 16),
      spot: spotOf(f),
    };
  });
}

/**
 * The entries of a baseline, as spots: only the fields gitleaks' IsNew compares under --redact,
 * so an unredacted baseline (which gitleaks accepts) is read without its secrets being kept.
 */
export function parseBaselineSpots(text: string): Set<string> {
  const Entry = z.object({
    RuleID: z.string(),
    Description: z.string().optional(),
    File: z.string(),
    StartLine: z.number().int(),
    EndLine: z.number().int().optional(),
    StartColumn: z.number().int().optional(),
    EndColumn: z.number().int().optional(),
    Entropy: z.number().optional(),
  });
  const parsed = z.array(Entry).safeParse(parseJson(text, "gitleaks baseline"));
  if (!parsed.success) throw shapeError("gitleaks baseline", parsed.error);
  return new Set(parsed.data.map(spotOf));
}

const SarifSchema = z.object({
  version: z.literal("2.1.0"),
  runs: z
    .array(
      z.object({
        results: z
          .array(
            z.object({
              ruleId: z.string(),
              locations: z
                .array(
                  z.object({
                    physicalLocation: z.object({
                      artifactLocation: z.object({ uri: z.string() }),
                      region: z.object({ startLine: z.number().int(), snippet: z.object({ text: z.string() }).optional() }),
                    }),
                  }),
                )
                .min(1),
              partialFingerprints: z.object({ commitSha: z.string().optional() }).optional(),
            }),
          )
          .nullish(),
      }),
    )
    .min(1),
});

/** A gitleaks `--report-format sarif` report; the snippet is the Secret field, so it must be REDACTED. */
export function parseGitleaksSarif(text: string): SecretFinding[] {
  const parsed = SarifSchema.safeParse(parseJson(text, "gitleaks SARIF report"));
  if (!parsed.success) throw shapeError("gitleaks SARIF report", parsed.error);
  return parsed.data.runs.flatMap((run) =>
    (run.results ?? []).map((r) => {
      const loc = r.locations[0]!.physicalLocation; // .min(1) above
      const file = repoPath(loc.artifactLocation.uri);
      const line = loc.region.startLine;
      if (loc.region.snippet !== undefined && loc.region.snippet.text !== REDACTED) throw unredacted(`rule ${r.ruleId} in ${file}:${line}`);
      const commit = r.partialFingerprints?.commitSha ?? "";
      // SARIF carries no entropy: findings from it merge by place only.
      const spot = spotOf({ RuleID: r.ruleId, File: file, StartLine: line });
      return { rule: r.ruleId, file, line, commit, fingerprint: fingerprintOf(commit, file, r.ruleId, line), shape: "", spot };
    }),
  );
}
