/** gitleaks command lines, report parsing with the redaction guard, and the verdict, on gitleaks 8.26 output. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Problem } from "../../deploy/src/project/problem.js";
import { toSarif } from "../../deploy/src/report/sarif.js";
import { gitleaksCommand, gitleaksSarifCommand } from "../../lib/supply/secrets/commands.js";
import { judgeSecrets, secretDiagnostics } from "../../lib/supply/secrets/policy.js";
import { parseGitleaksJson, parseGitleaksSarif } from "../../lib/supply/secrets/report.js";

const FIX = join(import.meta.dirname, "../fixtures/supply/tools");
const read = (name: string): string => readFileSync(join(FIX, name), "utf8");
// A fake token in gitleaks' github-pat shape, to prove it never reaches an error message;
// assembled at run time so a secret scan of this repository does not flag the source.
const FAKE_SECRET = ["gh", "p_", "a1B2c3D4e5".repeat(3), "123456"].join("");

describe("gitleaksCommand", () => {
  it("git history, redacted JSON, findings exit 0 so only errors exit non-zero", () => {
    expect(gitleaksCommand({ mode: "git", report: "/reports/gitleaks.json", source: "/src" })).toEqual([
      "gitleaks",
      "git",
      "--no-banner",
      "--redact",
      "--report-format",
      "json",
      "--report-path",
      "/reports/gitleaks.json",
      "--exit-code",
      "0",
      "/src",
    ]);
  });

  it("dir mode with a baseline and a config; SARIF variant", () => {
    const opts = {
      mode: "dir",
      report: "/reports/gitleaks.sarif",
      baseline: "/src/.gitleaks-baseline.json",
      config: "/src/.gitleaks.toml",
    } as const;
    expect(gitleaksSarifCommand(opts)).toEqual([
      "gitleaks",
      "dir",
      "--no-banner",
      "--redact",
      "--report-format",
      "sarif",
      "--report-path",
      "/reports/gitleaks.sarif",
      "--exit-code",
      "0",
      "--baseline-path",
      "/src/.gitleaks-baseline.json",
      "--config",
      "/src/.gitleaks.toml",
      ".",
    ]);
  });

  it("never a device as report path (gitleaks creates then removes it); '-' is stdout", () => {
    for (const report of ["/dev/null", "/dev/stdout", "/tmp/../dev/null", "/dev", ""]) {
      expect(() => gitleaksCommand({ mode: "git", report }), report).toThrow(Problem);
    }
    expect(() => gitleaksCommand({ mode: "git", report: "/dev/null" })).toThrow(/deletes a device file/);
    expect(gitleaksCommand({ mode: "dir", report: "-" })).toContain("-");
  });
});

describe("parseGitleaksJson", () => {
  it("gitleaks 8.26 git report: 3 findings with their fingerprints", () => {
    const parsed = parseGitleaksJson(read("gitleaks-8.26-git-redacted.json"));
    // A value-free shape per finding: three different secrets, three different shapes.
    expect(new Set(parsed.map((f) => f.shape)).size).toBe(3);
    for (const f of parsed) expect(f.shape).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed.map(({ shape: _s, spot: _p, ...where }) => where)).toEqual([
      {
        rule: "github-pat",
        file: ".env",
        line: 1,
        commit: "cff598909bebb706034647cdf3316fc2708f93f8",
        fingerprint: "cff598909bebb706034647cdf3316fc2708f93f8:.env:github-pat:1",
      },
      {
        rule: "generic-api-key",
        file: "config.js",
        line: 3,
        commit: "cff598909bebb706034647cdf3316fc2708f93f8",
        fingerprint: "cff598909bebb706034647cdf3316fc2708f93f8:config.js:generic-api-key:3",
      },
      {
        rule: "aws-access-token",
        file: "config.js",
        line: 2,
        commit: "cff598909bebb706034647cdf3316fc2708f93f8",
        fingerprint: "cff598909bebb706034647cdf3316fc2708f93f8:config.js:aws-access-token:2",
      },
    ]);
  });

  it("an empty report is no findings", () => {
    expect(parseGitleaksJson("[]\n")).toEqual([]);
  });

  it("refuses a report with any unredacted secret, without repeating it", () => {
    const findings = JSON.parse(read("gitleaks-8.26-git-redacted.json")) as Record<string, unknown>[];
    const cases: [string, Record<string, unknown>][] = [
      ["Secret", { Secret: FAKE_SECRET, Match: FAKE_SECRET }],
      ["Match only", { Match: `token=${FAKE_SECRET}` }],
      ["partial redaction", { Secret: "ghp_a1B2c3...", Match: "ghp_a1B2c3..." }],
      ["raw fragment", { Fragment: { Raw: `GITHUB_TOKEN=${FAKE_SECRET}` } }],
    ];
    for (const [label, patch] of cases) {
      const text = JSON.stringify([findings[1], { ...findings[0], ...patch }]);
      let error: unknown;
      try {
        parseGitleaksJson(text);
      } catch (e) {
        error = e;
      }
      expect(error, label).toBeInstanceOf(Problem);
      const message = (error as Problem).message;
      expect(message, label).toMatch(/^the gitleaks report holds an unredacted secret \(rule github-pat in \.env:1\)/);
      expect(message, label).not.toContain(FAKE_SECRET);
      expect(message, label).not.toContain("ghp_");
    }
  });

  it("truncated or not a gitleaks report: a clear error", () => {
    const text = read("gitleaks-8.26-git-redacted.json");
    expect(() => parseGitleaksJson(text.slice(0, 200))).toThrow(/^the gitleaks report is not valid JSON \(truncated\?\)/);
    expect(() => parseGitleaksJson('{"findings":[]}')).toThrow(/gitleaks JSON report does not have the expected shape at top level/);
  });
});

describe("parseGitleaksSarif", () => {
  it("gitleaks 8.26 dir report: 4 findings, dir fingerprints without a commit", () => {
    expect(parseGitleaksSarif(read("gitleaks-8.26-dir-redacted.sarif"))).toMatchObject([
      { rule: "stripe-access-token", file: "new.txt", line: 1, commit: "", fingerprint: "new.txt:stripe-access-token:1" },
      { rule: "github-pat", file: ".env", line: 1, commit: "", fingerprint: ".env:github-pat:1" },
      { rule: "generic-api-key", file: "config.js", line: 3, commit: "", fingerprint: "config.js:generic-api-key:3" },
      { rule: "aws-access-token", file: "config.js", line: 2, commit: "", fingerprint: "config.js:aws-access-token:2" },
    ]);
  });

  it("refuses a snippet that is not REDACTED", () => {
    const sarif = JSON.parse(read("gitleaks-8.26-dir-redacted.sarif")) as {
      runs: { results: { locations: { physicalLocation: { region: { snippet: { text: string } } } }[] }[] }[];
    };
    sarif.runs[0]!.results[1]!.locations[0]!.physicalLocation.region.snippet.text = FAKE_SECRET;
    expect(() => parseGitleaksSarif(JSON.stringify(sarif))).toThrow(/unredacted secret \(rule github-pat in \.env:1\)/);
  });
});

describe("judgeSecrets", () => {
  it("no findings passes", () => {
    expect(judgeSecrets([])).toEqual({ status: "passed", findings: [], cause: "no secrets found", hint: "" });
  });

  it("any finding fails; history findings say rotating is the fix", () => {
    const v = judgeSecrets(parseGitleaksJson(read("gitleaks-8.26-git-redacted.json")));
    expect(v.status).toBe("failed");
    expect(v.cause).toBe("3 possible secrets found: github-pat in .env:1, generic-api-key in config.js:3, aws-access-token in config.js:2");
    expect(v.hint).toMatch(/^revoke and rotate each real secret first \(it stays in git history even once removed\)/);
    expect(v.hint).toMatch(/add its fingerprint line to \.gitleaksignore$/);
    const dir = judgeSecrets(parseGitleaksSarif(read("gitleaks-8.26-dir-redacted.sarif")));
    expect(dir.hint).not.toMatch(/history/);
  });

  it("diagnostics carry file and line, never secret text, and render as SARIF", () => {
    const v = judgeSecrets(parseGitleaksJson(read("gitleaks-8.26-git-redacted.json")));
    const diagnostics = secretDiagnostics(v);
    expect(diagnostics[0]).toEqual({
      ruleId: "github-pat",
      severity: "error",
      message:
        "possible secret (github-pat) seen in: commit cff598909beb; .gitleaksignore: cff598909bebb706034647cdf3316fc2708f93f8:.env:github-pat:1",
      file: ".env",
      line: 1,
    });
    const sarif = toSarif({ name: "gitleaks" }, diagnostics);
    expect(sarif.runs[0].results.map((r) => r.locations?.[0]?.physicalLocation.region.startLine)).toEqual([1, 3, 2]);
  });
});
