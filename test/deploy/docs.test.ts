/**
 * docs/DEPLOYMENT.md's configuration examples are configuration: every YAML block that declares
 * environments parses with the real schema, and the settings it describes are the ones it shows.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";

const doc = readFileSync(join(import.meta.dirname, "../../docs/DEPLOYMENT.md"), "utf8");
const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.startsWith("environments:"));

describe("docs/DEPLOYMENT.md", () => {
  it("has configuration examples for every strategy", () => {
    const strategies = blocks.flatMap((b) => Object.values(parseConfig(b).config.environments).map((e) => e.strategy));
    expect(new Set(strategies)).toEqual(new Set(["rolling", "canary", "linear"]));
    expect(blocks.some((b) => b.includes("steppedCanary:"))).toBe(true);
  });

  it.each(blocks.map((b, i) => [i + 1, b] as const))("example %i is a valid shipshape.yaml", (_i, block) => {
    expect(() => parseConfig(block)).not.toThrow();
  });

  it("the production example needs approval and smoke-checks the test listener", () => {
    const prod = parseConfig(blocks[0]!).config.environments.production!;
    expect(prod.requireApproval).toBe(true);
    expect(prod.smoke?.testUrl).toBe("https://api.example.com:8443");
    expect(prod.canary).toEqual({ percent: 10, bakeMinutes: 15 });
  });

  it("the stepped canary ends at 100 and keeps the main service rolling", () => {
    const block = blocks.find((b) => b.includes("steppedCanary:"))!;
    const payments = parseConfig(block).config.environments.payments!;
    expect(payments.strategy).toBe("rolling");
    expect(payments.steppedCanary?.steps.map((s) => s.weight)).toEqual([5, 20, 50, 100]);
  });

  it("a stepped canary with an ECS-native strategy is refused with the reason", () => {
    const block = blocks.find((b) => b.includes("steppedCanary:"))!.replace("strategy: rolling", "strategy: canary");
    expect(() => parseConfig(block)).toThrow(/steppedCanary drives the load balancer's weights itself/);
  });
});
