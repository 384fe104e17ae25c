/**
 * The generic JSON webhook: a stable, versioned document (`schema` names its shape, so receivers
 * can dispatch on it and a breaking change gets a new version), optionally signed like GitHub's
 * webhooks so a receiver can tell it came from us and was not altered. Deploy-like events keep
 * shipshape.deploy/v1 exactly as it was; incidents are shipshape.incident/v1 (X-Shipshape-Event:
 * incident), which shares its common keys (kind, environment, result, reason, image, runUrl) so a
 * receiver that reads only those keeps working.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import {
  headline,
  resultOf,
  type DeployEvent,
  type IncidentAction,
  type IncidentEvent,
  type IncidentKind,
  type Notification,
} from "./event.js";
import { severityOf, type Severity } from "./routes.js";

export const WEBHOOK_SCHEMA = "shipshape.deploy/v1";
export const INCIDENT_SCHEMA = "shipshape.incident/v1";
export const SIGNATURE_HEADER = "X-Shipshape-Signature";

/** Every key is always present (null when unknown), so receivers never need to guess between absent and empty. */
export interface WebhookPayloadV1 {
  schema: typeof WEBHOOK_SCHEMA;
  /** Same for every retry of one notification, so receivers can drop duplicates. */
  id: string;
  sentAt: string;
  kind: DeployEvent["kind"];
  environment: string;
  result: DeployEvent["result"];
  reason: string;
  image: string;
  version: string | null;
  commit: { sha: string; url: string | null } | null;
  author: string | null;
  durationSeconds: number;
  runUrl: string | null;
  strategy: string | null;
  decisions: { gate: string; verdict: string; reason: string }[];
}

/** An incident opened, updated or closed; as in v1, every key is always present. */
export interface IncidentPayloadV1 {
  schema: typeof INCIDENT_SCHEMA;
  id: string;
  sentAt: string;
  kind: "incident";
  environment: string;
  /** failed while the incident is open, succeeded when it closes. */
  result: "failed" | "succeeded";
  severity: Severity;
  headline: string;
  reason: string;
  /** What is watched: the running image(s) by digest, or the service. */
  image: string;
  incident: {
    kind: IncidentKind;
    action: IncidentAction;
    issue: { number: number; url: string | null } | null;
    /** On close, how long it was open; null before. */
    durationSeconds: number | null;
    newFindings: string[];
  };
  runUrl: string | null;
}

export type WebhookPayload = WebhookPayloadV1 | IncidentPayloadV1;

function incidentPayload(event: IncidentEvent, sentAt: Date, id: string): IncidentPayloadV1 {
  return {
    schema: INCIDENT_SCHEMA,
    id,
    sentAt: sentAt.toISOString(),
    kind: "incident",
    environment: event.environment,
    result: resultOf(event) === "succeeded" ? "succeeded" : "failed",
    severity: severityOf(event),
    headline: headline(event),
    reason: event.reason,
    image: event.image,
    incident: {
      kind: event.incident,
      action: event.action,
      issue: event.issueNumber === undefined ? null : { number: event.issueNumber, url: event.issueUrl ?? null },
      durationSeconds: event.durationSeconds ?? null,
      newFindings: [...(event.newFindings ?? [])],
    },
    runUrl: event.runUrl ?? null,
  };
}

export function webhookPayload(event: DeployEvent, sentAt: Date, id?: string): WebhookPayloadV1;
export function webhookPayload(event: IncidentEvent, sentAt: Date, id?: string): IncidentPayloadV1;
export function webhookPayload(event: Notification, sentAt: Date, id?: string): WebhookPayload;
export function webhookPayload(event: Notification, sentAt: Date, id: string = randomUUID()): WebhookPayload {
  if (event.kind === "incident") return incidentPayload(event, sentAt, id);
  return {
    schema: WEBHOOK_SCHEMA,
    id,
    sentAt: sentAt.toISOString(),
    kind: event.kind,
    environment: event.environment,
    result: event.result,
    reason: event.reason,
    image: event.image,
    version: event.version ?? null,
    commit: event.commitSha === undefined ? null : { sha: event.commitSha, url: event.commitUrl ?? null },
    author: event.author ?? null,
    durationSeconds: event.durationSeconds,
    runUrl: event.runUrl ?? null,
    strategy: event.strategy ?? null,
    decisions: (event.decisions ?? []).map(({ gate, verdict, reason }) => ({ gate, verdict, reason })),
  };
}

/** `sha256=<hex HMAC of the exact body bytes>`, the format of GitHub's X-Hub-Signature-256. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** What a receiver does: recompute and compare in constant time. */
export function verifySignature(body: string, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Body and headers for one delivery; the body string is what gets signed and sent, byte for byte. */
export function webhookRequest(payload: WebhookPayload, secret?: string): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Shipshape-Event": payload.kind === "incident" ? "incident" : "deploy",
    "X-Shipshape-Delivery": payload.id,
  };
  if (secret !== undefined && secret !== "") headers[SIGNATURE_HEADER] = signBody(body, secret);
  return { body, headers };
}
