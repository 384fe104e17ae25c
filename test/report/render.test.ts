import { describe, expect, it } from "vitest";
import { errored, skipped, tail, type GateOutcome } from "../../deploy/src/report/outcome.js";
import { passedAll, renderMarkdown, renderTable, seconds } from "../../deploy/src/report/render.js";

const passed: GateOutcome = {
  gate: "lint",
  status: "passed",
  durationMs: 12_340,
  summary: "0 errors, 0 warnings",
  cause: "",
  hint: "",
  metrics: {},
  findings: [],
  log: "",
};
const failed: GateOutcome = {
  gate: "test",
  status: "failed",
  durationMs: 83_000,
  summary: "1 test failed of 49",
  cause: "1 test failed of 49",
  hint: "reproduce with npm run test",
  metrics: { tests: 49 },
  findings: ["pricing › applies tax: expected 108 to be 107 | `x`"],
  log: "",
};

describe("summary table", () => {
  it("lines up gate, status, time and detail, then the verdict and the fixes", () => {
    const table = renderTable([
      passed,
      failed,
      errored("audit", 2000, "the audit endpoint refused the request (HTTP 405)", "use a registry that supports npm audit"),
      skipped("typecheck", "disabled in shipshape.yaml"),
    ]);
    expect(table).toBe(
      [
        "GATE       STATUS   TIME   DETAIL",
        "lint       PASSED   12.3s  0 errors, 0 warnings",
        "test       FAILED   1m23s  1 test failed of 49",
        "audit      ERROR    2.0s   the audit endpoint refused the request (HTTP 405)",
        "typecheck  SKIPPED  0.0s   disabled in shipshape.yaml",
        "",
        "2 of 4 gates did not pass",
        "",
        "how to fix:",
        "  test: reproduce with npm run test",
        "  audit: use a registry that supports npm audit",
      ].join("\n"),
    );
  });

  it("says all passed when nothing failed; skipped gates do not fail a run", () => {
    expect(
      renderTable([passed, skipped("audit", "disabled")])
        .split("\n")
        .at(-1),
    ).toBe("all gates passed");
    expect(passedAll([passed, skipped("audit", "x")])).toBe(true);
    expect(passedAll([passed, errored("audit", 0, "x", "y")])).toBe(false);
  });
});

describe("markdown", () => {
  it("renders a table and a details block per gate that did not pass, escaping pipes", () => {
    const md = renderMarkdown([passed, failed]);
    expect(md).toContain("## ❌ Shipshape CI");
    expect(md).toContain("| lint | ✅ passed | 12.3s | 0 errors, 0 warnings |");
    // The row says "1 test failed of 49"; the details heading does not say it again.
    expect(md).toContain("<details><summary><b>test</b>: findings and fix</summary>");
    expect(md.split("1 test failed of 49")).toHaveLength(2);
    const other = renderMarkdown([{ ...failed, summary: "49 tests", cause: "1 test failed of 49" }]);
    expect(other).toContain("<details><summary><b>test</b>: 1 test failed of 49</summary>");
    expect(md).toContain("**Fix:** reproduce with npm run test");
    expect(md).toContain("- `pricing › applies tax: expected 108 to be 107 | 'x'`");
    expect(renderMarkdown([passed])).not.toContain("<details>");
  });
});

describe("helpers", () => {
  it("formats durations and keeps the end of long logs", () => {
    expect(seconds(999)).toBe("1.0s");
    expect(seconds(125_000)).toBe("2m5s");
    expect(tail(Array.from({ length: 100 }, (_, i) => `l${i}`).join("\n"), 3)).toBe("l97\nl98\nl99");
  });
});
