/** Publish, sign and verify an image by digest, and the release that publishes and signs only after its gates pass. */
import { dag, type Secret } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../../deploy/lib/config/schema.js";
import { builtImage, sbomOf } from "../../deploy/lib/gates/image.js";
import { isRegistryOf, registryCredsFor } from "../../deploy/lib/gates/registry.js";
import { secretText } from "../../deploy/lib/gates/secret-text.js";
import { signImage, verifyImage } from "../../deploy/lib/gates/sign.js";
import { githubIdTokens, type TokenSource } from "../../deploy/lib/github/oidc.js";
import { make } from "../../deploy/src/report/fields.js";
import { passedAll, renderTable } from "../../deploy/src/report/render.js";
import { platformSlug } from "../../deploy/lib/supply/publish/manifests.js";
import { SBOM_FORMAT_INFO } from "../../deploy/lib/supply/sbom/commands.js";
import { assertUsableToken, SIGSTORE_AUDIENCE } from "../../deploy/lib/supply/signing/identity.js";
import type { ReleaseCalls } from "../../src/calls.js";
import type { Shipshape } from "../../src/index.js";
import { Release, ReleasePlatform } from "../../src/report/release.js";
import { provenanceOf, publishImage } from "../gates/publish.js";
import { secretsRun } from "./checks.js";
import { imageRun } from "./image.js";
import { configOf, context, toReport } from "./run.js";

/** Where publish pushes, with the registry's credentials and this chain's commit, branch and version. */
function publishTarget(s: Shipshape, config: ShipshapeConfig, registry: string, repository: string) {
  const creds = registryCredsFor(s, registry || config.publish.registry || "");
  const run = { sha: s.commitSha ?? "", branch: s.branch ?? "", defaultBranch: s.defaultBranch || "main", version: s.runVersion ?? "" };
  return { registry, repository, ...run, creds };
}

/** Plain HTTP only to the withRegistry registry that asked for it, with or without a login. */
const plainHttpFor = (s: Shipshape, ref: string): boolean => Boolean(s.registryPlainHttp) && isRegistryOf(s, ref);

/** Fresh sigstore-audience OIDC tokens from GitHub's token request URL and token, when both were given. */
async function sigstoreTokens(requestUrl?: Secret, requestToken?: Secret): Promise<TokenSource | undefined> {
  const [url, token] = await Promise.all([secretText(requestUrl), secretText(requestToken)]);
  if (!url && !token) return undefined;
  if (!url || !token)
    throw new Error(
      "keyless signing needs both the OIDC token request URL and its token\nhint: chain with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    );
  return githubIdTokens({ requestUrl: url, requestToken: token, audience: SIGSTORE_AUDIENCE });
}

/** The withSigner identity for signing `ref`, with its registry's credentials. */
async function signing(s: Shipshape, ref: string, tokens?: TokenSource) {
  const idTokens = tokens ?? (await sigstoreTokens(s.sigstoreIdTokenRequestUrl, s.sigstoreIdTokenRequestToken));
  return {
    key: s.cosignKey,
    password: s.cosignPassword,
    idToken: s.sigstoreIdToken,
    idTokens,
    creds: registryCredsFor(s, ref),
    allowHttpRegistry: plainHttpFor(s, ref),
  };
}

export const calls: ReleaseCalls = {
  async publish(s, gitDir, registry, repository) {
    const { project } = await context(s);
    return (await publishImage(project, s.source, gitDir, publishTarget(s, project.config, registry, repository))).ref;
  },

  async sign(s, ref) {
    const config = await configOf(s);
    return (await signImage(config, ref, await signing(s, ref))).ref;
  },

  async verify(s, ref, provenance, builderId) {
    const v = await verifyImage(await configOf(s), ref, {
      provenance,
      builderId,
      publicKey: s.cosignPublicKey,
      identity: s.certificateIdentity ?? "",
      issuer: s.certificateOidcIssuer ?? "",
      insecureIgnoreTlog: s.insecureIgnoreTlog ?? false,
      creds: registryCredsFor(s, ref),
      allowHttpRegistry: plainHttpFor(s, ref),
    });
    if (!v.verified)
      throw new Error(
        `${ref} is not verified: ${v.reason}\nhint: sign it with the matching key or identity (dagger call shipshape with-signer ... sign), and deploy only what verifies`,
      );
    return v.reason;
  },

  async release(s, gitDir, registry, repository, builderId) {
    const idTokens = await sigstoreTokens(s.sigstoreIdTokenRequestUrl, s.sigstoreIdTokenRequestToken);
    // Checked before anything is pushed: an unsigned image must never reach the registry.
    if (!s.cosignKey && !s.sigstoreIdToken && !idTokens) {
      throw new Error(
        "release needs a signing identity: an image is never published unsigned\nhint: chain with-signer --key=file://cosign.key --password=env://COSIGN_PASSWORD, or in GitHub Actions with-signer --id-token-request-url=env://ACTIONS_ID_TOKEN_REQUEST_URL --id-token-request-token=env://ACTIONS_ID_TOKEN_REQUEST_TOKEN",
      );
    }
    if (!s.cosignKey && !idTokens && s.sigstoreIdToken)
      assertUsableToken((await secretText(s.sigstoreIdToken)) ?? "", new Date(), "the build");
    const startedOn = new Date();
    const { project } = await context(s);
    // Every published platform is judged, and SBOM'd, on its own: an arm64-only vulnerability blocks the release too.
    const platforms = project.config.publish.platforms;
    const images = await Promise.all(platforms.map((p) => builtImage(project, s.source, p)));
    const sboms = platforms.map((platform, i) => ({ platform, sbom: sbomOf(project.config, images[i]!) }));
    const runs = await Promise.all([
      ...platforms.flatMap((p) => [
        imageRun(s, "scan", p, `scan-${platformSlug(p)}`),
        imageRun(s, "licenses", p, `licenses-${platformSlug(p)}`),
      ]),
      secretsRun(s, gitDir),
    ]);
    if (!passedAll(runs.map((r) => r.outcome)))
      throw new Error(`release stopped before publishing:\n${renderTable(runs.map((r) => r.outcome))}`);
    const published = await publishImage(project, s.source, gitDir, publishTarget(s, project.config, registry, repository));
    const provenance = await provenanceOf(project, s.source, published, {
      configPath: s.configPath,
      builderId,
      invocationId: s.runUrl ?? "",
      startedOn,
      finishedOn: new Date(),
    });
    const signed = await signImage(project.config, published.ref, await signing(s, published.ref, idTokens), { sboms, provenance });
    const gates = runs.map(toReport);
    return make(Release, {
      ref: published.ref,
      tags: published.tags,
      platforms: signed.platforms.map((m, i) => make(ReleasePlatform, { platform: m.platform, ref: m.ref, sbom: sboms[i]!.sbom })),
      gates,
      files: sboms.reduce(
        (dir, { platform, sbom }) =>
          dir.withFile(`sbom/${platformSlug(platform)}.${SBOM_FORMAT_INFO[project.config.sbom.format].fileName}`, sbom),
        gates.reduce((dir, g) => dir.withDirectory(g.gate, g.files), dag.directory()),
      ),
      provenance,
    });
  },
};
