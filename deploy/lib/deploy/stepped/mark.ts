/**
 * Shipshape's own "a stepped canary is in flight" mark: a tag on the main service, written before
 * the run first puts the new revision anywhere (migration, canary service) and removed only after
 * the weights are back on stable and the canary service is at 0. Weights and the canary's desired
 * count say the same thing once they moved; the mark covers the moments before they did (a crash
 * between the canary's UpdateService and its first task) and names the run and the revision.
 *
 * The value is `runId=<id> revision=<family:n> startedAt=<iso>`: ECS tag values allow letters,
 * digits, spaces and _ . : / = + - @ only (API_Tag pattern). Tags have no compare-and-swap and IaC
 * may delete them, so the mark is one of three signs of a canary in flight, never the only one.
 */
import { TagResourceCommand, UntagResourceCommand, type ECSClient, type Tag } from "@aws-sdk/client-ecs";
import { ecsOf, send, type EcsOptions } from "../aws.js";

export const STEPPED_TAG = "shipshape:stepped-canary";

export interface SteppedMark {
  runId: string;
  /** family:revision of the canary's task definition. */
  revision: string;
  startedAt: string;
}

const VALUE = /^runId=(\S+) revision=(\S+) startedAt=(\S+)$/;

export const encodeSteppedMark = (m: SteppedMark): string => `runId=${m.runId} revision=${m.revision} startedAt=${m.startedAt}`;

export function steppedMarkIn(tags: readonly Tag[]): SteppedMark | undefined {
  const raw = tags.find((t) => t.key === STEPPED_TAG)?.value;
  const m = raw === undefined ? null : VALUE.exec(raw);
  return m ? { runId: m[1] ?? "", revision: m[2] ?? "", startedAt: m[3] ?? "" } : undefined;
}

/** Whether the service carries the tag at all, readable or not (an unreadable one is still cleared). */
export const hasSteppedTag = (tags: readonly Tag[]): boolean => tags.some((t) => t.key === STEPPED_TAG);

export async function writeSteppedMark(client: ECSClient, serviceArn: string, mark: SteppedMark, opts?: EcsOptions): Promise<void> {
  await send(ecsOf(client, opts), "ecs:TagResource", () =>
    client.send(new TagResourceCommand({ resourceArn: serviceArn, tags: [{ key: STEPPED_TAG, value: encodeSteppedMark(mark) }] })),
  );
}

export async function clearSteppedMark(client: ECSClient, serviceArn: string, opts?: EcsOptions): Promise<void> {
  await send(ecsOf(client, opts), "ecs:UntagResource", () =>
    client.send(new UntagResourceCommand({ resourceArn: serviceArn, tagKeys: [STEPPED_TAG] })),
  );
}
