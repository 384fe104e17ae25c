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
import type { Deployment } from "../../src/report/deployment.js";
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

/** `dagger call deploy --env ... --image ... [flags]`. */
export const callDeploy = (d: Driven, env: string, image: string, a: DeployArgs = {}): Promise<Handle<Deployment>> =>
  d.call<Deployment>("deploy", { env, image, ...a });

/** `dagger call rollback --env ... --to ... [flags]`. */
export const callRollback = (d: Driven, env: string, to: string, a: AwsArgs & RunArgs = {}): Promise<Handle<Deployment>> =>
  d.call<Deployment>("rollback", { env, to, ...a });

/** `dagger call promote --env ... [flags]`. */
export const callPromote = (d: Driven, env: string, a: AwsArgs & RunArgs = {}): Promise<Handle<Deployment>> =>
  d.call<Deployment>("promote", { env, ...a });

/** `dagger call abort --env ... [flags]`. */
export const callAbort = (d: Driven, env: string, a: AwsArgs & RunArgs = {}): Promise<Handle<Deployment>> =>
  d.call<Deployment>("abort", { env, ...a });

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
  const listener = (method: string) => method !== "" && started();
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
