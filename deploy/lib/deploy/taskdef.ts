/**
 * The next task-definition revision, rendered from the one the service runs now: same settings,
 * the deployed image pinned by digest in one container, the environment's overrides applied.
 * Pure: no AWS calls, so a plan can show it before anything changes.
 */
import type { ContainerDefinition, KeyValuePair, RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from "@aws-sdk/client-ecs";
import { Problem } from "../../src/project/problem.js";

/**
 * What DescribeTaskDefinition returns but RegisterTaskDefinition refuses (the classic "Unexpected
 * key" failure). Documentation only: rendering copies the writable keys below, so a read-only field
 * AWS adds later is dropped too.
 */
export const READ_ONLY_TASK_DEFINITION_FIELDS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
  "deleteRequestedAt",
] as const;

const WRITABLE = [
  "family",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "containerDefinitions",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
  "enableFaultInjection",
] as const satisfies readonly (keyof RegisterTaskDefinitionCommandInput & keyof TaskDefinition)[];
type Writable = (typeof WRITABLE)[number];

// A tag before the digest is allowed (docker ignores it); the digest is what ECS pulls.
const DIGEST_IMAGE = /^[A-Za-z0-9][A-Za-z0-9._\-/:]*@sha256:[a-f0-9]{64}$/;

/** Deploys name images by digest: a tag can be moved after the checks ran, a digest cannot. */
export function assertDigestImage(image: string): void {
  if (!DIGEST_IMAGE.test(image)) {
    throw new Problem(
      `the image "${image.slice(0, 120)}" is not pinned by digest`,
      "deploy by digest: pass repository@sha256:<64 hex> (the digest publish printed), not a tag",
    );
  }
}

export interface TaskOverrides {
  environment?: Record<string, string>;
  cpu?: number;
  memory?: number;
}

export interface RenderOptions {
  containerName: string;
  image: string;
  overrides?: TaskOverrides;
  /** DescribeTaskDefinition's tags (include: ["TAGS"]) are returned apart from the definition; carried over when given. */
  tags?: Tag[];
}

/** Existing order kept (diffs stay small), changed values replaced in place, new names appended sorted. */
function mergeEnvironment(container: ContainerDefinition, overrides: Record<string, string>): KeyValuePair[] {
  const secretNames = new Set((container.secrets ?? []).map((s) => s.name));
  const shadowed = Object.keys(overrides).filter((name) => secretNames.has(name));
  if (shadowed.length > 0) {
    throw new Problem(
      `container ${container.name} has ${shadowed.join(", ")} as a secret and as an environment override`,
      "remove the override: a value in environments.<env>.overrides.environment would sit next to the secret, and ECS refuses that",
    );
  }
  const current = container.environment ?? [];
  const known = new Set(current.map((kv) => kv.name));
  const merged = current.map((kv) =>
    kv.name !== undefined && Object.hasOwn(overrides, kv.name) ? { name: kv.name, value: overrides[kv.name] } : kv,
  );
  const added = Object.keys(overrides)
    .filter((name) => !known.has(name))
    .sort()
    .map((name) => ({ name, value: overrides[name] }));
  return [...merged, ...added];
}

export function renderTaskDefinition(current: TaskDefinition, opts: RenderOptions): RegisterTaskDefinitionCommandInput {
  assertDigestImage(opts.image);
  const containers = current.containerDefinitions ?? [];
  if (!containers.some((c) => c.name === opts.containerName)) {
    const names = containers.map((c) => c.name ?? "(unnamed)").join(", ") || "none";
    throw new Problem(
      `task definition ${current.family ?? "?"}:${current.revision ?? "?"} has no container named "${opts.containerName}" (it has: ${names})`,
      "set environments.<env>.containerName to one of those names",
    );
  }
  // A deep copy: the caller's description stays as AWS returned it (for diffs and rollback).
  const copy = structuredClone(current);
  const writable = Object.fromEntries(WRITABLE.filter((key) => copy[key] !== undefined).map((key) => [key, copy[key]]));
  const input: RegisterTaskDefinitionCommandInput = {
    ...(writable as Pick<TaskDefinition, Writable>),
    family: copy.family,
    containerDefinitions: [],
  };
  const env = opts.overrides?.environment ?? {};
  input.containerDefinitions = (copy.containerDefinitions ?? []).map((c) =>
    c.name !== opts.containerName
      ? c
      : { ...c, image: opts.image, ...(Object.keys(env).length > 0 ? { environment: mergeEnvironment(c, env) } : {}) },
  );
  // Task-level values are strings in the API ("512"); the config takes numbers.
  if (opts.overrides?.cpu !== undefined) input.cpu = String(opts.overrides.cpu);
  if (opts.overrides?.memory !== undefined) input.memory = String(opts.overrides.memory);
  // aws:* tags (CloudFormation's, CDK's) are AWS-owned: sending them back is refused.
  const tags = (opts.tags ?? []).filter((t) => !/^aws:/i.test(t.key ?? ""));
  if (tags.length > 0) input.tags = structuredClone(tags);
  return input;
}

/** "family:12" from an ARN or family:revision, for messages. */
export const revisionName = (taskDefinition: string): string => taskDefinition.split("/").pop() ?? taskDefinition;
