/**
 * Promotion and freezes as a team meets them, each deploy a `dagger call` through the SDK's
 * invocation path on the stub engine: the stateful ECS fake plays AWS on fake time, a loopback
 * HTTP server plays staging's health endpoint, the audit trail travels from one call to the next
 * as the JSON Lines File the Deployment hands back, and a local receiver plays the JSON webhook.
 */
import { ECRClient } from "@aws-sdk/client-ecr";
import { dag, type Secret } from "@dagger.io/dagger";
import { mockClient } from "aws-sdk-client-mock";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WebhookPayloadV1 } from "../../deploy/lib/notify/webhook.js";
import type { Deployment } from "../../deploy/src/report/deployment.js";
import { parseJsonl } from "../../deploy/lib/trail/record.js";
import type { Handle } from "../harness/invoke.js";
import { DIGEST, FakeEcs, IMAGE } from "../deploy/fake-ecs.js";
import { closeAll, receiver } from "../notify/receiver.js";
import { drive, type Driven } from "../helpers/drive.js";
import { settle, trackRealIo } from "../helpers/fake-time-io.js";
import { allowEcrLogin, VERIFIED } from "../helpers/signed-image.js";
import { auditTrailOf, callDeploy, environmentOf, onFakeClock, type DeployArgs } from "../helpers/ship-calls.js";

const START = new Date("2026-11-20T10:00:00Z");
const OTHER_IMAGE = IMAGE.replace(DIGEST, `sha256:${"cd".repeat(32)}`);
const SERVICE = "cluster: main, service: api, region: us-east-1, containerName: app";

let current: Driven;
let fake: FakeEcs;
const ecr = mockClient(ECRClient);
let untrack: () => void;
const servers: Server[] = [];
const envNames: string[] = [];
/** Staging's health, flipped by a test. */
let stagingStatus = 200;

function secret(name: string, value: string): Secret {
  process.env[`SHIPSHAPE_GUARD_${name}`] = value;
  envNames.push(`SHIPSHAPE_GUARD_${name}`);
  return dag.secret(`env://SHIPSHAPE_GUARD_${name}`);
}

// Built at run time: nothing of a credential's shape is committed.
const base = (over: DeployArgs = {}): DeployArgs => ({
  awsAccessKeyId: secret("AKID", `AKIA${"G".repeat(16)}`),
  awsSecretAccessKey: secret("SAK", "s".repeat(40)),
  cosignPublicKey: dag.secret("env://PUB"),
  insecureIgnoreTlog: true,
  actor: "ada",
  ...over,
});

const settled = <T>(call: Promise<T>): Promise<T> => onFakeClock(call, (p) => settle(p));

async function failureOf(p: Promise<unknown>): Promise<Error> {
  const e = await settled(p).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e instanceof Error) return e;
  throw new Error("expected the call to fail");
}

async function stagingServer(): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(stagingStatus, { connection: "close" }).end("{}"));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function use(text: string): Promise<void> {
  current.engine.uninstall();
  current = await drive({ files: { "shipshape.yaml": text } });
  current.engine.onExec((a) => a[0] === "cosign" && a[1] === "verify", { exitCode: 0, stdout: VERIFIED });
}

/** `... environment --name <env> deploy --image ... --freeze-override ...`, the flag the CLI gives by name. */
const deployWith = async (env: string, image: string, a: DeployArgs & { freezeOverride?: string }): Promise<Handle<Deployment>> =>
  (await environmentOf(current, env, a)).call<Deployment>("deploy", {
    image,
    failOnError: a.failOnError,
    freezeOverride: a.freezeOverride,
  });

const recordsOf = async (d: Handle<Deployment>) => parseJsonl(await (await auditTrailOf(d)).contents(), "audit.jsonl");

beforeEach(async () => {
  untrack = trackRealIo();
  current = await drive({ files: { "shipshape.yaml": "" } });
  vi.useFakeTimers({ now: START, toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
  allowEcrLogin(ecr);
  stagingStatus = 200;
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
});

afterEach(async () => {
  vi.restoreAllMocks();
  fake.restore();
  ecr.reset();
  vi.useRealTimers();
  current.engine.uninstall();
  untrack();
  await closeAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  for (const name of envNames.splice(0)) delete process.env[name];
});

describe("requires: [staging]", () => {
  it("promotes the digest staging proved while staging is healthy, and refuses another digest or a sick staging, naming what is missing", async () => {
    const url = await stagingServer();
    const smoke = `smoke: { baseUrl: "${url}", checks: [{ name: health, path: /healthz, retries: 2 }] }`;
    await use(`environments:\n  staging: { ${SERVICE}, ${smoke} }\n  prod: { ${SERVICE}, requireApproval: false, requires: [staging] }\n`);
    fake.nextDeployments({ outcome: "healthy", afterMs: 60_000 }, { outcome: "healthy", afterMs: 60_000 });

    // Before staging has it: refused before any AWS call, and the refusal is itself on the record.
    const early = await settled(deployWith("prod", IMAGE, base({ failOnError: false })));
    expect(early.json.result).toBe("failed");
    expect(early.json.reason).toBe("refusing to deploy sha256:abababababab… to prod: the audit trail has no deploy to staging");
    expect(fake.calls).toEqual([]);

    const staged = await settled(callDeploy(current, "staging", IMAGE, base()));
    expect(staged.json.result).toBe("succeeded");
    const trail = await auditTrailOf(staged);

    const prod = await settled(callDeploy(current, "prod", IMAGE, base({ auditTrail: trail })));
    expect(prod.json.result).toBe("succeeded");
    expect(prod.json.decisions.slice(0, 2).map((d) => [d.gate, d.stage, d.verdict])).toEqual([
      ["smoke", "staging before promotion", "passed"],
      ["promotion", "requires staging", "passed"],
    ]);
    const done = (await recordsOf(prod)).filter((r) => r.environment === "prod" && r.phase === "completed");
    expect(done.map((r) => [r.outcome, r.decisions.map((d) => `${d.gate}:${d.verdict}`).join(",")])).toEqual([
      ["succeeded", "smoke:passed,promotion:passed"],
    ]);

    // Another digest, and staging answering 503: one refusal names both, with the fix.
    stagingStatus = 503;
    const err = await failureOf(callDeploy(current, "prod", OTHER_IMAGE, base({ auditTrail: trail })));
    expect(err.message).toBe(
      "refusing to deploy sha256:cdcdcdcdcdcd… to prod: sha256:cdcdcdcdcdcd… has no recorded deploy to staging; staging is not healthy now: GET /healthz answered 503 after 2 attempts\n" +
        "hint: deploy this digest to staging first and let it pass there; pass the audit trail that recorded it (withAuditTrail: the database URL, or the previous run's audit.jsonl)",
    );
  });
});

describe("freezes:", () => {
  const FROZEN = `environments:\n  prod: { ${SERVICE}, requireApproval: false }\nfreezes:\n  - { name: year-end, reason: holiday freeze, timeZone: Europe/Berlin, from: "2026-11-19", to: "2026-11-23T09:00", environments: [prod] }\n`;

  it("refuses a deploy in the window with when it ends, and records the refusal with its decision", async () => {
    await use(FROZEN);
    const err = await failureOf(callDeploy(current, "prod", IMAGE, base()));
    expect(err.message).toMatch(
      /^refusing to deploy: prod is frozen by "year-end" \(holiday freeze\) until 2026-11-23 09:00 Europe\/Berlin \(2026-11-23T08:00:00Z\)\nhint: .*--freeze-override/,
    );
    const d = await settled(callDeploy(current, "prod", IMAGE, base({ failOnError: false })));
    expect(fake.calls).toEqual([]);
    const [started, completed] = await recordsOf(d);
    expect([started?.phase, completed?.phase, completed?.outcome]).toEqual(["started", "completed", "failed"]);
    expect(completed?.decisions.map((x) => [x.gate, x.verdict])).toEqual([["freeze", "failed"]]);
    expect(d.json.decisions.map((x) => x.verdict)).toEqual(["failed"]);
  });

  it("deploys with --freeze-override, the reason in the Deployment, the audit record and the notification", async () => {
    await use(FROZEN);
    const hook = await receiver();
    fake.nextDeployments({ outcome: "healthy", afterMs: 60_000 });
    const d = await settled(
      deployWith("prod", IMAGE, { ...base({ webhookUrl: secret("HOOK", hook.url) }), freezeOverride: "hotfix for INC-7" }),
    );
    expect(d.json.result).toBe("succeeded");
    const reason = /frozen by "year-end" .* overridden by ada: hotfix for INC-7$/;
    expect(d.json.decisions[0]).toMatchObject({ gate: "freeze", verdict: "overridden", reason: expect.stringMatching(reason) });
    const completed = (await recordsOf(d)).find((r) => r.phase === "completed");
    expect(completed?.decisions[0]?.reason).toMatch(reason);
    expect(hook.received).toHaveLength(1);
    const payload = JSON.parse(hook.received[0]?.body ?? "") as WebhookPayloadV1;
    expect(payload.decisions[0]).toMatchObject({ gate: "freeze", verdict: "overridden", reason: expect.stringMatching(reason) });
  });
});
