/**
 * metrics and prComment as `dagger call` runs them, each call a fresh module through the SDK's
 * invocation path: the audit trail read back from a JSON Lines File (one a deploy call returned,
 * passed on by its ID) and from the real Postgres into DORA tables and charts, and the gate table
 * posted to a stateful fake GitHub API (created once, then updated in place).
 */
import { dag } from "@dagger.io/dagger";
import { XMLParser } from "fast-xml-parser";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { DeliveryReport } from "../../deploy/src/report/delivery.js";
import { PostgresTrail } from "../../deploy/lib/trail/postgres.js";
import { serialiseJsonl, type AuditRecord } from "../../deploy/lib/trail/record.js";
import { FakeGithub } from "../github/fake-github.js";
import { drive, type Driven } from "../helpers/drive.js";
import { callDeploy, callWith } from "../helpers/ship-calls.js";
import { freshDatabase, type FreshDb } from "../trail/db.js";
import { pair } from "../trail/records.js";

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

// Three production deploys in the last weeks: two succeeded, one rolled back; one staging deploy.
const records = (): AuditRecord[] => [
  ...pair("run-1", daysAgo(20), "succeeded", { commitTimestamp: daysAgo(21) }),
  ...pair("run-2", daysAgo(12), "rolled back", { commitTimestamp: daysAgo(13) }),
  ...pair("run-3", daysAgo(5), "succeeded", { commitTimestamp: daysAgo(5.5) }),
  ...pair("run-4", daysAgo(4), "succeeded", { environment: "staging" }),
];

const GATES_OFF = `gates:
  lint: { enabled: false }
  typecheck: { enabled: false }
  test: { enabled: false }
  audit: { enabled: false }
`;

let current: Driven | undefined;
afterEach(() => current?.engine.uninstall());

const jsonlFile = (content: string) => dag.directory().withNewFile("audit.jsonl", content).file("audit.jsonl");

describe("metrics", () => {
  it("reads a JSON Lines trail and reports the DORA numbers with a chart per environment", async () => {
    current = await drive();
    const report = await callWith<DeliveryReport>(
      current,
      "metrics",
      { environment: "production", period: "week" },
      { auditTrail: jsonlFile(serialiseJsonl(records())) },
      "deploy",
    );
    const markdown = report.json.markdown;
    expect(markdown).toMatch(/production/);
    expect(markdown).toMatch(/33(\.3)?\s*%/); // 1 of 3 production deploys was a change failure
    expect(markdown).not.toMatch(/staging/);
    const files = await report.directory("files");
    const names = await files.entries();
    expect(names.sort()).toEqual(["metrics.json", "metrics.md", "metrics.txt", "production.svg"]);
    const svg = new XMLParser({ ignoreAttributes: false }).parse(await files.file("production.svg").contents()) as {
      svg: { "@_width": string; "@_height": string };
    };
    expect(Number(svg.svg["@_width"])).toBeGreaterThan(0);
    expect(Number(svg.svg["@_height"])).toBeGreaterThan(0);
    const json = JSON.parse(await files.file("metrics.json").contents()) as { environments: { environment: string }[] };
    expect(json.environments.map((e) => e.environment)).toEqual(["production"]);
  });

  it("without a trail it says what to pass", async () => {
    current = await drive();
    await expect(current.deploy.call("metrics")).rejects.toThrow(/audit trail[\s\S]*with-audit-trail --database-url=/);
    // The CI module has no metrics of its own: reading the trail is the deploy module's.
    await expect(current.call("metrics")).rejects.toThrow(/could not find method metrics|unknown/);
  });

  it("names a malformed line of the trail file by number: refused when nothing else is intact, else left out", async () => {
    current = await drive();
    const bad = '{"not": "a record"}\n';
    await expect(callWith(current, "metrics", { period: "week" }, { auditTrail: jsonlFile(bad) }, "deploy")).rejects.toThrow(/line 1/);
    // Among intact records (a run killed mid-write), the damaged line is reported and the rest still count.
    const warnings: string[] = [];
    const write = vi
      .spyOn(process.stderr, "write")
      .mockImplementation((chunk: string | Uint8Array) => (warnings.push(String(chunk)), true));
    try {
      const content = `${serialiseJsonl(records().slice(0, 2))}${bad}`;
      const report = await callWith<DeliveryReport>(current, "metrics", { period: "week" }, { auditTrail: jsonlFile(content) }, "deploy");
      expect(report.json.markdown).toMatch(/production/);
    } finally {
      write.mockRestore();
    }
    expect(warnings.join("")).toMatch(/metrics: warning: audit trail line 3 .*; left out of the metrics/);
  });

  it("reads the trail a refused deploy returned (what dagger/tests does in a real engine)", async () => {
    current = await drive({
      files: { "shipshape.yaml": "environments:\n  nowhere: { cluster: main, service: api, region: us-east-1, containerName: app }\n" },
    });
    // A verb on a name shipshape.yaml does not have is refused, naming the known ones (environment() only names it).
    await expect(callDeploy(current, "elsewhere", "registry.example.com/api:latest")).rejects.toThrow(
      /unknown environment "elsewhere" \(known: nowhere\)/,
    );
    // An image by tag alone is refused before any AWS call; with failOnError=false the Deployment comes back.
    const deployment = await callDeploy(current, "nowhere", "registry.example.com/api:latest", { actor: "ci-bot", failOnError: false });
    expect(deployment.json.result).toBe("failed");
    expect(deployment.json.reason).toMatch(/digest/i);
    // The next call gets the trail as `with-audit-trail --trail` does: the File the first call's state names by ID.
    const report = await callWith<DeliveryReport>(
      current,
      "metrics",
      { period: "week" },
      { auditTrail: await deployment.file("auditTrail") },
      "deploy",
    );
    expect((await (await report.directory("files")).entries()).sort()).toEqual([
      "metrics.json",
      "metrics.md",
      "metrics.txt",
      "nowhere.svg",
    ]);
    expect(report.json.markdown).toMatch(/nowhere/);
  });

  describe("from Postgres", () => {
    let db: FreshDb;
    beforeAll(async () => {
      db = await freshDatabase("shipshape_metrics");
      const trail = await PostgresTrail.open(db.url());
      for (const r of records()) await trail.append(r);
      await trail.close();
      process.env.SHIPSHAPE_TEST_AUDIT_URL = db.url();
    });
    afterAll(async () => {
      delete process.env.SHIPSHAPE_TEST_AUDIT_URL;
      await db.drop();
    });

    it("reports every environment read from the database", async () => {
      current = await drive();
      const report = await callWith<DeliveryReport>(
        current,
        "metrics",
        { period: "month" },
        { auditDatabaseUrl: dag.secret("env://SHIPSHAPE_TEST_AUDIT_URL") },
        "deploy",
      );
      const text = report.json.text;
      expect(text).toMatch(/production/);
      expect(text).toMatch(/staging/);
      expect((await (await report.directory("files")).entries()).sort()).toEqual([
        "metrics.json",
        "metrics.md",
        "metrics.txt",
        "production.svg",
        "staging.svg",
      ]);
    });
  });
});

describe("prComment", () => {
  let github: FakeGithub;
  beforeAll(async () => {
    github = await new FakeGithub().start();
    process.env.SHIPSHAPE_TEST_GH_TOKEN = github.token;
  });
  afterAll(async () => {
    delete process.env.SHIPSHAPE_TEST_GH_TOKEN;
    await github.stop();
  });

  it("creates one comment with the gate table, then updates it in place", async () => {
    const yaml = `${GATES_OFF}notifications:\n  github: { apiUrl: "${github.apiUrl}" }\n`;
    current = await drive({ files: { "shipshape.yaml": yaml } });
    const token = dag.secret("env://SHIPSHAPE_TEST_GH_TOKEN");
    const comment = async (runUrl: string) =>
      (
        await callWith<string>(
          current!,
          "prComment",
          { repository: "acme/shop", pullNumber: 7, githubToken: token },
          { runUrl, commitSha: "abcdef1234567" },
        )
      ).json;
    const first = await comment("https://github.com/acme/shop/actions/runs/1");
    expect(first).toMatch(/^comment created/);
    const second = await comment("https://github.com/acme/shop/actions/runs/2");
    expect(second).toMatch(/^comment (updated|unchanged)/);
    const comments = github.list("acme/shop", 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/lint[\s\S]*typecheck[\s\S]*test[\s\S]*audit/);
    expect(comments[0]!.body).toContain("runs/2");
    expect(first + second).not.toContain(github.token);
  });

  it("a refused token is a line in the output, not a failed job", async () => {
    const yaml = `${GATES_OFF}notifications:\n  github: { apiUrl: "${github.apiUrl}" }\n`;
    current = await drive({ files: { "shipshape.yaml": yaml } });
    process.env.SHIPSHAPE_TEST_GH_BAD = "ghs_wrong";
    const out = (
      await current.call<string>("prComment", {
        repository: "acme/shop",
        pullNumber: 7,
        githubToken: dag.secret("env://SHIPSHAPE_TEST_GH_BAD"),
      })
    ).json;
    expect(out).toMatch(/^comment not posted: .*\nhint: /);
    expect(out).not.toContain("ghs_wrong");
  });

  it("does nothing when comments are off", async () => {
    current = await drive({ files: { "shipshape.yaml": `${GATES_OFF}notifications:\n  github: { prComment: false }\n` } });
    const before = github.requests.length;
    const out = (
      await current.call<string>("prComment", {
        repository: "acme/shop",
        pullNumber: 8,
        githubToken: dag.secret("env://SHIPSHAPE_TEST_GH_TOKEN"),
      })
    ).json;
    expect(out).toMatch(/off/);
    expect(github.requests.length).toBe(before);
  });
});
