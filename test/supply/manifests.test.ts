/** Which manifest of a published image is which platform's, and the OIDC token checks keyless signing makes. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { platformManifests, platformSlug } from "../../deploy/lib/supply/publish/manifests.js";
import { assertUsableToken, tokenExpiry } from "../../deploy/lib/supply/signing/identity.js";
import { jwt } from "../helpers/fake-registry.js";

const digestOf = (body: string) => `sha256:${createHash("sha256").update(body).digest("hex")}`;
const child = (n: number) => `sha256:${String(n).repeat(64)}`;
const index = (platforms: object[]) =>
  JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: platforms.map((platform, i) => ({
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      digest: child(i + 1),
      platform,
    })),
  });

describe("platformManifests", () => {
  it("maps each configured platform to its manifest in the index, arm variants normalized as containerd does", () => {
    const body = index([
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
      { os: "linux", architecture: "arm", variant: "v7" },
    ]);
    const ref = `ghcr.io/acme/orders@${digestOf(body)}`;
    expect(platformManifests(body, ref, ["linux/arm64", "linux/amd64", "linux/arm"])).toEqual([
      { platform: "linux/arm64", ref: `ghcr.io/acme/orders@${child(2)}` },
      { platform: "linux/amd64", ref: `ghcr.io/acme/orders@${child(1)}` },
      { platform: "linux/arm", ref: `ghcr.io/acme/orders@${child(3)}` },
    ]);
  });

  it("a single-platform publish is its own manifest; anything else is refused", () => {
    const manifest = JSON.stringify({ schemaVersion: 2, config: {}, layers: [] });
    const ref = `ghcr.io/acme/orders@${digestOf(manifest)}`;
    expect(platformManifests(manifest, ref, ["linux/amd64"])).toEqual([{ platform: "linux/amd64", ref }]);
    expect(() => platformManifests(manifest, ref, ["linux/amd64", "linux/arm64"])).toThrow(/is one image, not an index/);
    const body = index([{ os: "linux", architecture: "amd64" }]);
    expect(() => platformManifests(body, `r/x@${digestOf(body)}`, ["linux/arm64"])).toThrow(/has no linux\/arm64 manifest/);
    expect(() => platformManifests(body, `r/x@${child(9)}`, ["linux/amd64"])).toThrow(/^the registry answered sha256:[0-9a-f]{64} for/);
  });

  it("names files and gates after a platform", () => {
    expect(["linux/amd64", "linux/arm/v7"].map(platformSlug)).toEqual(["linux-amd64", "linux-arm-v7"]);
  });
});

describe("OIDC identity token checks", () => {
  const now = new Date("2026-05-01T10:00:00Z");
  const at = (s: number) => jwt({ exp: Math.floor(now.getTime() / 1000) + s });

  it("reads exp without verifying, and nothing from what is not a JWT", () => {
    expect(tokenExpiry(at(300))).toEqual(new Date(now.getTime() + 300_000));
    expect(tokenExpiry("not-a-jwt")).toBeUndefined();
    expect(tokenExpiry("a.%%%.c")).toBeUndefined();
  });

  it("refuses an expired token or one about to expire, and lets the rest through for Fulcio to judge", () => {
    expect(() => assertUsableToken(at(-1), now, "cosign signs")).toThrow(/^the OIDC identity token expired at .*, before cosign signs/);
    expect(() => assertUsableToken(at(10), now, "cosign signs")).toThrow(/token expires at/);
    expect(() => assertUsableToken(at(300), now, "cosign signs")).not.toThrow();
    expect(() => assertUsableToken("opaque", now, "cosign signs")).not.toThrow();
  });
});
