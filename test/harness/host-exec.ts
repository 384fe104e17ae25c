/**
 * Runs a container command for real on the host, for the stub engine: container paths map to
 * host directories (a mounted cache volume to the volume's own directory, so the command writes
 * into the volume), service aliases to where the stub's service instance answers, and the outputs
 * map back. So a gate driven through the stub engine gets the real output of the very argv it built.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ExecContext, ExecResult } from "./model.js";

export interface HostMapping {
  /** container path prefix -> host directory */
  paths: Record<string, string>;
  /** extra env for the host run (e.g. a local registry) */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Where bound services really are (default: $PGHOST or 127.0.0.1). */
  serviceHost?: string;
  /**
   * Write the container's files under each mapped path to the host first (mounted secrets such as
   * a docker config.json, files added with withFile/withNewFile, outputs of earlier execs), so a
   * command run for real reads what the container would hold.
   */
  materialize?: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function mapper(pairs: [string, string][]) {
  const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length);
  return (text: string) => sorted.reduce((t, [from, to]) => t.replace(new RegExp(escape(from) + "(?=/|\\b|$)", "g"), to), text);
}

function listFiles(dir: string, prefix = ""): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules") continue;
    const p = join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    out = statSync(p).isDirectory() ? out.concat(listFiles(p, rel)) : out.concat(rel);
  }
  return out;
}

export async function runOnHost(ctx: ExecContext, m: HostMapping): Promise<ExecResult> {
  // Volumes are mapped last so they win over a broader path (mapper picks the longest prefix).
  const volumeDirs = Object.entries(ctx.volumes ?? {}).map(([p, v]) => [p, v.dir] as [string, string]);
  const onVolume = (p: string) => volumeDirs.some(([v]) => p === v || p.startsWith(v + "/"));
  const all = [...Object.entries(m.paths), ...volumeDirs];
  const toHost = mapper(all);
  const toCtr = mapper(all.map(([c, h]) => [h, c]));
  for (const dir of Object.values(m.paths)) mkdirSync(dir, { recursive: true });
  if (m.materialize) {
    for (const [ctrPath, hostDir] of Object.entries(m.paths)) {
      for (const [p, content] of Object.entries(ctx.filesUnder(ctrPath))) {
        if (onVolume(p)) continue;
        const host = join(hostDir, p.slice(ctrPath.length));
        mkdirSync(dirname(host), { recursive: true });
        writeFileSync(host, content, { mode: 0o600 });
        // Dated in the past so they are not taken for the command's own output below.
        utimesSync(host, 0, 0);
      }
    }
  }
  // A bound service answers where the stub started it (its own loopback address, in front of
  // this machine's real Postgres, or `db` when this suite runs inside Shipshape's test gate).
  const fallback = m.serviceHost ?? (process.env.PGHOST || "127.0.0.1");
  const hostOf = (alias: string) => ctx.serviceHosts?.[alias] ?? fallback;
  const aliases = [...new Set([...Object.keys(ctx.services), ...Object.keys(ctx.serviceHosts ?? {})])];
  const hostArg = (a: string) => (aliases.includes(a) ? hostOf(a) : toHost(a));
  const hostEnv = (v: string) =>
    aliases.reduce((t, al) => t.replace(new RegExp(`(^|[@/])${escape(al)}(?=[:/]|$)`, "g"), `$1${hostOf(al)}`), toHost(v));
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [k, v] of Object.entries({ ...ctx.env, ...ctx.secretEnv })) env[k] = hostEnv(v);
  Object.assign(env, m.env ?? {});
  const started = Date.now();
  // Async on purpose: a sync spawn would freeze this process, and with it any loopback server
  // (advisory registry, local registry) the command under test needs to talk to.
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(ctx.args[0]!, ctx.args.slice(1).map(hostArg), { cwd: toHost(ctx.workdir), env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), m.timeoutMs ?? 240_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      // What the engine reports for a missing binary: exit 127 and a shell-like message.
      resolve({ status: 127, stdout, stderr: stderr + `exec: "${ctx.args[0]}": ${e.message}` });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 + 9 : 1), stdout, stderr });
    });
  });
  // Files the command wrote (or rewrote) come back at their container paths.
  const files: Record<string, string> = {};
  for (const [ctrPath, hostDir] of Object.entries(m.paths)) {
    for (const rel of listFiles(hostDir)) {
      const p = join(hostDir, rel);
      if (statSync(p).mtimeMs >= started - 5) files[`${ctrPath}/${rel}`] = toCtr(readFileSync(p, "utf8"));
    }
  }
  return { exitCode: r.status ?? 1, stdout: toCtr(r.stdout), stderr: toCtr(r.stderr), files };
}
