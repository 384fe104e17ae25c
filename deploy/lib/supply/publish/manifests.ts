/**
 * Each platform's own manifest in a published image, read back from the registry by digest.
 *
 * cosign attaches an attestation to exactly the digest it is given (cosign v3.1.2
 * cmd/cosign/cli/attest/attest.go: a bundle referring to that manifest), and finds a platform's
 * on that platform's manifest (`download attestation --platform` resolves the index first:
 * cmd/cosign/cli/download/attestation.go, platform.SignedEntityForPlatform). So each platform's
 * SBOM is attested to its own manifest digest, as docker buildx attaches one per platform too.
 * Dagger's publish answers only the root digest (core/container.go Publish, resp.RootDesc at
 * v0.21.8): an OCI index for two or more platforms, the manifest itself for one
 * (engine/engineutil/imageexport/writer.go). The bytes read must hash to that digest, so a
 * registry (or anything between) cannot hand over another index.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { fetchFailure } from "../../deploy/fetch-error.js";
import { Problem } from "../../../src/project/problem.js";
import { assertDigestRef } from "../signing/commands.js";

const INDEX_TYPES = ["application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"];
const IMAGE_TYPES = ["application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"];

const PlatformSchema = z.object({ os: z.string(), architecture: z.string(), variant: z.string().optional() });
const RootSchema = z.object({
  manifests: z.array(z.object({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), platform: PlatformSchema.optional() })).optional(),
  layers: z.array(z.unknown()).optional(),
});
type Platform = z.infer<typeof PlatformSchema>;

/** linux/arm64/v8 -> linux-arm64-v8: a file or gate name for a platform. */
export const platformSlug = (platform: string): string => platform.replace(/[^A-Za-z0-9.]+/g, "-");

export interface PlatformManifest {
  /** As configured in publish.platforms, e.g. linux/arm64. */
  platform: string;
  /** repository@sha256:<this platform's manifest>. */
  ref: string;
}

// containerd's normalization (platforms.Normalize): arm64 means v8, arm means v7 unless said otherwise.
const variantOf = (p: Platform) =>
  p.architecture === "arm64" ? (p.variant ?? "v8") : p.architecture === "arm" ? (p.variant ?? "v7") : p.variant;
const parse = (s: string): Platform => {
  const [os = "", architecture = "", variant] = s.split("/");
  return { os, architecture, ...(variant ? { variant } : {}) };
};
const samePlatform = (a: Platform, b: Platform) => a.os === b.os && a.architecture === b.architecture && variantOf(a) === variantOf(b);

/** The manifest of each platform, from the root's bytes; refuses bytes that are not the digest's. */
export function platformManifests(body: string, ref: string, platforms: string[]): PlatformManifest[] {
  const { repository, digest } = assertDigestRef(ref);
  const actual = `sha256:${createHash("sha256").update(body).digest("hex")}`;
  if (actual !== digest)
    throw new Problem(
      `the registry answered ${actual} for ${digest}`,
      "re-run; if it persists, the registry is not serving what was pushed",
    );
  let root: z.infer<typeof RootSchema>;
  try {
    root = RootSchema.parse(JSON.parse(body));
  } catch {
    throw new Problem(`${ref} is neither an image index nor an image manifest`, "publish it again with release");
  }
  if (!root.manifests) {
    // A single-platform publish pushes the image manifest itself: it is that platform's manifest.
    if (platforms.length === 1 && root.layers) return [{ platform: platforms[0]!, ref }];
    throw new Problem(`${ref} is one image, not an index of ${platforms.join(", ")}`, "publish every platform in one publish call");
  }
  return platforms.map((p) => {
    const found = root.manifests!.find((m) => m.platform && samePlatform(m.platform, parse(p)));
    if (!found)
      throw new Problem(`the index ${ref} has no ${p} manifest`, "publish it again with release; publish.platforms decides what is built");
    return { platform: p, ref: `${repository}@${found.digest}` };
  });
}

export interface RegistryLogin {
  username: string;
  password: string;
}

export interface ReadOptions {
  login?: RegistryLogin;
  /** Plain HTTP (a local test registry only). */
  plainHttp: boolean;
  timeoutMs?: number;
}

/** Docker Hub's API lives on its own host (distribution's docker.io default). */
const apiHost = (host: string) => (host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host);
const basic = (l: RegistryLogin) => `Basic ${Buffer.from(`${l.username}:${l.password}`).toString("base64")}`;

/**
 * `GET /v2/<name>/manifests/<digest>` with the registry's own auth flow: Basic (ECR, plain
 * registries) or a Bearer token from the realm its challenge names (distribution's token auth:
 * ghcr.io, Docker Hub). Only the index and image media types are accepted, as a registry requires.
 */
export async function readManifest(ref: string, o: ReadOptions): Promise<string> {
  const { repository, digest } = assertDigestRef(ref);
  const [host = "", ...path] = repository.split("/");
  const name = host === "docker.io" && path.length === 1 ? `library/${path[0]}` : path.join("/");
  const url = `${o.plainHttp ? "http" : "https"}://${apiHost(host)}/v2/${name}/manifests/${digest}`;
  const get = async (u: string, headers: Record<string, string>) => {
    try {
      return await fetch(u, { headers, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
    } catch (e) {
      throw new Problem(
        `the registry ${host} is unreachable: ${fetchFailure(e)}`,
        "check the registry address, and with-registry --address=<host> --plain-http for a plain-HTTP one",
      );
    }
  };
  const accept = { accept: [...INDEX_TYPES, ...IMAGE_TYPES].join(", ") };
  let res = await get(url, accept);
  if (res.status === 401) {
    const authorization = await answerChallenge(res.headers.get("www-authenticate") ?? "", name, o.login, get);
    res = await get(url, { ...accept, authorization });
  }
  if (!res.ok)
    throw new Problem(
      `the registry answered ${res.status} for ${ref}`,
      res.status === 401 || res.status === 403
        ? "the registry credentials may push but not read this repository"
        : "re-run; the image was just pushed",
    );
  return res.text();
}

async function answerChallenge(
  challenge: string,
  name: string,
  login: RegistryLogin | undefined,
  get: (u: string, h: Record<string, string>) => Promise<Response>,
): Promise<string> {
  const [scheme = ""] = challenge.split(" ");
  if (scheme.toLowerCase() === "basic" && login) return basic(login);
  if (scheme.toLowerCase() !== "bearer")
    throw new Problem("the registry asks for credentials", "chain with-registry --address=<this registry> --username --password");
  const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
  if (!params.realm)
    throw new Problem("the registry's token challenge names no realm", "report this registry: it breaks the distribution token spec");
  const realm = new URL(params.realm);
  if (params.service) realm.searchParams.set("service", params.service);
  realm.searchParams.set("scope", params.scope ?? `repository:${name}:pull`);
  const res = await get(realm.href, login ? { authorization: basic(login) } : {});
  const body = (await res.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : "";
  if (!res.ok || !token) throw new Problem(`the registry's token service answered ${res.status}`, "check the registry credentials");
  return `Bearer ${token}`;
}
