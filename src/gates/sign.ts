/**
 * sign / verify with cosign, by digest only. Keys, passwords and OIDC tokens reach cosign as
 * secret environment variables; registry credentials as a docker config.json mounted as a secret.
 */
import { dag, type Container, type File, type Secret } from "@dagger.io/dagger";
import type { ShipshapeConfig } from "../config/schema.js";
import { imageRef } from "../images.js";
import { Problem } from "../project/problem.js";
import {
  assertDigestRef,
  attestCommand,
  COSIGN_ENV,
  signatureVerdict,
  signCommand,
  signingConfigCommand,
  verifyCommand,
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

const SBOM_PATH = "/tmp/sbom.cdx.json";

/** Signs the digest and, given an SBOM, attests it (CycloneDX predicate) with the same identity. */
export async function signImage(config: ShipshapeConfig, ref: string, opts: SignOptions, sbom?: File): Promise<string> {
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
  const attest = sbom ? attestCommand({ ...target, predicatePath: SBOM_PATH, type: "cyclonedx" }) : undefined;
  progress("sign", cmd.join(" "));
  const step = await run(ctr, cmd);
  if (step.exitCode !== 0) {
    const last = step.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${step.exitCode}`;
    throw new Problem(
      `cosign could not sign ${digest}: ${last}`,
      "check the key and password, and that the registry credentials may push signatures",
    );
  }
  if (sbom && attest) {
    progress("attest", attest.join(" "));
    const att = await run(step.ctr.withFile(SBOM_PATH, sbom, { owner: COSIGN_UID }), attest);
    if (att.exitCode !== 0) {
      const last = att.stderr.trim().split("\n").filter(Boolean).at(-1) ?? `exit code ${att.exitCode}`;
      throw new Problem(
        `cosign signed ${digest} but could not attest its SBOM: ${last}`,
        "re-run release; the signature is in place, the attestation is not",
      );
    }
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
  const cmd = verifyCommand({
    ref: digest,
    ...signer,
    insecureIgnoreTlog: opts.insecureIgnoreTlog,
    allowHttpRegistry: opts.allowHttpRegistry,
  });
  progress("verify", cmd.join(" "));
  const step = await run(ctr, cmd);
  return signatureVerdict(digest, step);
}
