/** The one shape every package manager's audit output is normalized to, plus shared helpers. */

export const SEVERITIES = ["info", "low", "moderate", "high", "critical"] as const;
export type AuditSeverity = (typeof SEVERITIES)[number];

export interface AuditCounts {
  info: number;
  low: number;
  moderate: number;
  high: number;
  critical: number;
  total: number;
}

export interface Advisory {
  /** GHSA-xxxx-xxxx-xxxx when the tool gives one, else the advisory URL or numeric id. */
  id: string;
  package: string;
  severity: AuditSeverity;
  title: string;
  url: string;
  fixAvailable: boolean;
  /** The vulnerable package is a direct dependency of the project (or a workspace). */
  direct: boolean;
  /** Other ids (CVE-…) when the tool reports them: only npm 6 style reports (pnpm 9/10, yarn 1) do. */
  aliases?: string[];
}

export type AuditResult =
  { kind: "report"; counts: AuditCounts; advisories: Advisory[] } | { kind: "error"; message: string; statusCode?: number };

/** What the caller captured from the audit command; the exit code alone is never the verdict. */
export interface AuditOutput {
  stdout: string;
  stderr?: string;
  exitCode?: number;
}

export function isSeverity(s: unknown): s is AuditSeverity {
  return typeof s === "string" && (SEVERITIES as readonly string[]).includes(s);
}

export function severityRank(s: AuditSeverity): number {
  return SEVERITIES.indexOf(s);
}

/** GHSA id out of an advisory URL, else the URL, else the numeric id. */
export function advisoryId(url: string | undefined, fallback: string | number | undefined): string {
  const ghsa = url ? /GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}/i.exec(url) : null;
  if (ghsa) return ghsa[0].replace(/^ghsa/i, "GHSA");
  return url || String(fallback ?? "unknown");
}

/** Tool's own summary if it has one (sum for total when missing), else counted from advisories. */
export function countsFrom(summary: unknown, advisories: Advisory[]): AuditCounts {
  const out: AuditCounts = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 };
  const rec = asRecord(summary);
  if (rec && SEVERITIES.every((s) => typeof rec[s] === "number")) {
    for (const s of SEVERITIES) out[s] = rec[s] as number;
    out.total = typeof rec.total === "number" ? rec.total : SEVERITIES.reduce((n, s) => n + out[s], 0);
    return out;
  }
  for (const a of advisories) out[a.severity]++;
  out.total = advisories.length;
  return out;
}

/** Same advisory for the same package reported twice (yarn prints one line per path). */
export function dedupe(advisories: Advisory[]): Advisory[] {
  const seen = new Map<string, Advisory>();
  for (const a of advisories) {
    const key = `${a.id}\u0000${a.package}`;
    const prev = seen.get(key);
    seen.set(key, prev ? { ...prev, direct: prev.direct || a.direct, fixAvailable: prev.fixAvailable && a.fixAvailable } : a);
  }
  return [...seen.values()];
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** HTTP status out of the various ways tools phrase it ("405 Method Not Allowed", "responded with 405"). */
export function statusFrom(text: string): number | undefined {
  const m =
    /(?:responded with|returned an?|Response [Cc]ode:?|Request failed ")\s*(\d{3})\b/.exec(text) ??
    /^(\d{3}) [A-Z][A-Za-z ]+ - /.exec(text);
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * Error result from free text (stderr, a crash dump). Prefers, in order: a boxed "× ..." message
 * (pnpm 12), the first "SomeError: ..." line (node crash, yarn), else the first lines that are
 * neither stack frames nor blank.
 */
export function errorFrom(tool: string, text: string, fallback: string): AuditResult {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const statusCode = statusFrom(text);
  const done = (msg: string): AuditResult => ({
    kind: "error",
    message: oneLine(`${tool}: ${msg}`),
    ...(statusCode ? { statusCode } : {}),
  });
  const boxed = lines.findIndex((l) => l.startsWith("×"));
  if (boxed >= 0) {
    let msg = (lines[boxed] ?? "").replace(/^×\s*/, "");
    for (const l of lines.slice(boxed + 1)) {
      if (!l.startsWith("│")) break;
      const part = l.replace(/^│\s*/, "");
      msg += /[/-]$/.test(msg) ? part : ` ${part}`; // undo the terminal's line wrapping inside URLs
    }
    const code = /\b(ERR_[A-Z0-9_]+)\b/.exec(text)?.[1];
    return done(code ? `${code}: ${msg}` : msg);
  }
  // "ResponseError: ...", "Error: ...", minified "Zt [Error]: ..."
  const errLine = lines.find((l) => /^(?:[\w$.]*(?:Error|Exception)|[\w$.]+ \[\w*Error\]): \S/.test(l));
  if (errLine) return done(errLine);
  const useful = lines.map((l) => l.replace(/^➤\s*/u, "")).filter((l) => l !== "" && !/^at\s/.test(l) && !/^Node\.js v/.test(l));
  return done(useful.length > 0 ? useful.slice(0, 3).join(" ") : fallback);
}

export function oneLine(s: string, max = 300): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
