/**
 * lcov tracefile -> per-file line/function/branch counts.
 * vitest (coverage-v8) writes SF: relative to its root, "../x.js" for files outside it;
 * node --test writes paths relative to the cwd; other tools write absolute paths. All three
 * are turned into paths relative to projectRoot with forward slashes.
 */
import { posix } from "node:path";

export interface Counts {
  found: number;
  hit: number;
}

export interface FileCoverage {
  file: string;
  lines: Counts;
  functions: Counts;
  branches: Counts;
}

/** Detail records, kept so a file listed twice (merged tracefiles) can be unioned. */
interface Rec {
  file: string;
  lines: Map<string, number>;
  fns: Map<string, number>;
  branches: Map<string, number>;
  summary: { LF?: number; LH?: number; FNF?: number; FNH?: number; BRF?: number; BRH?: number };
}

export function parseLcov(text: string, projectRoot: string): FileCoverage[] {
  const byFile = new Map<string, Rec[]>();
  let cur: Rec | undefined;
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    const where = `lcov report line ${i + 1}`;
    if (line === "") continue;
    if (line === "end_of_record") {
      if (!cur) throw new Error(`${where}: end_of_record without an SF: record`);
      byFile.set(cur.file, [...(byFile.get(cur.file) ?? []), cur]);
      cur = undefined;
      continue;
    }
    const m = /^([A-Z]+):(.*)$/.exec(line);
    if (!m) throw new Error(`${where} is not an lcov record: ${JSON.stringify(line.slice(0, 80))}`);
    const tag = m[1] ?? "";
    const rest = m[2] ?? "";
    if (tag === "TN" || tag === "VER") continue;
    if (tag === "SF") {
      if (cur) throw new Error(`${where}: SF: ${rest} starts before ${cur.file} has end_of_record`);
      cur = { file: relativize(rest, projectRoot), lines: new Map(), fns: new Map(), branches: new Map(), summary: {} };
      continue;
    }
    if (!cur) throw new Error(`${where}: ${tag}: record before any SF: record`);
    const parts = rest.split(",");
    const int = (s: string | undefined): number => {
      const n = Number(s);
      if (s === undefined || s === "" || !Number.isInteger(n) || n < 0) {
        throw new Error(`${where}: bad ${tag} record ${JSON.stringify(line.slice(0, 80))}`);
      }
      return n;
    };
    switch (tag) {
      case "DA": {
        // DA:<line>,<hits>[,<checksum>]
        const ln = String(int(parts[0]));
        cur.lines.set(ln, (cur.lines.get(ln) ?? 0) + int(parts[1]));
        break;
      }
      case "FNDA": // FNDA:<hits>,<name>  (name may contain commas)
        cur.fns.set(parts.slice(1).join(","), int(parts[0]));
        break;
      case "FNA": // lcov 2.x: FNA:<index>,<hits>,<name>
        cur.fns.set(parts.slice(2).join(","), int(parts[1]));
        break;
      case "BRDA": // BRDA:<line>,<block>,<branch>,<taken|->
        cur.branches.set(parts.slice(0, 3).join(","), parts[3] === "-" ? 0 : int(parts[3]));
        break;
      case "LF":
      case "LH":
      case "FNF":
      case "FNH":
      case "BRF":
      case "BRH":
        cur.summary[tag] = int(parts[0]);
        break;
      default: // FN, FNL, BRDA-less tools' extras: not needed for counts
    }
  }
  if (cur) throw new Error(`lcov report is truncated: the record for ${cur.file} has no end_of_record`);
  return [...byFile.values()].map(merge);
}

function merge(records: Rec[]): FileCoverage {
  const first = records[0];
  if (!first) throw new Error("unreachable: empty record group");
  if (records.length === 1) return counts(first, true);
  // Same file in several records (concatenated tracefiles): union the details, a line is hit
  // if any run hit it. Summaries can't be unioned, so they only stand in when details are absent.
  const u: Rec = { file: first.file, lines: new Map(), fns: new Map(), branches: new Map(), summary: {} };
  for (const r of records) {
    for (const [k, v] of r.lines) u.lines.set(k, (u.lines.get(k) ?? 0) + v);
    for (const [k, v] of r.fns) u.fns.set(k, (u.fns.get(k) ?? 0) + v);
    for (const [k, v] of r.branches) u.branches.set(k, (u.branches.get(k) ?? 0) + v);
    for (const key of ["LF", "LH", "FNF", "FNH", "BRF", "BRH"] as const) {
      u.summary[key] = Math.max(u.summary[key] ?? 0, r.summary[key] ?? 0);
    }
  }
  return counts(u, false);
}

/** LF/LH etc. when present (trustSummary) else counted from DA/FNDA/BRDA. */
function counts(r: Rec, trustSummary: boolean): FileCoverage {
  const pick = (found: number | undefined, hit: number | undefined, details: Map<string, number>): Counts => {
    if (details.size > 0 && !(trustSummary && found !== undefined && hit !== undefined)) {
      return { found: details.size, hit: [...details.values()].filter((n) => n > 0).length };
    }
    return { found: found ?? 0, hit: hit ?? 0 };
  };
  const s = r.summary;
  return {
    file: r.file,
    lines: pick(s.LF, s.LH, r.lines),
    functions: pick(s.FNF, s.FNH, r.fns),
    branches: pick(s.BRF, s.BRH, r.branches),
  };
}

/**
 * The lcov file a gate exports, with every SF: record relative to the project root, as parseLcov
 * reads it (genhtml and Codecov resolve relative SF: against the checkout; /src/... exists nowhere).
 */
export function repoRelativeLcov(text: string, projectRoot: string): string {
  return text.replace(/^SF:(.*)$/gm, (_, sf: string) => `SF:${relativize(sf, projectRoot)}`);
}

/** Absolute (posix or Windows) -> relative to root; relative stays relative; always "/". */
function relativize(sf: string, projectRoot: string): string {
  const file = sf.trim().replace(/\\/g, "/");
  const root = projectRoot.replace(/\\/g, "/").replace(/\/+$/, "");
  const isAbs = file.startsWith("/") || /^[A-Za-z]:\//.test(file);
  if (!isAbs) return posix.normalize(file);
  // Windows drive letters differ in case between tools.
  const same = (a: string, b: string): boolean => (/^[A-Za-z]:/.test(a) ? a.toLowerCase() === b.toLowerCase() : a === b);
  if (same(file.slice(0, root.length), root) && file[root.length] === "/") return file.slice(root.length + 1);
  return /^[A-Za-z]:/.test(file) ? file : posix.relative(root, file);
}
