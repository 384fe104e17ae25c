/**
 * deploy, promote, abort and status as `dagger call` runs them, each call a fresh module through
 * the SDK's invocation path: the signature is verified first (cosign's command through the stub
 * engine), then the stateful ECS fake plays the rollout on fake time. Nothing changes in ECS for
 * an unverified or tag-only image.
 */
import { ECRClient } from "@aws-sdk/client-ecr";
import { dag } from "@dagger.io/dagger";
import { mockClient } from "aws-sdk-client-mock";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { drive, type Driven } from "../helpers/drive.js";
import { callAbort, callDeploy, callPromote, callStatus, markdownOf, onFakeClock } from "../helpers/ship-calls.js";
import { allowEcrLogin, VERIFIED } from "../helpers/signed-image.js";
import { ALB_WITH_ADVANCED_CONFIG, FakeEcs, IMAGE, onFakeTime, trackFetches } from "../deploy/fake-ecs.js";

const YAML = `environments:
  staging: { cluster: main, service: api, region: us-east-1, containerName: app, progressDeadlineMinutes: 10 }
  production: { cluster: main, service: api, region: us-east-1, containerName: app }
`;
const verified = VERIFIED;

let fake: FakeEcs;
let current: Driven;
// Reading signatures from ECR needs a registry login, as with the real registry.
const ecr = mockClient(ECRClient);

beforeEach(async () => {
  current = await drive({ files: { "shipshape.yaml": YAML } });
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
  allowEcrLogin(ecr);
  process.env.SHIPSHAPE_TEST_AKID = "AKIAFAKEFAKE0EXAMPLE";
  process.env.SHIPSHAPE_TEST_SAK = "s".repeat(40);
});
afterEach(() => {
  fake.restore();
  ecr.reset();
  vi.useRealTimers();
  current.engine.uninstall();
});

const aws = () => [dag.secret("env://SHIPSHAPE_TEST_AKID"), dag.secret("env://SHIPSHAPE_TEST_SAK")] as const;
const creds = () => ({ awsAccessKeyId: aws()[0], awsSecretAccessKey: aws()[1] });
const signed = () => current.engine.onExec((a) => a[0] === "cosign" && a[1] === "verify", { exitCode: 0, stdout: verified });
/** A call on fake time, the clock held while its fresh module loads (see onFakeClock). */
const clocked = <T>(call: Promise<T>, limitMs = 12 * 3600_000) => onFakeClock(call, (p) => onFakeTime(p, 1000, limitMs));
const verify = () => ({ cosignPublicKey: dag.secret("env://PUB"), insecureIgnoreTlog: true });
/** `dagger call deploy --env <env> --image <image> [--approve]` with static keys and the key-based signature check. */
const deploy = (env: string, image: string, approve = false, limitMs = 12 * 3600_000) =>
  clocked(callDeploy(current, env, image, { approve, ...creds(), ...verify() }), limitMs);

describe("deploy", () => {
  it("verifies the signature, then rolls out the digest and returns the timeline", async () => {
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 120_000 });
    const d = await deploy("staging", IMAGE);
    expect(d.json.result).toBe("succeeded");
    expect(d.json.previousTaskDefinition).toMatch(/task-definition\/app:1$/);
    expect(d.json.taskDefinition).toMatch(/task-definition\/app:2$/);
    expect(d.json.timeline.length).toBeGreaterThan(2);
    expect(await markdownOf(d)).toContain("## ✅ Deploy to staging: succeeded");
    expect(current.engine.execs.map((e) => e.args[1])).toEqual(["verify"]);
    expect(fake.calls.map((c) => c.command)).toContain("UpdateService");
  });

  it("refuses an unsigned image before touching ECS", async () => {
    current.engine.onExec((a) => a[1] === "verify", { exitCode: 10, stderr: "Error: no signatures found" });
    await expect(deploy("staging", IMAGE)).rejects.toThrow(/^refusing to deploy .*: no signatures found for sha256:/);
    expect(fake.calls).toEqual([]);
  });

  it("refuses a tag without a digest before verifying anything", async () => {
    await expect(deploy("staging", "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.4.0")).rejects.toThrow(/sign and deploy by digest/);
    expect(current.engine.execs).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it("names the known environments for an unknown one", async () => {
    await expect(deploy("prod", IMAGE)).rejects.toThrow('unknown environment "prod" (known: staging, production)');
  });

  it("requires an approval for a production environment", async () => {
    signed();
    await expect(deploy("production", IMAGE)).rejects.toThrow(/approv/i);
    expect(fake.calls.map((c) => c.command)).not.toContain("UpdateService");
  });

  it("fails with what happened when ECS rolls the deployment back, leaving the previous revision", async () => {
    signed();
    fake.nextDeployments({ outcome: "unhealthy", failAfterMs: 60_000, rollbackMs: 60_000 });
    const err = await deploy("staging", IMAGE).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^deploy to staging rolled back: /);
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:1$/);
  });
});

describe("status", () => {
  it("says which revision runs and how many tasks", async () => {
    const s = (await clocked(callStatus(current, "staging", creds()))).json;
    expect(s).toMatch(/^staging: api in main \(us-east-1\)\nrevision: .*app:1\ntasks: \d+ running \/ \d+ desired/);
  });
});

describe("deploy with smoke checks", () => {
  let server: Server;
  let healthy = true;
  const listen = () =>
    new Promise<string>((resolve) => {
      server = createServer((req, res) => {
        res.writeHead(healthy && req.url === "/healthz" ? 200 : 503, { connection: "close" }).end(healthy ? "ok" : "down");
      }).listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    });
  const smokeYaml = (url: string) =>
    `environments:\n  staging:\n    { cluster: main, service: api, region: us-east-1, containerName: app, smoke: { baseUrl: "${url}", checks: [{ name: health, path: /healthz, retries: 2 }] } }\n`;

  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it("passes when the new revision answers", async () => {
    healthy = true;
    current.engine.uninstall();
    current = await drive({ files: { "shipshape.yaml": smokeYaml(await listen()) } });
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 60_000 });
    const d = await deploy("staging", IMAGE);
    // Rolling judges at its PAUSE hook (POST_PRODUCTION_TRAFFIC_SHIFT), then continues the deployment.
    expect(
      d.json.timeline.some((l) => /ContinueServiceDeployment\(CONTINUE\) at POST_PRODUCTION_TRAFFIC_SHIFT .*: smoke passed$/.test(l)),
    ).toBe(true);
  });

  it("rolls back to the previous revision when the smoke checks fail", async () => {
    healthy = false;
    current.engine.uninstall();
    current = await drive({ files: { "shipshape.yaml": smokeYaml(await listen()) } });
    signed();
    const err = await deploy("staging", IMAGE).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^deploy to staging rolled back: smoke checks failed: GET \/healthz answered 503 after 2 attempts; rolled back to .*app:1/,
    );
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:1$/);
  });
});

describe("deploy with metric analysis", () => {
  let prom: Server;
  afterEach(() => new Promise<void>((r) => prom.close(() => r())));

  it("rolls back when the error rate breaches the threshold after the rollout", async () => {
    // A Prometheus query API answering a 5% error rate (the real Prometheus is in test/deploy/analysis.test.ts).
    const url = await new Promise<string>((resolve) => {
      prom = createServer((_req, res) => {
        const body = { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [Date.now() / 1000, "0.05"] }] } };
        res.writeHead(200, { "content-type": "application/json", connection: "close" }).end(JSON.stringify(body));
      }).listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(prom.address() as AddressInfo).port}`));
    });
    const yaml = `environments:\n  staging:\n    cluster: main\n    service: api\n    region: us-east-1\n    containerName: app\n    analysis:\n      metrics:\n        - name: error-rate\n          provider: { prometheus: { address: "${url}", query: "sum(rate(errors[1m]))" } }\n          successCondition: { op: "<=", threshold: 0.01 }\n          interval: 10s\n          count: 3\n`;
    current.engine.uninstall();
    current = await drive({ files: { "shipshape.yaml": yaml } });
    signed();
    const err = await deploy("staging", IMAGE).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^deploy to staging rolled back: analysis failed: .*; rolled back to .*app:1/);
    expect(err?.message).toMatch(/error-rate: measured 0\.05/);
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:1$/);
  });
});

describe("progressive deploys through the function code", () => {
  let server: Server;
  let untrack: () => void;
  const hits: string[] = [];
  let testHealthy = true;
  const listen = () =>
    new Promise<string>((resolve) => {
      server = createServer((req, res) => {
        const isTest = req.headers.host?.startsWith("localhost") ?? false; // the test listener is reached as localhost
        hits.push(isTest ? "test" : "production");
        const ok = req.url === "/healthz" && (!isTest || testHealthy);
        res.writeHead(ok ? 200 : 503, { connection: "close" }).end(ok ? "ok" : "down");
      }).listen(0, "127.0.0.1", () => resolve(String((server.address() as AddressInfo).port)));
    });
  const yaml = (port: string, extra = "") =>
    `environments:\n  staging:\n    cluster: main\n    service: api\n    region: us-east-1\n    containerName: app\n    strategy: blue-green\n    bakeTimeMinutes: 1\n${extra}    smoke: { baseUrl: "http://127.0.0.1:${port}", testUrl: "http://localhost:${port}", checks: [{ name: health, path: /healthz, retries: 2 }] }\n`;
  const use = async (text: string) => {
    current.engine.uninstall();
    current = await drive({ files: { "shipshape.yaml": text } });
    signed();
    fake.service().loadBalancers = [ALB_WITH_ADVANCED_CONFIG];
  };

  beforeEach(() => {
    hits.length = 0;
    testHealthy = true;
    untrack = trackFetches();
  });
  afterEach(() => {
    untrack();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it("blue/green: smoke-checks the test listener inside ECS's PAUSE hook, then production, and reports the decisions", async () => {
    await use(yaml(await listen()));
    const d = await deploy("staging", IMAGE);
    expect(d.json.result).toBe("succeeded");
    expect(d.json.strategy).toBe("blue-green");
    expect(hits).toEqual(["test", "production"]);
    expect(d.json.decisions.map((x) => [x.gate, x.stage, x.verdict])).toEqual([
      ["smoke", "POST_TEST_TRAFFIC_SHIFT", "passed"],
      ["smoke", "POST_PRODUCTION_TRAFFIC_SHIFT", "passed"],
    ]);
    expect(d.json.decisions[0]?.values).toEqual(["health status=200", "health attempts=1"]);
    expect(await markdownOf(d)).toContain(
      "| smoke | POST_TEST_TRAFFIC_SHIFT |  | passed | health status=200, health attempts=1 | test listener: all 1 smoke checks passed |",
    );
    expect(fake.calls.filter((c) => c.command === "ContinueServiceDeployment")).toHaveLength(2);
  });

  it("blue/green: a failing test listener rolls back before production traffic", async () => {
    testHealthy = false;
    await use(yaml(await listen()));
    const err = await deploy("staging", IMAGE).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      /^deploy to staging rolled back: smoke checks failed on the test listener: GET \/healthz answered 503 after 2 attempts/,
    );
    expect(hits).toEqual(["test", "test"]);
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:1$/);
  });

  it("manual promotion: the deploy pauses at the gate, promote finishes it; abort rolls a paused one back", async () => {
    await use(yaml(await listen(), "    promotion: manual\n"));
    const paused = await deploy("staging", IMAGE);
    expect(paused.json.result).toBe("paused");
    expect(await markdownOf(paused)).toContain(
      "- **Paused at:** POST_TEST_TRAFFIC_SHIFT (0% production traffic): run `promote` or `abort`",
    );
    expect(hits).toEqual(["test"]); // the gate ran its test-listener check, then held for a human

    const done = await clocked(callPromote(current, "staging", creds()));
    expect(done.json.result).toBe("succeeded");
    expect(done.json.decisions.map((x) => [x.gate, x.verdict])).toEqual([
      ["approval", "approved"],
      ["smoke", "passed"],
    ]);
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:2$/);

    expect((await deploy("staging", IMAGE)).json.result).toBe("paused");
    const back = await clocked(callAbort(current, "staging", creds()));
    expect(back.json.result).toBe("rolled back");
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:2$/); // the revision before the aborted one
  });
});
