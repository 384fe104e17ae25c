/**
 * A fake `lighthouse` for the stub engine, so the gate's plumbing (command line, runs and their
 * median, files, summary, caching, ci) is tested without a browser per case; the real CLI runs the
 * gate's exact argv in test/gates/lighthouse.real.test.ts. Its reports are real Lighthouse 12.2.3
 * output recorded on this machine (test/fixtures/lighthouse, README there). What it models of the
 * CLI (node_modules/lighthouse/cli/cli-flags.js and run.js, 12.2.3, read, not copied, and checked
 * by running it here):
 * - It is installed by the image's `npm install --global lighthouse@<version>`: absent on any other
 *   image (exit 127), as a container without it would be.
 * - No URL: "Please provide a url" and "Specify --help for available options", exit 1. The real
 *   yargs parser is not strict (an unknown flag is ignored); the fake refuses unknown flags anyway,
 *   stricter on purpose, so a typo in the gate's argv fails a test instead of silently losing an
 *   option. Each --output writes `<--output-path>.report.<ext>`.
 * - The page is really requested from the host: a refused connection is Chrome's interstitial
 *   (runtimeError CHROME_INTERSTITIAL_ERROR), a non-2xx answer is ERRORED_DOCUMENT_REQUEST; both
 *   still write the report and exit 1. A page that loads gets the recorded report for its path.
 * - A browser that dies mid-run (opts.crash, or CHROME_PATH naming anything but Debian's chromium)
 *   is a crash: the recorded "Runtime error encountered: ..." on stderr, no report, exit 1.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { ExecContext, ExecResult } from "./model.js";
import type { StubEngine } from "./stub-engine.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/lighthouse/", import.meta.url));
const fixture = (name: string) => readFileSync(`${FIXTURES}${name}`, "utf8");

/** Which recorded report a page that loads gets, by its path (the pages test/fixtures/lighthouse/serve.mjs serves). */
const REPORT_BY_PATH: Record<string, string> = { "/good": "good.lhr.json", "/bad": "bad.lhr.json" };

const STRING_FLAGS = new Set(["--output", "--output-path", "--only-categories", "--preset", "--chrome-flags"]);
const BOOL_FLAGS = new Set(["--quiet"]);

export interface LighthouseRun {
  url: string;
  exitCode: number;
}

interface Parsed {
  url: string;
  outputs: string[];
  outputPath?: string;
}

function parse(args: string[]): Parsed | string {
  const outputs: string[] = [];
  let outputPath: string | undefined;
  let url: string | undefined;
  for (const a of args) {
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (STRING_FLAGS.has(name)) {
      const value = a.slice(eq + 1);
      if (name === "--output") outputs.push(value);
      if (name === "--output-path") outputPath = value;
    } else if (BOOL_FLAGS.has(a)) continue;
    else if (a.startsWith("-")) return `Unknown argument: ${a.replace(/^-+/, "").split("=")[0]}`;
    else if (url === undefined) url = a;
    else return `Unknown argument: ${a}`;
  }
  if (url === undefined) return "Please provide a url\n\nSpecify --help for available options";
  return { url, outputs: outputs.length ? outputs : ["html"], ...(outputPath ? { outputPath } : {}) };
}

/** What loading the page does, asked of the real server. */
async function load(url: string): Promise<{ report: string; runtimeError?: { code: string; message: string } }> {
  const unreachable = JSON.parse(fixture("unreachable.lhr.json")) as { runtimeError: { code: string; message: string } };
  let status: number;
  try {
    status = (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return { report: "unreachable.lhr.json", runtimeError: unreachable.runtimeError };
  }
  if (status < 200 || status >= 300) {
    const notFound = JSON.parse(fixture("notfound.lhr.json")) as { runtimeError: { code: string; message: string } };
    return {
      report: "notfound.lhr.json",
      runtimeError: { ...notFound.runtimeError, message: notFound.runtimeError.message.replace(/404/, String(status)) },
    };
  }
  const report = REPORT_BY_PATH[new URL(url).pathname];
  if (!report) throw new Error(`fake lighthouse: no recorded report for ${url} (a test bug: serve /good or /bad)`);
  return { report };
}

export function fakeLighthouse(engine: StubEngine, opts: { image: string; version: string; crash?: boolean }): LighthouseRun[] {
  const runs: LighthouseRun[] = [];
  engine.onExec(
    (a) => a[0] === "timeout" && a[3] === "lighthouse",
    async (ctx: ExecContext): Promise<ExecResult> => {
      const done = (url: string, r: ExecResult) => (runs.push({ url, exitCode: r.exitCode ?? 0 }), r);
      if (ctx.image !== opts.image)
        return { exitCode: 127, stderr: "timeout: failed to run command 'lighthouse': No such file or directory\n" };
      const parsed = parse(ctx.args.slice(4));
      if (typeof parsed === "string") return done("", { exitCode: 1, stderr: `${parsed}\n` });
      if (opts.crash || ctx.env.CHROME_PATH !== "/usr/bin/chromium")
        return done(parsed.url, { exitCode: 1, stderr: fixture("crash.stderr") });
      const { report, runtimeError } = await load(parsed.url);
      const lhr: Record<string, unknown> = {
        ...(JSON.parse(fixture(report)) as Record<string, unknown>),
        requestedUrl: parsed.url,
        lighthouseVersion: opts.version,
        // A page that loaded ends where it was asked for; one that did not keeps Chrome's error page.
        ...(runtimeError ? {} : { finalDisplayedUrl: parsed.url }),
      };
      const json = JSON.stringify(lhr, null, 2);
      // The HTML report embeds the JSON (report-generator.js replaces __LIGHTHOUSE_JSON__).
      const html = `<!doctype html>\n<html lang="en"><head><title>Lighthouse Report</title></head><body><script>window.__LIGHTHOUSE_JSON__ = ${json};</script></body></html>\n`;
      const files: Record<string, string> = {};
      if (parsed.outputPath) {
        if (parsed.outputs.includes("json")) files[`${parsed.outputPath}.report.json`] = json;
        if (parsed.outputs.includes("html")) files[`${parsed.outputPath}.report.html`] = html;
      }
      return done(parsed.url, {
        exitCode: runtimeError ? 1 : 0,
        files,
        stderr: runtimeError ? `Runtime error encountered: ${runtimeError.message}\n` : "",
      });
    },
  );
  return runs;
}
