/**
 * lighthouse: Lighthouse's performance, accessibility, best-practices and SEO scores of a live
 * page against the budgets in shipshape.yaml, in a container that brings its own Chromium.
 * The page is an environment's smoke.baseUrl or any URL given; the report (JSON and HTML) of the
 * judged run goes in the gate's files.
 */
import { randomUUID } from "node:crypto";
import { dag, type Directory } from "@dagger.io/dagger";
import type { EnvironmentsConfig } from "../../deploy/lib/deploy/config.js";
import { imageRef, type ImagePin } from "../../deploy/lib/images.js";
import { Problem, quoted } from "../../deploy/src/project/problem.js";
import { tail } from "../../deploy/src/report/outcome.js";
import { REPORTS_DIR } from "../../deploy/lib/gates/commands.js";
import type { Verdict } from "../../deploy/lib/gates/gate.js";
import { CHROMIUM_PATH, installCommands, lighthouseCommand, reportPaths } from "./lighthouse/command.js";
import type { LighthouseConfig } from "../../deploy/lib/gates/lighthouse/config.js";
import { judgeLighthouse } from "./lighthouse/policy.js";
import { assertScored, lhrOfRun, medianRun, type Lhr } from "./lighthouse/report.js";
import { firstLine } from "../../deploy/lib/gates/gate.js";
import { progress, waitingFor } from "../../deploy/lib/gates/progress.js";
import { readFile, run } from "../../deploy/lib/gates/workspace.js";

export interface LighthouseInput {
  lighthouse: LighthouseConfig;
  environments: EnvironmentsConfig;
  /** images.lighthouse from shipshape.yaml. */
  image?: Partial<Pick<ImagePin, "tag" | "digest">>;
}

/** What the call asked for; both empty means shipshape.yaml's lighthouse.url, else lighthouse.environment. */
export interface LighthouseRequest {
  url: string;
  environment: string;
}

/** The page to audit: the call's --url or --environment, else lighthouse.url, else lighthouse.environment. */
export function lighthouseUrl(input: Pick<LighthouseInput, "lighthouse" | "environments">, req: LighthouseRequest): string {
  if (req.url && req.environment)
    throw new Problem(
      "lighthouse was given both --url and --environment",
      "pass one of them: the page itself, or the environment whose smoke.baseUrl it is",
    );
  const cfg = input.lighthouse;
  const url =
    req.url ||
    (req.environment
      ? envUrl(input.environments, req.environment)
      : cfg.url || (cfg.environment ? envUrl(input.environments, cfg.environment) : ""));
  if (!url)
    throw new Problem(
      "lighthouse has no page to audit",
      "pass --url=https://staging.example.com/ or --environment=staging, or set lighthouse.url or lighthouse.environment in shipshape.yaml",
    );
  return checkedUrl(url);
}

function envUrl(environments: EnvironmentsConfig, name: string): string {
  const env = environments[name];
  if (!env) {
    const known = Object.keys(environments);
    throw new Problem(
      `environment ${quoted(name)} is not in shipshape.yaml`,
      known.length ? `use one of ${known.join(", ")}, or pass --url` : "add it under environments: with a smoke.baseUrl, or pass --url",
    );
  }
  if (!env.smoke)
    throw new Problem(`environment ${quoted(name)} has no smoke.baseUrl to audit`, `set environments.${name}.smoke.baseUrl, or pass --url`);
  return env.smoke.baseUrl;
}

function checkedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Problem(
      `lighthouse needs an http(s) URL, got ${quoted(text)}`,
      "pass the page's full URL, e.g. https://staging.example.com/",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Problem(
      `lighthouse needs an http(s) URL, got ${quoted(text)}`,
      "pass the page's full URL, e.g. https://staging.example.com/",
    );
  // Lighthouse prints the URL in its report and we in the summary: a password there would leak.
  if (url.username || url.password)
    throw new Problem(
      "the lighthouse URL carries a username or password",
      "audit a page that needs no login in the URL; never put credentials in a URL",
    );
  return text;
}

export async function lighthouseAudit(input: LighthouseInput, req: LighthouseRequest): Promise<{ verdict: Verdict; files: Directory }> {
  const cfg = input.lighthouse;
  const url = lighthouseUrl(input, req);
  // No debconf question may wait for an answer nobody can give.
  let ctr = dag.container().from(imageRef("lighthouse", input.image)).withEnvVariable("DEBIAN_FRONTEND", "noninteractive");
  for (const cmd of installCommands()) {
    progress("lighthouse", cmd.join(" "));
    const step = await waitingFor("lighthouse", `${cmd[0]} ${cmd[1]}`, run(ctr, cmd));
    if (step.exitCode !== 0)
      throw new Problem(
        `could not install Chromium and Lighthouse in the lighthouse image: ${cmd.join(" ")}: ${firstLine(step.stderr, `exit code ${step.exitCode}`)}`,
        "check that the engine reaches deb.debian.org and the npm registry, and that images.lighthouse.tag is a Debian-based node tag",
      );
    ctr = step.ctr;
  }
  // Every call audits anew: a per-call value, or the exec cache would replay an earlier run's scores
  // for the same argv (function `cache: "never"` does not reach the execs inside it).
  ctr = ctr
    .withEnvVariable("CHROME_PATH", CHROMIUM_PATH)
    .withEnvVariable("SHIPSHAPE_AUDIT_CALL", randomUUID())
    .withExec(["mkdir", "-p", REPORTS_DIR]);
  const runs: { lhr: Lhr; json: string; html: string }[] = [];
  let log = "";
  for (let i = 1; i <= cfg.runs; i++) {
    const prefix = `${REPORTS_DIR}/lighthouse-${i}`;
    const cmd = lighthouseCommand(url, cfg, prefix);
    progress("lighthouse", cmd.join(" "));
    const step = await waitingFor(
      "lighthouse",
      `Lighthouse run ${i} of ${cfg.runs} on ${url}`,
      run(ctr.withEnvVariable("SHIPSHAPE_AUDIT_RUN", String(i)), cmd),
    );
    const paths = reportPaths(prefix);
    const json = await readFile(step.ctr, paths.json);
    const lhr = lhrOfRun(url, { exitCode: step.exitCode, stderr: step.stderr, json }, cfg.timeoutSeconds);
    assertScored(lhr, url);
    runs.push({ lhr, json: json!, html: (await readFile(step.ctr, paths.html)) ?? "" });
    log += step.stderr;
  }
  const judged = medianRun(runs.map((r) => r.lhr));
  const chosen = runs.find((r) => r.lhr === judged)!;
  const verdict = judgeLighthouse(judged, cfg.thresholds, { url, formFactor: cfg.formFactor, runs: cfg.runs });
  const warnings = judged.runWarnings.map((w) => `warning: ${w}`).join("\n");
  return {
    verdict: { ...verdict, log: tail([warnings, verdict.status === "passed" ? "" : log].filter(Boolean).join("\n")) },
    files: dag.directory().withNewFile("lighthouse.json", chosen.json).withNewFile("lighthouse.html", chosen.html),
  };
}
