/**
 * The module's own `sign` and `verify` (and the release's attestations) through the stub engine,
 * called as `dagger call with-registry ... with-signer|with-verifier ... sign|verify` chains,
 * with every cosign container command run for real by the host's cosign: the argv the code builds,
 * its secret variables, the empty signing config the first exec writes, and the docker config.json
 * mounted as a secret, all materialized at their container paths (/tmp). The registry is a real
 * `crane registry serve` behind a Basic-auth proxy, so only the credentials in that mounted docker
 * config can push signatures: a signature that verifies proves the whole wiring.
 */
import { dag } from "@dagger.io/dagger";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { signImage, verifyImage } from "../../deploy/lib/gates/sign.js";
import { loadProject } from "../../deploy/lib/project/load.js";
import { buildProvenance, SLSA_PROVENANCE_V1 } from "../../deploy/lib/supply/provenance/slsa.js";
import { parseAttestations } from "../../deploy/lib/supply/signing/attestation.js";
import { signCommand, signingConfigCommand, verifyAttestationCommand, verifyCommand } from "../../deploy/lib/supply/signing/commands.js";
import { runOnHost } from "../harness/host-exec.js";
import { drive, type Driven } from "../helpers/drive.js";
import { callWith, type ChainArgs } from "../helpers/ship-calls.js";
import { requireTools, runTool, runToolOk, startCraneRegistry } from "../helpers/tools.js";

const USER = "ci-bot";
const PASSWORD = `reg-${Math.random().toString(36).slice(2)}`;
const KEY_PASSWORD = `key-${Math.random().toString(36).slice(2)}`;

interface Proxy {
  host: string;
  server: Server;
  authorized: number;
  refused: number;
}

/** A registry front that demands Basic auth on every request, as a private registry does. */
function authProxy(backend: string): Promise<Proxy> {
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
  const proxy: Proxy = { host: "", server: createServer(), authorized: 0, refused: 0 };
  proxy.server.on("request", (req, res) => {
    if (req.headers.authorization !== expected) {
      proxy.refused++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="shipshape-test"', "Content-Type": "application/json" });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    proxy.authorized++;
    const [hostname, port] = backend.split(":");
    const upstream = request(
      { host: hostname, port: Number(port), method: req.method, path: req.url, headers: { ...req.headers, host: backend } },
      (r) => {
        const headers = { ...r.headers };
        // Upload URLs must come back through the proxy, or the client would bypass the auth.
        if (typeof headers.location === "string") headers.location = headers.location.replace(`//${backend}`, `//${proxy.host}`);
        res.writeHead(r.statusCode ?? 502, headers);
        r.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    proxy.server.listen(0, "127.0.0.2", () => {
      proxy.host = `127.0.0.2:${(proxy.server.address() as AddressInfo).port}`;
      resolve(proxy);
    }),
  );
}

const tmp = mkdtempSync(join(tmpdir(), "shipshape-sign-engine-"));
let stopRegistry = () => {};
let proxy: Proxy | undefined;
let ref = "";
/** The registry itself, behind the proxy: what crane pushes to and what a consumer's cosign reads. */
let backend = "";
let setup: Promise<void> | undefined;

/** Setup inside each test (never beforeAll): a missing tool then fails each test by name instead of skipping it. */
function ready(): Promise<void> {
  return (setup ??= (async () => {
    requireTools("cosign", "crane", "tar");
    const registry = await startCraneRegistry();
    stopRegistry = () => registry.process.kill();
    proxy = await authProxy(registry.host);
    backend = registry.host;
    const layer = join(tmp, "layer");
    mkdirSync(layer);
    writeFileSync(join(layer, "hello.txt"), "signed through the module\n");
    await runToolOk(["tar", "-cf", `${layer}.tar`, "-C", layer, "hello.txt"]);
    // Pushed straight to the registry; everything the module does goes through the auth proxy.
    await runToolOk(["crane", "append", "--insecure", "-f", `${layer}.tar`, "-t", `${registry.host}/orders:1`]);
    const digest = (await runToolOk(["crane", "digest", "--insecure", `${registry.host}/orders:1`])).stdout.trim();
    ref = `${proxy.host}/orders@${digest}`;
    const keys = join(tmp, "keys");
    mkdirSync(keys);
    await runToolOk(["cosign", "generate-key-pair"], { cwd: keys, env: { COSIGN_PASSWORD: KEY_PASSWORD } });
    const other = join(tmp, "other-keys");
    mkdirSync(other);
    await runToolOk(["cosign", "generate-key-pair"], { cwd: other, env: { COSIGN_PASSWORD: KEY_PASSWORD } });
    // What `dagger call ... --cosign-key=env://...` would hand the module.
    process.env.SHIPSHAPE_T_COSIGN_KEY = readFileSync(join(keys, "cosign.key"), "utf8");
    process.env.SHIPSHAPE_T_COSIGN_PUB = readFileSync(join(keys, "cosign.pub"), "utf8");
    process.env.SHIPSHAPE_T_OTHER_PUB = readFileSync(join(other, "cosign.pub"), "utf8");
    process.env.SHIPSHAPE_T_COSIGN_PW = KEY_PASSWORD;
    process.env.SHIPSHAPE_T_REG_PW = PASSWORD;
    process.env.SHIPSHAPE_T_BAD_PW = "not-the-password";
  })());
}

let current: (Driven & { hostTmp: string }) | undefined;
afterEach(() => current?.engine.uninstall());
afterAll(async () => {
  stopRegistry();
  await new Promise((r) => proxy?.server.close(r));
});

/** The module driven through the stub engine; cosign runs on the host with /tmp materialized. */
async function driveCosign() {
  await ready();
  const d = await drive();
  const hostTmp = mkdtempSync(join(tmp, "ctr-tmp-"));
  d.engine.onExec(
    (a) => a[0] === "cosign",
    (ctx) => runOnHost(ctx, { paths: { "/tmp": hostTmp }, materialize: true, timeoutMs: 60_000 }),
  );
  current = { ...d, hostTmp };
  return current;
}

const secret = (name: string) => dag.secret(`env://${name}`);
/** `with-registry --address=<the proxy> --username=ci-bot --password=env://<pw> --plain-http`: the login for the proxy's host. */
const login = (pw = "SHIPSHAPE_T_REG_PW"): ChainArgs => ({
  registryAddress: proxy!.host,
  registryUsername: USER,
  registryPassword: secret(pw),
  allowHttpRegistry: true,
});
const signer = (): ChainArgs => ({ cosignKey: secret("SHIPSHAPE_T_COSIGN_KEY"), cosignPassword: secret("SHIPSHAPE_T_COSIGN_PW") });

describe("sign and verify through the module code, with the host's cosign", () => {
  it("sign: the module's argv, secret variables and mounted docker config push a real signature through the auth proxy", async () => {
    const d = await driveCosign();
    const { engine, hostTmp } = d;
    const before = proxy!.authorized;
    const signed = (await callWith<string>(d, "sign", { ref }, { ...signer(), ...login() })).json;
    expect(signed).toBe(ref);
    const cosign = engine.execs.filter((e) => e.args[0] === "cosign");
    expect(cosign.map((e) => e.args)).toEqual([signingConfigCommand(), signCommand({ ref, keyless: false, allowHttpRegistry: true })]);
    expect(cosign.map((e) => e.result.exitCode)).toEqual([0, 0]);
    expect(Object.keys(cosign[1]!.secretEnv).sort()).toEqual(["COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY"]);
    expect(cosign[1]!.mounts["/tmp/docker/config.json"]).toBe("secret");
    // The docker config cosign read: the registry's auth and nothing else.
    const config = JSON.parse(readFileSync(join(hostTmp, "docker/config.json"), "utf8")) as { auths: Record<string, { auth: string }> };
    expect(Object.keys(config.auths)).toEqual([proxy!.host]);
    expect(proxy!.authorized).toBeGreaterThan(before);
    // Nothing secret reached argv or the recorded plain env.
    const recorded = JSON.stringify(cosign.map((e) => [e.args, e.env, e.result]));
    for (const s of [PASSWORD, KEY_PASSWORD, process.env.SHIPSHAPE_T_COSIGN_KEY!]) expect(recorded.includes(s)).toBe(false);
  });

  it("verify: passes with the matching key, fails with another one", async () => {
    const d = await driveCosign();
    const { engine } = d;
    const chain = { insecureIgnoreTlog: true, ...login() };
    const reason = (await callWith<string>(d, "verify", { ref }, { ...chain, cosignPublicKey: secret("SHIPSHAPE_T_COSIGN_PUB") })).json;
    expect(reason).toBe(`1 signature(s) verified for ${ref.split("@")[1]}`);
    expect(engine.execs.at(-1)!.args).toEqual(verifyCommand({ ref, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true }));
    await expect(callWith(d, "verify", { ref }, { ...chain, cosignPublicKey: secret("SHIPSHAPE_T_OTHER_PUB") })).rejects.toThrow(
      /is not verified: cosign verify failed \(exit 1\)/,
    );
  });

  it("wrong registry credentials: sign fails in one line, nothing signed", async () => {
    const d = await driveCosign();
    const refused = proxy!.refused;
    await expect(callWith(d, "sign", { ref }, { ...signer(), ...login("SHIPSHAPE_T_BAD_PW") })).rejects.toThrow(
      /^cosign could not sign .*\nhint: check the key and password, and that the registry credentials may push signatures$/,
    );
    expect(proxy!.refused).toBeGreaterThan(refused);
  });

  it("the right login given for another registry host is not sent: the proxy never sees it, nothing is signed", async () => {
    const d = await driveCosign();
    const authorized = proxy!.authorized;
    // The right password, but for ghcr.io: the proxy's host gets no docker config (and no plain HTTP) from it.
    await expect(callWith(d, "sign", { ref }, { ...signer(), ...login(), registryAddress: "ghcr.io/acme" })).rejects.toThrow(
      /^cosign could not sign /,
    );
    const sign = d.engine.execs.find((e) => e.args[0] === "cosign" && e.args[1] === "sign")!;
    expect(sign.args).toEqual(signCommand({ ref, keyless: false }));
    expect(sign.mounts["/tmp/docker/config.json"]).toBeUndefined();
    // Not one request to the proxy carried the login (cosign, without plain HTTP for it, may not even get that far).
    expect(proxy!.authorized).toBe(authorized);
  });

  it("release attestations: each platform's SBOM on its own manifest of a real index, provenance on the index", async () => {
    const { ship } = await driveCosign();
    const project = await loadProject(ship.source, "shipshape.yaml");
    const creds = { username: USER, password: secret("SHIPSHAPE_T_REG_PW") };
    // A real multi-arch image in the registry: two platform images and the index naming them.
    const direct = ref.replace(proxy!.host, backend);
    const platformImage = async (platform: string) => {
      const tag = `${backend}/orders:${platform.replace("/", "-")}`;
      await runToolOk(["crane", "mutate", "--insecure", "--set-platform", platform, direct, "-t", tag]);
      return `${backend}/orders@${(await runToolOk(["crane", "digest", "--insecure", tag])).stdout.trim()}`;
    };
    const [amd64, arm64] = [await platformImage("linux/amd64"), await platformImage("linux/arm64")];
    await runToolOk(["crane", "index", "append", "--insecure", "-m", amd64!, "-m", arm64!, "-t", `${backend}/orders:multi`]);
    const index = `${proxy!.host}/orders@${(await runToolOk(["crane", "digest", "--insecure", `${backend}/orders:multi`])).stdout.trim()}`;
    const sbomText = readFileSync(join(import.meta.dirname, "../fixtures/supply/sbom/orders-service-prod.cdx.json"), "utf8");
    const sbomFor = (platform: string) => {
      const bom = {
        ...(JSON.parse(sbomText) as Record<string, unknown>),
        serialNumber: `urn:uuid:${platform === "linux/amd64" ? "1" : "2"}`.padEnd(45, "0"),
      };
      return dag.directory().withNewFile("sbom.cdx.json", JSON.stringify(bom)).file("sbom.cdx.json");
    };
    const builderId = "https://github.com/acme/orders/.github/workflows/release.yml@refs/heads/main";
    const predicate = buildProvenance({
      repository: "https://github.com/acme/orders",
      ref: "main",
      revision: "0123456789abcdef0123456789abcdef01234567",
      platforms: ["linux/amd64", "linux/arm64"],
      configPath: "shipshape.yaml",
      baseImages: ["node:24.13.1-alpine"],
      builderId,
      invocationId: "run-7",
      startedOn: new Date("2026-03-01T10:00:00Z"),
      finishedOn: new Date("2026-03-01T10:04:00Z"),
    });
    const key = { key: secret("SHIPSHAPE_T_COSIGN_KEY"), password: secret("SHIPSHAPE_T_COSIGN_PW"), creds, allowHttpRegistry: true };
    const platforms = ["linux/amd64", "linux/arm64"];
    const signed = await signImage(project.config, index, key, {
      sboms: platforms.map((platform) => ({ platform, sbom: sbomFor(platform) })),
      provenance: JSON.stringify(predicate),
    });
    // The index was read through the auth proxy; each platform's manifest is the one crane pushed.
    expect(signed.platforms.map((p) => p.ref.replace(proxy!.host, backend))).toEqual([amd64, arm64]);
    // What a consumer runs on a platform's manifest (cosign 3 stores each attestation as a bundle
    // referring to exactly the digest attested): that platform's SBOM, and only it.
    const env = { COSIGN_PUBLIC_KEY: process.env.SHIPSHAPE_T_COSIGN_PUB! };
    const check = (target: string) =>
      runTool(verifyAttestationCommand({ ref: target, key: true, insecureIgnoreTlog: true, allowHttpRegistry: true, type: "cyclonedx" }), {
        env,
      });
    for (const [i, target] of [amd64!, arm64!].entries()) {
      const out = await check(target);
      expect(out.code, out.stderr).toBe(0);
      const statements = parseAttestations(out.stdout);
      expect(statements.map((s) => s.subject[0]!.digest.sha256)).toEqual([target.split("sha256:")[1]]);
      expect((statements[0]!.predicate as { serialNumber: string }).serialNumber).toMatch(new RegExp(`^urn:uuid:${i + 1}`));
    }
    expect((await check(index.replace(proxy!.host, backend))).code).not.toBe(0);
    const verify = {
      publicKey: secret("SHIPSHAPE_T_COSIGN_PUB"),
      identity: "",
      issuer: "",
      insecureIgnoreTlog: true,
      creds,
      allowHttpRegistry: true,
    };
    const digest = index.split("@")[1];
    expect(await verifyImage(project.config, index, { ...verify, provenance: true, builderId })).toEqual({
      verified: true,
      reason: expect.stringMatching(
        new RegExp(`signature\\(s\\) verified for ${digest}; \\d+ ${SLSA_PROVENANCE_V1} attestation\\(s\\) verified for ${digest}$`),
      ),
    });
    expect(
      await verifyImage(project.config, index, { ...verify, provenance: true, builderId: "https://ci.example/someone-else" }),
    ).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/^signature verified, but provenance .* was built by https:\/\/github\.com\/acme\/orders/),
    });
  });
});
