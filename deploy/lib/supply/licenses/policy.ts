/**
 * License verdict over the components of an SBOM.
 *
 * Per component, each alternative of the expression (OR of ANDs) is graded, and the component
 * gets the best one, since the licensee picks among OR branches:
 *  - denied: some license is on the deny list (deny beats allow) or proprietary (UNLICENSED);
 *  - unknown: some license is not an SPDX license (missing, SEE LICENSE IN, unreadable name);
 *  - not-allowed: some license is valid SPDX but on neither list;
 *  - allowed: every license is on the allow list.
 * Lists are compared with spdx-satisfies, so `-or-later` ranges and deprecated ids (GPL-3.0,
 * GPL-2.0+) match their current forms.
 */
import { satisfies as semverSatisfies } from "semver";
import spdxSatisfies from "spdx-satisfies";
import type { Diagnostic } from "../../../src/report/diagnostic.js";
import { isExpired, splitPackageSpec, type LicenseException, type LicensesConfig } from "../config.js";
import type { SbomComponent } from "./cyclonedx.js";
import { alternatives, resolveLicense, treeText, type Leaf } from "./expression.js";

export type LicenseProblem = "denied" | "proprietary" | "not-allowed" | "unknown";

export interface JudgedComponent {
  name: string;
  version: string;
  purl?: string;
  /** As declared in the SBOM; undefined when none was. */
  declared: string | undefined;
  /** How it was read ("Apache 2" → "Apache-2.0"); equals `declared` for valid SPDX. */
  read: string;
  problem: LicenseProblem;
  /** The licenses that caused the problem, for the report. */
  offending: string[];
}

export interface LicenseVerdict {
  status: "passed" | "failed";
  /** Distinct packages (name@version) whose license is allowed. */
  allowed: number;
  /** On the deny list, proprietary, or valid SPDX outside the allow list. */
  denied: JudgedComponent[];
  /** Missing or unreadable licenses; they fail only with failOnUnknown. */
  unknown: JudgedComponent[];
  /** Would have failed, let through by an exception. */
  excepted: (JudgedComponent & { reason: string })[];
  /** Exceptions past their expiry: they fail the gate until renewed or removed. */
  expired: LicenseException[];
  cause: string;
  hint: string;
}

type Grade = { problem: LicenseProblem | "allowed"; offending: string[] };

/** spdx-satisfies parses with an older spdx-expression-parse; what it cannot read does not match. */
function matchesAny(id: string, list: readonly string[]): boolean {
  return list.some((entry) => {
    try {
      return spdxSatisfies(id, [entry]);
    } catch {
      return id === entry;
    }
  });
}

/** Memoized per verdict: spdx-satisfies re-parses on every call, and SBOMs repeat a few licenses. */
function leafGrader(cfg: Pick<LicensesConfig, "allow" | "deny">): (leaf: Leaf) => Grade {
  const cache = new Map<string, Grade>();
  return (leaf) => {
    const key = `${leaf.kind}\0${leaf.kind === "spdx" ? leaf.id : leaf.text}`;
    let grade = cache.get(key);
    if (grade === undefined) cache.set(key, (grade = gradeLeaf(leaf, cfg)));
    return grade;
  };
}

function gradeLeaf(leaf: Leaf, cfg: Pick<LicensesConfig, "allow" | "deny">): Grade {
  if (leaf.kind === "proprietary") return { problem: "proprietary", offending: [leaf.text] };
  if (leaf.kind === "unknown") return { problem: "unknown", offending: [leaf.text || "no license declared"] };
  // An SPDX exception only adds permissions, so "X WITH e" is judged as X (spdx-satisfies alone
  // would reject Apache-2.0 WITH LLVM-exception against an allowed Apache-2.0), unless listed as is.
  if (matchesAny(leaf.base, cfg.deny) || cfg.deny.includes(leaf.id)) return { problem: "denied", offending: [leaf.id] };
  if (matchesAny(leaf.id, cfg.allow) || matchesAny(leaf.base, cfg.allow)) return { problem: "allowed", offending: [] };
  return { problem: "not-allowed", offending: [leaf.id] };
}

function rank(problem: Grade["problem"], failOnUnknown: boolean): number {
  switch (problem) {
    case "allowed":
      return 0;
    case "unknown":
      return failOnUnknown ? 2 : 1;
    case "not-allowed":
      return failOnUnknown ? 1 : 2;
    case "denied":
    case "proprietary":
      return 3;
  }
}

/** Worst leaf of one alternative; then the best alternative. */
function gradeComponent(declared: string | undefined, cfg: LicensesConfig, grade: (leaf: Leaf) => Grade): Grade & { read: string } {
  if (declared === undefined) return { problem: "unknown", offending: ["no license declared"], read: "(none)" };
  const tree = resolveLicense(declared);
  const read = treeText(tree);
  const alts = alternatives(tree);
  if (alts === undefined) return { problem: "unknown", offending: ["expression too complex"], read };
  let best: Grade | undefined;
  for (const alt of alts) {
    const grades = alt.map(grade);
    const worst = grades.reduce((a, b) => (rank(b.problem, cfg.failOnUnknown) > rank(a.problem, cfg.failOnUnknown) ? b : a));
    const combined = { problem: worst.problem, offending: grades.filter((g) => g.problem === worst.problem).flatMap((g) => g.offending) };
    if (best === undefined || rank(combined.problem, cfg.failOnUnknown) < rank(best.problem, cfg.failOnUnknown)) best = combined;
  }
  return { ...(best ?? { problem: "unknown", offending: [] }), read };
}

function exceptionFor(c: SbomComponent, exceptions: readonly LicenseException[]): LicenseException | undefined {
  return exceptions.find((e) => {
    const { name, range } = splitPackageSpec(e.package);
    if (name !== c.name) return false;
    // A range only matches a semver version; anything else fails closed.
    return range === undefined || semverSatisfies(c.version, range, { includePrerelease: true });
  });
}

export function judgeLicenses(components: readonly SbomComponent[], cfg: LicensesConfig, now: Date): LicenseVerdict {
  const expired = cfg.exceptions.filter((e) => isExpired(e.expires, now));
  const live = cfg.exceptions.filter((e) => !expired.includes(e));
  const verdict: Omit<LicenseVerdict, "status" | "cause" | "hint"> = { allowed: 0, denied: [], unknown: [], excepted: [], expired };

  // One verdict per package version: nested copies of a package appear more than once in an SBOM.
  const seen = new Set<string>();
  const grader = leafGrader(cfg);
  for (const c of components) {
    const key = `${c.name}@${c.version}\0${c.licenses ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const grade = gradeComponent(c.licenses, cfg, grader);
    if (grade.problem === "allowed") {
      verdict.allowed++;
      continue;
    }
    const judged: JudgedComponent = {
      name: c.name,
      version: c.version,
      ...(c.purl === undefined ? {} : { purl: c.purl }),
      declared: c.licenses,
      read: grade.read,
      problem: grade.problem,
      offending: [...new Set(grade.offending)],
    };
    const exception = exceptionFor(c, live);
    if (exception) verdict.excepted.push({ ...judged, reason: exception.reason });
    else if (grade.problem === "unknown") verdict.unknown.push(judged);
    else verdict.denied.push(judged);
  }
  return { ...verdict, ...explain(verdict, cfg.failOnUnknown) };
}

function explain(
  v: Omit<LicenseVerdict, "status" | "cause" | "hint">,
  failOnUnknown: boolean,
): Pick<LicenseVerdict, "status" | "cause" | "hint"> {
  const causes: string[] = [];
  const hints: string[] = [];
  if (v.denied.length > 0) {
    causes.push(`${count(v.denied.length, "package")} under licenses the policy refuses: ${list(v.denied.map(describe))}`);
    hints.push(
      "replace them, allow the license in licenses.allow if your legal review accepts it, or add a licenses.exceptions entry with a reason and an expiry date",
    );
  }
  if (v.unknown.length > 0 && failOnUnknown) {
    causes.push(`${count(v.unknown.length, "package")} without a recognizable license: ${list(v.unknown.map(describe))}`);
    hints.push(
      "check their licenses by hand and add licenses.exceptions entries with what you found, or set licenses.failOnUnknown: false",
    );
  }
  if (v.expired.length > 0) {
    causes.push(
      `expired licenses.exceptions ${v.expired.length === 1 ? "entry" : "entries"}: ${v.expired.map((e) => `${e.package} (expired ${e.expires})`).join(", ")}`,
    );
    hints.push(`renew the expiry of ${v.expired.map((e) => e.package).join(", ")} with a fresh reason, or remove the entry`);
  }
  const failed = causes.length > 0;
  if (!failed) {
    const extra = [
      v.excepted.length > 0 ? `${v.excepted.length} excepted` : "",
      v.unknown.length > 0 ? `${v.unknown.length} unknown, not failing` : "",
    ].filter((s) => s !== "");
    causes.push(`${count(v.allowed, "package")} under allowed licenses${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`);
  }
  return { status: failed ? "failed" : "passed", cause: causes.join("; "), hint: hints.join("; ") };
}

/** Failing components in the shared Diagnostic shape (SARIF / Markdown). */
export function licenseDiagnostics(verdict: LicenseVerdict, failOnUnknown = true): Diagnostic[] {
  const failing = [...verdict.denied, ...(failOnUnknown ? verdict.unknown : [])];
  return failing.map((c) => ({ ruleId: `license/${c.problem}`, severity: "error", message: describe(c) }));
}

function describe(c: JudgedComponent): string {
  const why = { denied: "denied", proprietary: "proprietary", "not-allowed": "not in the allow list", unknown: "unknown" }[c.problem];
  const read = c.declared !== undefined && c.read !== c.declared ? `, read as ${c.read}` : "";
  return `${c.name}@${c.version} (${c.offending.join(", ")}: ${why}${read})`;
}

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;

function list(xs: string[]): string {
  return xs.length <= 5 ? xs.join(", ") : `${xs.slice(0, 5).join(", ")} and ${xs.length - 5} more`;
}
