/**
 * Benchmark, not a test: how long shipshape.yaml parsing takes on large and hostile files, so the
 * bounds in src/config/load.ts (our own linear duplicate-key check, the depth cap, the alias cap)
 * are measured rather than asserted in a timed test. yaml's own duplicate check is quadratic: a
 * 15,000-key file took about 4 s with it. Target: every case under 1.5 s on 2 cores.
 *
 *   npx tsx scripts/bench-config.ts [--runs 5]
 */
import { parseArgs } from "node:util";
import { parseConfig } from "../deploy/lib/config/load.js";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(args.runs);

const keys = (n: number, extra = "") => `${Array.from({ length: n }, (_, i) => `k${i}: ${i}`).join("\n")}\n${extra}`;
const env = (n: number) => `gates:\n  test:\n    env:\n${Array.from({ length: n }, (_, i) => `      K${i}: "${i}"`).join("\n")}\n`;
const cases: Record<string, string> = {
  "duplicate-after-15000-keys": keys(15_000, "k7: again\n"),
  "flow-sequences-5000-deep": `gates: ${"[".repeat(5000)}x${"]".repeat(5000)}\n`,
  "valid-8000-env-vars": env(8000),
};

for (const [name, text] of Object.entries(cases)) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    try {
      parseConfig(text);
    } catch {
      // The hostile cases are refused; the refusal's cost is what is measured.
    }
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`parse ${name} median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms max ${times.at(-1)!.toFixed(1)} ms`);
}
