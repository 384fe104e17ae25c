/** Reads what the gates need to know about a project from its source directory (the only I/O here). */
import type { Directory } from "@dagger.io/dagger";
import { configFileError, DEFAULT_CONFIG_PATH, MAX_CONFIG_BYTES } from "../config/errors.js";
import { checkConfigPath, parseConfig } from "../config/load.js";
import type { ShipshapeConfig } from "../config/schema.js";
import { detectNodeVersion, detectPackageManager, parsePackageJson, type PackageJson, type PackageManagerInfo } from "./detect.js";

export interface Project {
  entries: string[];
  pkg: PackageJson;
  pm: PackageManagerInfo;
  node: { version: string; from: string };
  config: ShipshapeConfig;
  /** Keys the user wrote in shipshape.yaml (a default is applied more leniently than a demand). */
  explicit: { coverage: boolean };
}

const readIf = async (source: Directory, entries: string[], name: string) =>
  entries.includes(name) ? source.file(name).contents() : undefined;

/**
 * Config only: gates that do not need package.json (and `config`) read just this. Only the
 * default path may be absent (all defaults); a path the user gave that is missing, outside the
 * source or a directory is an error, so a mistyped path never runs gates its real file disables.
 */
export async function loadConfig(source: Directory, configPath: string) {
  const path = checkConfigPath(configPath);
  if (!(await source.exists(path))) {
    if (configPath === DEFAULT_CONFIG_PATH) return parseConfig(undefined, path);
    throw configFileError.missing(configPath);
  }
  const file = source.file(path);
  // size() fails for a directory; checked before reading, so a huge file is never transferred.
  const bytes = await file.size().catch(() => undefined);
  if (bytes === undefined) throw configFileError.notAFile(configPath);
  if (bytes > MAX_CONFIG_BYTES) throw configFileError.tooLarge(path, bytes);
  return parseConfig(await file.contents(), path);
}

export async function loadProject(source: Directory, configPath: string): Promise<Project> {
  const entries = await source.entries();
  const { config, explicit } = await loadConfig(source, configPath);
  const pkg = parsePackageJson(await readIf(source, entries, "package.json"));
  const pm = detectPackageManager(entries, pkg, config.packageManager);
  const node = detectNodeVersion(config.node.version, await readIf(source, entries, ".nvmrc"), pkg.engines?.node);
  return { entries, pkg, pm, node, config, explicit };
}
