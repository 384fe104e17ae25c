/**
 * The module's API as the engine will register it: the SDK's own scanner on src/, then the SDK's
 * own registration code against the stub engine (every typedef query validated by the schema).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { scanModule, type ScannedArg, type ScannedFunction, type ScannedModule } from "../harness/scan.js";
import { StubEngine } from "../harness/stub-engine.js";

let mod: ScannedModule;
beforeAll(async () => {
  mod = await scanModule();
}, 120_000);

const SDK = import.meta.resolve("@dagger.io/dagger");

// Argument groups the deploy functions share, in their order.
const AWS = [
  "awsAccessKeyId",
  "awsSecretAccessKey",
  "awsSessionToken",
  "awsWebIdentityToken",
  "awsRoleArn",
  "awsIdTokenRequestUrl",
  "awsIdTokenRequestToken",
];
const VERIFY = [
  "cosignPublicKey",
  "certificateIdentity",
  "certificateOidcIssuer",
  "insecureIgnoreTlog",
  "registryUsername",
  "registryPassword",
];
const RUN = [
  "auditDatabaseUrl",
  "auditTrail",
  "slackWebhook",
  "slackFailuresWebhook",
  "webhookUrl",
  "webhookSecret",
  "actor",
  "runUrl",
  "failOnError",
];

/** name -> [return type, isCheck, argument names]; the whole public surface of Shipshape. */
const SHIPSHAPE: Record<string, [string, boolean, string[]]> = {
  ci: ["STRING_KIND", false, []],
  ciReport: ["CiReport", false, []],
  lint: ["VOID_KIND", true, []],
  lintReport: ["GateReport", false, []],
  typecheck: ["VOID_KIND", true, []],
  typecheckReport: ["GateReport", false, []],
  test: ["VOID_KIND", true, []],
  testReport: ["GateReport", false, []],
  audit: ["VOID_KIND", true, []],
  auditReport: ["GateReport", false, []],
  migrations: ["VOID_KIND", false, ["base", "approveDestructive"]],
  migrationsReport: ["GateReport", false, ["base", "approveDestructive"]],
  commits: ["VOID_KIND", false, ["base", "head"]],
  commitsReport: ["GateReport", false, ["base", "head"]],
  version: ["ReleaseVersion", false, ["repoUrl"]],
  build: ["Container", false, ["platform"]],
  dockerfile: ["File", false, []],
  scanImage: ["VOID_KIND", true, ["platform"]],
  scanImageReport: ["GateReport", false, ["platform"]],
  scanDependencies: ["VOID_KIND", true, []],
  scanDependenciesReport: ["GateReport", false, []],
  sbom: ["File", false, ["platform"]],
  licenseCheck: ["VOID_KIND", true, ["platform"]],
  licenseCheckReport: ["GateReport", false, ["platform"]],
  publish: [
    "STRING_KIND",
    false,
    [
      "registry",
      "repository",
      "sha",
      "branch",
      "defaultBranch",
      "version",
      "registryUsername",
      "registryPassword",
      "awsAccessKeyId",
      "awsSecretAccessKey",
      "awsSessionToken",
    ],
  ],
  sign: [
    "STRING_KIND",
    false,
    [
      "ref",
      "cosignKey",
      "cosignPassword",
      "sigstoreIdToken",
      "registryUsername",
      "registryPassword",
      "awsAccessKeyId",
      "awsSecretAccessKey",
      "awsSessionToken",
      "allowHttpRegistry",
    ],
  ],
  verify: [
    "STRING_KIND",
    false,
    [
      "ref",
      "cosignPublicKey",
      "certificateIdentity",
      "certificateOidcIssuer",
      "insecureIgnoreTlog",
      "registryUsername",
      "registryPassword",
      "awsAccessKeyId",
      "awsSecretAccessKey",
      "awsSessionToken",
      "allowHttpRegistry",
      "provenance",
      "builderId",
    ],
  ],
  release: [
    "Release",
    false,
    [
      "registry",
      "repository",
      "sha",
      "branch",
      "defaultBranch",
      "version",
      "cosignKey",
      "cosignPassword",
      "sigstoreIdToken",
      "registryUsername",
      "registryPassword",
      "awsAccessKeyId",
      "awsSecretAccessKey",
      "awsSessionToken",
      "allowHttpRegistry",
      "builderId",
      "invocationId",
    ],
  ],
  deploy: ["Deployment", false, ["env", "image", "approve", ...AWS, ...VERIFY, ...RUN, "approver", "version", "commitSha", "repoUrl"]],
  rollback: ["Deployment", false, ["env", "to", ...AWS, ...RUN]],
  promote: ["Deployment", false, ["env", ...AWS, ...RUN]],
  abort: ["Deployment", false, ["env", ...AWS, ...RUN]],
  status: ["STRING_KIND", false, ["env", ...AWS]],
  metrics: ["DeliveryReport", false, ["environment", "period", "from", "to", "auditDatabaseUrl", "auditTrail"]],
  prComment: ["STRING_KIND", false, ["repository", "pullNumber", "githubToken", "runUrl", "commitSha"]],
  secretScan: ["VOID_KIND", true, []],
  secretScanReport: ["GateReport", false, []],
  config: ["STRING_KIND", false, []],
};

const typeName = (t: ScannedFunction["returnType"]) => t.name ?? t.kind;

function allFunctions(m: ScannedModule): [string, ScannedFunction][] {
  return Object.values(m.objects).flatMap((o) => [
    ...Object.values(o.methods).map((f): [string, ScannedFunction] => [`${o.name}.${f.name}`, f]),
    ...(o._constructor ? [[`${o.name}.constructor`, o._constructor] as [string, ScannedFunction]] : []),
  ]);
}

describe("API contract (SDK scanner on src/)", () => {
  it("exposes the Shipshape object with a module description", () => {
    expect(mod.name).toBe("Shipshape");
    expect(mod.description).toMatch(/^Shipshape: a hardened CI\/CD pipeline/);
    expect(Object.keys(mod.objects).sort()).toEqual([
      "CiReport",
      "DeliveryReport",
      "DeployDecision",
      "Deployment",
      "GateMetric",
      "GateReport",
      "Release",
      "ReleaseVersion",
      "Shipshape",
    ]);
  });

  it("takes the source from the repository root without node_modules, and a config path", () => {
    const args = mod.objects.Shipshape!._constructor!.arguments;
    expect(Object.keys(args)).toEqual(["source", "configPath", "gitDir"]);
    // Contextual directories drop .git by default; history functions get it, and only it.
    expect(args.gitDir).toMatchObject({
      type: { kind: "OBJECT_KIND", name: "Directory" },
      defaultPath: "/",
      ignore: ["*", "!.git", "!.git/**"],
    });
    expect(args.source!.type).toMatchObject({ kind: "OBJECT_KIND", name: "Directory" });
    expect(args.source!.defaultPath).toBe("/");
    expect(args.source!.ignore).toEqual(["**/node_modules", "**/.turbo", ".shipshape", ".git"]);
    expect(args.configPath).toMatchObject({ type: { kind: "STRING_KIND" }, defaultValue: "shipshape.yaml" });
  });

  it("has exactly the documented functions, with their return types and checks", () => {
    const methods = mod.objects.Shipshape!.methods;
    expect(Object.keys(methods).sort()).toEqual(Object.keys(SHIPSHAPE).sort());
    for (const [name, [ret, isCheck, args]] of Object.entries(SHIPSHAPE)) {
      const f = methods[name]!;
      expect(typeName(f.returnType), name).toBe(ret);
      expect(Boolean(f.isCheck), `${name} isCheck`).toBe(isCheck);
      expect(Object.keys(f.arguments), name).toEqual(args);
    }
  });

  it("documents every function in exactly one line", () => {
    for (const [name, f] of allFunctions(mod).filter(([n]) => !n.endsWith(".constructor"))) {
      expect(f.description, name).toMatch(/^\S.{10,140}$/);
    }
  });

  it("lets the PR workflow narrow and approve migrations, both optional", () => {
    for (const name of ["migrations", "migrationsReport"]) {
      const args = mod.objects.Shipshape!.methods[name]!.arguments;
      expect(args.base).toMatchObject({ type: { kind: "STRING_KIND" }, defaultValue: "" });
      expect(args.base!.description).toMatch(/^Only check migrations changed against this git ref/);
      expect(args.approveDestructive).toMatchObject({ type: { kind: "BOOLEAN_KIND" }, defaultValue: false });
    }
  });

  it("needs a base for the commit range and exposes the release as fields", () => {
    const commits = mod.objects.Shipshape!.methods.commits!.arguments;
    expect(commits.base).toMatchObject({ type: { kind: "STRING_KIND" }, isOptional: false });
    expect(commits.base!.defaultValue).toBeUndefined();
    expect(commits.head).toMatchObject({ defaultValue: "HEAD" });
    const release = mod.objects.ReleaseVersion!;
    expect(Object.keys(release.properties).sort()).toEqual(["bump", "changelog", "current", "gitTag", "imageTags", "next", "reasons"]);
    expect(release.properties.imageTags!.type).toMatchObject({ kind: "LIST_KIND" });
    expect(Object.keys(release.methods)).toEqual(["released"]);
  });

  it("checks take no required argument (dagger check calls them bare)", () => {
    for (const f of Object.values(mod.objects.Shipshape!.methods).filter((m) => m.isCheck)) {
      const required = Object.values(f.arguments).filter((a) => !a.isOptional && a.defaultValue === undefined && !a.defaultPath);
      expect(required, f.name).toEqual([]);
    }
  });

  it("takes every credential of publish, sign and verify as an optional Secret", () => {
    for (const fn of ["publish", "sign", "verify", "release", "deploy"]) {
      const args = Object.values(mod.objects.Shipshape!.methods[fn]!.arguments).filter((a) => /password|key|token/i.test(a.name));
      expect(args.length, fn).toBeGreaterThanOrEqual(4);
      for (const a of args) expect([fn, a.name, a.type.name, a.isOptional || a.isNullable]).toEqual([fn, a.name, "Secret", true]);
    }
  });

  it("takes credentials only as Secret", () => {
    const credential = /token|password|passwd|secret|key|credential/i;
    const offenders: string[] = [];
    for (const [name, f] of allFunctions(mod)) {
      for (const a of Object.values<ScannedArg>(f.arguments)) {
        if (credential.test(a.name) && a.type.name !== "Secret") offenders.push(`${name}(${a.name}: ${a.type.name ?? a.type.kind})`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("marks side-effect functions cache: never", () => {
    // A verb on its own or followed by a capital (signDigest, deployService), not released().
    const sideEffect = /^(publish|sign|attest|deploy|rollback|release|promote|abort)([A-Z]|$)/;
    for (const [name, f] of allFunctions(mod)) {
      if (sideEffect.test(name.split(".")[1]!)) expect(f.cache, name).toBe("never");
    }
  });

  it("gives every Shipshape function a deliberate cache policy", () => {
    // default: the engine's 7-day cache keyed on inputs (pure); 24h: reads a network database or
    // judges expiry against the clock; never: side effects and live reads.
    const DAY = ["ci", "ciReport", "audit", "auditReport", "scanImage", "scanImageReport", "scanDependencies"];
    DAY.push("scanDependenciesReport", "licenseCheck", "licenseCheckReport");
    const NEVER = ["publish", "sign", "verify", "release", "deploy", "rollback", "promote", "abort", "status", "metrics", "prComment"];
    const policies = Object.fromEntries(
      Object.entries(mod.objects.Shipshape!.methods).map(([n, f]) => [n, (f as ScannedFunction).cache ?? "default"]),
    );
    const expected = Object.fromEntries(
      Object.keys(policies).map((n) => [n, NEVER.includes(n) ? "never" : DAY.includes(n) ? "24h" : "default"]),
    );
    expect(policies).toEqual(expected);
    // Nothing is left at the default that reads the network or the clock.
    expect([...DAY, ...NEVER].every((n) => n in policies)).toBe(true);
  });

  it("exposes the report objects' fields and the GateStatus enum", () => {
    const report = mod.objects.GateReport!;
    expect(Object.keys(report.properties).sort()).toEqual([
      "cause",
      "durationMs",
      "files",
      "findings",
      "gate",
      "hint",
      "log",
      "metrics",
      "status",
      "summary",
    ]);
    expect(report.properties.status!.type).toMatchObject({ kind: "ENUM_KIND", name: "GateStatus" });
    expect(Object.keys(report.methods).sort()).toEqual(["markdown", "passed"]);
    expect(Object.keys(mod.objects.CiReport!.methods).sort()).toEqual(["files", "markdown", "passed", "table"]);
    const values = Object.values(mod.enums.GateStatus!.values).map((v) => v.value);
    expect(values).toEqual(["PASSED", "FAILED", "ERROR", "SKIPPED"]);
  });

  it("registers through the SDK's own Register with queries the v0.21.8 engine accepts", async () => {
    const engine = await new StubEngine().install();
    try {
      const { Register } = (await import(new URL("./module/entrypoint/register.js", SDK).href)) as {
        Register: new (m: ScannedModule) => { run(): Promise<string> };
      };
      const id = await new Register(mod).run();
      expect(id).toMatch(/^Module#/);
      const text = engine.queries.map((q) => q.text).join("\n");
      expect(text).toContain('withObject (name: "Shipshape"');
      expect(text).toContain('withEnum (name: "GateStatus"');
      expect(text).toContain("withCheck");
    } finally {
      engine.uninstall();
    }
  });
});
