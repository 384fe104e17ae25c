/**
 * Promotion against trails written by the product's own builders and a real local HTTP server
 * playing the required environment (only the smoke checks' backoff sleep is instant).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { EnvironmentConfig } from "../../deploy/lib/deploy/config.js";
import { EnvironmentsConfigSchema } from "../../deploy/lib/deploy/config.js";
import { checkPromotion, latestVerdict } from "../../deploy/lib/guards/promotion.js";
import { describeError } from "../../deploy/src/project/problem.js";
import { correctionRecord } from "../../deploy/lib/trail/builders.js";
import { JsonlTrail } from "../../deploy/lib/trail/jsonl.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { serialiseJsonl, type AuditRecord } from "../../deploy/lib/trail/record.js";
import { freshDatabase } from "../trail/db.js";
import { DIGEST, IMAGE, REV, pair } from "../trail/records.js";

const OTHER = `sha256:${"cd".repeat(32)}`;
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

async function staging(status: number): Promise<EnvironmentConfig> {
  const server = createServer((_req, res) => res.writeHead(status, { connection: "close" }).end("{}"));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const envs = EnvironmentsConfigSchema.parse({
    staging: {
      cluster: "main",
      service: "api",
      region: "eu-west-1",
      containerName: "app",
      smoke: { baseUrl, checks: [{ name: "health", path: "/healthz", retries: 2 }] },
    },
  });
  return envs.staging as EnvironmentConfig;
}

const trailOf = (records: AuditRecord[]) => new JsonlTrail(serialiseJsonl(records));
const instant = { smokeTiming: { sleep: async () => {}, random: () => 0.5 } };

async function promote(records: AuditRecord[], status = 200, image = IMAGE) {
  return checkPromotion({
    environment: "prod",
    image,
    required: [{ name: "staging", config: await staging(status) }],
    trail: trailOf(records),
    checks: instant,
  });
}

describe("latestVerdict", () => {
  it("takes the latest verdict on the digest, a correction over its record, and a promote that finished its revision", () => {
    const [, ok] = pair("run-1", "2026-11-20T10:00:00Z", "succeeded", { environment: "staging" });
    const [, later] = pair("run-2", "2026-11-21T10:00:00Z", "rolled back", { environment: "staging" });
    expect(latestVerdict([ok, later], "staging", DIGEST)?.runId).toBe("run-2");
    const fix = correctionRecord(
      ok,
      { outcome: "rolled back", reason: "bad" },
      { by: "x", reason: "found bad later" },
      { now: () => Date.parse("2026-11-22T00:00:00Z") },
    );
    expect(latestVerdict([ok, fix], "staging", DIGEST)?.outcome).toBe("rolled back");
    const [, paused] = pair("run-3", "2026-11-20T10:00:00Z", "paused", { environment: "staging" });
    const [, promoted] = pair("run-4", "2026-11-20T11:00:00Z", "succeeded", { environment: "staging", image: undefined });
    expect(promoted.toRevision).toBe(REV(42));
    expect(latestVerdict([paused, { ...promoted, kind: "promote", digest: undefined }], "staging", DIGEST)?.runId).toBe("run-4");
    expect(latestVerdict([ok], "staging", OTHER)).toBeUndefined();
    expect(latestVerdict([ok], "prod", DIGEST)).toBeUndefined();
  });
});

describe("checkPromotion", () => {
  it("passes a digest that succeeded in staging while staging answers its checks now", async () => {
    const v = await promote(pair("run-1", "2026-11-20T10:00:00Z", "succeeded", { environment: "staging" }));
    expect(v.refusal).toBeUndefined();
    expect(v.decisions.map((d) => [d.gate, d.stage, d.verdict])).toEqual([
      ["smoke", "staging before promotion", "passed"],
      ["promotion", "requires staging", "passed"],
    ]);
    expect(v.decisions[1]?.reason).toMatch(
      /^sha256:abababababab… succeeded in staging at 2026-11-20T10:05:00.000Z \(run run-1\); staging healthy now$/,
    );
  });

  it("refuses a digest staging never had, naming it and the trail to pass", async () => {
    const v = await promote(
      pair("run-1", "2026-11-20T10:00:00Z", "succeeded", { environment: "staging" }),
      200,
      IMAGE.replace(DIGEST, OTHER),
    );
    const { cause, hint } = describeError(v.refusal);
    expect(cause).toBe("refusing to deploy sha256:cdcdcdcdcdcd… to prod: sha256:cdcdcdcdcdcd… has no recorded deploy to staging");
    expect(hint).toMatch(/deploy this digest to staging first .*withAuditTrail/);
  });

  it("names both what is missing when the digest rolled back in staging and staging is down now", async () => {
    const v = await promote(pair("run-1", "2026-11-20T10:00:00Z", "rolled back", { environment: "staging" }), 503);
    expect(describeError(v.refusal).cause).toMatch(
      /: sha256:abababababab… last rolled back in staging at .*\(run run-1\); staging is not healthy now: GET \/healthz answered 503 after 2 attempts$/,
    );
    expect(v.decisions.map((d) => d.verdict)).toEqual(["failed", "failed"]);
  });

  it("refuses when the trail has nothing for staging at all", async () => {
    const v = await promote([]);
    expect(describeError(v.refusal).cause).toMatch(/: the audit trail has no deploy to staging$/);
  });
});

describe("from Postgres", () => {
  it("reads the same verdicts from the real database as from the JSON Lines", async () => {
    const db = await freshDatabase("shipshape_guards");
    const trail = await PostgresTrail.open(db.url());
    try {
      for (const r of [
        ...pair("run-1", "2026-11-20T10:00:00Z", "succeeded", { environment: "staging" }),
        ...pair("run-2", "2026-11-20T11:00:00Z", "succeeded", { environment: "prod" }),
      ])
        await trail.append(r);
      const required = [{ name: "staging", config: await staging(200) }];
      const ok = await checkPromotion({ environment: "prod", image: IMAGE, required, trail, checks: instant });
      expect(ok.refusal).toBeUndefined();
      expect(ok.decisions.at(-1)?.reason).toMatch(/succeeded in staging at 2026-11-20T10:05:00\.000Z \(run run-1\)/);
      const other = await checkPromotion({ environment: "prod", image: IMAGE.replace(DIGEST, OTHER), required, trail, checks: instant });
      expect(describeError(other.refusal).cause).toMatch(/has no recorded deploy to staging$/);
    } finally {
      await trail.close();
      await db.drop();
    }
  });
});
