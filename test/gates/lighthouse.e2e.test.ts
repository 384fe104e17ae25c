/**
 * The lighthouse gate end to end through the stub engine. The passing case runs the module's own
 * container command line for real on this machine (lighthouse 12.2.3 from npm, Debian's chromium)
 * against a page on localhost; the other cases run it against the fake CLI in
 * test/harness/fake-lighthouse.ts, which answers with real recorded reports (a browser per case
 * would add a minute and a half to the suite, and test/gates/lighthouse.real.test.ts already runs
 * every one of them for real with the same argv). The image's installs are answered without
 * running: apt-get and npm install -g would change this machine, which already has both.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { installCommands, lighthouseCommand } from "../../lib/gates/lighthouse/command.js";
import { LighthouseConfigSchema } from "../../deploy/lib/gates/lighthouse/config.js";
import type { CiReport, GateReport } from "../../src/report/gate-report.js";
import { LIGHTHOUSE_VERSION } from "../../deploy/lib/images.js";
import { servePages } from "../fixtures/lighthouse/serve.mjs";
import { fakeLighthouse, type LighthouseRun } from "../harness/fake-lighthouse.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { gateError } from "../helpers/gate-error.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
let server: Awaited<ReturnType<typeof servePages>>;
let current: Driven | undefined;
beforeAll(async () => {
  server = await servePages();
});
afterAll(() => server?.close());
afterEach(() => current?.engine.uninstall());

const IMAGE = "node:24.13.1-bookworm-slim";
let fakeRuns: LighthouseRun[] = [];

/** The real CLI (`real`), or the fake one answering with recorded reports (`crash`: its browser dies). */
async function driveWith(yaml: string, mode: "real" | "fake" | "crash" = "fake"): Promise<Driven> {
  const d = await drive({ files: { "shipshape.yaml": yaml }, env: { PATH: `${BIN}:${process.env.PATH ?? ""}` } });
  const installs = installCommands().map((c) => c.join(" "));
  d.engine.onExec((args) => installs.includes(args.join(" ")), { exitCode: 0, stdout: "" });
  fakeRuns = mode === "real" ? [] : fakeLighthouse(d.engine, { image: IMAGE, version: LIGHTHOUSE_VERSION, crash: mode === "crash" });
  return d;
}

const lighthouseExecs = (d: Driven) => d.engine.execs.filter((e) => e.args[3] === "lighthouse");

describe("lighthouse gate", () => {
  it("passes the good page with the report in its files, on the pinned image", async () => {
    current = await driveWith("lighthouse:\n  runs: 1\n", "real");
    const url = `${server.url}/good`;
    const report = (await current.call<GateReport>("lighthouse", { url })).json;
    expect(report.status).toBe("Passed");
    expect(report.summary).toMatch(
      /^performance \d+, accessibility 100, best practices \d+, SEO \d+ on http:\/\/127\.0\.0\.1:\d+\/good \(mobile, 1 run, Lighthouse 12\.2\.3\)$/,
    );
    const [exec] = lighthouseExecs(current);
    expect(exec!.args).toEqual(lighthouseCommand(url, LighthouseConfigSchema.parse({}), "/shipshape/reports/lighthouse-1"));
    expect(exec!.image).toBe(IMAGE);
    expect(exec!.env.CHROME_PATH).toBe("/usr/bin/chromium");
    expect(exec!.env.DEBIAN_FRONTEND).toBe("noninteractive");
    const files = await dirOf(report.files);
    expect((await files.entries()).sort()).toEqual(["lighthouse.html", "lighthouse.json"]);
    expect(JSON.parse(await files.file("lighthouse.json").contents()).requestedUrl).toBe(url);
    // Lighthouse's HTML report opens with its licence comment, then the document.
    expect(await files.file("lighthouse.html").contents()).toMatch(/<!doctype html>[\s\S]*<\/html>\s*$/i);
  });

  it("fails an environment's page under budget: each failing category and its top audits, median of two runs", async () => {
    const env = `environments:\n  staging:\n    cluster: c\n    service: s\n    region: eu-west-1\n    containerName: app\n    smoke:\n      baseUrl: ${server.url}/bad\n      checks: [{ name: health, path: /health }]\n`;
    current = await driveWith(`${env}lighthouse:\n  runs: 2\n`);
    const report = (await current.call<GateReport>("lighthouse", { environment: "staging" })).json;
    expect(report.status).toBe("Failed");
    expect(report.summary).toMatch(
      /^3 categories under budget on http:\/\/127\.0\.0\.1:\d+\/bad: performance \d+ < 80, accessibility \d+ < 90, SEO \d+ < 80 — top: .*image-alt/,
    );
    expect(report.summary).toContain("median of 2 runs");
    expect(report.findings).toContain(report.findings.find((f) => /^accessibility: image-alt /.test(f)));
    // Two runs, each its own exec: a per-call value keeps the exec cache from replaying scores.
    const runs = lighthouseExecs(current);
    expect(runs.map((e) => e.env.SHIPSHAPE_AUDIT_RUN)).toEqual(["1", "2"]);
    expect(runs[0]!.env.SHIPSHAPE_AUDIT_CALL).toMatch(/^[0-9a-f-]{36}$/);
    // What `dagger call lighthouse` ends with: the report's sync fails the call with the row.
    const err = await current.cli("lighthouse", { environment: "staging" }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err!.message).toMatch(/^lighthouse\s+FAILED\s+\S+\s+3 categories under budget/m);
    // A second call audits again: never served from a cache.
    expect(lighthouseExecs(current)).toHaveLength(4);
  });

  it("an unreachable URL is one line with a fix hint, and fails the call", async () => {
    current = await driveWith("lighthouse:\n  runs: 3\n");
    const e = await gateError(current.call<GateReport>("lighthouse", { url: "http://127.0.0.1:9/" }));
    expect(e.status).toBe("ERROR");
    expect(e.cause).toMatch(
      /^lighthouse could not load http:\/\/127\.0\.0\.1:9\/: CHROME_INTERSTITIAL_ERROR: Chrome prevented page load with an interstitial\.$/,
    );
    expect(e.hint).toMatch(/^check that http:\/\/127\.0\.0\.1:9\/ answers from the engine's network/);
    // It stops at the first run that could not load: no three runs of the same failure.
    expect(lighthouseExecs(current)).toHaveLength(1);
  });

  it("a browser that dies mid-run is an ERROR naming Lighthouse's own line, never a pass", async () => {
    current = await driveWith("lighthouse:\n  runs: 1\n", "crash");
    const e = await gateError(current.call<GateReport>("lighthouse", { url: `${server.url}/good` }));
    expect(e.status).toBe("ERROR");
    expect(e.cause).toMatch(/^lighthouse crashed auditing http:\/\/127\.0\.0\.1:\d+\/good: .+ \(exit 1\)$/);
    expect(e.hint).toMatch(/^run it again/);
    expect(fakeRuns).toHaveLength(1);
  });

  it("without a page to audit it says how to give one, and runs nothing", async () => {
    current = await driveWith("lighthouse:\n  runs: 1\n");
    const e = await gateError(current.call<GateReport>("lighthouse"));
    expect(e.cause).toBe("lighthouse has no page to audit");
    expect(e.hint).toMatch(/--url=.*--environment=/);
    const bad = await gateError(current.call<GateReport>("lighthouse", { url: "staging.example.com" }));
    expect(bad.cause).toBe('lighthouse needs an http(s) URL, got "staging.example.com"');
    expect(current.engine.execs).toHaveLength(0);
  });

  it("is part of ci only with lighthouse.ci: true", async () => {
    const off =
      "gates:\n  lint: { enabled: false }\n  typecheck: { enabled: false }\n  test: { enabled: false }\n  audit: { enabled: false }\n";
    current = await driveWith(off);
    expect((await current.call<CiReport>("ci")).json.gates.map((g) => g.gate)).toEqual(["lint", "typecheck", "test", "audit"]);
    current.engine.uninstall();
    current = await driveWith(`${off}lighthouse:\n  ci: true\n  runs: 1\n  url: ${server.url}/good\n`);
    const gates = (await current.call<CiReport>("ci")).json.gates;
    expect(gates.map((g) => `${g.gate} ${g.status}`)).toEqual([
      "lint Skipped",
      "typecheck Skipped",
      "test Skipped",
      "audit Skipped",
      "lighthouse Passed",
    ]);
  });
});
