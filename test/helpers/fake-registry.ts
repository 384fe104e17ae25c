/**
 * Test doubles for what release talks to besides the engine, each refusing what the real one refuses:
 *
 * - a registry serving manifests by digest, with distribution's token auth (a 401 whose
 *   `WWW-Authenticate: Bearer realm=...` names a token service that wants the registry login) and
 *   its media-type rule (an index is only served to a client whose Accept lists index types:
 *   distribution answers MANIFEST_UNKNOWN otherwise);
 * - `publish` answered as the engine's image exporter does (engine/engineutil/imageexport/writer.go,
 *   v0.21.8): one OCI manifest per platform and, for two or more, an OCI index naming each with its
 *   platform; the digest returned is the sha256 of the bytes the registry then serves;
 * - GitHub's OIDC token endpoint: a new short-lived JWT per request, for the audience asked.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { StubEngine } from "../harness/stub-engine.js";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const sha256 = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

export interface Pushed {
  address: string;
  digest: string;
  /** Each platform's manifest digest, in the order the variants were given. */
  platforms: { platform: string; digest: string }[];
}

export class FakeRegistry {
  host = "";
  readonly pushed: Pushed[] = [];
  /** Every manifest request: path and whether it carried a valid token. */
  readonly reads: { path: string; authorized: boolean }[] = [];
  private readonly blobs = new Map<string, { body: string; type: string }>();
  private readonly tokens = new Set<string>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  constructor(private readonly login?: { username: string; password: string }) {}

  async start(): Promise<this> {
    this.host = await listen(this.server);
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  /** Stores a manifest (or index) under its digest, as a push does. */
  put(repository: string, body: string, type: string): string {
    return this.serveAs(repository, sha256(body), body, type);
  }

  /** Serves `body` under a digest that may not be its own: a broken registry, or something in between. */
  serveAs(repository: string, digest: string, body: string, type: string): string {
    this.blobs.set(`${repository}@${digest}`, { body, type });
    return digest;
  }

  /** Answers the stub engine's Container.publish the way the engine's exporter pushes platform variants. */
  answerPublish(engine: StubEngine, platforms: string[]): void {
    engine.onLeaf((leaf) => {
      if (leaf.parentType !== "Container" || leaf.field !== "publish") return undefined;
      const address = String(leaf.args.address);
      const repository = address.slice(address.indexOf("/") + 1).replace(/:[^/]*$/, "");
      const variants = (leaf.args.platformVariants as string[] | undefined) ?? [];
      const manifests = variants.map((id, i) => {
        const [os, architecture, variant] = platforms[i]!.split("/");
        const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { digest: sha256(id) }, layers: [] });
        return {
          digest: this.put(repository, body, OCI_MANIFEST),
          size: body.length,
          platform: { os, architecture, ...(variant ? { variant } : {}) },
        };
      });
      const index = JSON.stringify(
        { schemaVersion: 2, mediaType: OCI_INDEX, manifests: manifests.map((m) => ({ mediaType: OCI_MANIFEST, ...m })) },
        null,
        2,
      );
      const digest = manifests.length === 1 ? manifests[0]!.digest : this.put(repository, index, OCI_INDEX);
      this.pushed.push({ address, digest, platforms: manifests.map((m, i) => ({ platform: platforms[i]!, digest: m.digest })) });
      return `${address}@${digest}`;
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", `http://${this.host}`);
    if (url.pathname === "/token") return this.token(req, res, url);
    const m = /^\/v2\/(.+)\/manifests\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    const bearer = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const authorized = !this.login || this.tokens.has(bearer);
    this.reads.push({ path: url.pathname, authorized });
    const error = (status: number, code: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));
    };
    if (!m || req.method !== "GET") return error(404, "NAME_UNKNOWN");
    if (!authorized) {
      const challenge = `Bearer realm="http://${this.host}/token",service="fake-registry",scope="repository:${m[1]}:pull"`;
      return error(401, "UNAUTHORIZED", { "www-authenticate": challenge });
    }
    const blob = this.blobs.get(`${this.host}/${m[1]}@${m[2]}`) ?? this.blobs.get(`${m[1]}@${m[2]}`);
    if (!blob || !(req.headers.accept ?? "").includes(blob.type)) return error(404, "MANIFEST_UNKNOWN");
    res.writeHead(200, { "content-type": blob.type, "docker-content-digest": m[2]! });
    res.end(blob.body);
  }

  private token(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const expected = this.login && `Basic ${Buffer.from(`${this.login.username}:${this.login.password}`).toString("base64")}`;
    if (req.headers.authorization !== expected || url.searchParams.get("service") !== "fake-registry") {
      res.writeHead(401, { "content-type": "application/json" });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const token = randomUUID();
    this.tokens.add(token);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token }));
  }
}

/** An unsigned JWT with the claims Fulcio reads; enough for the module, which only reads `exp`. */
export function jwt(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2lnbmF0dXJl`;
}

/** GitHub's ACTIONS_ID_TOKEN_REQUEST_URL endpoint: each request a new token, valid five minutes. */
export class FakeGithubOidc {
  url = "";
  readonly requestToken = `ghs_${randomUUID().replace(/-/g, "")}`;
  /** The tokens issued, in order, with the audience each was asked for. */
  readonly issued: { token: string; audience: string | null; at: number }[] = [];
  private readonly server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.headers.authorization !== `Bearer ${this.requestToken}` || url.searchParams.get("api-version") !== "2.0") {
      res.writeHead(401);
      res.end();
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const token = jwt({
      iss: "https://token.actions.githubusercontent.com",
      aud: url.searchParams.get("audience"),
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
    });
    this.issued.push({ token, audience: url.searchParams.get("audience"), at: Date.now() });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ count: this.issued.length, value: token }));
  });

  async start(): Promise<this> {
    // GitHub hands out the URL with its query already begun (…/idtoken?api-version=2.0).
    this.url = `http://${await listen(this.server)}/_apis/pipelines/idtoken?api-version=2.0`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
