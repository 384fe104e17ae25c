/**
 * Shipshape's secret scan of this very repository, with real gitleaks (Debian's 8.26, from
 * .ci/install-tools.sh) and the module's exact argv. History holds seven fake test credentials (AWS documentation examples and made-up keys) that
 * cannot be rewritten away; the committed, redacted baseline (secrets.baseline in shipshape.yaml)
 * accepts exactly those, and a new one, in a commit or in the files, must still fail the scan.
 * A missing tool fails (never skips).
 */
import { randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { gitleaksCommand } from "../../lib/supply/secrets/commands.js";
import { parseGitleaksJson } from "../../lib/supply/secrets/report.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { requireTools, runTool } from "../helpers/tools.js";
import { git } from "../helpers/git-repo.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BASELINE = parseConfig(readFileSync(join(REPO, "shipshape.yaml"), "utf8")).config.secrets.baseline;

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

/** A key gitleaks' aws-access-token rule matches, made at run time so it is in no file of this repository. */
const freshAwsKey = () => `AKIA${Array.from({ length: 16 }, () => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[randomInt(32)]).join("")}`;

/** The history scan as the engine runs it: gitleaks git on a directory that holds only .git. */
async function historyFindings(repo: string, baseline?: string) {
  const hist = mkdtempSync(join(tmpdir(), "shipshape-own-history-"));
  git(tmpdir(), "clone", "--quiet", "--no-checkout", repo, hist);
  const report = join(hist, "..", `${hist.split("/").at(-1)}.json`);
  const r = await runTool(gitleaksCommand({ mode: "git", source: hist, report, ...(baseline ? { baseline } : {}) }), { cwd: repo });
  expect(r.code, r.stderr).toBe(0);
  const findings = parseGitleaksJson(readFileSync(report, "utf8"));
  rmSync(hist, { recursive: true, force: true });
  rmSync(report, { force: true });
  return findings;
}

describe("Shipshape's own secret scan", () => {
  it("configures a baseline that exists in the repository", () => {
    requireTools("gitleaks", "git");
    expect(BASELINE).toBe(".gitleaks-baseline.json");
    const entries = JSON.parse(readFileSync(join(REPO, BASELINE!), "utf8")) as { Secret: string; Match: string; Commit: string }[];
    expect(entries.length).toBeGreaterThan(0);
    // Made with --redact: it only matches redacted scans (Shipshape's always are) and holds no secret.
    for (const e of entries) {
      expect(e.Secret).toBe("REDACTED");
      expect(e.Commit).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  it("passes on this repository's files and history, through the function code", async () => {
    requireTools("gitleaks", "git");
    current = await drive({ root: REPO });
    const report = (await current.call<GateReport>("secretScan")).json;
    expect(report.findings).toEqual([]);
    expect(report.summary).toBe("no secrets in files and history");
    expect(report.status).toBe("Passed");
    const runs = current.engine.execs.filter((e) => e.args[0] === "gitleaks").map((e) => e.args);
    expect(runs).toEqual([
      gitleaksCommand({ mode: "dir", source: ".", report: "/shipshape/reports/gitleaks-dir.json", baseline: `/src/${BASELINE}` }),
      gitleaksCommand({ mode: "git", source: "/repo", report: "/shipshape/reports/gitleaks-git.json", baseline: `/src/${BASELINE}` }),
    ]);
  });

  it("needs every baseline entry: without it, history has exactly those findings", async () => {
    requireTools("gitleaks", "git");
    const baseline = JSON.parse(readFileSync(join(REPO, BASELINE!), "utf8")) as { Fingerprint: string }[];
    const found = await historyFindings(REPO);
    // Also proves the history scan really reads history: the baseline is not passing a scan that saw nothing.
    expect(found.map((f) => f.fingerprint).sort()).toEqual(baseline.map((b) => b.Fingerprint).sort());
    expect(await historyFindings(REPO, join(REPO, BASELINE!))).toEqual([]);
  });

  it("still fails on a new fake key, in a new commit and in the files, and never shows it", async () => {
    requireTools("gitleaks", "git");
    const clone = mkdtempSync(join(tmpdir(), "shipshape-own-clone-"));
    git(tmpdir(), "clone", "--quiet", REPO, clone);
    const key = freshAwsKey();
    writeFileSync(join(clone, "src/leak.ts"), `export const accessKeyId = "${key}";\n`);
    git(clone, "add", "src/leak.ts");
    git(clone, "commit", "--quiet", "-m", "chore: a new key");
    current = await drive({ root: clone });
    const report = (await current.call<GateReport>("secretScan")).json;
    expect(report.status).toBe("Failed");
    // The new key and nothing else: one finding, seen in the files and in the new commit.
    const head = git(clone, "rev-parse", "HEAD").trim().slice(0, 12);
    expect(report.findings).toEqual([`src/leak.ts:1 aws-access-token (working tree; commit ${head})`]);
    const files = await dirOf(report.files);
    // The dir report as gitleaks wrote it: repository-relative, as the scan ran on ".".
    const dir = parseGitleaksJson(await files.file("gitleaks-dir.json").contents());
    expect(dir.map((f) => ({ file: f.file, line: f.line, rule: f.rule, fingerprint: f.fingerprint }))).toEqual([
      { file: "src/leak.ts", line: 1, rule: "aws-access-token", fingerprint: "src/leak.ts:aws-access-token:1" },
    ]);
    expect(await files.file("gitleaks-dir.json").contents()).not.toContain("/src/");
    const everything = [report.summary, report.cause, report.log, ...report.findings];
    for (const name of await files.entries()) everything.push(await files.file(name).contents());
    for (const e of current.engine.execs) everything.push(e.result.stdout, e.result.stderr);
    expect(everything.join("\n")).not.toContain(key);
    rmSync(clone, { recursive: true, force: true });
  });
});
