/**
 * SNS Publish behind aws-sdk-client-mock, refusing what the real service refuses. Read from the API
 * model (aws/aws-sdk-js-v3 codegen/sdk-codegen/aws-models/sns.json, commit 00a1b8cd):
 * - Publish's declared errors: AuthorizationError (403), NotFound (404), InvalidParameter and
 *   ParameterValueInvalid (400), InternalError (500), among others; throttling comes as the
 *   query protocol's generic `Throttling` (400), which Publish does not declare.
 * - PublishInput.Subject: ASCII, starts with a letter, number or punctuation, no line breaks or
 *   control characters, "less than 100 characters".
 * - PublishInput.Message: required, at most 262,144 bytes of UTF-8 (the message attributes count
 *   towards it, per the SNS developer guide "Amazon SNS message attributes").
 * - FIFO topics need MessageGroupId and, without ContentBasedDeduplication, a
 *   MessageDeduplicationId; a message with a dedup id seen in the last 5 minutes is accepted and
 *   not delivered again. MessageGroupId is not valid on a standard topic.
 * - "You can publish messages only to topics and endpoints in the same Amazon Web Services Region":
 *   a client in another region does not find the topic.
 * The SDK's own exception classes are thrown, with $metadata as the deserializer sets it.
 */
import {
  AuthorizationErrorException,
  InternalErrorException,
  InvalidParameterException,
  InvalidParameterValueException,
  NotFoundException,
  PublishCommand,
  SNSClient,
  SNSServiceException,
  type PublishCommandInput,
} from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: "f187a3c1-376f-11df-8963-01868b7c937a" });
const ARN = /^arn:aws:sns:([a-z0-9-]+):(\d{12}):(.+)$/;

export interface Topic {
  arn: string;
  /** Identities allowed sns:Publish (by the role's policy and the topic's access policy together). */
  allowPublish: boolean;
  contentBasedDeduplication?: boolean;
}

export interface Published {
  input: PublishCommandInput;
  region: string;
  messageId: string;
}

export class FakeSns {
  readonly mock = mockClient(SNSClient);
  readonly topics = new Map<string, Topic>();
  /** Messages the topic delivered to its subscribers. */
  readonly delivered: Published[] = [];
  /** Every Publish call, refused ones included. */
  readonly calls: PublishCommandInput[] = [];
  /** Answer the n-th call (1-based) with this error before looking at it, e.g. throttling. */
  failFirst: { count: number; error: () => Error } | undefined;
  /** Never answer (a hung connection). */
  hang = false;
  private readonly dedup = new Map<string, number>();
  private seq = 0;

  constructor(topics: Topic[]) {
    for (const t of topics) this.topics.set(t.arn, t);
    this.mock.on(PublishCommand).callsFake(async (input: PublishCommandInput, getClient: () => SNSClient) => {
      this.calls.push(input);
      if (this.hang) return new Promise(() => undefined);
      if (this.failFirst && this.calls.length <= this.failFirst.count) throw this.failFirst.error();
      return this.publish(input, await getClient().config.region());
    });
  }

  static throttling = (): Error =>
    new SNSServiceException({ name: "Throttling", $fault: "client", $metadata: meta(400), message: "Rate exceeded" });
  static internal = (): Error => new InternalErrorException({ $metadata: meta(500), message: "Internal Error" });

  private invalid(message: string): Error {
    return new InvalidParameterException({ $metadata: meta(400), message: `Invalid parameter: ${message}` });
  }

  private publish(input: PublishCommandInput, region: string): { MessageId: string; SequenceNumber?: string } {
    const arn = input.TopicArn ?? "";
    const m = ARN.exec(arn);
    const topic = this.topics.get(arn);
    if (!m || !topic || m[1] !== region) throw new NotFoundException({ $metadata: meta(404), message: "Topic does not exist" });
    if (!topic.allowPublish)
      throw new AuthorizationErrorException({
        $metadata: meta(403),
        message: `User: arn:aws:sts::${m[2]}:assumed-role/deployer/shipshape is not authorized to perform: SNS:Publish on resource: ${arn} because no identity-based policy allows the SNS:Publish action`,
      });
    if (input.Message === undefined || input.Message === "") throw this.invalid("Empty message");
    const subject = input.Subject;
    if (subject !== undefined && (!/^[\x20-\x7e]*$/.test(subject) || !/^[A-Za-z0-9\p{P}]/u.test(subject) || subject.length >= 100))
      throw this.invalid("Subject");
    let size = Buffer.byteLength(input.Message, "utf8");
    for (const [name, value] of Object.entries(input.MessageAttributes ?? {})) {
      if (
        name.length > 256 ||
        /^(aws\.|amazon\.)/i.test(name) ||
        !["String", "Number", "Binary", "String.Array"].includes(value.DataType ?? "")
      )
        throw new InvalidParameterValueException({ $metadata: meta(400), message: `The message attribute '${name}' is invalid` });
      if (value.DataType === "String" && !value.StringValue)
        throw new InvalidParameterValueException({
          $metadata: meta(400),
          message: `The message attribute '${name}' must contain non-empty message attribute value`,
        });
      size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? "") + Buffer.byteLength(value.StringValue ?? "");
    }
    if (size > 262_144) throw this.invalid("Message too long");
    const fifo = arn.endsWith(".fifo");
    if (!fifo && input.MessageGroupId !== undefined)
      throw this.invalid("MessageGroupId: The request includes MessageGroupId parameter that is not valid for this topic type");
    if (fifo && !input.MessageGroupId) throw this.invalid("The MessageGroupId parameter is required for FIFO topics");
    if (fifo && !input.MessageDeduplicationId && !topic.contentBasedDeduplication)
      throw this.invalid("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly");
    const messageId = `msg-${++this.seq}`;
    if (fifo && input.MessageDeduplicationId) {
      const seen = this.dedup.get(input.MessageDeduplicationId);
      const now = Date.now();
      if (seen !== undefined && now - seen < 5 * 60_000) return { MessageId: messageId, SequenceNumber: String(this.seq) };
      this.dedup.set(input.MessageDeduplicationId, now);
    }
    this.delivered.push({ input, region, messageId });
    return { MessageId: messageId, ...(fifo ? { SequenceNumber: String(this.seq) } : {}) };
  }
}
