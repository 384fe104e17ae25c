/**
 * deploy / rollback / promote / abort as `dagger call` makes them: arguments by name (the CLI's
 * flags), each call a fresh module through the SDK's invocation path (test/harness/invoke.ts),
 * and what a returned Deployment offers (markdown, files, audit trail) read back the same way.
 *
 * On fake time, a call first loads its fresh module graph for real (vi.resetModules and an import
 * of every src file): that takes real milliseconds, many turns of a settle loop, and fake time
 * stepping through them would put the deploy's start minutes after the clock the test set (a
 * timeline stamped 10:06, an OIDC token expired before it is used). `onFakeClock` holds the clock
 * until the runtime invokes the function, and only then lets the driver move it. (Waiting for the
 * first pending fake timer is no signal: the stub engine's service grace timers and undici's
 * connection timers outlive a call.)
 */
import type { Directory, File, Secret } from "@dagger.io/dagger";
import type { Deployment } from "../../deploy/src/report/deployment.js";
import type { Handle } from "../harness/invoke.js";
import type { Driven } from "./drive.js";

export interface AwsArgs {
  awsAccessKeyId?: Secret;
  awsSecretAccessKey?: Secret;
  awsSessionToken?: Secret;
  awsWebIdentityToken?: Secret;
  awsRoleArn?: string;
  awsIdTokenRequestUrl?: Secret;
  awsIdTokenRequestToken?: Secret;
}

export interface RunArgs {
  auditDatabaseUrl?: Secret;
  auditTrail?: File;
  slackWebhook?: Secret;
  slackFailuresWebhook?: Secret;
  webhookUrl?: Secret;
  webhookSecret?: Secret;
  teamsWebhook?: Secret;
  pagerdutyRoutingKey?: Secret;
  smtpPassword?: Secret;
  actor?: string;
  runUrl?: string;
  failOnError?: boolean;
}

export interface DeployArgs extends AwsArgs, RunArgs {
  approve?: boolean;
  cosignPublicKey?: Secret;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  insecureIgnoreTlog?: boolean;
  registryUsername?: string;
  registryPassword?: Secret;
  approver?: string;
  version?: string;
  commitSha?: string;
  repoUrl?: string;
}

export interface SignArgs {
  cosignKey?: Secret;
  cosignPassword?: Secret;
  sigstoreIdToken?: Secret;
  sigstoreIdTokenRequestUrl?: Secret;
  sigstoreIdTokenRequestToken?: Secret;
  registryAddress?: string;
  allowHttpRegistry?: boolean;
  branch?: string;
  defaultBranch?: string;
  sha?: string;
}

export type ChainArgs = DeployArgs & SignArgs;

const given = (o: Record<string, unknown>) => Object.values(o).some((v) => v !== undefined && v !== "" && v !== false);

/**
 * The `with*` steps of a `dagger call` chain for flat settings (the old flag names, kept in tests
 * as one vocabulary): each step a call of its own through the invocation path, only when set.
 * `module` picks the root: the CI module (`shipshape`, no withNotifications) or the deploy module
 * (`shipshape-deploy`, no withSigner); a setting the chosen module has no `with*` for is a call to
 * a function it lacks, and fails as `dagger call` would.
 */
export async function chained(d: Driven, a: ChainArgs = {}, module: "ci" | "deploy" = "ci"): Promise<Handle<unknown>> {
  let h: Handle<unknown> = await (module === "ci" ? d.harness : d.deploy).root();
  // Only the flags set are sent, as the CLI sends them: a flag the module lacks fails only when used.
  const step = async (fn: string, args: Record<string, unknown>) => {
    const set = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined));
    if (given(set)) h = await h.call(fn, set);
  };
  await step("withAws", {
    accessKeyId: a.awsAccessKeyId,
    secretAccessKey: a.awsSecretAccessKey,
    sessionToken: a.awsSessionToken,
    roleArn: a.awsRoleArn,
    webIdentityToken: a.awsWebIdentityToken,
    idTokenRequestUrl: a.awsIdTokenRequestUrl,
    idTokenRequestToken: a.awsIdTokenRequestToken,
  });
  if (a.registryUsername || a.registryPassword || a.allowHttpRegistry)
    await step("withRegistry", {
      address: a.registryAddress ?? "",
      username: a.registryUsername ?? "",
      password: a.registryPassword,
      plainHttp: a.allowHttpRegistry,
    });
  await step("withSigner", {
    key: a.cosignKey,
    password: a.cosignPassword,
    idToken: a.sigstoreIdToken,
    idTokenRequestUrl: a.sigstoreIdTokenRequestUrl,
    idTokenRequestToken: a.sigstoreIdTokenRequestToken,
  });
  await step("withVerifier", {
    publicKey: a.cosignPublicKey,
    certificateIdentity: a.certificateIdentity,
    certificateOidcIssuer: a.certificateOidcIssuer,
    insecureIgnoreTlog: a.insecureIgnoreTlog,
  });
  await step("withAuditTrail", { databaseUrl: a.auditDatabaseUrl, trail: a.auditTrail });
  await step("withNotifications", {
    slackWebhook: a.slackWebhook,
    slackFailuresWebhook: a.slackFailuresWebhook,
    webhookUrl: a.webhookUrl,
    webhookSecret: a.webhookSecret,
    teamsWebhook: a.teamsWebhook,
    pagerdutyRoutingKey: a.pagerdutyRoutingKey,
    smtpPassword: a.smtpPassword,
  });
  const run = {
    actor: a.actor,
    runUrl: a.runUrl,
    commitSha: a.commitSha ?? a.sha,
    branch: a.branch,
    defaultBranch: a.defaultBranch,
    version: a.version,
    repoUrl: a.repoUrl,
    approver: a.approver,
  };
  await step("withRun", run);
  return h;
}

/** `dagger call with-... environment --name <env>`: the Environment with the chain's settings. */
export const environmentOf = async (d: Driven, env: string, a: ChainArgs = {}): Promise<Handle<unknown>> =>
  (await chained(d, a, "deploy")).call("environment", { name: env });

/** `dagger call with-... environment --name <env> deploy --image ... [--approve]`. */
export const callDeploy = async (d: Driven, env: string, image: string, a: DeployArgs = {}): Promise<Handle<Deployment>> =>
  (await environmentOf(d, env, a)).call<Deployment>("deploy", { image, approve: a.approve, failOnError: a.failOnError });

/** `... environment --name <env> rollback [--to ...]`. */
export const callRollback = async (d: Driven, env: string, to: string, a: AwsArgs & RunArgs = {}): Promise<Handle<Deployment>> =>
  (await environmentOf(d, env, a)).call<Deployment>("rollback", { to, failOnError: a.failOnError });

/** `... environment --name <env> promote`. */
export const callPromote = async (d: Driven, env: string, a: AwsArgs & RunArgs = {}): Promise<Handle<Deployment>> =>
  (await environmentOf(d, env, a)).call<Deployment>("promote", { failOnError: a.failOnError });

/** `... environment --name <env> abort`. */
export const callAbort = async (d: Driven, env: string, a: AwsArgs & RunArgs = {}): Promise<Handle<Deployment>> =>
  (await environmentOf(d, env, a)).call<Deployment>("abort", { failOnError: a.failOnError });

/** `with-... environment --name <env> status` (with-audit-trail too: status corrects a dead run's record). */
export const callStatus = async (d: Driven, env: string, a: ChainArgs = {}): Promise<Handle<string>> =>
  (await environmentOf(d, env, a)).call<string>("status");

/** `dagger call with-... <fn> [args]` on the root: publish, sign, verify, release, metrics, pr-comment. */
export const callWith = async <R = unknown>(
  d: Driven,
  fn: string,
  args: Record<string, unknown>,
  a: ChainArgs = {},
  module: "ci" | "deploy" = "ci",
): Promise<Handle<R>> => (await chained(d, a, module)).call<R>(fn, args);

/** `... deploy ... markdown`: the Deployment's summary, computed by its own method on its JSON state. */
export const markdownOf = async (d: Handle<Deployment>): Promise<string> => (await d.call<string>("markdown")).json;

/** `... deploy ... files`: deployment.json, summary.md and audit.jsonl. */
export const filesOf = async (d: Handle<Deployment>): Promise<Directory> => (await d.call<Directory>("files")).directory();

/** The Deployment's auditTrail field, as the File its ID names (to read, or to pass to the next call). */
export const auditTrailOf = (d: Handle<Deployment>): Promise<File> => d.file("auditTrail");

const SDK = import.meta.resolve("@dagger.io/dagger");
const LISTENERS = Symbol.for("shipshape.test.invoked");
interface ExecutorClass {
  prototype: {
    getResult(object: string, method: string, ...rest: unknown[]): Promise<unknown>;
    [LISTENERS]?: Set<(method: string) => void>;
  };
}
// The runtime calls a function through Executor.getResult (module/entrypoint/invoke.js), once the
// fresh module graph is loaded, the arguments decoded and the parent rebuilt from its JSON. The SDK
// stays loaded between calls (it is not part of src/), so the hook, set once per SDK instance
// (a test file re-evaluating this helper joins it), sees every call.
const { Executor } = (await import(new URL("./module/executor.js", SDK).href)) as { Executor: ExecutorClass };
const invoked = (Executor.prototype[LISTENERS] ??= (() => {
  const listeners = new Set<(method: string) => void>();
  const getResult = Executor.prototype.getResult;
  Executor.prototype.getResult = function (this: unknown, object: string, method: string, ...rest: unknown[]) {
    for (const listener of listeners) listener(method);
    return getResult.call(this, object, method, ...rest);
  };
  return listeners;
})());

/**
 * Drives a harness call on fake time with `drive` (settle, onFakeTime), but only from the moment the
 * runtime invokes the function itself (not the constructor before it): until then the fresh module
 * is loading, and the clock stays where the test put it. A call that ends before its function ran
 * (an unknown flag) is returned as it ended. Pass the call as soon as it is made: a call cannot
 * reach its function before its first await resumes, and the hook is listening by then.
 */
export async function onFakeClock<T>(call: Promise<T>, drive: (p: Promise<T>) => Promise<T>): Promise<T> {
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  // The chain's with* steps and environment only copy state: the clock starts with the verb itself.
  const listener = (method: string) => method !== "" && !/^with[A-Z]/.test(method) && method !== "environment" && started();
  invoked.add(listener);
  try {
    const ended = call.then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([running, ended]);
    return await drive(call);
  } finally {
    invoked.delete(listener);
  }
}
