/**
 * A tiny stand-in for a registry's audit endpoints, so tests can run the REAL `npm audit`
 * (and pnpm/yarn) against known advisories without the internet. Loopback only.
 *
 * Routes (what the clients were seen to call, see fixtures-test-audit/README.md):
 *  - POST /-/npm/v1/security/advisories/bulk  npm >= 7, yarn berry: body {name: [versions]}
 *  - POST /-/npm/v1/security/audits/quick     npm's fallback when bulk fails
 *  - POST /-/npm/v1/security/audits           pnpm / yarn classic: full npm 6 style report
 *  - GET  /<name>                             packument: arborist loads it to work out which
 *                                             versions an advisory covers and whether a fix exists
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import semver from "semver";

export interface BulkAdvisory {
  id: number;
  url: string;
  title: string;
  severity: "info" | "low" | "moderate" | "high" | "critical";
  vulnerable_versions: string;
  cwe: string[];
  cvss: { score: number; vectorString: string | null };
}

/** The high advisory the fixture service's pg-protocol@1.16.1 is vulnerable to (fixed in 1.16.2). */
export const PG_PROTOCOL_GHSA = "GHSA-x4jg-mjrx-434g";
export const PG_PROTOCOL_ADVISORY: BulkAdvisory = {
  id: 1101,
  url: `https://github.com/advisories/${PG_PROTOCOL_GHSA}`,
  title: "Message length overflow",
  severity: "high",
  vulnerable_versions: "<1.16.2",
  cwe: ["CWE-190"],
  cvss: { score: 7.5, vectorString: null },
};
/** The versions the fake registry's packument lists for it. */
export const PG_PROTOCOL_VERSIONS = { "pg-protocol": ["1.16.1", "1.16.2"] };

/** ok: answer; 405/500: refuse every audit route with that status; hang: never answer audits. */
export type AdvisoryMode = "ok" | "405" | "500" | "hang";

export interface AdvisoryServer {
  /** Registry URL with trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  setMode(mode: AdvisoryMode): void;
  /** Replaces the advisory database, as a registry publishing new advisories would. */
  setAdvisories(advisories: Record<string, BulkAdvisory[]>): void;
  /** Every request seen, in order: lets tests assert which route a client used and what it sent. */
  requests: SeenRequest[];
  close(): Promise<void>;
}

export interface AdvisoryServerOptions {
  advisories: Record<string, BulkAdvisory[]>;
  /** Versions each package has on the "registry" (for packuments). */
  versions: Record<string, string[]>;
  /**
   * Dependencies of "name@version" in the packument. npm needs them to see that a dependent
   * (mkdirp@0.5.1 -> minimist@0.0.8) is a metavulnerability; without them its answer depends on
   * what its cache holds from earlier runs.
   */
  dependencies?: Record<string, Record<string, string>>;
}

export interface SeenRequest {
  method: string;
  path: string;
  body: unknown;
}

const AUDIT_PREFIX = "/-/npm/v1/security/";

export async function startAdvisoryServer(opts: AdvisoryServerOptions): Promise<AdvisoryServer> {
  let mode: AdvisoryMode = "ok";
  const requests: SeenRequest[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    readBody(req)
      .then((body) => {
        requests.push({ method: req.method ?? "", path, body });
        if (path.startsWith(AUDIT_PREFIX)) return answerAudit(path, body, res);
        return answerPackument(decodeURIComponent(path.slice(1)), res);
      })
      .catch((err: unknown) => send(res, 400, { error: String(err) }));
  });

  function answerAudit(path: string, body: unknown, res: ServerResponse): void {
    if (mode === "hang") {
      hanging.add(res);
      return;
    }
    if (mode === "405") return send(res, 405, "", { allow: "GET,HEAD" });
    if (mode === "500") return send(res, 500, { error: "internal server error" });
    const route = path.slice(AUDIT_PREFIX.length);
    if (route === "advisories/bulk") return send(res, 200, bulk(asRecord(body)));
    if (route === "audits/quick" || route === "audits") return send(res, 200, fullReport(asRecord(body)));
    return send(res, 404, { error: "not found" });
  }

  /** Bulk: only advisories whose range intersects a version the client sent. */
  function bulk(body: Record<string, unknown>): Record<string, BulkAdvisory[]> {
    const out: Record<string, BulkAdvisory[]> = {};
    for (const [name, sent] of Object.entries(body)) {
      const vs = Array.isArray(sent) ? sent.filter((v): v is string => typeof v === "string") : [];
      const hits = (opts.advisories[name] ?? []).filter((a) => vs.some((v) => semver.satisfies(v, a.vulnerable_versions)));
      if (hits.length > 0) out[name] = hits;
    }
    return out;
  }

  /**
   * npm 6 style report from the dependency tree in the request (pnpm and yarn 1 send that tree).
   * yarn 1 prints one auditAdvisory line per `actions[].resolves[]`, so actions are filled in.
   */
  function fullReport(body: Record<string, unknown>): unknown {
    type Finding = { version: string; paths: string[] };
    type Resolve = { id: number; path: string; dev: boolean; optional: boolean; bundled: boolean };
    const findings = new Map<number, Finding[]>();
    const resolves = new Map<string, Resolve[]>();
    const walk = (deps: unknown, trail: string[]): void => {
      for (const [name, raw] of Object.entries(asRecord(deps))) {
        const node = asRecord(raw);
        const version = typeof node.version === "string" ? node.version : "";
        const here = [...trail, name];
        for (const adv of opts.advisories[name] ?? []) {
          if (!semver.valid(version) || !semver.satisfies(version, adv.vulnerable_versions)) continue;
          const list = findings.get(adv.id) ?? [];
          let f = list.find((x) => x.version === version);
          if (!f) list.push((f = { version, paths: [] }));
          f.paths.push(here.join(">"));
          findings.set(adv.id, list);
          const r = resolves.get(name) ?? [];
          r.push({ id: adv.id, path: here.join(">"), dev: node.dev === true, optional: false, bundled: false });
          resolves.set(name, r);
        }
        walk(node.dependencies, here);
      }
    };
    walk(body.dependencies, []);
    const advisories: Record<string, unknown> = {};
    const counts = { info: 0, low: 0, moderate: 0, high: 0, critical: 0 };
    for (const [name, list] of Object.entries(opts.advisories)) {
      for (const adv of list) {
        const f = findings.get(adv.id);
        if (!f) continue;
        counts[adv.severity] += f.reduce((n, x) => n + x.paths.length, 0);
        advisories[String(adv.id)] = {
          id: adv.id,
          title: adv.title,
          module_name: name,
          severity: adv.severity,
          url: adv.url,
          vulnerable_versions: adv.vulnerable_versions,
          patched_versions: `>=${patched(name, adv)}`,
          github_advisory_id: adv.url.split("/").pop(),
          cwe: adv.cwe,
          cves: [],
          findings: f,
          overview: adv.title,
          recommendation: `Upgrade to version ${patched(name, adv)} or later`,
          access: "public",
          created: "2021-01-01T00:00:00.000Z",
          updated: "2021-01-01T00:00:00.000Z",
          deleted: null,
          found_by: null,
          reported_by: null,
          references: "",
          metadata: null,
        };
      }
    }
    const actions = [...resolves].map(([module, r]) => {
      const target = (opts.versions[module] ?? []).slice().sort(semver.compare).pop() ?? "0.0.0";
      return { action: "update", module, target, depth: 1, resolves: r };
    });
    const meta = { dependencies: 0, devDependencies: 0, optionalDependencies: 0, totalDependencies: 0 };
    return { actions, advisories, muted: [], metadata: { vulnerabilities: counts, ...meta } };
  }

  /** First known version above every vulnerable one. */
  function patched(name: string, adv: BulkAdvisory): string {
    const all = [...(opts.versions[name] ?? [])].sort(semver.compare);
    const lastBad = all.filter((v) => semver.satisfies(v, adv.vulnerable_versions)).pop();
    return all.find((v) => !lastBad || semver.gt(v, lastBad)) ?? "0.0.0";
  }

  function answerPackument(name: string, res: ServerResponse): void {
    const vs = opts.versions[name];
    if (!vs) return send(res, 404, { error: "not found" });
    const sorted = [...vs].sort(semver.compare);
    const versions = Object.fromEntries(
      sorted.map((v) => [
        v,
        {
          name,
          version: v,
          dependencies: opts.dependencies?.[`${name}@${v}`] ?? {},
          dist: { tarball: `${url}${name}/-/${name}-${v}.tgz` },
        },
      ]),
    );
    send(res, 200, { name, "dist-tags": { latest: sorted[sorted.length - 1] }, versions });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    url,
    requests,
    setMode: (m) => {
      mode = m;
    },
    setAdvisories: (a) => {
      opts.advisories = a;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return {};
  let buf = Buffer.concat(chunks);
  // npm gzips the audit body; pnpm and yarn send plain JSON.
  if (req.headers["content-encoding"] === "gzip") buf = gunzipSync(buf);
  return JSON.parse(buf.toString("utf8")) as unknown;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
