/**
 * Installs the fixture service's dependencies with the exact install command line the module
 * runs in its container, so the gate tests run real tools on a real install. Skips the install
 * when node_modules is already up to date with the lockfile.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { installCommand } from "../deploy/lib/gates/commands.js";
import { SQUAWK_VERSION } from "../lib/release/migrations/squawk.js";

const service = fileURLToPath(new URL("../test/fixtures/service/", import.meta.url));
const lock = readFileSync(join(service, "package-lock.json"));
const stamp = join(service, "node_modules", ".shipshape-lock-sha256");
const sha = createHash("sha256").update(lock).digest("hex");

if (existsSync(stamp) && readFileSync(stamp, "utf8") === sha) {
  console.log("fixture dependencies are up to date");
} else {
  const [cmd, ...args] = installCommand({ name: "npm", yarnBerry: false, lockfile: "package-lock.json" });
  console.log(`fixture: ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd!, args, { cwd: service, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(stamp, sha);
}

// Tools the tests run for real but that cannot live in package.json (see test/helpers/tools.ts).
const tools = fileURLToPath(new URL("../.tools/", import.meta.url));
const squawkPkg = join(tools, "node_modules", "squawk-cli", "package.json");
const installed = existsSync(squawkPkg) ? (JSON.parse(readFileSync(squawkPkg, "utf8")) as { version: string }).version : undefined;
if (installed === SQUAWK_VERSION) {
  console.log(`squawk-cli ${SQUAWK_VERSION} is installed`);
} else {
  console.log(`tools: npm install squawk-cli@${SQUAWK_VERSION}`);
  const r = spawnSync(
    "npm",
    ["install", "--prefix", tools, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", `squawk-cli@${SQUAWK_VERSION}`],
    { stdio: "inherit" },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}
