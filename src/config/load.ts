/**
 * Reads shipshape.yaml text into a validated config. Reading the file from the user's repo is
 * the caller's job, so this stays a pure function that tests can drive with strings.
 */
import { LineCounter, parseDocument } from "yaml";
import { ConfigError, configErrorMap, formatZodIssues } from "./errors.js";
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

/** YAML text to plain data; undefined for an empty document. Syntax errors become `file:line:col: message`. */
function parseYaml(text: string, fileName: string): unknown {
  const lineCounter = new LineCounter();
  // prettyErrors off: its messages embed a code excerpt over several lines; we want one line each.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return `${fileName}:${line}:${col}: ${firstLine(error.message)}`;
    });
    throw new ConfigError(issues, YAML_HINT(fileName));
  }
  if (doc.contents === null) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 }); // bounds alias expansion ("billion laughs")
  } catch (error) {
    // toJS throws for things only found while resolving, such as an alias to a missing anchor.
    const message = error instanceof Error ? firstLine(error.message) : String(error);
    throw new ConfigError([`${fileName}: ${message}`], YAML_HINT(fileName));
  }
}

function firstLine(message: string): string {
  return message.split("\n", 1)[0] ?? message;
}
