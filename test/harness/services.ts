/**
 * Bound services as the v0.21.8 engine runs them (dagger/dagger@v0.21.8, modelled, not copied):
 * - A service starts when an exec that binds it runs (core/container_exec.go: StartBindings just
 *   before the process), once per service digest; an exec replayed from the cache starts nothing.
 * - Start returns once the service is healthy: its docker HEALTHCHECK when it has one, else a TCP
 *   check of every exposed port not marked experimentalSkipHealthcheck, else at once
 *   (core/service.go start, core/healthcheck.go). The HEALTHCHECK runs in the service container and
 *   retries every StartInterval (else Interval, else 5s); failures count only after StartPeriod,
 *   and the check fails at the Retries-th counted failure (default 3).
 * - When the exec ends, the binding is dropped after DetachGracePeriod (10s); with no binder left
 *   the service stops (core/services.go StartBindings, Detach).
 * What runs: the host's real server (Postgres here), reached through a per-instance TCP proxy on a
 * loopback address of its own. The proxy listens only `startupMs` after the start, as a database
 * still initialising refuses TCP, and closes when the service stops.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface Healthcheck {
  args: string[];
  shell: boolean;
  intervalMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

export interface ServiceSpec {
  digest: string;
  image: string;
  ports: { port: number; skipHealthcheck: boolean }[];
  healthcheck?: Healthcheck;
}

/** A check's outcome: exit code and output, as the engine's health check sees its process. */
export interface CheckResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  cmd: string[];
}

export class ServiceStartError extends Error {
  constructor(
    message: string,
    readonly check?: CheckResult,
  ) {
    super(message);
  }
}

class Instance {
  readonly address = randomLoopback();
  readonly servers: Server[] = [];
  readonly sockets = new Set<Socket>();
  binders = 0;
  listening = false;
  stopped = false;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly spec: ServiceSpec,
    startupMs: number,
    upstream: (port: number) => { host: string; port: number },
  ) {
    this.timer = setTimeout(() => this.listen(upstream), startupMs);
  }

  private listen(upstream: (port: number) => { host: string; port: number }) {
    if (this.stopped) return;
    for (const { port } of this.spec.ports) {
      const server = createServer((client) => {
        const to = upstream(port);
        const up = createConnection(to.port, to.host);
        for (const s of [client, up]) {
          this.sockets.add(s);
          s.on("close", () => this.sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.pipe(up).pipe(client);
      });
      // A clash on a random loopback address would surface as a refused connection, not a crash.
      server.on("error", () => server.close());
      server.listen(port, this.address);
      this.servers.push(server);
    }
    this.listening = true;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const s of this.servers) s.close();
    for (const s of this.sockets) s.destroy();
    this.listening = false;
  }
}

/** 127.a.b.c other than 127.0.0.1: free of the host's own servers, so a port there is ours alone. */
function randomLoopback(): string {
  const r = (n: number) => 1 + Math.floor(Math.random() * n);
  return `127.${r(250)}.${r(250)}.${r(250)}`;
}

export interface StartedBinding {
  alias: string;
  address: string;
  /** Whether the service accepted TCP when the exec started. */
  up: boolean;
}

export class ServiceManager {
  /** core/services.go DetachGracePeriod. Tests may shorten it, never remove it. */
  graceMs = 10_000;
  /** How long the modelled server takes before it accepts TCP (Postgres's initdb and restart). */
  startupMs = 1_000;
  /** Where the service's real server is, for a port of it. */
  upstream = (port: number) => ({ host: process.env.PGHOST || "127.0.0.1", port });
  /** Starts, stops and health checks, in order. */
  readonly log: { event: "start" | "healthy" | "stop" | "check"; image: string; detail?: string }[] = [];
  private readonly running = new Map<string, { inst: Instance; healthy: Promise<Instance> }>();

  /**
   * Starts (or joins) each bound service, waiting for its health; `check` runs a health-check
   * command inside the service container. Returns a detach function for when the exec ends.
   */
  async startBindings(
    bindings: { alias: string; hostname: string; spec: ServiceSpec }[],
    check: (hc: Healthcheck, address: string, spec: ServiceSpec) => Promise<CheckResult>,
  ): Promise<{ started: StartedBinding[]; detach: () => void }> {
    const joined: Instance[] = [];
    const detach = () => {
      // Every binder leaves after the grace period, as StartBindings' detach does.
      const t = setTimeout(() => joined.forEach((i) => this.release(i)), this.graceMs);
      t.unref();
    };
    try {
      const started = await Promise.all(
        bindings.map(async (b) => {
          const inst = await this.start(b.spec, check).catch((e: unknown) => {
            const err = e instanceof ServiceStartError ? e : new ServiceStartError((e as Error).message);
            throw new ServiceStartError(`start ${b.hostname} ([${b.alias}]): ${err.message}`, err.check);
          });
          joined.push(inst);
          return { alias: b.alias, address: inst.address, up: inst.listening };
        }),
      );
      return { started, detach };
    } catch (e) {
      detach();
      throw e;
    }
  }

  stopAll(): void {
    for (const { inst } of this.running.values()) inst.stop();
    this.running.clear();
  }

  /** One instance per service digest; a binder arriving while it starts waits for the same start. */
  private start(spec: ServiceSpec, check: (hc: Healthcheck, address: string, spec: ServiceSpec) => Promise<CheckResult>) {
    const found = this.running.get(spec.digest);
    if (found) {
      found.inst.binders++;
      return found.healthy;
    }
    const inst = new Instance(spec, this.startupMs, this.upstream);
    inst.binders = 1;
    this.log.push({ event: "start", image: spec.image });
    const healthy = (async () => {
      try {
        if (spec.healthcheck) await this.dockerHealthcheck(spec, inst, check);
        else await this.portCheck(spec, inst);
      } catch (e) {
        this.stop(inst);
        throw e;
      }
      this.log.push({ event: "healthy", image: spec.image });
      return inst;
    })();
    this.running.set(spec.digest, { inst, healthy });
    return healthy;
  }

  /** core/healthcheck.go dockerHealthcheck.Check. */
  private async dockerHealthcheck(
    spec: ServiceSpec,
    inst: Instance,
    check: (hc: Healthcheck, a: string, s: ServiceSpec) => Promise<CheckResult>,
  ) {
    const hc = spec.healthcheck!;
    const sleep = hc.startIntervalMs || hc.intervalMs || 5_000;
    const allowFailuresUntil = Date.now() + hc.startPeriodMs;
    const retries = hc.retries > 0 ? hc.retries : 3;
    let failures = 0;
    for (;;) {
      const r = await check(hc, inst.address, spec);
      this.log.push({ event: "check", image: spec.image, detail: `${r.cmd.join(" ")} -> ${r.exitCode}` });
      if (r.exitCode === 0) return;
      if (Date.now() > allowFailuresUntil) failures++;
      if (failures === retries) {
        const msg = `health check errored: process "${r.cmd.join(" ")}" did not complete successfully: exit code: ${r.exitCode}`;
        throw new ServiceStartError(msg, r);
      }
      await new Promise((res) => setTimeout(res, sleep));
    }
  }

  /** core/healthcheck.go portHealthChecker: dial each checked port until it answers. */
  private async portCheck(spec: ServiceSpec, inst: Instance) {
    const started = Date.now();
    for (const { port } of spec.ports.filter((p) => !p.skipHealthcheck)) {
      // Exponential backoff from 100ms to 10s; the library's default gives up after 15 minutes.
      for (let delay = 100; !(await dial(inst.address, port)); delay = Math.min(delay * 1.5, 10_000)) {
        if (Date.now() - started > 15 * 60_000) throw new ServiceStartError(`health check errored: checking for port ${port}/tcp: timeout`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private release(inst: Instance) {
    if (--inst.binders > 0 || inst.stopped) return;
    this.stop(inst);
  }

  private stop(inst: Instance) {
    inst.stop();
    if (this.running.get(inst.spec.digest)?.inst === inst) this.running.delete(inst.spec.digest);
    this.log.push({ event: "stop", image: inst.spec.image });
  }
}

function dial(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port, host);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** Go duration strings as time.ParseDuration reads the ones used here ("1s", "500ms", "1m30s"). */
export function parseDuration(d: string | undefined): number {
  if (!d) return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let m: RegExpExecArray | null;
  let seen = "";
  while ((m = re.exec(d))) {
    total += Number(m[1]) * units[m[2]!]!;
    seen += m[0];
  }
  if (seen !== d) throw new Error(`time: invalid duration "${d}"`);
  return total;
}
