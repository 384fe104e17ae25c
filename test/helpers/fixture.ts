/** Fresh copies of the fixture service (optionally with a broken variant on top) to run gates on. */
import { cpSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("../fixtures/", import.meta.url));
export const SERVICE = join(FIXTURES, "service");
const SKIP = new Set(["node_modules", "coverage", "reports", "dist"]);

export function prepareFixture(variant?: string, files: Record<string, string> = {}): string {
  if (!existsSync(join(SERVICE, "node_modules"))) {
    throw new Error(`${SERVICE}/node_modules is missing: run .ci/run (or npm ci in that folder) first`);
  }
  const root = mkdtempSync(join(tmpdir(), `shipshape-${variant ?? "service"}-`));
  cpSync(SERVICE, root, { recursive: true, filter: (src) => !SKIP.has(src.slice(SERVICE.length + 1).split("/")[0]!) });
  symlinkSync(join(SERVICE, "node_modules"), join(root, "node_modules"));
  if (variant) cpSync(join(FIXTURES, "variants", variant), root, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  return root;
}
