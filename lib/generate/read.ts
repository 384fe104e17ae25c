/**
 * The generator's only I/O: what it reads from the source directory, handed to the pure rules as
 * plain text. Reads a fixed list of small files, never a tree walk beyond one glob for SQL.
 */
import type { Directory } from "@dagger.io/dagger";
import { loadConfig } from "../../deploy/lib/project/load.js";
import { READ_FILES, type ProjectInput, type ReadFile } from "./facts.js";

/** Text of each path that exists (and is a file), keyed by path. */
async function readAll(source: Directory, paths: readonly string[]): Promise<Map<string, string>> {
  const texts = await Promise.all(
    paths.map(async (p) =>
      (await source.exists(p))
        ? source
            .file(p)
            .contents()
            .catch(() => undefined)
        : undefined,
    ),
  );
  return new Map(paths.flatMap((p, i) => (texts[i] === undefined ? [] : [[p, texts[i]] as const])));
}

export interface ReadProject {
  input: ProjectInput;
  /** Current text of each path the generator may write. */
  existing: Map<string, string>;
}

export async function readProject(source: Directory, configPath: string, writes: readonly string[]): Promise<ReadProject> {
  const [entries, sqlFiles, read, existing, { config }] = await Promise.all([
    source.entries(),
    source.glob("**/*.sql"),
    readAll(source, READ_FILES),
    readAll(source, writes),
    // An invalid shipshape.yaml stops the generator with the loader's own message: it is fixed first.
    loadConfig(source, configPath),
  ]);
  const files = Object.fromEntries(read) as Partial<Record<ReadFile, string>>;
  return { input: { entries, sqlFiles, files, environments: Object.keys(config.environments) }, existing };
}
