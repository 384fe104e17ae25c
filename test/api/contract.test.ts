/**
 * The two modules' APIs as the engine will register them: the SDK's own scanner on each module's
 * src/ (the CI module's src/, the deploy module's deploy/src/), then the SDK's own registration code
 * against the stub engine (every typedef query validated by the schema).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DEPLOY_MODULE, scanModule, type ScannedArg, type ScannedFunction, type ScannedModule } from "../harness/scan.js";
import { parseChain, type Call } from "../harness/schema.js";
import { StubEngine } from "../harness/stub-engine.js";

let mod: ScannedModule;
let dep: ScannedModule;
beforeAll(async () => {
  [mod, dep] = await Promise.all([scanModule(), scanModule(DEPLOY_MODULE)]);
}, 120_000);

const SDK = import.meta.resolve("@dagger.io/dagger");

/** name -> [return type, isCheck, argument names]; the whole public surface of Shipshape. */
const SHIPSHAPE: Record<string, [string, boolean, string[]]> = {
  // Chained settings: credentials and run context, set once (deploy/src/settings.ts).
  withAws: [
    "Shipshape",
    false,
    ["accessKeyId", "secretAccessKey", "sessionToken", "roleArn", "webIdentityToken", "idTokenRequestUrl", "idTokenRequestToken"],
  ],
  withRegistry: ["Shipshape", false, ["address", "username", "password", "plainHttp"]],
  withSigner: ["Shipshape", false, ["key", "password", "idToken", "idTokenRequestUrl", "idTokenRequestToken"]],
  withVerifier: ["Shipshape", false, ["publicKey", "certificateIdentity", "certificateOidcIssuer", "insecureIgnoreTlog"]],
  withAuditTrail: ["Shipshape", false, ["databaseUrl", "trail"]],
  withRun: ["Shipshape", false, ["actor", "runUrl", "commitSha", "branch", "defaultBranch", "version", "repoUrl"]],
  // Gates: one name each, returning the report, whose sync fails the call when the gate did.
  ci: ["CiReport", false, []],
  lint: ["GateReport", true, []],
  typecheck: ["GateReport", true, []],
  test: ["GateReport", true, []],
  audit: ["GateReport", true, []],
  migrations: ["GateReport", false, ["gitDir", "base", "approveDestructive"]],
  commits: ["GateReport", false, ["gitDir", "base", "head"]],
  secretScan: ["GateReport", true, ["gitDir"]],
  sast: ["GateReport", true, []],
  scanImage: ["GateReport", true, ["platform"]],
  scanDependencies: ["GateReport", true, []],
  licenseCheck: ["GateReport", true, ["platform"]],
  // Not a check: it needs a live URL (part of ci with lighthouse.ci).
  lighthouse: ["GateReport", false, ["url", "environment"]],
  // Supply chain.
  version: ["ReleaseVersion", false, ["gitDir"]],
  build: ["Container", false, ["platform"]],
  dockerfile: ["File", false, []],
  sbom: ["File", false, ["platform"]],
  publish: ["STRING_KIND", false, ["gitDir", "registry", "repository"]],
  sign: ["STRING_KIND", false, ["ref"]],
  verify: ["STRING_KIND", false, ["ref", "provenance", "builderId"]],
  release: ["Release", false, ["gitDir", "registry", "repository", "builderId"]],
  prComment: ["STRING_KIND", false, ["repository", "pullNumber", "githubToken"]],
  config: ["STRING_KIND", false, []],
  // The generator (lib/generate/): a changeset for dagger generate, the files, and the diff against what exists.
  scaffold: ["Changeset", false, ["repo", "ref"]],
  init: ["Directory", false, ["force", "repo", "ref", "measureCoverage"]],
  initDiff: ["STRING_KIND", false, ["repo", "ref", "measureCoverage"]],
};

/** The deploy module's root (deploy/src/index.ts): its chained settings, the Environment, metrics. */
const DEPLOY: Record<string, [string, boolean, string[]]> = {
  withAws: [
    "ShipshapeDeploy",
    false,
    ["accessKeyId", "secretAccessKey", "sessionToken", "roleArn", "webIdentityToken", "idTokenRequestUrl", "idTokenRequestToken"],
  ],
  withRegistry: ["ShipshapeDeploy", false, ["address", "username", "password", "plainHttp"]],
  withVerifier: ["ShipshapeDeploy", false, ["publicKey", "certificateIdentity", "certificateOidcIssuer", "insecureIgnoreTlog"]],
  withAuditTrail: ["ShipshapeDeploy", false, ["databaseUrl", "trail"]],
  withNotifications: [
    "ShipshapeDeploy",
    false,
    ["slackWebhook", "slackFailuresWebhook", "webhookUrl", "webhookSecret", "teamsWebhook", "pagerdutyRoutingKey", "smtpPassword"],
  ],
  withRun: ["ShipshapeDeploy", false, ["actor", "runUrl", "commitSha", "branch", "defaultBranch", "version", "repoUrl", "approver"]],
  // Deploys live on the Environment; delivery metrics across every environment here.
  environment: ["Environment", false, ["name"]],
  metrics: ["DeliveryReport", false, ["environment", "period", "from", "to"]],
};

/** The Environment's verbs, the same shape. */
const ENVIRONMENT: Record<string, [string, boolean, string[]]> = {
  deploy: ["Deployment", false, ["image", "approve", "failOnError", "gitDir", "freezeOverride"]],
  rollback: ["Deployment", false, ["to", "failOnError", "gitDir"]],
  promote: ["Deployment", false, ["failOnError", "gitDir"]],
  abort: ["Deployment", false, ["failOnError", "gitDir"]],
  status: ["STRING_KIND", false, []],
  metrics: ["DeliveryReport", false, ["period", "from", "to"]],
  monitor: ["HealthReport", false, ["githubToken", "repository"]],
  rescan: ["HealthReport", false, ["githubToken", "repository"]],
};

const typeName = (t: ScannedFunction["returnType"]) => t.name ?? t.kind;

function allFunctions(...ms: ScannedModule[]): [string, ScannedFunction][] {
  return ms
    .flatMap((m) => Object.values(m.objects))
    .flatMap((o) => [
      ...Object.values(o.methods).map((f): [string, ScannedFunction] => [`${o.name}.${f.name}`, f]),
      ...(o._constructor ? [[`${o.name}.constructor`, o._constructor] as [string, ScannedFunction]] : []),
    ]);
}

describe("API contract (SDK scanner on src/ and deploy/src/)", () => {
  it("exposes the Shipshape object with a module description", () => {
    expect(mod.name).toBe("Shipshape");
    expect(mod.description).toMatch(/^Shipshape: a hardened CI\/CD pipeline/);
    expect(Object.keys(mod.objects).sort()).toEqual(
      ["CiReport", "GateMetric", "GateReport", "Release", "ReleasePlatform", "ReleaseVersion", "Shipshape"].sort(),
    );
  });

  it("exposes the deploy module's own objects: none of the CI module's, so each registers alone", () => {
    expect(dep.name).toBe("ShipshapeDeploy");
    expect(dep.description).toMatch(/^Shipshape's deploy module: an image digest to AWS ECS/);
    expect(Object.keys(dep.objects).sort()).toEqual(
      ["DeliveryReport", "DeployDecision", "Deployment", "Environment", "HealthReport", "ShipshapeDeploy"].sort(),
    );
    expect(Object.keys(dep.objects).filter((o) => o in mod.objects)).toEqual([]);
  });

  it("takes the source from the repository root without node_modules, and a config path", () => {
    const args = mod.objects.Shipshape!._constructor!.arguments;
    expect(Object.keys(args)).toEqual(["source", "configPath"]);
    // History is each history function's own contextual argument, .git and only it: kept out of
    // the root object, a commit does not change the parent of every call (the function cache key).
    const history = Object.entries(mod.objects.Shipshape!.methods).filter(([, f]) => "gitDir" in f.arguments);
    expect(history.map(([n]) => n).sort()).toEqual(["commits", "migrations", "publish", "release", "secretScan", "version"].sort());
    const envHistory = Object.entries(dep.objects.Environment!.methods).filter(([, f]) => "gitDir" in f.arguments);
    expect(envHistory.map(([n]) => n).sort()).toEqual(["abort", "deploy", "promote", "rollback"]);
    for (const [name, f] of [...history, ...envHistory]) {
      expect(f.arguments.gitDir, name).toMatchObject({
        type: { kind: "OBJECT_KIND", name: "Directory" },
        defaultPath: "/",
        ignore: ["*", "!.git", "!.git/**"],
      });
    }
    expect(args.source!.type).toMatchObject({ kind: "OBJECT_KIND", name: "Directory" });
    expect(args.source!.defaultPath).toBe("/");
    expect(args.source!.ignore).toEqual(["**/node_modules", "**/.turbo", ".shipshape", ".git"]);
    expect(args.configPath).toMatchObject({ type: { kind: "STRING_KIND" }, defaultValue: "shipshape.yaml" });
    // The deploy module reads the same repository the same way: the same shipshape.yaml, the same source.
    const registered = (a: object) => JSON.parse(JSON.stringify(a)) as unknown; // what the engine is sent
    expect(registered(dep.objects.ShipshapeDeploy!._constructor!.arguments)).toEqual(registered(args));
  });

  it("has exactly the documented functions, with their return types and checks, none with more than 8 arguments", () => {
    for (const [m, object, table] of [
      [mod, "Shipshape", SHIPSHAPE],
      [dep, "ShipshapeDeploy", DEPLOY],
      [dep, "Environment", ENVIRONMENT],
    ] as const) {
      const methods = m.objects[object]!.methods;
      expect(Object.keys(methods).sort()).toEqual(Object.keys(table).sort());
      for (const [name, [ret, isCheck, args]] of Object.entries(table)) {
        const f = methods[name]!;
        expect(typeName(f.returnType), name).toBe(ret);
        expect(Boolean(f.isCheck), `${name} isCheck`).toBe(isCheck);
        expect(Object.keys(f.arguments), name).toEqual(args);
      }
    }
    for (const [name, f] of allFunctions(mod, dep)) expect(Object.keys(f.arguments).length, name).toBeLessThanOrEqual(8);
  });

  it("carries chained settings as private state, the same on the deploy root and the Environment", () => {
    // Plain fields (no @func): serialized with the object, not registered as API fields (deploy/src/settings.ts).
    const ci = mod.objects.Shipshape!.properties;
    const root = dep.objects.ShipshapeDeploy!.properties;
    const env = dep.objects.Environment!.properties;
    const exposed = (p: Record<string, { isExposed?: boolean }>) => Object.keys(p).filter((k) => p[k]!.isExposed);
    expect(exposed(ci).sort()).toEqual(["configPath", "source"]);
    expect(exposed(root).sort()).toEqual(["configPath", "source"]);
    expect(exposed(env)).toEqual(["name"]);
    const shared = Object.keys(env).filter((k) => k !== "name");
    expect(shared.length).toBeGreaterThan(25);
    for (const k of shared) expect([k, env[k]!.type], k).toEqual([k, root[k]!.type]);
    const only = (a: object, b: object) =>
      Object.keys(a)
        .filter((k) => !(k in b))
        .sort();
    // The CI module alone holds the signer: the deploy module never gets the signing key.
    expect(only(ci, root)).toEqual(
      ["cosignKey", "cosignPassword", "sigstoreIdToken", "sigstoreIdTokenRequestToken", "sigstoreIdTokenRequestUrl"].sort(),
    );
    // The deploy module alone notifies and records who approved; everything else is the same setting under the same name and type.
    expect(only(root, ci)).toEqual(
      [
        "approver",
        "pagerdutyRoutingKey",
        "slackFailuresWebhook",
        "slackWebhook",
        "smtpPassword",
        "teamsWebhook",
        "webhookSecret",
        "webhookUrl",
      ].sort(),
    );
    for (const k of Object.keys(ci).filter((k) => k in root)) expect([k, ci[k]!.type], k).toEqual([k, root[k]!.type]);
  });

  it("documents every function in exactly one line", () => {
    for (const [name, f] of allFunctions(mod, dep).filter(([n]) => !n.endsWith(".constructor"))) {
      expect(f.description, name).toMatch(/^\S.{10,140}$/);
    }
  });

  it("lets the PR workflow narrow and approve migrations, both optional", () => {
    for (const name of ["migrations"]) {
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

  it("takes every credential of the with* settings as an optional Secret", () => {
    const withs = [
      ...["withAws", "withSigner", "withVerifier", "withAuditTrail"].map((fn) => ({ fn, m: mod.objects.Shipshape! })),
      ...["withAws", "withVerifier", "withAuditTrail", "withNotifications"].map((fn) => ({ fn, m: dep.objects.ShipshapeDeploy! })),
    ];
    for (const { fn, m } of withs) {
      const args = Object.values(m.methods[fn]!.arguments).filter((a) => /password|key|token|url|webhook|secret/i.test(a.name));
      expect(args.length, fn).toBeGreaterThanOrEqual(1);
      for (const a of args) expect([fn, a.name, a.type.name, a.isOptional || a.isNullable]).toEqual([fn, a.name, "Secret", true]);
    }
    expect(mod.objects.Shipshape!.methods.withRegistry!.arguments.password!.type.name).toBe("Secret");
    // No verb takes a credential of its own: they all come from the chain.
    for (const fn of ["publish", "sign", "verify", "release"]) {
      const args = Object.values(mod.objects.Shipshape!.methods[fn]!.arguments).filter((a) => a.type.name === "Secret");
      expect(args, fn).toEqual([]);
    }
  });

  it("takes credentials only as Secret", () => {
    const credential = /token|password|passwd|secret|key|credential/i;
    const offenders: string[] = [];
    for (const [name, f] of allFunctions(mod, dep)) {
      for (const a of Object.values<ScannedArg>(f.arguments)) {
        if (credential.test(a.name) && a.type.name !== "Secret") offenders.push(`${name}(${a.name}: ${a.type.name ?? a.type.kind})`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("marks side-effect functions cache: never", () => {
    // A verb on its own or followed by a capital (signDigest, deployService), not released().
    const sideEffect = /^(publish|sign|attest|deploy|rollback|release|promote|abort)([A-Z]|$)/;
    for (const [name, f] of allFunctions(mod, dep)) {
      if (sideEffect.test(name.split(".")[1]!)) expect(f.cache, name).toBe("never");
    }
  });

  it("gives every Shipshape function a deliberate cache policy", () => {
    // default: the engine's 7-day cache keyed on inputs (pure); 24h: reads a network database or
    // judges expiry against the clock; session: reports; never: side effects and live reads.
    const DAY = ["audit", "scanImage", "scanDependencies", "licenseCheck", "sast"];
    const NEVER = ["publish", "sign", "verify", "release", "prComment", "lighthouse"];
    // ci returns every gate's report even when one could not judge: an ERROR must not outlive the
    // session. A single gate fails its call on ERROR instead, and failed calls are never cached.
    const SESSION = ["ci"];
    for (const f of Object.values(dep.objects.Environment!.methods)) expect(f.cache, `Environment.${f.name}`).toBe("never");
    // The deploy root: `with*` and `environment` only copy state (default); metrics reads the live trail.
    const deployPolicies = Object.fromEntries(
      Object.values(dep.objects.ShipshapeDeploy!.methods).map((f) => [f.name, f.cache ?? "default"]),
    );
    expect(deployPolicies).toEqual(Object.fromEntries(Object.keys(DEPLOY).map((n) => [n, n === "metrics" ? "never" : "default"])));
    const policies = Object.fromEntries(
      Object.entries(mod.objects.Shipshape!.methods).map(([n, f]) => [n, (f as ScannedFunction).cache ?? "default"]),
    );
    const expected = Object.fromEntries(
      Object.keys(policies).map((n) => [
        n,
        NEVER.includes(n) ? "never" : DAY.includes(n) ? "24h" : SESSION.includes(n) ? "session" : "default",
      ]),
    );
    expect(policies).toEqual(expected);
    // The generator is pure: the same source and arguments give the same files (the 7-day default).
    for (const n of ["scaffold", "init", "initDiff"]) expect(policies[n], n).toBe("default");
    // Nothing is left at the default that reads the network or the clock.
    expect([...DAY, ...NEVER, ...SESSION].every((n) => n in policies)).toBe(true);
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
    expect(Object.keys(report.methods).sort()).toEqual(["markdown", "passed", "sync"]);
    expect(Object.keys(mod.objects.CiReport!.methods).sort()).toEqual(["files", "markdown", "passed", "sync", "table"]);
    const values = Object.values(mod.enums.GateStatus!.values).map((v) => v.value);
    expect(values).toEqual(["PASSED", "FAILED", "ERROR", "SKIPPED"]);
  });

  for (const [label, root, pick] of [
    ["the CI module", "Shipshape", () => mod],
    ["the deploy module", "ShipshapeDeploy", () => dep],
  ] as const) {
    it(`${label}: registers no empty type and no constructor taking an internal type (what every caller's client is generated from)`, async () => {
      const typedefs = await registeredTypeDefs(pick());
      const empty = typedefs.defined.filter((t) => t.functions + t.fields === 0).map((t) => `${t.kind} ${t.name}`);
      expect(empty).toEqual([]);
      // Shipshape declares no Dagger interface: each one registered is an internal TS interface leaking out.
      expect(typedefs.defined.filter((t) => t.kind === "interface").map((t) => t.name)).toEqual([]);
      const core = new Set(["Directory", "File", "Secret", "Container", "Service", "CacheVolume", "Socket"]);
      const objects = new Set(typedefs.defined.filter((t) => t.kind === "object").map((t) => t.name));
      const internal = typedefs.constructorArgs.filter((a) => !(a.kind === "scalar" || core.has(a.type) || objects.has(a.type)));
      expect(internal.map((a) => `${a.owner}(${a.name}: ${a.kind} ${a.type})`)).toEqual([]);
      // Report objects are built from their fields (deploy/src/report/fields.ts): only the module's own object has a constructor.
      expect([...new Set(typedefs.constructorArgs.map((a) => a.owner))]).toEqual([root]);
    });

    it(`${label}: registers through the SDK's own Register with queries the v0.21.8 engine accepts`, async () => {
      const engine = await new StubEngine().install();
      try {
        const { Register } = (await import(new URL("./module/entrypoint/register.js", SDK).href)) as {
          Register: new (m: ScannedModule) => { run(): Promise<string> };
        };
        const id = await new Register(pick()).run();
        expect(id).toMatch(/^Module[#@]/);
        const text = engine.queries.map((q) => q.text).join("\n");
        expect(text).toContain(`withObject (name: "${root}"`);
        if (root === "Shipshape") {
          expect(text).toContain('withEnum (name: "GateStatus"');
          expect(text).toContain("withCheck");
        } else expect(text).not.toContain("withCheck"); // nothing to check without AWS: no deploy function is a check
      } finally {
        engine.uninstall();
      }
    });
  }
});

interface TypeDefSummary {
  kind: "object" | "interface";
  name: string;
  functions: number;
  fields: number;
}
interface ConstructorArg {
  owner: string;
  name: string;
  kind: "object" | "interface" | "scalar";
  type: string;
}

/**
 * Runs the SDK's own Register against the stub engine and reads back, from the queries it sent,
 * the object and interface typedefs the module was given and the type of every constructor
 * argument (each typedef travels by ID: the answers map IDs back to the chains that made them).
 */
async function registeredTypeDefs(m: ScannedModule): Promise<{ defined: TypeDefSummary[]; constructorArgs: ConstructorArg[] }> {
  const engine = await new StubEngine().install();
  const conn = (await import(new URL("./common/graphql/connection.js", SDK).href)) as {
    globalConnection: {
      getGQLClient(): { request(q: string): Promise<unknown> };
      setGQLClient(c: { request(q: string): Promise<unknown> }): void;
    };
  };
  const inner = conn.globalConnection.getGQLClient();
  const byId = new Map<string, Call[]>();
  conn.globalConnection.setGQLClient({
    request: async (q) => {
      const answer = await inner.request(q);
      const calls = parseChain(q);
      const leaf = calls.reduce<unknown>((v, c) => (v as Record<string, unknown>)[c.field], answer);
      if (calls.at(-1)!.field === "id" && typeof leaf === "string") byId.set(leaf, calls);
      return answer;
    },
  });
  try {
    const { Register } = (await import(new URL("./module/entrypoint/register.js", SDK).href)) as {
      Register: new (m: ScannedModule) => { run(): Promise<string> };
    };
    await new Register(m).run();
  } finally {
    engine.uninstall();
  }
  const chain = (id: unknown) => byId.get(String(id)) ?? [];
  const head = (calls: Call[]) => calls.find((c) => c.parentType === "TypeDef")!;
  const typeOf = (id: unknown): Pick<ConstructorArg, "kind" | "type"> => {
    const c = head(chain(id));
    if (c.field === "withObject") return { kind: "object", type: String(c.args.name) };
    if (c.field === "withInterface") return { kind: "interface", type: String(c.args.name) };
    if (c.field === "withListOf") return typeOf(c.args.elementType);
    return { kind: "scalar", type: String(c.args.kind ?? c.args.name ?? c.field) };
  };
  const moduleCalls = engine.queries.flatMap((q) => q.calls).filter((c) => c.parentType === "Module");
  const defined: TypeDefSummary[] = [];
  const constructorArgs: ConstructorArg[] = [];
  for (const c of moduleCalls.filter((m) => m.field === "withObject" || m.field === "withInterface")) {
    const calls = chain(c.field === "withObject" ? c.args.object : c.args.iface);
    const name = String(head(calls).args.name);
    const count = (field: string) => calls.filter((x) => x.field === field).length;
    defined.push({
      kind: c.field === "withObject" ? "object" : "interface",
      name,
      functions: count("withFunction"),
      fields: count("withField"),
    });
    for (const ctor of calls.filter((x) => x.field === "withConstructor")) {
      for (const arg of chain(ctor.args.function).filter((x) => x.field === "withArg")) {
        constructorArgs.push({ owner: name, name: String(arg.args.name), ...typeOf(arg.args.typeDef) });
      }
    }
  }
  return { defined, constructorArgs };
}
