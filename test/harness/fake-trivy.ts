/**
 * A fake `trivy` for the stub engine: Trivy is not installable here, so its reports come from real
 * ones (test/fixtures/supply/trivy), but its cache behaves as Trivy v0.74.0's does (read from
 * aquasecurity/trivy@v0.74.0, modelled, not copied):
 * - The vulnerability DB is `<cache-dir>/db/trivy.db` plus `metadata.json`. Without either, a scan
 *   with --skip-db-update fails: pkg/db/db.go NeedsUpdate "--skip-db-update cannot be specified on
 *   the first run", wrapped by pkg/commands/operation "database error", pkg/commands/artifact/run.go
 *   "DB error", "init error", "run error". Without the flag the scan downloads it first.
 * - A scan opens the DB ReadOnly (pkg/db/db.go Init: a shared flock, waited for without timeout),
 *   then the scan cache `<cache-dir>/fanal/fanal.db` read-write (pkg/cache/fs.go NewFSCache: an
 *   exclusive flock, Timeout 5s). Still held by another trivy after that: "cache may be in use by
 *   another process: timeout", wrapped by pkg/cache/client.go "unable to initialize fs cache",
 *   artifact/scanner.go "unable to initialize cache", run.go "unable to initialize a scan service",
 *   "scan error", "<kind> scan error", "run error". It holds the lock until the scan ends.
 * - Failures are logged by cmd/trivy/main.go log.Fatal: "<RFC3339>\tFATAL\tFatal error\t<err>"
 *   on stderr, exit 1, even with -q.
 * Time is scaled: a scan holds its cache for `scanMs` (real image scans take tens of seconds),
 * longer than the lock timeout `lockTimeoutMs` (real: 5s), as in the real ratio.
 */
import type { ExecContext, ExecResult } from "./model.js";
import type { StubEngine } from "./stub-engine.js";

export interface FakeTrivyOptions {
  /** The JSON report a scan writes to --output. */
  report: string | ((ctx: ExecContext) => string);
  scanMs?: number;
  lockTimeoutMs?: number;
  /** Called for each scan that got its locks (e.g. to look at what the container holds). */
  onScan?: (ctx: ExecContext) => void;
}

/** What happened, in order: downloads, scans, refusals (for assertions). */
export type TrivyEvent = { kind: "download" | "scan" | "failed"; cacheDir: string; detail?: string };

const flag = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function fatal(err: string): ExecResult {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  return { exitCode: 1, stderr: `${now}\tFATAL\tFatal error\t${err}\n` };
}

export function fakeTrivy(engine: StubEngine, opts: FakeTrivyOptions): TrivyEvent[] {
  const events: TrivyEvent[] = [];
  const scanMs = opts.scanMs ?? 300;
  const lockTimeoutMs = opts.lockTimeoutMs ?? 100;
  engine.onExec(
    (a) => a[0] === "trivy" && (a[1] === "image" || a[1] === "fs"),
    async (ctx) => {
      const args = ctx.args;
      const kind = args[1]!;
      const cacheDir = flag(args, "--cache-dir") ?? "/root/.cache/trivy";
      const hasDb = ctx.exists(`${cacheDir}/db/trivy.db`) && ctx.exists(`${cacheDir}/db/metadata.json`);
      const download = () => {
        ctx.write(`${cacheDir}/db/trivy.db`, "bbolt: trivy-db v2");
        ctx.write(`${cacheDir}/db/metadata.json`, JSON.stringify({ Version: 2, DownloadedAt: new Date().toISOString() }));
        events.push({ kind: "download", cacheDir });
      };
      if (args.includes("--download-db-only")) {
        download();
        return { exitCode: 0 };
      }
      if (!hasDb) {
        if (args.includes("--skip-db-update")) {
          events.push({ kind: "failed", cacheDir, detail: "no DB" });
          return fatal("run error: init error: DB error: database error: --skip-db-update cannot be specified on the first run");
        }
        download();
      }
      const releaseDb = await ctx.flock(`${cacheDir}/db/trivy.db`, { exclusive: false, timeoutMs: 0 });
      const releaseCache = await ctx.flock(`${cacheDir}/fanal/fanal.db`, { exclusive: true, timeoutMs: lockTimeoutMs });
      if (!releaseCache) {
        releaseDb?.();
        events.push({ kind: "failed", cacheDir, detail: "cache locked" });
        return fatal(
          `run error: ${kind} scan error: scan error: unable to initialize a scan service: unable to initialize cache: ` +
            "unable to initialize fs cache: cache may be in use by another process: timeout",
        );
      }
      try {
        opts.onScan?.(ctx);
        ctx.write(`${cacheDir}/fanal/fanal.db`, "bbolt: scan cache");
        await new Promise((r) => setTimeout(r, scanMs));
        const output = flag(args, "--output");
        const report = typeof opts.report === "function" ? opts.report(ctx) : opts.report;
        events.push({ kind: "scan", cacheDir });
        return output ? { exitCode: 0, files: { [output]: report } } : { exitCode: 0, stdout: report };
      } finally {
        releaseCache();
        releaseDb?.();
      }
    },
  );
  return events;
}
