/**
 * The lighthouse gate's config, parser and policy on real Lighthouse 12.2.3 output recorded here
 * (test/fixtures/lighthouse/README.md says how), and its command line.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { ConfigError } from "../../deploy/lib/config/errors.js";
import { Problem } from "../../deploy/src/project/problem.js";
import { lighthouseUrl } from "../../lib/gates/lighthouse.js";
import { installCommands, lighthouseCommand } from "../../lib/gates/lighthouse/command.js";
import { LighthouseConfigSchema } from "../../deploy/lib/gates/lighthouse/config.js";
import { failingAudits, judgeLighthouse } from "../../lib/gates/lighthouse/policy.js";
import { assertScored, lhrOfRun, medianRun, parseLhr, type Lhr } from "../../lib/gates/lighthouse/report.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/lighthouse/${name}`, import.meta.url), "utf8");
const URL_ = "http://127.0.0.1:8080/bad";
const ok = (name: string) => lhrOfRun(URL_, { exitCode: 0, stderr: "", json: fixture(name) }, 180);
const defaults = LighthouseConfigSchema.parse({});
const ctx = { url: URL_, formFactor: "mobile", runs: 1 };

function problemOf(f: () => unknown): Problem {
  try {
    f();
  } catch (e) {
    if (e instanceof Problem) return e;
    throw e;
  }
  throw new Error("expected a Problem");
}

describe("lighthouse config", () => {
  it("defaults to the spec's budgets, off in ci, mobile, median of 3 runs", () => {
    expect(defaults).toEqual({
      ci: false,
      thresholds: { performance: 80, accessibility: 90, bestPractices: 80, seo: 80 },
      formFactor: "mobile",
      runs: 3,
      timeoutSeconds: 180,
    });
  });

  it("says what a bad budget, URL or run count should be", () => {
    const bad = (yaml: string) => {
      try {
        parseConfig(yaml);
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
      }
      throw new Error("expected a ConfigError");
    };
    expect(bad("lighthouse:\n  thresholds: { seo: 120 }\n")).toEqual([
      "lighthouse.thresholds.seo: expected a whole number from 0 to 100, got 120",
    ]);
    expect(bad("lighthouse:\n  url: ftp://example.com/\n")[0]).toMatch(/^lighthouse\.url: expected an http\(s\) URL/);
    expect(bad("lighthouse:\n  runs: 0\n")[0]).toMatch(/^lighthouse\.runs: expected a whole number from 1 to 9/);
    expect(bad("lighthouse:\n  thresholds: { best-practices: 80 }\n")[0]).toMatch(/bestPractices/);
  });
});

describe("which page is audited", () => {
  const environments = parseConfig(
    "environments:\n  staging:\n    cluster: c\n    service: s\n    region: eu-west-1\n    containerName: app\n    smoke:\n      baseUrl: https://staging.example.com\n      checks: [{ name: health, path: /health }]\n  dev: { cluster: c, service: s, region: eu-west-1, containerName: app }\n",
  ).config.environments;
  const lighthouse = LighthouseConfigSchema.parse({ environment: "staging" });

  it("takes --url, else --environment's smoke.baseUrl, else the config's", () => {
    expect(lighthouseUrl({ lighthouse, environments }, { url: "https://x.example.com/a", environment: "" })).toBe(
      "https://x.example.com/a",
    );
    expect(lighthouseUrl({ lighthouse, environments }, { url: "", environment: "" })).toBe("https://staging.example.com");
    const withUrl = LighthouseConfigSchema.parse({ url: "https://www.example.com/", environment: "staging" });
    expect(lighthouseUrl({ lighthouse: withUrl, environments }, { url: "", environment: "" })).toBe("https://www.example.com/");
  });

  it("refuses what it cannot audit, in one line with a fix", () => {
    const p = (url: string, environment: string, cfg = lighthouse) =>
      problemOf(() => lighthouseUrl({ lighthouse: cfg, environments }, { url, environment }));
    expect(p("", "", defaults).cause_).toBe("lighthouse has no page to audit");
    expect(p("", "prod").cause_).toBe('environment "prod" is not in shipshape.yaml');
    expect(p("", "prod").hint).toBe("use one of staging, dev, or pass --url");
    expect(p("", "dev").cause_).toBe('environment "dev" has no smoke.baseUrl to audit');
    expect(p("staging.example.com", "").cause_).toBe('lighthouse needs an http(s) URL, got "staging.example.com"');
    expect(p("file:///etc/passwd", "").cause_).toMatch(/needs an http\(s\) URL/);
    expect(p("https://a.example.com/", "staging").cause_).toBe("lighthouse was given both --url and --environment");
    const login = p(`https://user:${"p".repeat(8)}@a.example.com/`, "");
    expect(login.cause_).toBe("the lighthouse URL carries a username or password");
    expect(login.message).not.toContain("p".repeat(8));
  });
});

describe("lighthouse results", () => {
  it("passes the good page, every category scored", () => {
    const v = judgeLighthouse(ok("good.lhr.json"), defaults.thresholds, ctx);
    expect(v.status).toBe("passed");
    expect(v.summary).toBe(`performance 100, accessibility 100, best practices 100, SEO 100 on ${URL_} (mobile, 1 run, Lighthouse 12.2.3)`);
    expect(v.metrics).toEqual({ performance: 100, accessibility: 100, "best-practices": 100, seo: 100, runs: 1 });
  });

  it("fails the bad page on each category under budget, with the audits that cost it most", () => {
    const v = judgeLighthouse(ok("bad.lhr.json"), defaults.thresholds, ctx);
    expect(v.status).toBe("failed");
    expect(v.cause).toBe("performance 54 < 80, accessibility 29 < 90, SEO 64 < 80");
    expect(v.summary).toMatch(
      /^3 categories under budget on http:\/\/127\.0\.0\.1:8080\/bad: performance 54 < 80, accessibility 29 < 90, SEO 64 < 80 — top: /,
    );
    expect(v.summary).toContain("image-alt");
    // best practices scored 86: judged and passed, so not listed.
    expect(v.findings.some((f) => f.startsWith("best practices"))).toBe(false);
    expect(v.findings).toContain("accessibility 29 < 90");
    expect(v.findings).toContain("accessibility: image-alt Image elements do not have `[alt]` attributes, costs 16 points");
    expect(v.findings.some((f) => /^SEO: document-title /.test(f))).toBe(true);
    expect(v.findings.some((f) => /^performance: largest-contentful-paint Largest Contentful Paint \(\d+\.\d\ss\)/.test(f))).toBe(true);
    expect(v.metrics["best-practices"]).toBe(86);
  });

  it("lists what cost the most points first, never a passing or unscored audit", () => {
    const lhr = ok("bad.lhr.json");
    const a11y = failingAudits(lhr, "accessibility");
    expect(a11y.length).toBeGreaterThan(3);
    expect(a11y.map((f) => f.lost)).toEqual([...a11y.map((f) => f.lost)].sort((x, y) => y - x));
    for (const f of a11y) expect(f.audit.score).toBeLessThan(0.9);
    expect(failingAudits(ok("good.lhr.json"), "accessibility")).toEqual([]);
  });

  it("judges with the configured budgets: 0 reports a score without judging it", () => {
    const t = { performance: 0, accessibility: 0, bestPractices: 0, seo: 0 };
    expect(judgeLighthouse(ok("bad.lhr.json"), t, ctx).status).toBe("passed");
    const strict = { ...defaults.thresholds, bestPractices: 90 };
    expect(judgeLighthouse(ok("bad.lhr.json"), strict, ctx).cause).toContain("best practices 86 < 90");
  });
});

describe("runs that cannot be judged", () => {
  it("a closed port: the report's runtimeError, never a pass", () => {
    const p = problemOf(() => lhrOfRun("http://127.0.0.1:9/", { exitCode: 1, stderr: "", json: fixture("unreachable.lhr.json") }, 180));
    expect(p.cause_).toBe(
      "lighthouse could not load http://127.0.0.1:9/: CHROME_INTERSTITIAL_ERROR: Chrome prevented page load with an interstitial.",
    );
    expect(p.hint).toMatch(/answers from the engine's network/);
  });

  it("a 404: the status code is in the line", () => {
    const p = problemOf(() => lhrOfRun(URL_, { exitCode: 1, stderr: "", json: fixture("notfound.lhr.json") }, 180));
    expect(p.cause_).toMatch(
      /^lighthouse could not load .*: ERRORED_DOCUMENT_REQUEST: Lighthouse was unable to reliably load the page you requested\. \(Status code: 404\)$/,
    );
  });

  it("a crashed browser: Lighthouse's own line, not its stack", () => {
    const p = problemOf(() => lhrOfRun(URL_, { exitCode: 1, stderr: fixture("crash.stderr"), json: undefined }, 180));
    expect(p.cause_).toBe(
      `lighthouse crashed auditing ${URL_}: Protocol error (Page.enable): Protocol error (Page.enable): Session closed. Most likely the page has been closed. (exit 1)`,
    );
    expect(p.message.split("\n")).toHaveLength(2);
  });

  it("a timeout, a protocol timeout, and a report with a failing exit are errors too", () => {
    expect(problemOf(() => lhrOfRun(URL_, { exitCode: 124, stderr: "", json: undefined }, 90)).cause_).toBe(
      `lighthouse did not finish auditing ${URL_} within 90 s`,
    );
    const proto = problemOf(() =>
      lhrOfRun(URL_, { exitCode: 67, stderr: "Debugger protocol timed out while connecting to Chrome.\n", json: undefined }, 90),
    );
    expect(proto.cause_).toMatch(/protocol timed out \(exit 67\)/);
    expect(problemOf(() => lhrOfRun(URL_, { exitCode: 2, stderr: "", json: fixture("good.lhr.json") }, 90)).cause_).toMatch(
      /crashed.*exit code 2/,
    );
    expect(problemOf(() => parseLhr("{}")).cause_).toMatch(/not a Lighthouse result/);
  });

  it("a category Lighthouse could not score is not a pass", () => {
    const lhr = ok("good.lhr.json");
    const broken: Lhr = { ...lhr, categories: { ...lhr.categories, seo: { ...lhr.categories.seo!, score: null } } };
    expect(problemOf(() => assertScored(broken, URL_)).cause_).toBe(`lighthouse could not score seo for ${URL_}`);
  });
});

describe("median run", () => {
  const withTimes = (lhr: Lhr, fcp: number, tti: number, tag: string): Lhr => ({
    ...lhr,
    requestedUrl: tag,
    audits: {
      ...lhr.audits,
      "first-contentful-paint": { ...lhr.audits["first-contentful-paint"]!, numericValue: fcp },
      interactive: { ...lhr.audits.interactive!, numericValue: tti },
    },
  });
  it("picks the run nearest the median FCP and TTI, as Lighthouse's median-run does", () => {
    const base = ok("good.lhr.json");
    const runs = [withTimes(base, 900, 4000, "slow"), withTimes(base, 500, 2000, "mid"), withTimes(base, 300, 1000, "fast")];
    expect(medianRun(runs).requestedUrl).toBe("mid");
    expect(medianRun([runs[0]!]).requestedUrl).toBe("slow");
  });
});

describe("command lines", () => {
  it("installs the pinned Lighthouse and runs the four budgeted categories under a timeout", () => {
    expect(installCommands()[1]).toEqual([
      "apt-get",
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      "chromium",
      "fonts-dejavu-core",
      "ca-certificates",
    ]);
    expect(installCommands().at(-1)).toEqual(["npm", "install", "--global", "--no-fund", "--no-audit", "lighthouse@12.2.3"]);
    const cmd = lighthouseCommand(
      "https://a.example.com/",
      { formFactor: "desktop", timeoutSeconds: 120 },
      "/shipshape/reports/lighthouse-1",
    );
    expect(cmd.slice(0, 5)).toEqual(["timeout", "--kill-after=10", "120", "lighthouse", "https://a.example.com/"]);
    expect(cmd).toContain("--preset=desktop");
    expect(cmd).toContain("--only-categories=performance,accessibility,best-practices,seo");
    expect(lighthouseCommand("https://a.example.com/", defaults, "/r/x")).not.toContain("--preset=desktop");
  });
});
