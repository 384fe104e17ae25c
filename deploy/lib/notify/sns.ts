/**
 * AWS SNS Publish (the SDK imported only when notifications.sns is set). What the API accepts is
 * read from its model (aws/aws-sdk-js-v3 codegen/sdk-codegen/aws-models/sns.json, PublishInput):
 * Subject is ASCII, starts with a letter, digit or punctuation, has no line break or control
 * character and is under 100 characters; Message is UTF-8 of at most 262,144 bytes; a FIFO topic
 * needs a MessageGroupId and, without content-based deduplication, a MessageDeduplicationId. The
 * errors Publish declares are AuthorizationError (403), NotFound (404), InvalidParameter and
 * ParameterValueInvalid (400), EndpointDisabled, InvalidSecurity, KMS* and InternalError (500);
 * throttling (Throttling / ThrottledException) and 5xx are retried, nothing else.
 */
import { randomUUID } from "node:crypto";
import type { CredentialProvider } from "../aws/credentials.js";
import { errorName, saidBy } from "../deploy/aws.js";
import { isRetryable } from "../aws/retry.js";
import { describeError } from "../../src/project/problem.js";
import type { Attempt } from "./attempts.js";
import { TOPIC_ARN, type SnsConfig } from "./channel-config.js";
import { categoryOf, headline, type Notification } from "./event.js";
import { severityOf } from "./routes.js";

/** 256 KB, in bytes, body and attributes together. */
export const MAX_SNS_BYTES = 262_144;
const MAX_SUBJECT = 99;

export interface SnsPublish {
  TopicArn: string;
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, { DataType: "String"; StringValue: string }>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

export const topicParts = (c: SnsConfig): { region: string; name: string; fifo: boolean } => {
  const m = TOPIC_ARN.exec(c.topicArn);
  const name = m?.[3] ?? c.topicArn;
  return { region: c.region ?? m?.[1] ?? "us-east-1", name, fifo: name.endsWith(".fifo") };
};

/** How results name the topic: region and name, never an account's credentials. */
export const snsEndpoint = (c: SnsConfig): string => {
  const { region, name } = topicParts(c);
  return `sns://${region}/${name}`;
};

/** A subject SNS accepts: printable ASCII only, a valid first character, under 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text
    .replace(/\p{Cc}+/gu, " ")
    .trim()
    .replace(/[^\x20-\x7e]/g, "?")
    .replace(/^[^A-Za-z0-9\p{P}]+/u, "");
  return (ascii.length > MAX_SUBJECT ? `${ascii.slice(0, MAX_SUBJECT - 1)}~` : ascii) || "Shipshape notification";
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Cut to `max` UTF-8 bytes without splitting a character, with a note that it was cut. */
function cutToBytes(text: string, max: number): string {
  if (bytes(text) <= max) return text;
  const note = "\n... (cut to fit the SNS message size limit)\n";
  let out = Buffer.from(text, "utf8")
    .subarray(0, max - bytes(note))
    .toString("utf8");
  if (out.endsWith("\uFFFD")) out = out.slice(0, -1);
  return out + note;
}

/** FIFO group ids and dedup ids: up to 128 of letters, digits and ASCII punctuation. */
const fifoId = (s: string) => s.replace(/[^\x21-\x7e]/g, "_").slice(0, 128);

export function snsPublish(event: Notification, text: string, c: SnsConfig, id: string = randomUUID()): SnsPublish {
  const attributes: SnsPublish["MessageAttributes"] = {
    kind: { DataType: "String", StringValue: categoryOf(event) },
    severity: { DataType: "String", StringValue: severityOf(event) },
    environment: { DataType: "String", StringValue: event.environment },
    run: { DataType: "String", StringValue: event.kind },
    // Subscription filter policies can pick one kind of incident (health, vulnerability) and its news.
    ...(event.kind === "incident"
      ? {
          incident: { DataType: "String" as const, StringValue: event.incident },
          action: { DataType: "String" as const, StringValue: event.action },
        }
      : {}),
  };
  const attributeBytes = Object.entries(attributes).reduce((n, [k, v]) => n + bytes(k) + bytes(v.DataType) + bytes(v.StringValue), 0);
  const fifo = topicParts(c).fifo ? { MessageGroupId: fifoId(`shipshape-${event.environment}`), MessageDeduplicationId: fifoId(id) } : {};
  return {
    TopicArn: c.topicArn,
    Subject: snsSubject(`[shipshape] ${headline(event)}`),
    Message: cutToBytes(text, MAX_SNS_BYTES - attributeBytes),
    MessageAttributes: attributes,
    ...fifo,
  };
}

/** The one SNS call Shipshape makes, so tests and callers can share a client. */
export interface SnsPublisher {
  publish(input: SnsPublish, abortSignal: AbortSignal): Promise<{ MessageId?: string }>;
}

/**
 * The slice of @aws-sdk/client-sns used here. Imported by a name the compiler does not follow: the
 * runtime type-checks every file on each call's cold start, and a literal import() would add the
 * SDK's 66 .d.ts files to every call, SNS or not. test/notify/sns.test.ts checks these types
 * against the SDK's own.
 */
export interface SnsSdk {
  SNSClient: new (config: { region: string; maxAttempts: number; credentials: CredentialProvider }) => {
    send(command: unknown, options: { abortSignal: AbortSignal }): Promise<{ MessageId?: string }>;
  };
  PublishCommand: new (input: SnsPublish) => unknown;
}
const SNS_SDK = "@aws-sdk/client-sns";

/** The SDK client for the topic's region, signing with the withAws identity; its own retries off (ours back off). */
export async function sdkPublisher(region: string, credentials: CredentialProvider): Promise<SnsPublisher> {
  const { SNSClient, PublishCommand } = (await import(SNS_SDK)) as SnsSdk;
  const client = new SNSClient({ region, maxAttempts: 1, credentials });
  return { publish: (input, abortSignal) => client.send(new PublishCommand(input), { abortSignal }) };
}

/** One line and a hint for what SNS (or the credentials) said. */
export function explainSns(e: unknown, c: SnsConfig, timeoutMs: number): Extract<Attempt, { ok: false }> {
  const at = snsEndpoint(c);
  const name = errorName(e);
  const said = saidBy(e);
  const fail = (retryable: boolean, message: string): Extract<Attempt, { ok: false }> => ({ ok: false, retryable, message });
  if (name === "AbortError" || name === "TimeoutError") return fail(true, `${at} did not answer within ${timeoutMs} ms`);
  if (name === "Problem") {
    const { cause, hint } = describeError(e);
    return fail(false, `${at}: ${cause}; ${hint}`);
  }
  switch (name) {
    case "AuthorizationErrorException":
    case "AuthorizationError":
      return fail(
        false,
        `${at}: the AWS identity may not publish to the topic (${said}); allow sns:Publish on ${c.topicArn} to the withAws role`,
      );
    case "NotFoundException":
    case "NotFound":
      return fail(
        false,
        `${at}: the topic does not exist (${said}); check notifications.sns.topicArn and region (SNS publishes only in the topic's region)`,
      );
    case "InvalidParameterException":
    case "InvalidParameter":
    case "InvalidParameterValueException":
    case "ParameterValueInvalid":
      return fail(
        false,
        `${at}: SNS refused the message (${name}: ${said}); check notifications.sns.topicArn, and whether the topic is FIFO`,
      );
    case "KMSAccessDeniedException":
    case "KMSDisabledException":
    case "KMSInvalidStateException":
    case "KMSNotFoundException":
    case "KMSOptInRequired":
      return fail(
        false,
        `${at}: the topic's KMS key cannot be used (${name}: ${said}); allow kms:GenerateDataKey and kms:Decrypt on it to the withAws role`,
      );
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
    case "ExpiredToken":
    case "ExpiredTokenException":
    case "SignatureDoesNotMatch":
      return fail(false, `${at}: AWS refused the credentials (${name}); check the withAws secrets`);
  }
  const transient = isRetryable(e) || ["InternalErrorException", "InternalError", "KMSThrottlingException"].includes(name);
  return fail(transient, `${at}: Publish failed (${name}: ${said})${transient ? "" : "; see the AWS message"}`);
}

/** One Publish with its own timeout: the SDK call is aborted when the attempt's time is up. */
export async function publishOnce(publisher: SnsPublisher, input: SnsPublish, c: SnsConfig, timeoutMs: number): Promise<Attempt> {
  const abort = new AbortController();
  // The race too, not only the signal: an attempt ends on time even if a request handler ignores aborts.
  const cut = new Promise<never>((_, reject) => abort.signal.addEventListener("abort", () => reject(new Error("aborted"))));
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    await Promise.race([publisher.publish(input, abort.signal), cut]);
    return { ok: true };
  } catch (e) {
    return explainSns(abort.signal.aborted ? Object.assign(new Error("aborted"), { name: "AbortError" }) : e, c, timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Attempts for one message: the client (and the identity it signs with: an STS exchange for a
 * GitHub OIDC role) is made once, within the attempt's time; an identity that cannot be had is
 * not retried, one that is slow to come is, like a slow Publish.
 */
export function snsAttempt(factory: (region: string) => Promise<SnsPublisher>, input: SnsPublish, c: SnsConfig) {
  let publisher: Promise<SnsPublisher> | undefined;
  return async (timeoutMs: number): Promise<Attempt> => {
    publisher ??= factory(topicParts(c).region);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { name: "TimeoutError" })), timeoutMs);
    });
    let client: SnsPublisher;
    try {
      client = await Promise.race([publisher, late]);
    } catch (e) {
      publisher = undefined;
      const failed = explainSns(e, c, timeoutMs);
      return errorName(e) === "TimeoutError" ? failed : { ...failed, retryable: false };
    } finally {
      clearTimeout(timer);
    }
    return publishOnce(client, input, c, timeoutMs);
  };
}
