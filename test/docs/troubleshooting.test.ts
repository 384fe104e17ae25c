/**
 * docs/TROUBLESHOOTING.md lists every cause Shipshape can print, with its fix: every Problem,
 * ConfigError and hinted Error in src/ and lib/ of both modules (read by the TypeScript compiler, test/docs/problems.ts),
 * and the catalogued ones (config/errors.ts, project/problem.ts) with their hint too.
 * After adding or changing one: `npx tsx test/docs/render-troubleshooting.ts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allProblems, problemsIn } from "./problems.js";
import { BEGIN, DOC, END, escapeHint, printedCauses, renderCatalogue } from "./render-troubleshooting.js";
import { DEPLOY_LIB_DIR, DEPLOY_SRC_DIR } from "../harness/scan.js";

const doc = readFileSync(DOC, "utf8");
const problems = allProblems();

describe("docs/TROUBLESHOOTING.md", () => {
  it("reads the causes out of the source: all of them, conditionals as each variant", () => {
    expect(problems.length).toBeGreaterThan(200);
    const causes = problems.flatMap((p) => p.causes);
    expect(causes).toContain("no lockfile: installs would not be reproducible");
    expect(causes).toEqual(expect.arrayContaining(["the AWS access key id is missing", "the AWS secret access key is missing"]));
    // A value in the middle is a hole; a constant is its text.
    expect(causes).toContain("config file … does not exist in the source directory");
    expect(problems.find((p) => p.causes.includes("--config-path is empty"))!.hint).toContain("leave it out to use shipshape.yaml");
  });

  it("lists every cause in both modules' code (run test/docs/render-troubleshooting.ts after adding one)", () => {
    const missing = problems.flatMap((p) =>
      printedCauses(p)
        .filter((c) => !doc.includes(c))
        .map((c) => `${p.path}:${p.line}: ${c}`),
    );
    expect(missing).toEqual([]);
  });

  it("gives the catalogued causes (config file, bad arguments) with their fix", () => {
    for (const file of [join(DEPLOY_LIB_DIR, "config/errors.ts"), join(DEPLOY_SRC_DIR, "project/problem.ts")]) {
      const catalogued = problemsIn(file);
      expect(catalogued.length, file).toBeGreaterThanOrEqual(4);
      for (const p of catalogued)
        for (const c of printedCauses(p)) expect(doc, c).toContain(`\`${c}\`  \n  **fix:** ${escapeHint(p.hint)}`);
    }
  });

  it("keeps the catalogue between its markers and the hand-written explanations around it", () => {
    expect(doc.indexOf(BEGIN)).toBeGreaterThan(0);
    expect(doc.indexOf(END)).toBeGreaterThan(doc.indexOf(BEGIN));
    expect(doc).toContain("## Reading a result");
    // Rendering is deterministic: the catalogue of these causes is the same text every time.
    expect(renderCatalogue(problems)).toBe(renderCatalogue([...problems].reverse()));
  });
});
