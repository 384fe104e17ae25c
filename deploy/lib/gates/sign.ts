/**
 * sign / verify with cosign, by digest only. Keys, passwords and OIDC tokens reach cosign as
 * secret environment variables; registry credentials as a docker config.json mounted as a secret.
 */
import { randomUUID } from "node:crypto";
import { dag, type Container, type File, type Secret } from "@dagger.io/dagger";
import type { TokenSource } from "../github/oidc.js";
import type { ShipshapeConfig } from "../config/schema.js";
import { imageRef } from "../images.js";
import { Problem } from "../../src/project/problem.js";
import { SLSA_PROVENANCE_V1 } from "../supply/provenance/slsa.js";
import { platformManifests, platformSlug, readManifest, type PlatformManifest } from "../supply/publish/manifests.js";
import { SBOM_FORMAT_INFO } from "../supply/sbom/commands.js";
import { attestationVerdict } from "../supply/signing/attestation.js";
import { cosignError } from "../supply/signing/cosign-error.js";
import { assertUsableToken } from "../supply/signing/identity.js";
import {
  assertDigestRef,
  attestCommand,
  COSIGN_ENV,
  signatureVerdict,
  signCommand,
  signingConfigCommand,
  verifyAttestationCommand,
  verifyCommand,
  type AttestationType,
  type SignatureVerdict,
} from "../supply/signing/commands.js";
import { progress } from "./progress.js";
import { dockerConfig, registryAuth, secretOf, type RegistryAuth, type RegistryCredentials } from "./registry.js";
import { secretText } from "./secret-text.js";
import { run } from "./workspace.js";

/** The cosign image runs as uid 65532 with no shell: everything it reads must be readable by it. */
const COSIGN_UID = "65532";
const DOCKER_CONFIG_DIR = "/tmp/docker";
/**
 * A fresh value per function call on every cosign container. `cache: "never"` re-runs the
 * function, not the execs in it: an exec with identical inputs is answered from the exec cache,
 * so without this a re-run sign, attest or verify would replay the first run's result.
 */
export const COSIGN_RUN_ENV = "SHIPSHAPE_COSIGN_RUN";

function cosign(config: ShipshapeConfig, auth: RegistryAuth | undefined): Promise<Container> {
  const ctr = dag
    .container()
    .from(imageRef("cosign", config.images.cosign))
    .withEnvVariable("DOCKER_CONFIG", DOCKER_CONFIG_DIR)
    .withEnvVariable(COSIGN_RUN_ENV, randomUUID());
  return auth
    ? dockerConfig(auth).then((cfg) => ctr.withMountedSecret(`${DOCKER_CONFIG_DIR}/config.json`, cfg, { owner: COSIGN_UID }))
    : Promise.resolve(ctr);
}

const authFor = (config: ShipshapeConfig, digestRef: string, creds: RegistryCredentials) =>
  registryAuth(config, digestRef.split("@")[0]!, creds);

export interface SignOptions {
  key?: Secret;
  password?: Secret;
  /** Keyless: an OIDC token as given, checked for expiry before each cosign run. */
  idToken?: Secret;
  /** Keyless: a fresh OIDC token for each cosign run (GitHub's token request URL and token); wins over idToken. */
  idTokens?: TokenSource;
  creds: RegistryCredentials;
  allowHttpRegistry: boolean;
  now?: () => Date;
}

/** How each cosign run proves who signs: the key, set once, or an OIDC token set for that very run. */
interface Signer {
  keyless: boolean;
  prepare(c: Container): Container;
  forRun(c: Container, what: string): Promise<Container>;
}

function signer(opts: SignOptions): Signer {
  const now = opts.now ?? (() => new Date());
  const { key, password, idToken, idTokens } = opts;
  if (key) {
    if (!password)
      throw new Problem(
        "a cosign key was given without its password",
        "pass with-signer --password=env://COSIGN_PASSWORD (empty for an unencrypted key)",
      );
    return {
      keyless: false,
      prepare: (c) =>
        c
          .withSecretVariable(COSIGN_ENV.privateKey, key)
          .withSecretVariable(COSIGN_ENV.password, password)
          // The empty signing config: no Fulcio, Rekor or TSA, so key-based signing works on private infrastructure.
          .withExec(signingConfigCommand()),
      forRun: async (c) => c,
    };
  }
  if (idTokens) {
    return {
      keyless: true,
      prepare: (c) => c,
      forRun: async (c, what) => {
        const token = (await idTokens()).trim();
        assertUsableToken(token, now(), what);
        return c.withSecretVariable(COSIGN_ENV.idToken, secretOf("sigstore-id-token", token));
      },
    };
  }
  if (idToken) {
    return {
      keyless: true,
      prepare: (c) => c.withSecretVariable(COSIGN_ENV.idToken, idToken),
      forRun: async (c, what) => {
        assertUsableToken((await secretText(idToken)) ?? "", now(), what);
        return c;
      },
    };
  }
  throw new Problem(
    "nothing to sign with: neither a cosign key nor an OIDC identity token was given",
    "chain with-signer --key --password, or in GitHub Actions (id-token: write) with-signer --id-token-request-url --id-token-request-token",
  );
}

/** Predicates go to /tmp: the only place the cosign image's uid 65532 may write and read. */
const PREDICATE_DIR = "/tmp";
export const PROVENANCE_PATH = `${PREDICATE_DIR}/provenance.slsa.json`;

export interface Attestations {
  /** Each published platform's SBOM, attested to that platform's own manifest. */
  sboms?: { platform: string; sbom: File }[];
  /** The SLSA v1 provenance predicate (JSON text), attested to the digest signed. */
  provenance?: string;
}

export interface Signed {
  ref: string;
  /** The manifest each SBOM was attested to, per platform. */
  platforms: PlatformManifest[];
}

/**
 * Signs the digest; then attests, with the same identity, each platform's SBOM (CycloneDX or SPDX
 * JSON, following sbom.format) to that platform's manifest, and the provenance to the digest.
 */
export async function signImage(config: ShipshapeConfig, ref: string, opts: SignOptions, att: Attestations = {}): Promise<Signed> {
  const digest = assertDigestRef(ref).ref;
  const who = signer(opts);
  const auth = await authFor(config, digest, opts.creds);
  // Which manifest is which platform's, known (and checked against the digest) before anything is signed.
  const platforms = att.sboms?.length
    ? platformManifests(
        await readManifest(digest, {
          login: auth ? { username: auth.username, password: await auth.secret.plaintext() } : undefined,
          plainHttp: opts.allowHttpRegistry,
        }),
        digest,
        att.sboms.map((s) => s.platform),
      )
    : [];
  const base = who.prepare(await cosign(config, auth));
  const target = { keyless: who.keyless, allowHttpRegistry: opts.allowHttpRegistry } as const;
  const cmd = signCommand({ ...target, ref: digest });
  progress("sign", cmd.join(" "));
  const step = await run(await who.forRun(base, `cosign signs ${digest}`), cmd);
  if (step.exitCode !== 0) {
    throw new Problem(
      `cosign could not sign ${digest}: ${cosignError(step)}`,
      "check the key and password, and that the registry credentials may push signatures",
    );
  }
  // Each attestation runs on the signed container, so none starts unless the signature is in place.
  const attest = async (subject: string, what: string, type: AttestationType, path: string, withPredicate: (c: Container) => Container) => {
    const argv = attestCommand({ ...target, ref: subject, predicatePath: path, type });
    progress("attest", argv.join(" "));
    const att = await run(await who.forRun(withPredicate(step.ctr), `cosign attests the ${what}`), argv);
    if (att.exitCode !== 0) {
      throw new Problem(
        `cosign signed ${digest} but could not attest its ${what}: ${cosignError(att)}`,
        "re-run release; the signature is in place, the attestation is not",
      );
    }
  };
  const info = SBOM_FORMAT_INFO[config.sbom.format];
  for (const [i, { platform, sbom }] of (att.sboms ?? []).entries()) {
    // One path per platform: the cosign image's /tmp is shared by every attestation on the signed container.
    const path = `${PREDICATE_DIR}/${platformSlug(platform)}.${info.fileName}`;
    await attest(platforms[i]!.ref, `${platform} SBOM`, info.attestationType, path, (c) => c.withFile(path, sbom, { owner: COSIGN_UID }));
  }
  if (att.provenance !== undefined) {
    const provenance = att.provenance;
    await attest(digest, "SLSA provenance", "slsaprovenance1", PROVENANCE_PATH, (c) =>
      c.withNewFile(PROVENANCE_PATH, provenance, { owner: COSIGN_UID }),
    );
  }
  return { ref: digest, platforms };
}

export interface VerifyOptions {
  publicKey?: Secret;
  identity: string;
  issuer: string;
  insecureIgnoreTlog: boolean;
  creds: RegistryCredentials;
  allowHttpRegistry: boolean;
  /** Also require a SLSA v1 provenance attestation for the digest, by the same signer. */
  provenance?: boolean;
  /** With provenance: its runDetails.builder.id must be exactly this; "" accepts any builder. */
  builderId?: string;
}

export async function verifyImage(config: ShipshapeConfig, ref: string, opts: VerifyOptions): Promise<SignatureVerdict> {
  const digest = assertDigestRef(ref).ref;
  let ctr = await cosign(config, await authFor(config, digest, opts.creds));
  let signer: { key: true } | { identity: string; issuer: string };
  if (opts.publicKey) {
    ctr = ctr.withSecretVariable(COSIGN_ENV.publicKey, opts.publicKey);
    signer = { key: true };
  } else if (opts.identity || opts.issuer) {
    signer = { identity: opts.identity, issuer: opts.issuer };
  } else {
    throw new Problem(
      "nothing to verify against: neither a public key nor a certificate identity was given",
      "chain with-verifier --public-key, or with-verifier --certificate-identity --certificate-oidc-issuer",
    );
  }
  const target = { ref: digest, ...signer, insecureIgnoreTlog: opts.insecureIgnoreTlog, allowHttpRegistry: opts.allowHttpRegistry };
  const cmd = verifyCommand(target);
  progress("verify", cmd.join(" "));
  const step = await run(ctr, cmd);
  const signature = signatureVerdict(digest, step);
  if (!signature.verified || !opts.provenance) return signature;
  const att = verifyAttestationCommand({ ...target, type: "slsaprovenance1" });
  progress("verify", att.join(" "));
  const provenance = attestationVerdict(digest, await run(ctr, att), {
    predicateType: SLSA_PROVENANCE_V1,
    ...(opts.builderId ? { builderId: opts.builderId } : {}),
  });
  return provenance.verified
    ? { verified: true, reason: `${signature.reason}; ${provenance.reason}` }
    : { verified: false, reason: `signature verified, but ${provenance.reason}` };
}
