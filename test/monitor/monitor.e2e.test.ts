/**
 * monitor and rescan as `dagger call ... environment --name=production monitor|rescan` runs them:
 * each call a fresh module through the SDK's invocation path (the stub engine validating every
 * query), the token a Secret, the result a GateReport whose sync fails the call while production
 * is unhealthy or runs a blocking vulnerability. GitHub is the stateful fake, the service a real
 * local HTTP server, ECS the stateful fake, Trivy the harness' fake with real reports.
 */
import { ECRClient } from "@aws-sdk/client-ecr";
import { dag } from "@dagger.io/dagger";
import { mockClient } from "aws-sdk-client-mock";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readMarker } from "../../deploy/lib/github/incident-marker.js";
import type { GateReport } from "../../src/report/gate-report.js";
import { FakeEcs, IMAGE } from "../deploy/fake-ecs.js";
import { FakeGithub } from "../github/fake-github.js";
import { fakeTrivy } from "../harness/fake-trivy.js";
import { dirOf, drive, type Driven } from "../helpers/drive.js";
import { FIXTURES } from "../helpers/fixture.js";
import { parseGateError } from "../helpers/gate-error.js";
import { allowEcrLogin } from "../helpers/signed-image.js";
import { callStatus, environmentOf, type ChainArgs } from "../helpers/ship-calls.js";
import { closeAll, receiver, type Receiver } from "../notify/receiver.js";
import { steppedMonitorYaml } from "./config.js";
import { deadRunAt20, CANARY, steppedFakes, type SteppedFakes } from "../deploy/stepped-fixture.js";
import { startRecord } from "../../deploy/lib/trail/builders.js";
import { openTrail } from "../../deploy/lib/trail/trail.js";
import { parseJsonl } from "../../deploy/lib/trail/record.js";
import { freshDatabase, type FreshDb } from "../trail/db.js";

let gh: FakeGithub;
let hook: Receiver;
let current: Driven | undefined;
let server: Server;
let healthy = true;
let base = "";

beforeEach(async () => {
  gh = await new FakeGithub().start();
  hook = await receiver();
  healthy = true;
  server = createServer((req, res) => {
    res.writeHead(healthy && req.url === "/healthz" ? 200 : 503, { connection: "close" }).end(healthy ? "ok" : "down");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.SHIPSHAPE_TEST_GH_TOKEN = gh.token;
  process.env.SHIPSHAPE_TEST_HOOK = hook.url;
});
afterEach(async () => {
  current?.engine.uninstall();
  await gh.stop();
  await closeAll();
  await new Promise((resolve) => server.close(resolve));
});

const yaml = () => `notifications:
  github: { apiUrl: "${gh.apiUrl}" }
environments:
  production:
    { cluster: main, service: api, region: us-east-1, containerName: app, smoke: { baseUrl: "${base}", checks: [{ name: health, path: /healthz, retries: 1 }] } }
`;
const chain = (): ChainArgs => ({
  webhookUrl: dag.secret("env://SHIPSHAPE_TEST_HOOK"),
  runUrl: "https://github.com/acme/shop/actions/runs/77",
});
/** `dagger call with-... environment --name=production <verb> --github-token=env://... --repository=acme/shop`, ended as the CLI ends it. */
async function verb(name: "monitor" | "rescan", a: ChainArgs = chain(), repository = "acme/shop") {
  const env = await environmentOf(current!, "production", a);
  const report = await env.call<GateReport>(name, { githubToken: dag.secret("env://SHIPSHAPE_TEST_GH_TOKEN"), repository });
  const ended = await report.leaf().then(
    () => undefined,
    (e: Error) => parseGateError(e.message),
  );
  return { report: report.json, failure: ended };
}

describe("environment monitor", () => {
  it("opens the incident and fails the call while production is down, then closes it and passes", async () => {
    current = await drive({ files: { "shipshape.yaml": yaml() } });
    healthy = false;
    const down = await verb("monitor");
    expect(down.report.status).toBe("failed");
    expect(down.failure).toMatchObject({ gate: "monitor", status: "FAILED" });
    expect(down.failure!.cause).toMatch(
      /^production is unhealthy: smoke checks failed: GET \/healthz answered 503 after 1 attempt; incident #9 opened$/,
    );
    expect(down.failure!.hint).toMatch(/issues\/9/);
    const [issue] = gh.issues.list("acme/shop");
    expect(readMarker(issue!.body ?? "")).toMatchObject({ environment: "production", kind: "health" });
    expect(issue!.body).toContain("([run](https://github.com/acme/shop/actions/runs/77))");
    expect(await (await dirOf(down.report.files)).entries()).toEqual(["monitor.json"]);
    expect(hook.received.map((r) => (JSON.parse(r.body) as { result: string }).result)).toEqual(["failed"]);

    healthy = true;
    const up = await verb("monitor");
    expect(up.failure).toBeUndefined();
    expect(up.report).toMatchObject({ status: "passed" });
    expect(up.report.summary).toMatch(/^production is healthy: smoke passed; incident #9 closed after \d+ min$/);
    expect(gh.issues.find("acme/shop", 9)?.state).toBe("closed");
    expect(hook.received).toHaveLength(2);
    // The token went in the Authorization header only: never in a request path, a body or the report.
    expect(gh.requests.every((r) => !r.path.includes(gh.token))).toBe(true);
    expect(JSON.stringify([down.report, up.report])).not.toContain(gh.token);
  });

  it("refuses a bad repository name before running a check, with one line and a hint", async () => {
    current = await drive({ files: { "shipshape.yaml": yaml() } });
    const bad = await verb("monitor", chain(), "acme");
    expect(bad.failure).toMatchObject({
      status: "ERROR",
      cause: '"acme" is not a repository name',
      hint: "pass --repository=owner/name, as in GITHUB_REPOSITORY",
    });
    expect(gh.requests).toEqual([]);
  });

  it("names the known environments for an unknown one", async () => {
    current = await drive({ files: { "shipshape.yaml": yaml() } });
    const env = await environmentOf(current, "prod", chain());
    const r = await env.call<GateReport>("monitor", { githubToken: dag.secret("env://SHIPSHAPE_TEST_GH_TOKEN"), repository: "acme/shop" });
    const failure = await r.leaf().then(
      () => undefined,
      (e: Error) => parseGateError(e.message),
    );
    expect(failure).toMatchObject({ status: "ERROR", cause: 'unknown environment "prod" (known: production)' });
  });
});

describe("environment rescan", () => {
  let fake: FakeEcs;
  const ecr = mockClient(ECRClient);
  beforeEach(() => {
    fake = new FakeEcs();
    fake.addService({}, { containerDefinitions: [{ name: "app", image: IMAGE, essential: true }] });
    allowEcrLogin(ecr);
    process.env.SHIPSHAPE_TEST_AKID = "AKIA" + "FAKEFAKE0EXAMPLE";
    process.env.SHIPSHAPE_TEST_SAK = "s".repeat(40);
  });
  afterEach(() => {
    fake.restore();
    ecr.reset();
  });
  const aws = (): ChainArgs => ({
    ...chain(),
    awsAccessKeyId: dag.secret("env://SHIPSHAPE_TEST_AKID"),
    awsSecretAccessKey: dag.secret("env://SHIPSHAPE_TEST_SAK"),
  });

  it("scans the digest production runs with today's DB, fails like scan-image and opens the incident", async () => {
    current = await drive({ files: { "shipshape.yaml": yaml() } });
    fakeTrivy(current.engine, { report: readFileSync(join(FIXTURES, "supply/trivy/alpine-39.json"), "utf8"), scanMs: 20 });
    const r = await verb("rescan", aws());
    expect(r.report.status).toBe("failed");
    expect(r.failure!.cause).toMatch(
      /^production runs 1 image \(.*api@sha256:abababababab…: 2 critical, 0 high\); 2 blocking findings, 2 new; incident #9 opened$/,
    );
    // The image pulled is the running digest, with the ECR login; the DB step carries today's date.
    const scan = current.engine.execs.find((e) => e.args[0] === "trivy" && e.args.includes("--input"))!;
    expect(scan).toBeDefined();
    const db = current.engine.execs.find((e) => e.args.includes("--download-db-only"))!;
    expect(db.env.SHIPSHAPE_TRIVY_DB_DAY).toBe(new Date().toISOString().slice(0, 10));
    expect(fake.calls.map((c) => c.command)).toEqual(["DescribeServices", "DescribeTaskDefinition"]);
    expect(ecr.calls().length).toBeGreaterThan(0); // the ECR login for the pull
    expect(readMarker(gh.issues.list("acme/shop")[0]!.body ?? "")?.findings).toEqual(["CVE-2019-14697 musl", "CVE-2019-14697 musl-utils"]);
    expect(await (await dirOf(r.report.files)).entries()).toEqual(["rescan.json", "scan.sarif", "trivy.json"]);

    // The same findings the next run: still failing, no new comment, no new notification.
    const again = await verb("rescan", aws());
    expect(again.failure!.cause).toMatch(/0 new; incident #9 unchanged$/);
    expect(gh.list("acme/shop", 9)).toEqual([]);
    expect(hook.received).toHaveLength(1);
  });

  it("asks for AWS credentials when the chain has none", async () => {
    current = await drive({ files: { "shipshape.yaml": yaml() } });
    const r = await verb("rescan");
    expect(r.failure).toMatchObject({ status: "ERROR" });
    expect(r.failure!.cause).toMatch(/no AWS credentials/);
    expect(fake.calls).toEqual([]);
  });
});

describe("a stepped canary a dead run left: monitor and status correct its record in with-audit-trail's trail", () => {
  let f: SteppedFakes;
  let db: FreshDb;
  beforeEach(async () => {
    f = steppedFakes();
    process.env.SHIPSHAPE_TEST_AKID = "AKIA" + "FAKEFAKE0EXAMPLE";
    process.env.SHIPSHAPE_TEST_SAK = "s".repeat(40);
    // The dead run's 'started' record in the database, its canary at 20% and its lock lapsed.
    db = await freshDatabase("shipshape_recovery_e2e");
    const seed = await openTrail({ databaseUrl: db.url(), required: true });
    await seed.append(startRecord({ runId: "gh-dead", kind: "deploy", environment: "production", actor: "ci" }));
    await seed.close();
    await deadRunAt20(f, Date.now() - 60_000);
    process.env.SHIPSHAPE_TEST_AUDIT_DB = db.url();
    current = await drive({ files: { "shipshape.yaml": steppedMonitorYaml(gh.apiUrl, base, f.rule) } });
  });
  afterEach(async () => {
    f.ecs.restore();
    f.elb.restore();
    delete process.env.SHIPSHAPE_TEST_AUDIT_DB;
    await db.drop();
  });
  const awsKeys = (): ChainArgs => ({
    awsAccessKeyId: dag.secret("env://SHIPSHAPE_TEST_AKID"),
    awsSecretAccessKey: dag.secret("env://SHIPSHAPE_TEST_SAK"),
  });
  const withDb = (): ChainArgs => ({ ...awsKeys(), auditDatabaseUrl: dag.secret("env://SHIPSHAPE_TEST_AUDIT_DB") });
  const canaryWeight = () => f.elb.weightsOf(f.rule).find((w) => w.arn === CANARY)?.weight;
  async function rows() {
    const check = await openTrail({ databaseUrl: db.url(), required: true });
    return check.read({ environment: "production" }).finally(() => check.close());
  }
  const CORRECTED = [
    ["gh-dead", "started", "unknown"],
    ["gh-dead", "correction", "rolled back"],
  ];

  it("the monitor ends it and corrects the record in the chained trail, which the call hands back too", async () => {
    const r = await verb("monitor", { ...chain(), ...withDb() });
    expect(r.failure!.cause).toMatch(/^production is unhealthy: a dead deploy run's stepped canary was ended by the monitor: run gh-dead/);
    expect(canaryWeight()).toBe(0);
    expect(r.report.findings).toContain("audit: run gh-dead's record corrected: rolled back (postgres)");
    const found = await rows();
    expect(found.map((x) => [x.runId, x.phase, x.outcome])).toEqual(CORRECTED);
    // The lock the monitor took and the correction carry one run id.
    expect(found[1]!.reason).toMatch(/found by run shipshape-[0-9a-f-]{36}: .*\(corrected by run shipshape-[0-9a-f-]{36} at /);
    const files = await dirOf(r.report.files);
    expect(await files.entries()).toEqual(["audit.jsonl", "monitor.json"]);
    const jsonl = parseJsonl(await files.file("audit.jsonl").contents(), "audit.jsonl");
    expect(jsonl.map((x) => x.phase)).toEqual(["correction"]);
    expect(JSON.stringify(r.report)).not.toContain(db.url());
  });

  it("status ends it too, and its correction goes to the database; with JSON Lines only it says it kept none", async () => {
    const out = (await callStatus(current!, "production", withDb())).json;
    expect(canaryWeight()).toBe(0);
    expect(out.split("\n")).toContain("audit: run gh-dead's record corrected: rolled back (postgres)");
    expect((await rows()).map((x) => [x.runId, x.phase, x.outcome])).toEqual(CORRECTED);

    // The same leftovers, no database: status returns text, so a JSON Lines correction would be lost.
    await deadRunAt20(f, Date.now() - 60_000);
    const text = (await callStatus(current!, "production", awsKeys())).json;
    expect(canaryWeight()).toBe(0);
    expect(text.split("\n").at(-1)).toMatch(
      /^audit: run gh-dead's record was not corrected: it ended as rolled back, but this call returns no file to keep a JSON Lines correction in \(chain with-audit-trail --database-url\)$/,
    );
  });
});
