/**
 * The two channels that are not a webhook POST: email over SMTP and SNS Publish. Each becomes its
 * own attempt under the shared retry policy, or a line saying why it was not tried.
 */
import { refused, skipped, type Attempted, type DeliveryResult } from "./attempts.js";
import type { NotificationsConfig } from "./config.js";
import type { DeliveryTarget } from "./deliver.js";
import { emailMessage, sendOnce, smtpEndpoint } from "./email.js";
import type { Notification } from "./event.js";
import type { NotifyOptions, NotifyTargets } from "./notify.js";
import { scrub } from "./redact.js";
import type { Channel } from "./routes.js";
import { snsAttempt, snsEndpoint, snsPublish } from "./sns.js";

/** An HTTP POST, a result decided without sending, or an attempt of another protocol. */
export type Job = DeliveryTarget | DeliveryResult | Attempted;

const set = (s: string | undefined): s is string => s !== undefined && s !== "";

export function mailAndSns(
  event: Notification,
  config: NotificationsConfig,
  targets: NotifyTargets,
  secrets: string[],
  why: (c: Channel) => string | undefined,
  opts: NotifyOptions,
): Job[] {
  const jobs: Job[] = [];
  const text = () => {
    const m = emailMessage(event);
    return { ...m, subject: scrub(m.subject, secrets), text: scrub(m.text, secrets) };
  };
  const email = config.email;
  if (email === undefined) {
    if (set(targets.smtpPassword)) jobs.push(refused("email", "(none)", "an SMTP password was given but notifications.email is not set"));
  } else {
    const endpoint = smtpEndpoint(email);
    const no = why("email");
    if (no !== undefined) jobs.push(skipped("email", endpoint, no));
    else if (email.username !== undefined && !set(targets.smtpPassword))
      jobs.push(
        refused(
          "email",
          endpoint,
          "notifications.email.username is set but no SMTP password was given; pass withNotifications --smtp-password",
        ),
      );
    else if (email.username === undefined && set(targets.smtpPassword))
      jobs.push(refused("email", endpoint, "an SMTP password was given but no notifications.email.username to log in with; set it"));
    else {
      const message = text();
      const password = targets.smtpPassword;
      jobs.push({ name: "email", endpoint, secrets, attempt: (t) => sendOnce(email, message, password, t) });
    }
  }
  const sns = config.sns;
  if (sns !== undefined) {
    const endpoint = snsEndpoint(sns);
    const no = why("sns");
    const factory = opts.sns;
    if (no !== undefined) jobs.push(skipped("sns", endpoint, no));
    else if (factory === undefined)
      jobs.push(
        refused(
          "sns",
          endpoint,
          "no AWS identity was given for SNS; chain withAws (the deploy's identity) and allow it sns:Publish on the topic",
        ),
      );
    else {
      const input = snsPublish(event, text().text, sns);
      const attempt = snsAttempt(factory, input, sns);
      jobs.push({ name: "sns", endpoint, secrets, attempt });
    }
  }
  return jobs;
}
