import { describe, expect, it } from "vitest";
import { ciSummary, deploySummary, fitStepSummary, gatesSummary } from "../../lib/github/summary.js";
import { mdLink, truncateMarkdown } from "../../deploy/lib/github/markdown.js";
import type { DeployEvent } from "../../deploy/lib/notify/event.js";

const IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:" + "a".repeat(64);
const event: DeployEvent = {
  kind: "deploy",
  environment: "prod",
  result: "rolled back",
  reason: "p99 latency 812 ms | above 500 ms\nfor 3 minutes",
  image: IMAGE,
  version: "1.4.0",
  commitSha: "0123456789abcdef",
  commitUrl: "https://github.com/acme/shop/commit/0123456789abcdef",
  author: "Ada <ada@example.com>",
  durationSeconds: 3725,
  runUrl: "https://github.com/acme/shop/actions/runs/42",
  strategy: "canary",
  decisions: [
    { gate: "smoke", verdict: "pass", reason: "3 checks passed" },
    { gate: "analysis", verdict: "fail", reason: "p99 | 812 ms" },
    { gate: "approval", verdict: "waived", reason: "staging" },
  ],
};

describe("deploySummary", () => {
  it("renders the headline, the facts and a decisions table, escaping table-breaking text", () => {
    expect(deploySummary(event)).toBe(
      [
        "## ↩️ Deploy to prod: rolled back",
        "",
        "p99 latency 812 ms \\| above 500 ms for 3 minutes",
        "",
        "| | |",
        "|---|---|",
        "| **Environment** | prod |",
        `| **Image** | \`${IMAGE}\` |`,
        "| **Version** | 1.4.0 |",
        "| **Commit** | [0123456](https://github.com/acme/shop/commit/0123456789abcdef) |",
        "| **Author** | Ada &lt;ada@example.com&gt; |",
        "| **Duration** | 1h 02m |",
        "| **Strategy** | canary |",
        "| **Run** | [workflow run](https://github.com/acme/shop/actions/runs/42) |",
        "",
        "### Gate decisions",
        "",
        "| Gate | Verdict | Reason |",
        "|---|---|---|",
        "| smoke | ✅ pass | 3 checks passed |",
        "| analysis | ❌ fail | p99 \\| 812 ms |",
        "| approval | ❔ waived | staging |",
        "",
      ].join("\n"),
    );
  });

  it("leaves out what is unknown", () => {
    const md = deploySummary({
      kind: "abort",
      environment: "staging",
      result: "paused",
      reason: "waiting",
      image: IMAGE,
      durationSeconds: 5,
    });
    expect(md.startsWith("## ⏸️ Abort to staging: paused\n")).toBe(true);
    expect(md).not.toMatch(/Commit|Author|Version|Strategy|Run|Gate decisions/);
    expect(md).toContain("| **Duration** | 5s |");
  });
});

describe("gatesSummary and ciSummary", () => {
  const gates = [
    { gate: "lint", status: "passed", summary: "0 problems", durationMs: 3200 },
    { gate: "test", status: "failed", summary: "2 of 140 tests failed", durationMs: 95_000, hint: "run npm test locally" },
    { gate: "audit", status: "skipped", summary: "disabled in shipshape.yaml" },
  ];

  it("renders a gate table with fixes for what did not pass", () => {
    const md = gatesSummary(gates);
    expect(md).toContain("## ❌ Shipshape CI");
    expect(md).toContain("| lint | ✅ passed | 3.2s | 0 problems |");
    expect(md).toContain("| test | ❌ failed | 1m 35s | 2 of 140 tests failed |");
    expect(md).toContain("| audit | ⏭️ skipped |  | disabled in shipshape.yaml |");
    expect(md).toContain("- **test**: run npm test locally");
    expect(gatesSummary(gates.filter((g) => g.status !== "failed"))).toContain("## ✅ Shipshape CI");
    expect(gatesSummary([])).toContain("No gates ran.");
  });

  it("puts gates, deploy and a footer together", () => {
    const md = ciSummary({ gates, deploy: event, runUrl: event.runUrl, commitSha: "0123456789abcdef" });
    expect(md.indexOf("Shipshape CI")).toBeLessThan(md.indexOf("Deploy to prod"));
    expect(md.trimEnd().endsWith("<sub>Commit `0123456` · [workflow run](https://github.com/acme/shop/actions/runs/42)</sub>")).toBe(true);
  });
});

describe("limits and links", () => {
  it("keeps a step summary under 1 MiB of UTF-8, multi-byte characters included", () => {
    const huge = "| gate | ✅ passed | détails |\n".repeat(60_000); // ~2 MB of UTF-8
    expect(Buffer.byteLength(huge)).toBeGreaterThan(1024 * 1024);
    const fitted = fitStepSummary(huge);
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.byteLength(fitted)).toBeGreaterThan(1000 * 1024); // cut close to the limit, not far below it
    expect(fitted).toContain("cut short to fit GitHub's step-summary limit");
    expect(fitStepSummary("small")).toBe("small");
  });

  it("closes an open <details> and code fence when cutting", () => {
    const md = "<details><summary>x</summary>\n\n```\n" + "line\n".repeat(1000);
    const { text, truncated } = truncateMarkdown(md, 1000, "NOTE");
    expect(truncated).toBe(true);
    expect(text.length).toBeLessThanOrEqual(1000);
    expect(text).toMatch(/\nline\n```\n\n<\/details>\n\nNOTE\n$/);
  });

  it("renders only http(s) links, with parentheses encoded", () => {
    expect(mdLink("javascript:alert(1)", "x")).toBe("x");
    expect(mdLink("https://example.com/a_(b)", "[x]")).toBe("[x](https://example.com/a_%28b%29)");
    expect(mdLink(undefined, "x")).toBe("x");
  });
});
