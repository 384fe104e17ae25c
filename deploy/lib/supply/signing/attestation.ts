/**
 * Reading `cosign verify-attestation` output: one DSSE envelope per line, whose base64 payload is
 * an in-toto statement (subject digests, predicateType, predicate). cosign's exit code says the
 * signature is good; only the statement says it is about this digest and from the expected builder.
 */
import { z } from "zod";
import { cosignError } from "./cosign-error.js";
import { assertDigestRef, type SignatureVerdict } from "./commands.js";

const EnvelopeSchema = z.object({ payloadType: z.string(), payload: z.string() });

const StatementSchema = z.object({
  _type: z.string(),
  predicateType: z.string(),
  subject: z.array(z.object({ name: z.string().optional(), digest: z.record(z.string(), z.string()) })).min(1),
  predicate: z.unknown(),
});

export type InTotoStatement = z.infer<typeof StatementSchema>;

export function parseAttestations(stdout: string): InTotoStatement[] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .map((line, i) => {
      const envelope = EnvelopeSchema.safeParse(JSON.parse(line));
      if (!envelope.success) throw new Error(`cosign verify-attestation line ${i + 1} is not a DSSE envelope`);
      const statement = StatementSchema.safeParse(JSON.parse(Buffer.from(envelope.data.payload, "base64").toString("utf8")));
      if (!statement.success) throw new Error(`attestation ${i + 1} is not an in-toto statement`);
      return statement.data;
    });
}

export interface AttestationExpectation {
  predicateType: string;
  /** SLSA provenance: runDetails.builder.id must equal it; unset accepts any builder. */
  builderId?: string;
}

const builderIdOf = (predicate: unknown): string | undefined => {
  const id = (predicate as { runDetails?: { builder?: { id?: unknown } } } | null)?.runDetails?.builder?.id;
  return typeof id === "string" ? id : undefined;
};

/** Verified only if cosign exited 0 and some statement of the expected type is about the requested digest (and builder). */
export function attestationVerdict(
  requestedRef: string,
  run: { exitCode: number; stdout: string; stderr?: string },
  expect: AttestationExpectation,
): SignatureVerdict {
  const { digest } = assertDigestRef(requestedRef);
  const hex = digest.slice("sha256:".length);
  if (run.exitCode !== 0) {
    return {
      verified: false,
      reason: `cosign verify-attestation failed (exit ${run.exitCode}) for the ${expect.predicateType} attestation: ${cosignError(run)}`,
    };
  }
  let statements: InTotoStatement[];
  try {
    statements = parseAttestations(run.stdout);
  } catch (e) {
    return { verified: false, reason: (e as Error).message };
  }
  const forDigest = statements.filter((s) => s.predicateType === expect.predicateType && s.subject.some((x) => x.digest.sha256 === hex));
  if (forDigest.length === 0) return { verified: false, reason: `no ${expect.predicateType} attestation names ${digest}` };
  if (expect.builderId !== undefined) {
    const builders = forDigest.map((s) => builderIdOf(s.predicate));
    if (!builders.includes(expect.builderId)) {
      return {
        verified: false,
        reason: `provenance for ${digest} was built by ${builders.filter(Boolean).join(", ") || "an unnamed builder"}, not ${expect.builderId}`,
      };
    }
  }
  return { verified: true, reason: `${forDigest.length} ${expect.predicateType} attestation(s) verified for ${digest}` };
}
