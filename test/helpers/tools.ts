/**
 * Tool binaries the tests run for real that do not belong in package.json. squawk-cli ships its
 * binary in per-platform optional packages; the registry mirror here lacks the darwin ones, so
 * npm cannot lock them and `npm ci` would reject the lockfile. scripts/prepare-fixtures.ts
 * installs it into .tools/ instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

export const TOOLS_DIR = fileURLToPath(new URL("../../.tools/", import.meta.url));
export const SQUAWK_BIN = join(TOOLS_DIR, "node_modules/.bin/squawk");

// --- host tools the real-tool tests drive (cosign, crane), and a local registry for them -------

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Async on purpose: a registry child process must keep serving while the tool talks to it. */
export function runTool(argv: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<ToolRun> {
  const [cmd = "", ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export async function runToolOk(argv: string[], opts?: { env?: Record<string, string>; cwd?: string }): Promise<ToolRun> {
  const r = await runTool(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.slice(0, 3).join(" ")} exited ${r.code}: ${r.stderr.slice(-500)}`);
  return r;
}

/** Fails (never skips) when a tool is missing: run .ci/install-tools.sh. */
export function requireTools(...tools: string[]): void {
  const dirs = (process.env.PATH ?? "").split(delimiter);
  const missing = tools.filter((t) => !dirs.some((d) => d !== "" && existsSync(join(d, t))));
  if (missing.length > 0) throw new Error(`${missing.join(", ")} not on PATH: run .ci/install-tools.sh`);
}

/**
 * An in-memory `crane registry serve` on a free port of `address` (127.0.0.2 by default: go-containerregistry
 * silently uses plain HTTP for localhost and 127.0.0.1, which would hide a missing --allow-http-registry).
 */
export async function startCraneRegistry(address = "127.0.0.2"): Promise<{ host: string; process: ChildProcess }> {
  const reg = spawn("crane", ["registry", "serve", "--address", `${address}:0`], { stdio: ["ignore", "ignore", "pipe"] });
  const host = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("crane registry serve did not start in 10 s")), 10_000);
    let log = "";
    reg.stderr.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /serving on port (\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(`${address}:${m[1]}`);
      }
    });
    reg.on("exit", (code) => reject(new Error(`crane registry serve exited ${code}: ${log}`)));
  });
  return { host, process: reg };
}
