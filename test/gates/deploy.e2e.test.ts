/**
 * deploy, rollback and status through the function code: the signature is verified first
 * (cosign's command through the stub engine), then the stateful ECS fake plays the rollout on
 * fake time. Nothing changes in ECS for an unverified or tag-only image.
 */
import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { dag } from "@dagger.io/dagger";
import { mockClient } from "aws-sdk-client-mock";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { drive, type Driven } from "../helpers/drive.js";
import { DIGEST, FakeEcs, IMAGE, onFakeTime } from "../deploy/fake-ecs.js";

const YAML = `environments:
  staging: { cluster: main, service: api, region: us-east-1, containerName: app, progressDeadlineMinutes: 10 }
  production: { cluster: main, service: api, region: us-east-1, containerName: app }
`;
const verified = JSON.stringify([
  {
    critical: { identity: { "docker-reference": IMAGE.split("@")[0] }, image: { "docker-manifest-digest": DIGEST }, type: "x" },
    optional: {},
  },
]);

let fake: FakeEcs;
let current: Driven;
// Reading signatures from ECR needs a registry login, as with the real registry.
const ecr = mockClient(ECRClient);

beforeEach(async () => {
  current = await drive({ files: { "shipshape.yaml": YAML } });
  vi.useFakeTimers({ now: new Date("2026-11-20T10:00:00Z"), toFake: ["setTimeout", "clearTimeout", "Date"] });
  fake = new FakeEcs();
  fake.addService();
  ecr.on(GetAuthorizationTokenCommand).resolves({
    authorizationData: [
      {
        authorizationToken: Buffer.from("AWS:ecr-token").toString("base64"),
        proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
        expiresAt: new Date(Date.now() + 3600_000),
      },
    ],
  });
  process.env.SHIPSHAPE_TEST_AKID = "AKIAEXAMPLEEXAMPLE12";
  process.env.SHIPSHAPE_TEST_SAK = "s".repeat(40);
});
afterEach(() => {
  fake.restore();
  ecr.reset();
  vi.useRealTimers();
  current.engine.uninstall();
});

const aws = () => [dag.secret("env://SHIPSHAPE_TEST_AKID"), dag.secret("env://SHIPSHAPE_TEST_SAK")] as const;
const signed = () => current.engine.onExec((a) => a[0] === "cosign" && a[1] === "verify", { exitCode: 0, stdout: verified });
const deploy = (env: string, image: string, approve = false, limitMs = 12 * 3600_000) => {
  const [id, key] = aws();
  return onFakeTime(current.ship.deploy(env, image, approve, id, key, undefined, dag.secret("env://PUB"), "", "", true), 1000, limitMs);
};

describe("deploy", () => {
  it("verifies the signature, then rolls out the digest and returns the timeline", async () => {
    signed();
    fake.nextDeployments({ outcome: "healthy", afterMs: 120_000 });
    const d = await deploy("staging", IMAGE);
    expect(d.result).toBe("succeeded");
    expect(d.previousTaskDefinition).toMatch(/task-definition\/app:1$/);
    expect(d.taskDefinition).toMatch(/task-definition\/app:2$/);
    expect(d.timeline.length).toBeGreaterThan(2);
    expect(d.markdown()).toContain("## ✅ Deploy to staging: succeeded");
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
    const [id, key] = aws();
    const s = await onFakeTime(current.ship.status("staging", id, key));
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
    expect(d.timeline.some((l) => l.endsWith("smoke checks passed (1)"))).toBe(true);
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
    expect(err?.message).toMatch(/analysis error-rate: Failed \(0\.05\)/);
    expect(fake.service().taskDefinition).toMatch(/task-definition\/app:1$/);
  });
});
