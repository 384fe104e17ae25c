/**
 * The secret scan end to end: real gitleaks (Debian's 8.26, installed by .ci/install-tools.sh)
 * with the module's exact argv, on the fixture with fake secrets generated at run time.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitleaksCommand } from "../../lib/supply/secrets/commands.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { git } from "../helpers/git-repo.js";

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const alnum = (n: number) =>
  [...randomBytes(n)].map((b) => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[b % 62]).join("");

describe("secret scan", () => {
  it("passes the clean service, scanning files and history", async () => {
    current = await drive();
    git(current.root, "init", "-q", "-b", "main");
    git(current.root, "add", "-A");
    git(current.root, "commit", "-qm", "feat: service");
    const report = (await current.call<GateReport>("secretScan")).json;
    expect(report.summary).toBe("no secrets in files and history");
    expect(current.engine.commands.filter((c) => c[0] === "gitleaks").map((c) => c[1])).toEqual(["dir", "git"]);
  });

  it("finds a secret in the files and one only in history, and never shows either", async () => {
    current = await drive();
    const pat = `ghp_${alnum(36)}`;
    const awsKey = `AKIA${alnum(16)
      .toUpperCase()
      .replace(/[^A-Z2-7]/g, "Q")}`;
    git(current.root, "init", "-q", "-b", "main");
    mkdirSync(join(current.root, "deploy"));
    writeFileSync(join(current.root, "deploy/aws.yaml"), `region: eu-west-1\naws_access_key_id: ${awsKey}\n`);
    git(current.root, "add", "-A");
    git(current.root, "commit", "-qm", "chore: deploy config");
    git(current.root, "rm", "-q", "deploy/aws.yaml");
    writeFileSync(join(current.root, "src/config.env"), `PORT=8080\nGITHUB_TOKEN=${pat}\n`);
    git(current.root, "add", "-A");
    git(current.root, "commit", "-qm", "chore: move config");
    const report = (await current.call<GateReport>("secretScan")).json;
    expect(report.status).toBe("Failed");
    // The token is in the files and in the last commit: one finding naming both places.
    expect(report.findings).toHaveLength(2);
    expect(report.summary).toBe("2 possible secrets in files and history");
    expect(report.findings.some((f) => /^src\/config\.env:2 github-pat \(working tree; commit [0-9a-f]{12}\)$/.test(f))).toBe(true);
    expect(report.findings.some((f) => /^deploy\/aws\.yaml:2 aws-access-token \(commit [0-9a-f]{12}\)$/.test(f))).toBe(true);
    expect(report.hint).toMatch(/revoke and rotate/);
    const everything = [report.summary, report.cause, report.log, ...report.findings];
    const files = await dirOf(report.files);
    for (const name of await files.entries()) everything.push(await files.file(name).contents());
    for (const e of current.engine.execs) everything.push(e.result.stdout, e.result.stderr);
    // Repository-relative everywhere: the dir scan runs on "." so gitleaks reports no /src/ path.
    expect(everything.join("\n")).not.toMatch(/\/src\/|\/shipshape\/|\/repo\//);
    expect(everything.join("\n")).not.toContain(pat);
    expect(everything.join("\n")).not.toContain(awsKey);
    const gitleaks = current.engine.execs.find((e) => e.args[1] === "git")!;
    expect(gitleaks.args).toEqual(gitleaksCommand({ mode: "git", source: "/repo", report: "/shipshape/reports/gitleaks-git.json" }));
  });

  it("history is scanned with the project's .gitleaks.toml too (the .git-only source has none)", async () => {
    current = await drive();
    git(current.root, "init", "-q", "-b", "main");
    mkdirSync(join(current.root, "fixtures"));
    writeFileSync(join(current.root, "fixtures/token.env"), `GITHUB_TOKEN=ghp_${alnum(36)}\n`);
    // gitleaks' own config format: the default rules plus a path allowlist (config/config.go).
    writeFileSync(join(current.root, ".gitleaks.toml"), "[extend]\nuseDefault = true\n\n[allowlist]\npaths = ['''^fixtures/''']\n");
    git(current.root, "add", "-A");
    git(current.root, "commit", "-qm", "test: fixtures");
    const report = (await current.call<GateReport>("secretScan")).json;
    expect(report.summary).toBe("no secrets in files and history");
    const argv = current.engine.commands.filter((c) => c[0] === "gitleaks");
    expect(argv.map((c) => c[c.indexOf("--config") + 1])).toEqual(["/src/.gitleaks.toml", "/src/.gitleaks.toml"]);
  });

  it("scans the files alone, and says so, when there is no .git", async () => {
    current = await drive();
    const report = (await current.call<GateReport>("secretScan")).json;
    expect(report.summary).toBe("no secrets in files (no .git: history not scanned)");
  });
});
