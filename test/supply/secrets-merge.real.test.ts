/**
 * One finding per secret across gitleaks' two scans, and a history baseline that also covers the
 * working tree, on reports real gitleaks (Debian's 8.26, .ci/install-tools.sh) writes for a temp
 * repository with the module's exact argv. A missing tool fails, never skips.
 */
import { randomInt } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitleaksCommand } from "../../lib/supply/secrets/commands.js";
import { mergeSecrets, withoutBaselined } from "../../lib/supply/secrets/merge.js";
import { judgeSecrets, secretDiagnostics, secretLine } from "../../lib/supply/secrets/policy.js";
import { parseBaselineSpots, parseGitleaksJson, type SecretFinding } from "../../lib/supply/secrets/report.js";
import { git } from "../helpers/git-repo.js";
import { requireTools, runTool } from "../helpers/tools.js";

const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join("");
// Made at run time, so no file of this repository holds anything gitleaks takes for a secret.
const PAT = `ghp_${pick("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36)}`;
const AWS = `AKIA${pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}`;

let repo = "";
let out = "";

/** gitleaks as secretScan runs it: `dir .` in the source, `git` on the repository. */
async function scan(
  mode: "dir" | "git",
  opts: { source?: string; baseline?: string } = {},
): Promise<{ text: string; findings: SecretFinding[] }> {
  const report = join(out, `${mode}-${randomInt(1e9)}.json`);
  const r = await runTool(
    gitleaksCommand({ mode, report, source: opts.source ?? ".", ...(opts.baseline ? { baseline: opts.baseline } : {}) }),
    { cwd: repo },
  );
  expect(r.code, r.stderr).toBe(0);
  const text = readFileSync(report, "utf8");
  return { text, findings: parseGitleaksJson(text) };
}

beforeAll(() => {
  requireTools("gitleaks", "git");
  repo = mkdtempSync(join(tmpdir(), "shipshape-secrets-merge-"));
  out = mkdtempSync(join(tmpdir(), "shipshape-secrets-out-"));
  git(repo, "init", "-q", "-b", "main");
  mkdirSync(join(repo, "cfg"));
  writeFileSync(join(repo, "app.env"), `PORT=1\nGITHUB_TOKEN=${PAT}\n`);
  writeFileSync(join(repo, "cfg/aws.yaml"), `region: eu-west-1\naws_access_key_id: ${AWS}\n`);
  git(repo, "add", "-A");
  git(repo, "commit", "-qm", "chore: config");
  // Lines added above the token: history keeps line 2 (the commit that added it), the tree has 4.
  writeFileSync(join(repo, "app.env"), `# service\n# settings\nPORT=1\nGITHUB_TOKEN=${PAT}\n`);
  git(repo, "commit", "-qam", "docs: comment the settings");
});
afterAll(() => {
  rmSync(repo, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe("gitleaks dir and git reports of the same secrets", () => {
  it("dir on the absolute path reports absolute paths; repoPath only undoes /src, so Shipshape scans '.'", async () => {
    const abs = await scan("dir", { source: repo });
    expect(abs.findings.map((f) => f.file).sort()).toEqual([join(repo, "app.env"), join(repo, "cfg/aws.yaml")]);
    const rel = await scan("dir");
    expect(rel.findings.map((f) => f.file).sort()).toEqual(["app.env", "cfg/aws.yaml"]);
    expect(rel.findings.map((f) => f.fingerprint).sort()).toEqual(["app.env:github-pat:4", "cfg/aws.yaml:aws-access-token:2"]);
  });

  it("merges each secret into one finding with every place it was seen, even where the line moved", async () => {
    const found = [...(await scan("dir")).findings, ...(await scan("git")).findings];
    expect(found).toHaveLength(4);
    const merged = mergeSecrets(found);
    expect(merged).toHaveLength(2);
    const commit = git(repo, "rev-list", "--max-parents=0", "HEAD").trim();
    const v = judgeSecrets(found);
    expect(v.findings.map(secretLine).sort()).toEqual([
      `app.env:4 github-pat (working tree; commit ${commit.slice(0, 12)} line 2)`,
      `cfg/aws.yaml:2 aws-access-token (working tree; commit ${commit.slice(0, 12)})`,
    ]);
    expect(v.cause).toMatch(/^2 possible secrets found: /);
    // Every place's .gitleaksignore line, the tree's global one and the commit's.
    const pat = secretDiagnostics(v).find((d) => d.ruleId === "github-pat")!;
    expect(pat.message).toContain(`.gitleaksignore: app.env:github-pat:4, ${commit}:app.env:github-pat:2`);
    const all = JSON.stringify(v) + JSON.stringify(secretDiagnostics(v));
    expect(all).not.toContain(PAT);
    expect(all).not.toContain(AWS);
    expect(all).not.toContain(repo);
  });

  it("a baseline made from history drops the working-tree finding too, only at the accepted spot", async () => {
    const baselineFile = join(out, "baseline.json");
    writeFileSync(baselineFile, (await scan("git")).text);
    // gitleaks applies it to history itself; for dir it cannot (IsNew compares the commit fields).
    expect((await scan("git", { baseline: baselineFile })).findings).toEqual([]);
    const dir = (await scan("dir", { baseline: baselineFile })).findings;
    expect(dir.map((f) => f.fingerprint).sort()).toEqual(["app.env:github-pat:4", "cfg/aws.yaml:aws-access-token:2"]);
    const spots = parseBaselineSpots(readFileSync(baselineFile, "utf8"));
    // The AWS key did not move, so it is the accepted one; the token moved from line 2 to 4, and a
    // baseline never matches a moved spot (no kinder than gitleaks, which compares lines too).
    expect(withoutBaselined(dir, spots).map((f) => f.fingerprint)).toEqual(["app.env:github-pat:4"]);
    // A new key in the tree at another spot is not accepted by that baseline.
    writeFileSync(
      join(repo, "cfg/aws.yaml"),
      `region: eu-west-1\naws_access_key_id: ${AWS}\nbackup_key_id: AKIA${pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)}\n`,
    );
    const fresh = withoutBaselined((await scan("dir", { baseline: baselineFile })).findings, spots);
    expect(fresh.map((f) => f.fingerprint).sort()).toEqual(["app.env:github-pat:4", "cfg/aws.yaml:aws-access-token:3"]);
    git(repo, "checkout", "--", "cfg/aws.yaml");
  });
});
