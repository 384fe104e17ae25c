/**
 * sign / verify with cosign, by digest only. Keys, passwords and OIDC tokens reach cosign as
 * secret environment variables; registry credentials as a docker config.json mounted as a secret.
 */
import { dag, type Container, type File, type Secret } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../config/schema.js";
import { imageRef } from "../images.js";
import { Problem } from "../project/problem.js";
import { SLSA_PROVENANCE_V1 } from "../supply/provenance/slsa.js";
import { SBOM_FORMAT_INFO } from "../supply/sbom/commands.js";
import { attestationVerdict } from "../supply/signing/attestation.js";
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
import { dockerConfig, registryAuth, type RegistryCredentials } from "./registry.js";
import { run } from "./workspace.js";

/** The cosign image runs as uid 65532 with no shell: everything it reads must be readable by it. */
const COSIGN_UID = "65532";
const DOCKER_CONFIG_DIR = "/tmp/docker";

async function cosign(config: ShipshapeConfig, ref: string, creds: RegistryCredentials): Promise<Container> {
  let ctr = dag.container().from(imageRef("cosign", config.images.cosign)).withEnvVariable("DOCKER_CONFIG", DOCKER_CONFIG_DIR);
  const auth = await registryAuth(config, ref.split("@")[0]!, creds);
  if (auth) ctr = ctr.withMountedSecret(`${DOCKER_CONFIG_DIR}/config.json`, await dockerConfig(auth), { owner: COSIGN_UID });
  return ctr;
}

export interface SignOptions {
  key?: Secret;
  password?: Secret;
  idToken?: Secret;
  creds: RegistryCredentials;
  allowHttpRegistry: boolean;
}

/** Predicates go to /tmp: the only place the cosign image's uid 65532 may write and read. */
const PREDICATE_DIR = "/tmp";
export const PROVENANCE_PATH = `${PREDICATE_DIR}/provenance.slsa.json`;

/**
 * Signs the digest and attests, with the same identity, the SBOM (as CycloneDX or SPDX JSON,
 * following sbom.format) and the SLSA v1 provenance predicate (JSON text), when given.
 */
export async function signImage(
  config: ShipshapeConfig,
  ref: string,
  opts: SignOptions,
  sbom?: File,
  provenance?: string,
): Promise<string> {
  const digest = assertDigestRef(ref).ref;
  let ctr = await cosign(config, digest, opts.creds);
  let keyless: boolean;
  if (opts.key) {
    if (!opts.password)
      throw new Problem(
        "a cosign key was given without its password",
        "pass --cosign-password=env://COSIGN_PASSWORD (empty for an unencrypted key)",
      );
    ctr = ctr
      .withSecretVariable(COSIGN_ENV.privateKey, opts.key)
      .withSecretVariable(COSIGN_ENV.password, opts.password)
      // The empty signing config: no Fulcio, Rekor or TSA, so key-based signing works on private infrastructure.
      .withExec(signingConfigCommand());
    keyless = false;
  } else if (opts.idToken) {
    ctr = ctr.withSecretVariable(COSIGN_ENV.idToken, opts.idToken);
    keyless = true;
  } else {
    throw new Problem(
      "nothing to sign with: neither a cosign key nor an OIDC identity token was given",
      "pass --cosign-key and --cosign-password, or --sigstore-id-token in GitHub Actions (id-token: write)",
    );
  }
  const target = { ref: digest, keyless, allowHttpRegistry: opts.allowHttpRegistry } as const;
  const cmd = signCommand(target);
  progress("sign", cmd.join(" "));
  const step = await run(ctr, cmd);
  if (step.exitCode !== 0) {
    const last = step.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${step.exitCode}`;
    throw new Problem(
      `cosign could not sign ${digest}: ${last}`,
      "check the key and password, and that the registry credentials may push signatures",
    );
  }
  // Each attestation runs on the signed container, so neither starts unless the signature is in place.
  const attest = async (what: string, type: AttestationType, path: string, withPredicate: (c: Container) => Container) => {
    const argv = attestCommand({ ...target, predicatePath: path, type });
    progress("attest", argv.join(" "));
    const att = await run(withPredicate(step.ctr), argv);
    if (att.exitCode !== 0) {
      const last = att.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${att.exitCode}`;
      throw new Problem(
        `cosign signed ${digest} but could not attest its ${what}: ${last}`,
        "re-run release; the signature is in place, the attestation is not",
      );
    }
  };
  if (sbom) {
    const info = SBOM_FORMAT_INFO[config.sbom.format];
    const path = `${PREDICATE_DIR}/${info.fileName}`;
    await attest("SBOM", info.attestationType, path, (c) => c.withFile(path, sbom, { owner: COSIGN_UID }));
  }
  if (provenance !== undefined) {
    await attest("SLSA provenance", "slsaprovenance1", PROVENANCE_PATH, (c) =>
      c.withNewFile(PROVENANCE_PATH, provenance, { owner: COSIGN_UID }),
    );
  }
  return digest;
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
  let ctr = await cosign(config, digest, opts.creds);
  let signer: { key: true } | { identity: string; issuer: string };
  if (opts.publicKey) {
    ctr = ctr.withSecretVariable(COSIGN_ENV.publicKey, opts.publicKey);
    signer = { key: true };
  } else if (opts.identity || opts.issuer) {
    signer = { identity: opts.identity, issuer: opts.issuer };
  } else {
    throw new Problem(
      "nothing to verify against: neither a public key nor a certificate identity was given",
      "pass --cosign-public-key, or --certificate-identity and --certificate-oidc-issuer",
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
