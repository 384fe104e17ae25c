import type { Diagnostic, Severity } from "./diagnostic.js";
import { repoRelative, repoRelativeText } from "./paths.js";

/** Minimal SARIF 2.1.0 types: only what we emit, so the compiler checks our output shape. */
export interface SarifRegion {
  startLine: number;
  startColumn?: number;
  endLine?: number;
  endColumn?: number;
}

export interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId: "%SRCROOT%" };
    region: SarifRegion;
  };
}

export interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: Severity;
  message: { text: string };
  locations?: SarifLocation[];
}

export interface SarifRule {
  id: string;
}

export interface SarifDriver {
  name: string;
  version?: string;
  informationUri?: string;
  rules: SarifRule[];
}

export interface SarifRun {
  tool: { driver: SarifDriver };
  results: SarifResult[];
}

export interface SarifLog {
  $schema: "https://json.schemastore.org/sarif-2.1.0.json";
  version: "2.1.0";
  runs: [SarifRun];
}

export interface SarifTool {
  name: string;
  version?: string;
  informationUri?: string;
}

// A relative URI reference: keep "/" but escape what would otherwise start a
// query/fragment or be invalid in a URI (spaces, non-ASCII, brackets).
// Relative to %SRCROOT% (SARIF 2.1.0 §3.4.4 uriBaseId), so never a container path.
function toUri(file: string): string {
  return encodeURI(repoRelative(file)).replace(/\?/g, "%3F").replace(/#/g, "%23");
}

function positive(n: number | undefined): number | undefined {
  return n === undefined || !Number.isFinite(n) ? undefined : Math.max(1, Math.trunc(n));
}

// GitHub code scanning rejects startLine < 1 and inverted regions, and tools
// do emit 0 (ESLint reports column 0 for parse errors at EOF), so clamp and
// drop an end that would precede the start.
function toRegion(d: Diagnostic): SarifRegion {
  const region: SarifRegion = { startLine: positive(d.line) ?? 1 };
  const startColumn = positive(d.column);
  if (startColumn !== undefined) region.startColumn = startColumn;
  const endLine = positive(d.endLine);
  if (endLine === undefined || endLine < region.startLine) return region;
  region.endLine = endLine;
  const endColumn = positive(d.endColumn);
  const sameLine = endLine === region.startLine;
  if (endColumn !== undefined && !(sameLine && startColumn !== undefined && endColumn < startColumn)) {
    region.endColumn = endColumn;
  }
  return region;
}

export function toSarif(tool: SarifTool, diagnostics: Diagnostic[]): SarifLog {
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const results = diagnostics.map((d): SarifResult => {
    let index = ruleIndex.get(d.ruleId);
    if (index === undefined) {
      index = rules.push({ id: d.ruleId }) - 1;
      ruleIndex.set(d.ruleId, index);
    }
    const result: SarifResult = {
      ruleId: d.ruleId,
      ruleIndex: index,
      level: d.severity,
      message: { text: repoRelativeText(d.message) },
    };
    if (d.file) {
      result.locations = [
        {
          physicalLocation: {
            artifactLocation: { uri: toUri(d.file), uriBaseId: "%SRCROOT%" },
            region: toRegion(d),
          },
        },
      ];
    }
    return result;
  });
  const driver: SarifDriver = { name: tool.name, rules };
  if (tool.version !== undefined) driver.version = tool.version;
  if (tool.informationUri !== undefined) driver.informationUri = tool.informationUri;
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [{ tool: { driver }, results }],
  };
}
