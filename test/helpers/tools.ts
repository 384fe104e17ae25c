/**
 * Tool binaries the tests run for real that do not belong in package.json. squawk-cli ships its
 * binary in per-platform optional packages; the registry mirror here lacks the darwin ones, so
 * npm cannot lock them and `npm ci` would reject the lockfile. scripts/prepare-fixtures.ts
 * installs it into .tools/ instead.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const TOOLS_DIR = fileURLToPath(new URL("../../.tools/", import.meta.url));
export const SQUAWK_BIN = join(TOOLS_DIR, "node_modules/.bin/squawk");
