/**
 * Turns zod issues into one-line, plain-words messages: `path: expected <what>, got <value>`.
 *
 * zod's own messages ("Too big: expected number to be <=100") name types, not intent, and
 * say nothing about which value was wrong; users of shipshape.yaml should not need to know zod.
 */
import { z } from "zod";
import { quoted } from "../../src/project/problem.js";

/** What a field accepts, in plain words; `required` replaces the phrase when the key is missing. */
export interface Expectation {
  expected: string;
  required?: string;
}

/** Kept apart from zod's global registry so the phrases never leak into the JSON Schema. */
export const expectations = z.registry<Expectation>();

/** Attaches a phrase to the schema that raises the issues (register after .regex/.refine/.describe: they clone). */
export function expecting<T extends z.ZodType>(schema: T, expected: string, required?: string): T {
  expectations.add(schema, required === undefined ? { expected } : { expected, required });
  return schema;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: string[];
  readonly hint: string;

  /** `prefix` leads the message ("shipshape.yaml is invalid"); omitted when issues already name the file. */
  constructor(issues: string[], hint: string, prefix?: string) {
    const first = issues[0] ?? "unknown problem";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${prefix === undefined ? "" : `${prefix}: `}${first}${more}\nhint: ${hint}`);
    this.issues = issues;
    this.hint = hint;
  }
}

/** Bigger than any real config by far; bounds the work a mistaken or hostile file can cause. */
export const MAX_CONFIG_BYTES = 256 * 1024;
/** Shipshape's own schema nests about 7 levels; deeper is a generated file or an attack. */
export const MAX_CONFIG_DEPTH = 32;
export const DEFAULT_CONFIG_PATH = "shipshape.yaml";

const PATH_HINT = `pass --config-path relative to the source directory, e.g. config/shipshape.yaml; leave it out to use ${DEFAULT_CONFIG_PATH} (or all defaults when there is none)`;
const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

/**
 * The catalogue of problems with the config file itself rather than its values: one cause and one
 * fix hint each. Only the default path may be absent; a path the user gave must be there.
 */
export const configFileError = {
  pathEmpty: () => new ConfigError(["--config-path is empty"], PATH_HINT),
  pathUnprintable: (path: string) => new ConfigError([`--config-path ${quoted(path)} contains control characters`], PATH_HINT),
  pathAbsolute: (path: string) =>
    new ConfigError([`--config-path ${quoted(path)} is absolute; Shipshape reads the config from the source directory only`], PATH_HINT),
  pathEscapes: (path: string) => new ConfigError([`--config-path ${quoted(path)} points outside the source directory`], PATH_HINT),
  missing: (path: string) =>
    new ConfigError(
      [`config file ${quoted(path)} does not exist in the source directory`],
      `check the spelling and that the file is not excluded from the source; ${PATH_HINT}`,
    ),
  notAFile: (path: string) => new ConfigError([`--config-path ${quoted(path)} is a directory, not a file`], PATH_HINT),
  tooLarge: (fileName: string, bytes: number) =>
    new ConfigError(
      [`${fileName} is ${size(bytes)}; a config may be at most ${size(MAX_CONFIG_BYTES)}`],
      `${fileName} holds settings only: check --config-path names the config, not a data file`,
    ),
  tooDeep: (where: string) =>
    new ConfigError(
      [`${where}: nested more than ${MAX_CONFIG_DEPTH} levels deep`],
      "Shipshape's settings nest a few levels only: check the brackets and indentation around that line",
    ),
};

const MAX_VALUE_CHARS = 40;

/** JSON-encodes a bad value for a message, truncated so one huge value cannot flood the log. */
export function renderValue(value: unknown): string {
  if (value === undefined) return "nothing";
  // YAML's .nan/.inf and bigints have no JSON form.
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 3)}...` : text;
}

/** `gates.audit.ignore[0].reason`; keys that are not plain words (globs) are quoted so the path stays unambiguous. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === "" ? "(top level)" : out;
}

/** Optimal string alignment distance: Levenshtein plus adjacent swaps, so "lnit" is one edit from "lint". */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The closest allowed key, if it is close enough to be a typo (case, `_`/`-` and about a third of the letters). */
export function suggestKey(key: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(norm(key), norm(candidate));
    const limit = Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Plain words for schemas that carry no registered phrase (booleans, enums, mappings...). */
function genericExpectation(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.inst instanceof z.ZodObject) return `a mapping with keys ${Object.keys(issue.inst.shape).join(", ")}`;
      const words: Record<string, string> = {
        boolean: "true or false",
        string: "a string",
        number: "a number",
        int: "a whole number",
        array: "a list",
        record: "a mapping",
        object: "a mapping",
      };
      return words[issue.expected] ?? issue.expected;
    }
    case "invalid_value":
      return issue.values.length === 1 ? renderValue(issue.values[0]) : `one of ${issue.values.map(String).join(", ")}`;
    case "too_small":
      return `at least ${issue.minimum}`;
    case "too_big":
      return `at most ${issue.maximum}`;
    case "invalid_format":
      return issue.pattern === undefined ? `a ${issue.format}` : `a string matching ${issue.pattern}`;
    default:
      return "a valid value";
  }
}

/**
 * Parse-time error map: writes the part after `path: `. Checks with their own message (the
 * credential-key check) never reach it, since zod prefers a check's own error.
 */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === "unrecognized_keys") return "unknown key"; // expanded per key by formatZodIssues
  if (issue.code === "invalid_key") return issue.issues.map((inner) => inner.message).join("; ");
  const entry = issue.schema === undefined ? undefined : expectations.get(issue.schema);
  const expected = entry?.expected ?? genericExpectation(issue);
  if (issue.code === "invalid_type" && issue.input === undefined) return `required: ${entry?.required ?? `expected ${expected}`}`;
  return `expected ${expected}, got ${renderValue(issue.input)}`;
};

/** Peels wrappers that do not change which keys an object allows. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodOptional) current = current.unwrap();
    else if (current instanceof z.ZodPipe) current = current.in;
    else return current;
  }
}

/** The keys the object at `path` declares, for did-you-mean suggestions. */
function allowedKeysAt(root: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.core.$ZodType | undefined = unwrap(root);
  for (const segment of path) {
    if (node instanceof z.ZodObject) node = node.shape[String(segment)];
    else if (node instanceof z.ZodRecord) node = node.valueType;
    else if (node instanceof z.ZodArray) node = node.element;
    else return [];
    if (node === undefined) return [];
    node = unwrap(node);
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/**
 * One line per problem. Expects an error from a parse with `{ error: configErrorMap }`;
 * `root` is the schema that was parsed, used to suggest keys for unknown ones.
 */
export function formatZodIssues(error: z.ZodError, root: z.core.$ZodType): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code !== "unrecognized_keys") return [`${formatPath(issue.path)}: ${issue.message}`];
    const allowed = allowedKeysAt(root, issue.path);
    return issue.keys.map((key) => {
      const suggestion = suggestKey(key, allowed);
      const tail = suggestion === undefined ? "" : `; did you mean ${JSON.stringify(suggestion)}?`;
      return `${formatPath([...issue.path, key])}: unknown key${tail}`;
    });
  });
}
