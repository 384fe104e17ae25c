/**
 * cosign 3.x command lines, by digest only, plus the reading of `cosign verify`'s output. Pure, so
 * the Dagger wiring and the real-tool tests (test/supply/signing.real.test.ts) run the same argv;
 * `withExec` does not run the image ENTRYPOINT, hence the leading "cosign".
 *
 * Secrets never enter argv: the private key, its password and the public key travel as env vars
 * (Dagger `withSecretVariable`), named here and read by cosign through `env://`.
 */
import { z } from "zod";
import { Problem, quoted } from "../../../src/project/problem.js";
import { cosignError } from "./cosign-error.js";

/** Env vars the caller must set on the cosign container; the values never appear in argv. */
export const COSIGN_ENV = {
  privateKey: "COSIGN_PRIVATE_KEY",
  /** cosign reads it itself for `sign`/`attest` with an encrypted key (pkg/cosign/env). */
  password: "COSIGN_PASSWORD",
  publicKey: "COSIGN_PUBLIC_KEY",
  /** Keyless: an OIDC token for Fulcio, read by cosign itself. */
  idToken: "SIGSTORE_ID_TOKEN",
} as const;

/** Where `signingConfigCommand` writes by default; /tmp is writable by the cosign image's uid 65532. */
export const DEFAULT_SIGNING_CONFIG = "/tmp/cosign-signing-config.json";

export interface DigestRef {
  /** Registry and repository, tag removed: `ghcr.io/acme/app`. */
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
  /** `<repository>@<digest>`, the only form passed to cosign. */
  ref: string;
}

/**
 * A tag can be moved after it was signed or verified; a digest names exactly the bytes. So every
 * cosign command (and deploy) takes `name@sha256:<64 hex>`, as Dagger's publish() returns it.
 */
export function assertDigestRef(ref: string): DigestRef {
  const m = /^([^@\s]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) throw digestProblem(ref);
  if (m[1]!.startsWith("-") || /\p{Cc}/u.test(m[1]!)) {
    throw new Problem(
      `image repository ${quoted(m[1]!)} starts with "-" or holds control characters, so cosign would read it as an option`,
      "pass a registry/repository name such as ghcr.io/acme/api@sha256:…",
    );
  }
  const [, base = "", digest = ""] = m;
  // A tag is the ":" after the last "/" (a ":" before it is the registry port); cosign ignores it
  // next to a digest, so it is dropped to make the signed identity the digest alone.
  const colon = base.lastIndexOf(":");
  const repository = colon > base.lastIndexOf("/") ? base.slice(0, colon) : base;
  return { repository, digest, ref: `${repository}@${digest}` };
}

/**
 * Why a reference is not `name@sha256:<64 hex>`, most specific first. The OCI image spec
 * (descriptor.md, "Registered algorithms") allows only lowercase hex for sha256's encoded part, so
 * an uppercase digest is a wrong digest, not a missing one.
 */
function digestProblem(ref: string): Problem {
  const at = ref.lastIndexOf("@");
  const digest = at < 0 ? "" : ref.slice(at + 1);
  const hint = "sign and deploy by digest: use the name@sha256:… reference that publish() returns";
  if (/^sha256:[0-9a-f]{64}$/i.test(digest)) {
    return new Problem(
      `image reference ${quoted(ref)}: the digest must be lowercase hex (OCI image spec), and ${quoted(digest.slice(0, 15) + "…")} is not`,
      `write the digest in lowercase: sha256:${digest.slice(7).toLowerCase()}`,
    );
  }
  if (/^sha256:/i.test(digest)) {
    const hex = digest.slice(7);
    return new Problem(
      `image reference ${quoted(ref)}: a sha256 digest is 64 hex characters, this one has ${hex.length}${/^[0-9a-fA-F]*$/.test(hex) ? "" : " and non-hex characters"}`,
      hint,
    );
  }
  return new Problem(`image reference ${quoted(ref)} has no @sha256:<64 hex> digest; refusing to sign or verify a tag`, hint);
}

export interface RegistryOptions {
  /**
   * Plain-HTTP registry (a local or in-cluster test registry). Off by default: cosign then only
   * talks HTTPS, except to localhost/127.0.0.1/RFC 1918 addresses, where go-containerregistry
   * falls back to HTTP on its own.
   */
  allowHttpRegistry?: boolean;
}

/** Key-based with an empty signing config (no Fulcio/Rekor/TSA, works offline) or keyless. */
export type SigningMode = { keyless: false; signingConfig?: string } | { keyless: true };

export type SignOptions = SigningMode & RegistryOptions & { ref: string };

function signingFlags(mode: SigningMode): string[] {
  if (mode.keyless) return []; // Fulcio certificate from SIGSTORE_ID_TOKEN, Rekor entry: needs the network.
  return ["--key", `env://${COSIGN_ENV.privateKey}`, "--signing-config", mode.signingConfig ?? DEFAULT_SIGNING_CONFIG];
}

const http = (o: RegistryOptions): string[] => (o.allowHttpRegistry === true ? ["--allow-http-registry"] : []);

/**
 * `cosign signing-config create` with no services: key-based signing without Rekor. cosign 3's
 * `--tlog-upload=false` alone now errors; this file is its replacement.
 */
export function signingConfigCommand(out: string = DEFAULT_SIGNING_CONFIG): string[] {
  return ["cosign", "signing-config", "create", "--out", out];
}

export function signCommand(opts: SignOptions): string[] {
  const { ref } = assertDigestRef(opts.ref);
  // --yes: no prompt in CI (and keyless would otherwise ask to confirm the upload to Rekor).
  return ["cosign", "sign", ...signingFlags(opts), ...http(opts), "--yes", ref];
}

/** SBOM (CycloneDX or SPDX JSON) and SLSA v1 provenance, as `cosign attest --type` names them. */
export type AttestationType = "cyclonedx" | "spdxjson" | "slsaprovenance1";

export type AttestOptions = SignOptions & { predicatePath: string; type: AttestationType };

export function attestCommand(opts: AttestOptions): string[] {
  const { ref } = assertDigestRef(opts.ref);
  if (opts.predicatePath.trim() === "") throw new Problem("cosign attest needs a predicate file", "pass the SBOM or provenance JSON path");
  return ["cosign", "attest", ...signingFlags(opts), ...http(opts), "--yes", "--type", opts.type, "--predicate", opts.predicatePath, ref];
}

/** Who must have signed: the public key in COSIGN_PUBLIC_KEY, or a keyless certificate identity. */
export type Signer = { key: true } | { identity: string; issuer: string };

export type VerifyOptions = Signer &
  RegistryOptions & {
    ref: string;
    /**
     * `--insecure-ignore-tlog=true`: accept signatures with no Rekor entry (key-based signing
     * with the empty signing config, private infrastructure). Never implied: without Rekor a
     * signature's time and existence are only the signer's word.
     */
    insecureIgnoreTlog?: boolean;
  };

function verifyFlags(opts: VerifyOptions): string[] {
  let who: string[];
  if ("key" in opts) {
    who = ["--key", `env://${COSIGN_ENV.publicKey}`];
  } else {
    if (opts.identity.trim() === "" || opts.issuer.trim() === "") {
      throw new Problem(
        "keyless verification needs both a certificate identity and an OIDC issuer",
        "set identity (workflow URL@ref) and issuer",
      );
    }
    who = ["--certificate-identity", opts.identity, "--certificate-oidc-issuer", opts.issuer];
  }
  return [...who, ...(opts.insecureIgnoreTlog === true ? ["--insecure-ignore-tlog=true"] : []), ...http(opts)];
}

/** Exit 0 and a JSON array on stdout when verified; 1 on a bad signature, 10 when there is none. */
export function verifyCommand(opts: VerifyOptions): string[] {
  const { ref } = assertDigestRef(opts.ref);
  return ["cosign", "verify", ...verifyFlags(opts), ref];
}

export function verifyAttestationCommand(opts: VerifyOptions & { type: AttestationType }): string[] {
  const { ref } = assertDigestRef(opts.ref);
  return ["cosign", "verify-attestation", ...verifyFlags(opts), "--type", opts.type, ref];
}

const VerifyOutputSchema = z
  .array(
    z.object({
      critical: z.object({
        identity: z.object({ "docker-reference": z.string() }),
        image: z.object({ "docker-manifest-digest": z.string().regex(/^sha256:[0-9a-f]{64}$/) }),
        type: z.string(),
      }),
      optional: z.record(z.string(), z.unknown()).nullish(),
    }),
  )
  .min(1);

export interface VerifiedImage {
  digest: string;
  /** The docker-reference the signature was made for. */
  reference: string;
  /** Signatures that verified (one per signing). */
  signatures: number;
}

/** `cosign verify` stdout: one entry per verified signature, all for the one image. */
export function parseVerifyOutput(stdout: string): VerifiedImage {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`cosign verify output is not JSON (${stdout.length} characters)`);
  }
  const parsed = VerifyOutputSchema.safeParse(json);
  if (!parsed.success) throw new Error(`cosign verify output has an unexpected shape: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  const [first, ...rest] = parsed.data;
  const digest = first!.critical.image["docker-manifest-digest"]; // .min(1)
  if (rest.some((e) => e.critical.image["docker-manifest-digest"] !== digest)) {
    throw new Error("cosign verify reported signatures for more than one digest");
  }
  return { digest, reference: first!.critical.identity["docker-reference"], signatures: parsed.data.length };
}

export interface SignatureVerdict {
  verified: boolean;
  reason: string;
}

/**
 * Verified only if cosign exited 0 AND the signed digest is the one asked for: exit codes alone
 * are the contract (cosign prints "verified offline" lines even with the tlog ignored).
 */
export function signatureVerdict(requestedRef: string, run: { exitCode: number; stdout: string; stderr?: string }): SignatureVerdict {
  const { digest } = assertDigestRef(requestedRef);
  if (run.exitCode === 10) return { verified: false, reason: `no signatures found for ${digest}` };
  if (run.exitCode !== 0) return { verified: false, reason: `cosign verify failed (exit ${run.exitCode}): ${cosignError(run)}` };
  let got: VerifiedImage;
  try {
    got = parseVerifyOutput(run.stdout);
  } catch (e) {
    return { verified: false, reason: (e as Error).message };
  }
  if (got.digest !== digest) return { verified: false, reason: `cosign verified ${got.digest}, not the requested ${digest}` };
  return { verified: true, reason: `${got.signatures} signature(s) verified for ${digest}` };
}
