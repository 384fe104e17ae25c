/**
 * `notifications.email` and `notifications.sns`: where those channels go. The SMTP password is a
 * Secret (withNotifications --smtp-password) and the AWS identity is the one withAws gives, so
 * nothing here is a credential. A CA certificate is public, so it may sit in shipshape.yaml.
 */
import { z } from "zod";
import { expecting } from "../config/errors.js";

const email = (what: string) => expecting(z.email().describe(what), "an email address like ops@example.com");

export const EmailConfigSchema = z
  .strictObject({
    host: expecting(
      z
        .string()
        .regex(/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]+\]$/)
        .describe("SMTP server host name, as its certificate names it."),
      "a host name like smtp.example.com",
    ),
    port: expecting(
      z.int().min(1).max(65535).describe("SMTP port (default 465 with secure, else 587)."),
      "a port number from 1 to 65535",
    ).optional(),
    secure: z
      .boolean()
      .default(false)
      .describe("TLS from the first byte (SMTPS, usually port 465); otherwise the connection starts plain and upgrades."),
    requireTLS: z
      .boolean()
      .default(true)
      .describe("Refuse to send unless the server upgrades to TLS with STARTTLS; turn off only for a relay on a trusted network."),
    from: email("Sender address."),
    to: expecting(z.array(email("A recipient.")).min(1).max(50).describe("Recipients."), "a list of 1 to 50 email addresses"),
    username: expecting(
      z
        .string()
        .min(1)
        .max(256)
        .regex(/^[^\r\n]+$/)
        .describe("SMTP login; its password is the smtpPassword Secret of withNotifications."),
      "a login name on one line",
    ).optional(),
    ca: expecting(
      z
        .string()
        .regex(/^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/)
        .describe("PEM certificate(s) of the CA to trust for the server, for a private CA."),
      "PEM text starting with -----BEGIN CERTIFICATE-----",
    ).optional(),
  })
  .describe("Email over SMTP: a plain-text message per notification.");

export type EmailConfig = z.output<typeof EmailConfigSchema>;

/** 465 for SMTPS, else 587 (submission, RFC 6409), unless set. */
export const smtpPort = (c: Pick<EmailConfig, "port" | "secure">): number => c.port ?? (c.secure ? 465 : 587);

/** arn:aws:sns:<region>:<account>:<name>, name up to 256 of letters, digits, - and _ (.fifo for FIFO topics). */
export const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):([A-Za-z0-9_-]{1,251}(?:\.fifo)?)$/;

export const SnsConfigSchema = z
  .strictObject({
    topicArn: expecting(
      z.string().regex(TOPIC_ARN).describe("The topic to publish to; the AWS identity of withAws needs sns:Publish on it."),
      "a topic ARN like arn:aws:sns:eu-west-1:123456789012:deploys",
    ),
    region: expecting(
      z
        .string()
        .regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/)
        .describe("Region of the SNS endpoint; default: the topic's own (SNS publishes only to topics in the endpoint's region)."),
      'a region like "eu-west-1"',
    ).optional(),
  })
  .describe("AWS SNS: one message per notification, with kind and severity as message attributes for subscription filters.");

export type SnsConfig = z.output<typeof SnsConfigSchema>;
