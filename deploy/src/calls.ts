/**
 * What the deploy module's functions do lives in deploy/lib/calls/, loaded by the call that needs it
 * (the CI module's src/calls.ts does the same, and says why: the v0.21.8 TypeScript runtime imports
 * and type-checks every file under src/ on every call, and the deploy code reaches the AWS SDK's
 * declarations, the largest part of that type-check). src/ holds the API alone; a function imports
 * its implementation by a computed specifier, which neither the runtime's scan nor tsc follows from
 * here, and tsc checks each implementation against these interfaces (`export const calls: <Interface>`).
 */
import type { Directory, Secret } from "@dagger.io/dagger";
import type { DeploySettings } from "./deploy-settings.js";
import type { Environment } from "./environment.js";
import type { DeliveryReport } from "./report/delivery.js";
import type { Deployment } from "./report/deployment.js";
import type { HealthReport } from "./report/health-report.js";

/** deploy/lib/calls/environment.ts: the Environment's verbs. */
export interface EnvironmentCalls {
  deploy(
    e: Environment,
    image: string,
    approve: boolean,
    failOnError: boolean,
    gitDir: Directory | undefined,
    freezeOverride: string,
  ): Promise<Deployment>;
  rollback(e: Environment, to: string, failOnError: boolean, gitDir: Directory | undefined): Promise<Deployment>;
  promote(e: Environment, failOnError: boolean, gitDir: Directory | undefined): Promise<Deployment>;
  abort(e: Environment, failOnError: boolean, gitDir: Directory | undefined): Promise<Deployment>;
  status(e: Environment): Promise<string>;
  monitor(e: Environment, githubToken: Secret, repository: string): Promise<HealthReport>;
  rescan(e: Environment, githubToken: Secret, repository: string): Promise<HealthReport>;
}

/** The settings and source a delivery report reads (the root object or an Environment). */
export type MetricsSource = DeploySettings & { source: Directory; configPath: string };

/** deploy/lib/calls/metrics.ts: delivery metrics from the audit trail. */
export interface MetricsCalls {
  metrics(s: MetricsSource, environment: string, window: { period: string; from: string; to: string }): Promise<DeliveryReport>;
}

export interface Calls {
  environment: EnvironmentCalls;
  metrics: MetricsCalls;
}

/** Each implementation's file, relative to this one (tsx and vitest map .js to the .ts beside it). */
export const CALL_FILES = {
  environment: "../lib/calls/environment.js",
  metrics: "../lib/calls/metrics.js",
} as const satisfies Record<keyof Calls, string>;

/** The implementation of one group of functions, imported on first use (once per process, like any import). */
export async function calls<K extends keyof Calls>(name: K): Promise<Calls[K]> {
  const loaded = (await import(/* @vite-ignore */ CALL_FILES[name])) as { calls: Calls[K] };
  return loaded.calls;
}
