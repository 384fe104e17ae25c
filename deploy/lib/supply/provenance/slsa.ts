/**
 * SLSA Provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance) for a release: what was
 * built (the source commit, the platforms, the config), from what (the commit and the base
 * images by digest) and by whom (builder.id, the run). Pure: times and ids are inputs, so the
 * same release inputs always give the same document. cosign wraps it into the in-toto statement
 * (`cosign attest --type slsaprovenance1`) with the image digest as subject.
 */
import { Problem } from "../../../src/project/problem.js";

export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";

/**
 * What a Shipshape release build is: `dagger call release` building the Dockerfile (or the
 * generated one) of `externalParameters.source` for each platform. Consumers key their policy on
 * it; bump the version when the meaning of the parameters changes.
 */
export const SHIPSHAPE_BUILD_TYPE = "https://shipshape.dev/buildtypes/dagger-release/v1";

/** Used when the caller names no builder: a local or unidentified run, which policies should not trust as hosted. */
export const DEFAULT_BUILDER_ID = "https://shipshape.dev/builders/dagger-local/v1";

export interface ResourceDescriptor {
  uri?: string;
  digest?: Record<string, string>;
  name?: string;
  annotations?: Record<string, string>;
}

export interface SlsaProvenancePredicate {
  buildDefinition: {
    buildType: string;
    externalParameters: {
      source: { uri: string; ref: string; revision: string };
      platforms: string[];
      configPath: string;
    } & Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

export interface ProvenanceInput {
  /** Repository URL (https://github.com/acme/orders); "" when unknown. */
  repository: string;
  /** Branch or tag built (refs/heads/main, v1.2.0, main); "" when unknown. */
  ref: string;
  /** The commit: 40 (SHA-1) or 64 (SHA-256) hex digits. */
  revision: string;
  platforms: readonly string[];
  configPath: string;
  /** Base images of the build as written in the Dockerfile (FROM); those with @sha256: are recorded by digest. */
  baseImages: readonly string[];
  /** Other user-chosen inputs worth recording (version, registry, repository...). Never secrets. */
  parameters?: Record<string, string>;
  /** Builder-controlled settings (tool images...). */
  internal?: Record<string, unknown>;
  builderId: string;
  builderVersion?: Record<string, string>;
  /** Unique per run, e.g. the CI run URL; "" makes one from the revision and start time. */
  invocationId: string;
  startedOn: Date;
  finishedOn: Date;
}

/**
 * RFC 3339 as Go writes it (time.RFC3339Nano: no trailing zeros in the fraction). cosign decodes
 * the predicate into Go types and re-encodes it for slsaprovenance1, so this form is the one that
 * comes back from the registry equal to what was attested.
 */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_, frac: string) => (frac ? `.${frac}Z` : "Z"));
}

const isUri = (s: string) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(s);

/** `git+https://host/org/repo@refs/heads/main`, the form SLSA's own examples use for sources. */
export function gitSourceUri(repository: string, ref: string): string {
  if (!repository) return "";
  const base = repository.replace(/^git\+/, "").replace(/\.git$/, "");
  return `git+${base}${ref ? `@${ref.startsWith("refs/") ? ref : `refs/heads/${ref}`}` : ""}`;
}

/** A FROM reference as a resolved dependency: BuildKit's `pkg:docker/<name>@<tag>` form, digest when pinned. */
export function baseImageDescriptor(ref: string): ResourceDescriptor {
  const [name = "", digest] = ref.split("@");
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  const [repo, tag] = colon > slash ? [name.slice(0, colon), name.slice(colon + 1)] : [name, ""];
  const canonical = repo.replace(/^(docker\.io\/)?(library\/)?/, "");
  const out: ResourceDescriptor = { uri: `pkg:docker/${canonical}${tag ? `@${tag}` : ""}`, name: ref };
  const hex = digest?.match(/^sha256:([0-9a-f]{64})$/)?.[1];
  if (hex) out.digest = { sha256: hex };
  return out;
}

function check(input: ProvenanceInput): void {
  if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(input.revision)) {
    throw new Problem(
      `the provenance needs the commit SHA, got ${JSON.stringify(input.revision.slice(0, 80))}`,
      "chain with-run --commit-sha=$GITHUB_SHA",
    );
  }
  if (!isUri(input.builderId)) {
    throw new Problem(
      `builder id ${JSON.stringify(input.builderId.slice(0, 120))} is not a URI`,
      "pass the builder as a URI, e.g. https://github.com/acme/orders/.github/workflows/release.yml@refs/heads/main",
    );
  }
  if (input.platforms.length === 0) throw new Problem("the provenance names no platform", "set publish.platforms");
  if (Number.isNaN(input.startedOn.getTime()) || Number.isNaN(input.finishedOn.getTime()) || input.finishedOn < input.startedOn) {
    throw new Error("provenance times are invalid: finishedOn must be a date at or after startedOn");
  }
}

export function buildProvenance(input: ProvenanceInput): SlsaProvenancePredicate {
  check(input);
  const uri = gitSourceUri(input.repository, input.ref);
  const source: ResourceDescriptor = { ...(uri ? { uri } : { name: "source" }), digest: { gitCommit: input.revision } };
  // Unique and stable for a given run: SLSA only asks that it identify the invocation.
  const invocationId = input.invocationId || `${input.revision}@${rfc3339(input.startedOn)}`;
  const builder: SlsaProvenancePredicate["runDetails"]["builder"] = { id: input.builderId };
  if (input.builderVersion && Object.keys(input.builderVersion).length) builder.version = { ...input.builderVersion };
  return {
    buildDefinition: {
      buildType: SHIPSHAPE_BUILD_TYPE,
      externalParameters: {
        ...(input.parameters ?? {}),
        source: { uri, ref: input.ref, revision: input.revision },
        platforms: [...input.platforms],
        configPath: input.configPath,
      },
      internalParameters: { ...(input.internal ?? {}) },
      resolvedDependencies: [source, ...[...new Set(input.baseImages)].map(baseImageDescriptor)],
    },
    runDetails: {
      builder,
      metadata: { invocationId, startedOn: rfc3339(input.startedOn), finishedOn: rfc3339(input.finishedOn) },
    },
  };
}
