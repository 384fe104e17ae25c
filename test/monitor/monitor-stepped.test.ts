// The monitor as a stepped canary's scheduled safety net: a canary a dead run left at 20% whose
// heartbeat lock has lapsed is ended (weights stable first, canary to 0, mark off), recorded in
// monitor.json, and opens an incident that is notified; a live run's fresh lock is only reported.
// Real local HTTP (the service's health route, a webhook receiver), the stateful fake GitHub, and
// the stateful fake ECS and ELB; the deploy-side timing on fake time is stepped-heartbeat.test.ts.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { monitorEnvironment, type MonitorRequest } from "../../deploy/lib/monitor/monitor.js";
import { startRecord } from "../../deploy/lib/trail/builders.js";
import { parseJsonl } from "../../deploy/lib/trail/record.js";
import { openTrail, type Trail } from "../../deploy/lib/trail/trail.js";
import { arnOf } from "../deploy/fake-ecs.js";
import { STEPPED_TAG } from "../../deploy/lib/deploy/stepped/mark.js";
import { CANARY, deadRunAt20, steppedFakes, type SteppedFakes } from "../deploy/stepped-fixture.js";
import { FakeGithub } from "../github/fake-github.js";
import { closeAll, receiver, type Receiver } from "../notify/receiver.js";
import { steppedMonitorYaml } from "./config.js";
import { freshDatabase, type FreshDb } from "../trail/db.js";

const SERVICE_ARN = arnOf("service/main/api");
let gh: FakeGithub;
let hook: Receiver;
let server: Server;
let base = "";
let f: SteppedFakes;

beforeEach(async () => {
  gh = await new FakeGithub().start();
  hook = await receiver();
  f = steppedFakes();
  server = createServer((req, res) => res.writeHead(req.url === "/healthz" ? 200 : 404, { connection: "close" }).end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  f.ecs.restore();
  f.elb.restore();
  await gh.stop();
  await closeAll();
  await new Promise((resolve) => server.close(resolve));
});

const request = (over: Partial<MonitorRequest> = {}): MonitorRequest => ({
  config: parseConfig(steppedMonitorYaml(gh.apiUrl, base, f.rule)).config,
  environment: "production",
  repository: "acme/shop",
  token: gh.token,
  notify: { webhook: hook.url },
  stepped: { ecs: f.ecs.client, elb: f.elb.client },
  runId: "gh-monitor",
  ...over,
});

const canaryWeight = () => f.elb.weightsOf(f.rule).find((w) => w.arn === CANARY)?.weight;

describe("monitor of a stepped canary environment", () => {
  it("ends a dead run's canary once its lock lapsed: weights stable first, canary to 0, recorded, an incident opened and notified", async () => {
    await deadRunAt20(f, Date.now() - 60_000);
    const out = await monitorEnvironment(request());
    expect(canaryWeight()).toBe(0);
    expect(f.elb.journal.slice(-2)).toEqual(["elb:ModifyRule api-stable=100 api-canary=0", "ecs:UpdateService api-canary desired=0"]);
    expect(f.ecs.tags.get(SERVICE_ARN)?.map((t) => t.key)).not.toContain(STEPPED_TAG);
    expect(out.verdict.status).toBe("failed");
    expect(out.verdict.cause).toMatch(
      /^a dead deploy run's stepped canary was ended by the monitor: run gh-dead ended without finishing with app:2 unjudged at canary 20%: .*; then smoke passed$/,
    );
    expect(out.verdict.findings[0]).toMatch(/^stepped canary ended: run gh-dead/);
    const json = JSON.parse(out.files["monitor.json"] ?? "{}") as {
      recovered?: { decisions: { gate: string }[] };
      decisions: { gate: string }[];
    };
    expect(json.recovered?.decisions.map((d) => d.gate)).toEqual(["recovery"]);
    expect(json.decisions.map((d) => d.gate)).toEqual(["recovery", "smoke"]);
    const [issue] = gh.issues.list("acme/shop");
    expect(issue).toMatchObject({ state: "open" });
    expect(issue!.body).toMatch(/\| recovery \| aborted \| run gh-dead ended without finishing/);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.body).toMatch(/stepped canary was ended by the monitor/);
  });

  it("leaves a live run alone: its fresh lock is reported, nothing changes", async () => {
    await deadRunAt20(f, Date.now() + 4 * 60_000);
    const out = await monitorEnvironment(request());
    expect(canaryWeight()).toBe(20);
    expect(f.ecs.service("api-canary").desiredCount).toBe(2);
    expect(out.verdict.status).toBe("passed");
    expect(out.verdict.findings[0]).toMatch(/^stepped canary: run gh-dead holds the lock until \S+: a live deploy, nothing touched$/);
    expect(gh.issues.list("acme/shop")).toEqual([]);
  });

  it("refuses to monitor a stepped canary environment without the AWS clients that could end a dead run's canary", async () => {
    const { stepped: _, ...without } = request();
    await expect(monitorEnvironment(without)).rejects.toThrow(
      /deploys with a stepped canary, but the monitor was given no ECS and ELB clients/,
    );
  });

  describe("the dead run's record", () => {
    /** The 'started' record the killed run wrote before it touched anything, as JSON Lines. */
    const deadRunStarted = async (): Promise<string> => {
      const t = await openTrail();
      await t.append(startRecord({ runId: "gh-dead", kind: "deploy", environment: "production", strategy: "stepped-canary", actor: "ci" }));
      return t.jsonl();
    };
    const opened: Trail[] = [];
    const opener = (open: () => Promise<Trail>) => () => open().then((t) => (opened.push(t), t));
    beforeEach(() => void opened.splice(0));

    it("is corrected to rolled back on the trail it continues, signed by the monitor's run, and handed back", async () => {
      await deadRunAt20(f, Date.now() - 60_000);
      const earlier = await deadRunStarted();
      const out = await monitorEnvironment(request({ trail: opener(() => openTrail({ existingJsonl: earlier })) }));
      expect(out.verdict.findings[1]).toBe("audit: run gh-dead's record corrected: rolled back (jsonl)");
      const records = parseJsonl(out.files["audit.jsonl"] ?? "", "audit.jsonl");
      expect(records.map((r) => [r.runId, r.phase, r.outcome])).toEqual([
        ["gh-dead", "started", "unknown"],
        ["gh-dead", "correction", "rolled back"],
      ]);
      expect(records[1]?.correctionOf).toBe(records[0]?.recordId);
      expect(records[1]?.reason).toMatch(
        /^run gh-dead ended without finishing; found by run gh-monitor: run gh-dead ended .* \(corrected by run gh-monitor at \S+\)$/,
      );
      const json = JSON.parse(out.files["monitor.json"] ?? "{}") as { audit?: string[] };
      expect(json.audit).toEqual(["audit: run gh-dead's record corrected: rolled back (jsonl)"]);
      // Once corrected, a second sweep (nothing left in flight) opens no trail at all.
      await monitorEnvironment(request({ trail: opener(() => openTrail({ existingJsonl: out.files["audit.jsonl"] })) }));
      expect(opened).toHaveLength(1);
    });

    it("goes to Postgres when the trail has a database, the record the next deploy's rollback will read", async () => {
      const db: FreshDb = await freshDatabase("shipshape_monitor");
      try {
        const seed = await openTrail({ databaseUrl: db.url(), required: true });
        await seed.append(startRecord({ runId: "gh-dead", kind: "deploy", environment: "production", actor: "ci" }));
        await seed.close();
        await deadRunAt20(f, Date.now() - 60_000);
        const out = await monitorEnvironment(request({ trail: () => openTrail({ databaseUrl: db.url(), required: true }) }));
        expect(out.verdict.findings[1]).toBe("audit: run gh-dead's record corrected: rolled back (postgres)");
        const check = await openTrail({ databaseUrl: db.url(), required: true });
        try {
          const rows = (await check.read({ environment: "production" })).map((r) => [r.runId, r.phase, r.outcome]);
          expect(rows).toEqual([
            ["gh-dead", "started", "unknown"],
            ["gh-dead", "correction", "rolled back"],
          ]);
        } finally {
          await check.close();
        }
      } finally {
        await db.drop();
      }
    });

    it("says so when it cannot be corrected, and the canary is still ended and the incident still opened", async () => {
      await deadRunAt20(f, Date.now() - 60_000);
      const none = await monitorEnvironment(request());
      expect(none.verdict.findings[1]).toBe("audit: run gh-dead's record was not corrected: no audit trail was given");
      await deadRunAt20(f, Date.now() - 60_000);
      const empty = await monitorEnvironment(request({ trail: () => openTrail() }));
      expect(empty.verdict.findings[1]).toMatch(/^audit: the trail has no uncorrected record of run gh-dead \(chain with-audit-trail/);
      await deadRunAt20(f, Date.now() - 60_000);
      const down = await monitorEnvironment(
        request({ trail: () => Promise.reject(new Error("the audit database refused the connection")) }),
      );
      expect(down.verdict.findings[1]).toBe(
        "audit: run gh-dead's record could not be corrected: the audit database refused the connection",
      );
      expect(canaryWeight()).toBe(0);
      expect(down.verdict.status).toBe("failed");
      expect(down.files["audit.jsonl"]).toBeUndefined();
    });

    it("is not touched while the run is alive: the trail is never opened", async () => {
      await deadRunAt20(f, Date.now() + 4 * 60_000);
      await monitorEnvironment(request({ trail: opener(() => openTrail()) }));
      expect(opened).toEqual([]);
    });
  });
});
