/**
 * Chained settings as `dagger call with-audit-trail --trail ... environment --name production metrics`
 * runs them: every step a call of its own, a fresh module rebuilt from the previous step's JSON
 * state (deploy/src/settings.ts: plain fields, carried as the object's private fields). What withAuditTrail
 * set on the root must reach the Environment it returns and the root's own functions, through any
 * later with* step.
 */
import { dag } from "@dagger.io/dagger";
import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryReport } from "../../deploy/src/report/delivery.js";
import { serialiseJsonl, type AuditRecord } from "../../deploy/lib/trail/record.js";
import { drive, type Driven } from "../helpers/drive.js";
import { chained, environmentOf } from "../helpers/ship-calls.js";
import { pair } from "../trail/records.js";

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

// Three production deploys (one rolled back) and one staging deploy, in the last weeks.
const records = (): AuditRecord[] => [
  ...pair("run-1", daysAgo(20), "succeeded", { commitTimestamp: daysAgo(21) }),
  ...pair("run-2", daysAgo(12), "rolled back", { commitTimestamp: daysAgo(13) }),
  ...pair("run-3", daysAgo(5), "succeeded", { commitTimestamp: daysAgo(5.5) }),
  ...pair("run-4", daysAgo(4), "succeeded", { environment: "staging" }),
];

const ENVIRONMENTS = `environments:
  production: { cluster: main, service: api, region: us-east-1, containerName: app }
  staging: { cluster: main, service: api-staging, region: us-east-1, containerName: app }
`;

const trailFile = () => dag.directory().withNewFile("audit.jsonl", serialiseJsonl(records())).file("audit.jsonl");

let d: Driven | undefined;
afterEach(() => d?.engine.uninstall());

describe("chained settings survive between calls", () => {
  it("withAuditTrail on the root reaches environment(name).metrics, through a later withRun", async () => {
    d = await drive({ files: { "shipshape.yaml": ENVIRONMENTS } });
    // shipshape-deploy with-audit-trail --trail ... with-run --actor ci-bot environment --name production
    const root = await chained(d, { auditTrail: trailFile(), actor: "ci-bot" }, "deploy");
    const env = await root.call("environment", { name: "production" });
    expect(env.type).toBe("Environment");
    expect(env.get("name")).toBe("production");
    const report = await env.call<DeliveryReport>("metrics", { period: "week" });
    const markdown = report.json.markdown;
    expect(markdown).toMatch(/production/);
    expect(markdown).toMatch(/33(\.3)?\s*%/); // 1 of the 3 production deploys was a change failure
    expect(markdown).not.toMatch(/staging/);
    expect((await (await report.directory("files")).entries()).sort()).toEqual([
      "metrics.json",
      "metrics.md",
      "metrics.txt",
      "production.svg",
    ]);
  });

  it("the same chained root answers the root's metrics for every environment", async () => {
    d = await drive({ files: { "shipshape.yaml": ENVIRONMENTS } });
    const root = await chained(d, { auditTrail: trailFile() }, "deploy");
    const all = await root.call<DeliveryReport>("metrics", { period: "week" });
    expect(all.json.markdown).toMatch(/production/);
    expect(all.json.markdown).toMatch(/staging/);
    expect((await (await all.directory("files")).entries()).sort()).toEqual([
      "metrics.json",
      "metrics.md",
      "metrics.txt",
      "production.svg",
      "staging.svg",
    ]);
    // One chain, two verbs: the root's metrics for one environment and the Environment's agree.
    const one = await root.call<DeliveryReport>("metrics", { environment: "staging", period: "week" });
    const env = await (await root.call("environment", { name: "staging" })).call<DeliveryReport>("metrics", { period: "week" });
    expect(one.json.text).toMatch(/staging/);
    expect(one.json.text).not.toMatch(/production/);
    expect(env.json.text).toBe(one.json.text);
  });

  it("without withAuditTrail neither metrics has a trail to read (negative control)", async () => {
    d = await drive({ files: { "shipshape.yaml": ENVIRONMENTS } });
    await expect((await environmentOf(d, "production")).call("metrics")).rejects.toThrow(/audit trail/);
    await expect((await chained(d, {}, "deploy")).call("metrics")).rejects.toThrow(/audit trail/);
    // The CI module has no metrics: the deploy module owns the trail's read side.
    await expect((await chained(d)).call("metrics")).rejects.toThrow(/metrics/);
  });
});
