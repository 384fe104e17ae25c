/**
 * Which PAUSE hook on the service is Shipshape's, kept where ECS keeps it: a service tag. ECS drops
 * nothing from tags, but it does not use (so need not keep) hookDetails on PAUSE hooks, and a hook
 * in the service's configuration has no id. The tag names the hook by content (stages + timeout,
 * see HookMark), and the run that added it.
 *
 * Order makes a crash harmless at any point: the tag is written BEFORE the UpdateService that adds
 * the hook and removed AFTER the one that takes it off, so a hook is never on the service without
 * the tag that lets the next run recognise and remove it. A tag without a hook is just cleared.
 *
 * Tags have no compare-and-swap and IaC with authoritative tags deletes foreign ones: a hook whose
 * tag was deleted is no longer provably ours, so the next deploy refuses it by name (foreignPauseAt)
 * instead of guessing.
 */
import {
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Tag,
} from "@aws-sdk/client-ecs";
import { ecsOf, send, type EcsOptions } from "./aws.js";
import { describeService, type ServiceRef } from "./ecs.js";
import { GATE_STAGES, isShipshapeHook, type GateStage, type HookMark } from "./hooks.js";

export const HOOK_TAG = "shipshape:pause-hook";

const VALUE = /^runId=(\S+) stages=([A-Z_+]+) timeout=(\d+) paused=(yes|no)(?: sd=([A-Za-z0-9_-]+))?$/;

/** The id ECS gives a service deployment: the last segment of its ARN. */
export const deploymentId = (arn: string): string => arn.split("/").pop() ?? arn;

/** Tag values allow letters, digits, spaces and _ . : / = + - @ (API_Tag): stages are joined with +. At most ~200 characters. */
export const encodeMark = (m: HookMark): string =>
  `runId=${m.runId} stages=${m.stages.join("+")} timeout=${m.timeoutMinutes} paused=${m.paused ? "yes" : "no"}` +
  (m.deployment ? ` sd=${m.deployment}` : "");

export function decodeMark(value: string): HookMark | undefined {
  const m = VALUE.exec(value);
  if (!m) return undefined;
  const stages = (m[2] ?? "").split("+");
  if (!stages.every((s): s is GateStage => (GATE_STAGES as readonly string[]).includes(s))) return undefined;
  return { runId: m[1] ?? "", stages, timeoutMinutes: Number(m[3]), paused: m[4] === "yes", ...(m[5] ? { deployment: m[5] } : {}) };
}

export async function serviceTags(client: ECSClient, serviceArn: string, opts?: EcsOptions): Promise<Tag[]> {
  const out = await send(ecsOf(client, opts), "ecs:ListTagsForResource", () =>
    client.send(new ListTagsForResourceCommand({ resourceArn: serviceArn })),
  );
  return out.tags ?? [];
}

export const markIn = (tags: readonly Tag[]): HookMark | undefined => {
  const raw = tags.find((t) => t.key === HOOK_TAG)?.value;
  return raw === undefined ? undefined : decodeMark(raw);
};

export async function readMark(client: ECSClient, serviceArn: string, opts?: EcsOptions): Promise<HookMark | undefined> {
  return markIn(await serviceTags(client, serviceArn, opts));
}

export async function writeMark(client: ECSClient, serviceArn: string, mark: HookMark, opts?: EcsOptions): Promise<void> {
  await send(ecsOf(client, opts), "ecs:TagResource", () =>
    client.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: HOOK_TAG, value: encodeMark(mark) }] })),
  );
}

export async function clearMark(client: ECSClient, serviceArn: string, opts?: EcsOptions): Promise<void> {
  await send(ecsOf(client, opts), "ecs:UntagResource", () =>
    client.send(new UntagResourceCommand({ resourceArn: serviceArn, tagKeys: [HOOK_TAG] })),
  );
}

/**
 * Takes our PAUSE hook off the service (the user's hooks stay), then the tag. Only the deployment
 * configuration is sent, no task definition: ECS may still start a deployment of the same revision
 * for it (UpdateService: "when you update any of these parameters, Amazon ECS starts new tasks"),
 * which without our hook cannot stop anywhere. Returns how many hooks it removed.
 */
export async function removeOurHooks(client: ECSClient, ref: ServiceRef, mark: HookMark | undefined, opts?: EcsOptions): Promise<number> {
  const service = await describeService(client, ref, opts);
  const config = service.deploymentConfiguration ?? {};
  const hooks = config.lifecycleHooks ?? [];
  const theirs = hooks.filter((h) => !isShipshapeHook(h, mark));
  if (theirs.length < hooks.length) {
    await send(ecsOf(client, opts), "ecs:UpdateService", () =>
      client.send(
        new UpdateServiceCommand({
          cluster: service.clusterArn,
          service: service.serviceArn ?? service.serviceName,
          deploymentConfiguration: { ...config, lifecycleHooks: theirs },
        }),
      ),
    );
  }
  if (mark && service.serviceArn) await clearMark(client, service.serviceArn, opts);
  return hooks.length - theirs.length;
}
