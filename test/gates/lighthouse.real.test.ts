/**
 * The real tool: lighthouse 12.2.3 from npm driving Debian's chromium (.ci/install-chromium.sh),
 * run with the gate's exact argv and environment, against pages served on localhost. Its real
 * output goes through the gate's parser and policy.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_PATH, lighthouseCommand, reportPaths } from "../../lib/gates/lighthouse/command.js";
import { LighthouseConfigSchema } from "../../deploy/lib/gates/lighthouse/config.js";
import { failingAudits, judgeLighthouse } from "../../lib/gates/lighthouse/policy.js";
import { lhrOfRun } from "../../lib/gates/lighthouse/report.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { servePages } from "../fixtures/lighthouse/serve.mjs";
import { runTool } from "../helpers/tools.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const cfg = LighthouseConfigSchema.parse({ runs: 1 });
let server: Awaited<ReturnType<typeof servePages>>;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: run .ci/install-chromium.sh`);
  server = await servePages();
  dir = mkdtempSync(join(tmpdir(), "shipshape-lighthouse-"));
});
afterAll(() => server?.close());

/** One run as the container runs it: the same argv, CHROME_PATH, lighthouse on PATH. */
async function audit(url: string, name: string, chrome = CHROMIUM_PATH) {
  const prefix = join(dir, name);
  const r = await runTool(lighthouseCommand(url, cfg, prefix), { env: { CHROME_PATH: chrome, PATH: `${BIN}:${process.env.PATH ?? ""}` } });
  const { json } = reportPaths(prefix);
  return {
    exitCode: r.code,
    stderr: r.stderr,
    json: existsSync(json) ? readFileSync(json, "utf8") : undefined,
    htmlExists: existsSync(reportPaths(prefix).html),
  };
}

function problemOf(f: () => unknown): Problem {
  try {
    f();
  } catch (e) {
    if (e instanceof Problem) return e;
    throw e;
  }
  throw new Error("expected a Problem, got a result");
}

describe("lighthouse for real", () => {
  it("passes the good page", async () => {
    const url = `${server.url}/good`;
    const run = await audit(url, "good");
    expect(run.exitCode).toBe(0);
    expect(run.htmlExists).toBe(true);
    const lhr = lhrOfRun(url, run, cfg.timeoutSeconds);
    expect(lhr.lighthouseVersion).toBe("12.2.3");
    const v = judgeLighthouse(lhr, cfg.thresholds, { url, formFactor: "mobile", runs: 1 });
    expect(v.status).toBe("passed");
    expect(v.summary).toMatch(/^performance \d+, accessibility \d+, best practices \d+, SEO \d+ on http:\/\/127\.0\.0\.1:\d+\/good/);
  });

  it("fails the bad page on performance, accessibility and SEO, naming the audits", async () => {
    const url = `${server.url}/bad`;
    const run = await audit(url, "bad");
    const lhr = lhrOfRun(url, run, cfg.timeoutSeconds);
    const v = judgeLighthouse(lhr, cfg.thresholds, { url, formFactor: "mobile", runs: 1 });
    expect(v.status).toBe("failed");
    expect(v.cause).toMatch(/performance \d+ < 80/);
    expect(v.cause).toMatch(/accessibility \d+ < 90/);
    expect(v.cause).toMatch(/SEO \d+ < 80/);
    expect(failingAudits(lhr, "accessibility").map((f) => f.audit.id)).toEqual(
      expect.arrayContaining(["image-alt", "html-has-lang", "document-title"]),
    );
    expect(failingAudits(lhr, "seo").map((f) => f.audit.id)).toEqual(expect.arrayContaining(["document-title", "meta-description"]));
    expect(v.findings.some((f) => f.startsWith("accessibility: image-alt "))).toBe(true);
    expect(v.metrics.accessibility).toBeLessThan(60);
  });

  it("an unreachable URL: Lighthouse writes a report with runtimeError and exits 1; the gate errors", async () => {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    const url = "http://127.0.0.1:9/";
    const run = await audit(url, "unreachable");
    expect(run.exitCode).toBe(1);
    expect(run.json).toBeDefined();
    expect(run.stderr).toMatch(/^Runtime error encountered: /m);
    const p = problemOf(() => lhrOfRun(url, run, cfg.timeoutSeconds));
    expect(p.cause_).toMatch(/^lighthouse could not load http:\/\/127\.0\.0\.1:9\/: CHROME_INTERSTITIAL_ERROR: /);
    expect(p.hint).toMatch(/engine's network/);
  });

  it("a browser that dies mid-run: no report, exit 1, one line from Lighthouse", async () => {
    const wrapper = join(dir, "dying-chromium.sh");
    // Starts the real browser, then kills it three seconds in.
    writeFileSync(wrapper, `#!/bin/sh\n${CHROMIUM_PATH} "$@" &\npid=$!\nsleep 3\nkill -9 $pid\nwait $pid\n`);
    chmodSync(wrapper, 0o755);
    const url = `${server.url}/good`;
    const run = await audit(url, "crash", wrapper);
    expect(run.exitCode).toBe(1);
    expect(run.json).toBeUndefined();
    const p = problemOf(() => lhrOfRun(url, run, cfg.timeoutSeconds));
    expect(p.cause_).toMatch(/^lighthouse crashed auditing http:\/\/127\.0\.0\.1:\d+\/good: .+ \(exit 1\)$/);
    expect(p.cause_).not.toMatch(/\bat \S+:\d+:\d+/);
  });
});
