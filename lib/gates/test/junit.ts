/**
 * JUnit XML -> one summary, for the reporters a Node project actually uses: vitest, jest-junit,
 * node --test --test-reporter=junit. Counts come from <testcase> elements: the count attributes
 * are unreliable (node writes tests="1" on a suite holding a nested suite of 2; jest-junit leaves
 * todo tests out of tests=""; node's root has no counts at all).
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Diagnostic } from "../../../deploy/src/report/diagnostic.js";
import { repoRelative, repoRelativeText } from "../../../deploy/src/report/paths.js";

export interface FailedTest {
  /** Enclosing suite names joined with " > " (vitest: the test file). */
  suite: string;
  name: string;
  /** One line. */
  message: string;
  /** Test file relative to the project, when the report says (jest-junit file="", vitest classname). */
  file?: string;
}

export interface JUnitSummary {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  timeSeconds: number;
  failed: FailedTest[];
}

type XmlNode = Record<string, unknown>;

const LIST_TAGS = new Set(["testsuite", "testcase", "failure", "error", "skipped"]);

const parser = new XMLParser({
  ignoreAttributes: false,
  // Prefix needed: node writes both failure="..." on <testcase> and a <failure> child.
  attributeNamePrefix: "@_",
  textNodeName: "#text",
  isArray: (name) => LIST_TAGS.has(name),
  parseTagValue: false,
  parseAttributeValue: false,
});

export function parseJUnit(xml: string): JUnitSummary {
  if (xml.trim() === "") throw new Error("JUnit report is not valid XML: the file is empty");
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new Error(`JUnit report is not valid XML: ${msg} (line ${line}, column ${col})`);
  }
  const doc = parser.parse(xml) as XmlNode;
  const sum: JUnitSummary = { tests: 0, failures: 0, errors: 0, skipped: 0, timeSeconds: 0, failed: [] };

  const root = asNode(doc.testsuites);
  if (root) {
    // node --test puts top-level tests straight under <testsuites>.
    walkSuite(root, [], undefined, sum, false);
    const time = num(root["@_time"]);
    sum.timeSeconds = time ?? sumTimes(root);
  } else {
    const suites = list(doc.testsuite);
    if (suites.length === 0) throw new Error("JUnit report has no <testsuites> or <testsuite> root element");
    for (const s of suites) walkSuite(s, [], undefined, sum);
    sum.timeSeconds = suites.reduce((t, s) => t + (num(s["@_time"]) ?? 0), 0);
  }
  return sum;
}

/** Returns failures+errors counted in this subtree. */
function walkSuite(
  suite: XmlNode,
  trail: string[],
  inheritedFile: string | undefined,
  sum: JUnitSummary,
  named = true, // the <testsuites> root's name ("vitest tests") is not a suite of the tests
): number {
  const name = named ? str(suite["@_name"]) : undefined;
  const path = name ? [...trail, name] : trail;
  const file = str(suite["@_file"]) ?? inheritedFile;
  let bad = 0;
  for (const tc of list(suite.testcase)) bad += countCase(tc, path.join(" > "), file, sum);
  for (const child of list(suite.testsuite)) bad += walkSuite(child, path, file, sum);
  // Attributes may under-report, never trust them to clear a failure; but if they claim more
  // failures than the test cases show, a crash the cases don't carry must not pass silently.
  const claimed = (num(suite["@_failures"]) ?? 0) + (num(suite["@_errors"]) ?? 0);
  if (claimed > bad) {
    const extra = claimed - bad;
    sum.errors += extra;
    sum.failed.push({
      suite: path.join(" > "),
      name: "(suite)",
      message: `the suite reports ${extra} more failure(s) than its test cases show`,
      ...(file ? { file } : {}),
    });
    bad = claimed;
  }
  return bad;
}

function countCase(tc: XmlNode, suite: string, suiteFile: string | undefined, sum: JUnitSummary): number {
  sum.tests++;
  const failure = list(tc.failure)[0];
  const error = list(tc.error)[0];
  if (!failure && !error) {
    if (tc.skipped !== undefined) sum.skipped++;
    return 0;
  }
  if (failure) sum.failures++;
  else sum.errors++;
  const classname = str(tc["@_classname"]);
  const file = str(tc["@_file"]) ?? suiteFile ?? (classname && looksLikeFile(classname) ? classname : undefined);
  // jest-junit's file="" and suite names are absolute when the runner was (/src/test/a.test.js).
  sum.failed.push({
    suite: repoRelativeText(suite),
    name: str(tc["@_name"]) ?? "(unnamed)",
    message: repoRelativeText(messageOf(failure ?? error ?? {})),
    ...(file ? { file: repoRelative(file) } : {}),
  });
  return 1;
}

/** message="" attribute, else the first meaningful line of the body (jest-junit has no attribute). */
function messageOf(el: XmlNode): string {
  const attr = str(el["@_message"]);
  if (attr) return oneLine(attr);
  const lines = (str(el["#text"]) ?? "")
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*●\s*/, "").trim())
    .filter((l) => l !== "");
  const first = lines[0];
  if (!first) return str(el["@_type"]) ?? "failed";
  // jest's "● Test suite failed to run" says nothing alone: add the line that says why.
  if ((first.endsWith(":") || /failed to run$/i.test(first)) && lines[1]) {
    return oneLine(`${first.replace(/:$/, "")}: ${lines[1]}`);
  }
  return oneLine(first);
}

function sumTimes(root: XmlNode): number {
  const parts = [...list(root.testsuite), ...list(root.testcase)];
  return parts.reduce((t, p) => t + (num(p["@_time"]) ?? 0), 0);
}

/**
 * The JUnit file a gate exports: the runner's own XML with container paths (stack traces,
 * file="", classname) made repository-relative. Paths hold no XML metacharacters, so removing a
 * prefix keeps the document as valid as it was.
 */
export function repoRelativeJUnit(xml: string): string {
  return repoRelativeText(xml);
}

/** Failed tests in the shared Diagnostic shape, for SARIF / Markdown. */
export function failedTestDiagnostics(summary: JUnitSummary): Diagnostic[] {
  return summary.failed.map((f) => ({
    ruleId: "test/failed",
    severity: "error",
    message: `${f.suite ? `${f.suite} > ` : ""}${f.name}: ${f.message}`,
    ...(f.file ? { file: f.file } : {}),
  }));
}

const looksLikeFile = (s: string): boolean => /[\\/]/.test(s) && /\.[a-z]{1,4}$/i.test(s);
const oneLine = (s: string): string => s.replace(/\s+/g, " ").trim();
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function num(v: unknown): number | undefined {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function asNode(v: unknown): XmlNode | undefined {
  if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as XmlNode;
  // An empty <testsuites/> parses as "".
  return v === "" ? {} : undefined;
}

/** A text-only element (jest's <failure>stack</failure>) parses as a bare string. */
function list(v: unknown): XmlNode[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) => (typeof x === "string" && x !== "" ? { "#text": x } : (asNode(x) ?? {})));
}
