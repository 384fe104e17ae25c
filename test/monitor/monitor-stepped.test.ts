// The monitor as a stepped canary's scheduled safety net: a canary a dead run left at 20% whose
// heartbeat lock has lapsed is ended (weights stable first, canary to 0, mark off), recorded in
// monitor.json, and opens an incident that is notified; a live run's fresh lock is only reported.
// Real local HTTP (the service's health route, a webhook receiver), the stateful fake GitHub, and
// the stateful fake ECS and ELB; the deploy-side timing on fake time is stepped-heartbeat.test.ts.
import { ModifyRuleCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../deploy/lib/config/load.js";
import { DEPLOY_LOCK_TAG, encodeLock } from "../../deploy/lib/deploy/lock.js";
import { STEPPED_TAG, encodeSteppedMark } from "../../deploy/lib/deploy/stepped/mark.js";
import { monitorEnvironment, type MonitorRequest } from "../../deploy/lib/monitor/monitor.js";
import { arnOf } from "../deploy/fake-ecs.js";
import { CANARY, STABLE, steppedFakes, type SteppedFakes } from "../deploy/stepped-fixture.js";
import { FakeGithub } from "../github/fake-github.js";
import { closeAll, receiver, type Receiver } from "../notify/receiver.js";

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

const yaml = () => `notifications:
  github: { apiUrl: "${gh.apiUrl}" }
environments:
  production:
    cluster: main
    service: api
    region: us-east-1
    containerName: app
    smoke: { baseUrl: "${base}", testHeader: {}, checks: [{ name: health, path: /healthz, retries: 1 }] }
    steppedCanary:
      listenerRuleArn: "${f.rule}"
      stableTargetGroupArn: "${STABLE}"
      canaryTargetGroupArn: "${CANARY}"
      canaryService: api-canary
      steps: [{ weight: 20, pauseMinutes: 10 }, { weight: 100, pauseMinutes: 10 }]
`;
const request = (over: Partial<MonitorRequest> = {}): MonitorRequest => ({
  config: parseConfig(yaml()).config,
  environment: "production",
  repository: "acme/shop",
  token: gh.token,
  notify: { webhook: hook.url },
  stepped: { ecs: f.ecs.client, elb: f.elb.client },
  runId: "gh-monitor",
  ...over,
});

/** What a run killed at 20% leaves: the rule at 80/20, the canary service up, its mark, and its lock expiring at `expiresAt`. */
async function deadRunAt20(expiresAt: number): Promise<void> {
  const forward = [
    { TargetGroupArn: STABLE, Weight: 80 },
    { TargetGroupArn: CANARY, Weight: 20 },
  ];
  await f.elb.client.send(
    new ModifyRuleCommand({ RuleArn: f.rule, Actions: [{ Type: "forward", ForwardConfig: { TargetGroups: forward } }] }),
  );
  await f.ecs.client.send(new UpdateServiceCommand({ cluster: "main", service: "api-canary", desiredCount: 2 }));
  const startedAt = new Date(expiresAt - 20 * 60_000).toISOString();
  f.ecs.tags.set(SERVICE_ARN, [
    ...(f.ecs.tags.get(SERVICE_ARN) ?? []),
    { key: DEPLOY_LOCK_TAG, value: encodeLock({ runId: "gh-dead", startedAt, expiresAt: new Date(expiresAt).toISOString() }) },
    { key: STEPPED_TAG, value: encodeSteppedMark({ runId: "gh-dead", revision: "app:2", startedAt }) },
  ]);
}
const canaryWeight = () => f.elb.weightsOf(f.rule).find((w) => w.arn === CANARY)?.weight;

describe("monitor of a stepped canary environment", () => {
  it("ends a dead run's canary once its lock lapsed: weights stable first, canary to 0, recorded, an incident opened and notified", async () => {
    await deadRunAt20(Date.now() - 60_000);
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
    await deadRunAt20(Date.now() + 4 * 60_000);
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
});
