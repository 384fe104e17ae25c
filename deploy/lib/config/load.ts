/**
 * Reads shipshape.yaml text into a validated config. Reading the file from the user's repo is
 * the caller's job, so this stays a pure function that tests can drive with strings.
 */
import { posix } from "node:path";
import { Composer, type CST, type Document, isScalar, LineCounter, Parser, visit, YAMLParseError } from "yaml";
import { quoted } from "../../src/project/problem.js";
import { ConfigError, configErrorMap, configFileError, formatZodIssues, MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH } from "./errors.js";
import { ShipshapeConfigSchema, type ShipshapeConfig } from "./schema.js";

export interface LoadedConfig {
  config: ShipshapeConfig;
  /** Which sections the file wrote out, for behaviour that differs between "default" and "asked for". */
  explicit: { coverage: boolean };
}

const SCHEMA_HINT = (fileName: string) =>
  `fix the value in ${fileName}; the JSON Schema at schema/shipshape.schema.json gives editor completion`;

const YAML_HINT = (fileName: string) =>
  `fix the YAML syntax in ${fileName}: indent with spaces, and quote values that contain ": " or " #"`;

/** Validates already-parsed data (e.g. from JSON); throws ConfigError with one line per problem. */
export function validateConfig(data: unknown, fileName = "shipshape.yaml"): ShipshapeConfig {
  // reportInput keeps the bad values in the issues; the error map writes the plain-words messages.
  const result = ShipshapeConfigSchema.safeParse(data, { error: configErrorMap, reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(formatZodIssues(result.error, ShipshapeConfigSchema), SCHEMA_HINT(fileName), `${fileName} is invalid`);
}

/** Parses shipshape.yaml text; undefined (no file), empty or comment-only text means all defaults. */
export function parseConfig(text: string | undefined, fileName = "shipshape.yaml"): LoadedConfig {
  const data = text === undefined ? undefined : parseYaml(text, fileName);
  const explicitCoverage = typeof data === "object" && data !== null && Object.hasOwn(data, "coverage");
  return {
    config: validateConfig(data ?? {}, fileName),
    explicit: { coverage: explicitCoverage },
  };
}

/**
 * Checks a --config-path before anything is read: it must name a file inside the source.
 * Returns it normalised ("./a//b.yaml" -> "a/b.yaml").
 */
export function checkConfigPath(path: string): string {
  if (path.trim() === "") throw configFileError.pathEmpty();
  if (/\p{Cc}/u.test(path)) throw configFileError.pathUnprintable(path);
  // A Windows drive or UNC path is absolute too, and backslashes are separators to its author.
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]|^\\\\/.test(path)) throw configFileError.pathAbsolute(path);
  const normal = posix.normalize(path.replace(/\\/g, "/"));
  if (normal === ".." || normal.startsWith("../")) throw configFileError.pathEscapes(path);
  if (normal === "." || normal.endsWith("/")) throw configFileError.notAFile(path);
  return normal;
}

/**
 * YAML text to plain data; undefined for an empty document. Syntax errors become `file:line:col: message`.
 * The steps are parseDocument's, split so that the file's size and nesting are bounded before
 * the recursive composer runs, and duplicate keys are found in one pass: yaml's own uniqueKeys
 * check compares each key with every earlier one (20,000 keys took 6 s, 30x the parse itself).
 */
function parseYaml(text: string, fileName: string): unknown {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > MAX_CONFIG_BYTES) throw configFileError.tooLarge(fileName, bytes);
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${fileName}:${line}:${col}`;
  };
  // The CST parser keeps its own stack; only composing and converting recurse.
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const deep = tooDeepAt(tokens);
  if (deep !== undefined) throw configFileError.tooDeep(at(deep));
  const doc = compose(tokens, text.length);
  const issues = doc.errors.map((error) => ({ offset: error.pos[0], message: firstLine(error.message) }));
  if (issues.length === 0) issues.push(...duplicateKeys(doc, lineCounter));
  if (issues.length > 0)
    throw new ConfigError(
      issues.map((i) => `${at(i.offset)}: ${i.message}`),
      YAML_HINT(fileName),
    );
  if (doc.contents === null) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 }); // bounds alias expansion ("billion laughs")
  } catch (error) {
    // toJS throws for things only found while resolving, such as an alias to a missing anchor.
    const message = error instanceof Error ? firstLine(error.message) : String(error);
    throw new ConfigError([`${fileName}: ${message}`], YAML_HINT(fileName));
  }
}

/** The first document; a second one is an error, as parseDocument reports it. */
function compose(tokens: CST.Token[], length: number): Document.Parsed {
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ uniqueKeys: false }).compose(tokens, true, length)) {
    if (doc === undefined) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError([next.range[0], next.range[1]], "MULTIPLE_DOCS", "a config is one YAML document; remove the second `---`"),
      );
      break;
    }
  }
  // compose(…, forceDoc = true) always yields a document, empty text included.
  if (doc === undefined) throw new ConfigError(["the YAML parser returned no document"], "report this as a Shipshape bug");
  return doc;
}

/** Offset of the first collection nested deeper than MAX_CONFIG_DEPTH, walked without recursion. */
function tooDeepAt(tokens: CST.Token[]): number | undefined {
  const stack: Array<[CST.Token, number]> = tokens.map((t) => [t, 0]);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [token, depth] = top;
    if (token.type === "document" && token.value) stack.push([token.value, depth]);
    if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      if (depth >= MAX_CONFIG_DEPTH) return token.offset;
      for (const item of token.items) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * Keys set twice in one mapping, one Map per mapping. Keys compare as the JS object will see them
 * (`1` and `"1"` are one key there), which is stricter than yaml's own check.
 */
function duplicateKeys(doc: Document.Parsed, lines: LineCounter): Array<{ offset: number; message: string }> {
  const found: Array<{ offset: number; message: string }> = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, number>();
      for (const { key } of map.items) {
        if (!isScalar(key)) continue;
        const name = String(key.value);
        const offset = key.range?.[0] ?? 0;
        const first = seen.get(name);
        if (first === undefined) seen.set(name, offset);
        else
          found.push({ offset, message: `Map keys must be unique: ${quoted(name)} is already set on line ${lines.linePos(first).line}` });
      }
    },
  });
  return found;
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0] ?? message;
}
