// Email through notifyAll against a real SMTP server (test/notify/smtp.ts): STARTTLS with a
// certificate made at test time and trusted through notifications.email.ca, AUTH PLAIN and LOGIN,
// and the refusals a team would meet: a wrong password (535), a server without STARTTLS, a
// certificate nobody said to trust, a temporary 421.
import * as nodemailer from "nodemailer";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { NotificationsConfigSchema, type NotificationsConfigInput } from "../../deploy/lib/notify/config.js";
import type { DeployEvent } from "../../deploy/lib/notify/event.js";
import { notifyAll, summarizeDeliveries } from "../../deploy/lib/notify/notify.js";
import type { MailTransport, SmtpTransportOptions } from "../../deploy/lib/notify/email.js";
import { captureStderr, virtualClock } from "./receiver.js";
import { closeSmtp, decoded, makeCert, smtpServer } from "./smtp.js";

afterEach(closeSmtp);

// src/notify/email.ts types its slice of nodemailer locally (so the runtime's type-check skips the
// package): this fails to compile when the slice no longer matches nodemailer's types.
const makeTransport: (o: SmtpTransportOptions) => MailTransport = (o) => nodemailer.createTransport(o);

let tls: { key: string; cert: string };
beforeAll(() => {
  tls = makeCert();
});

// Built at run time, so no committed literal looks like a credential.
const PASSWORD = ["mail", "0ut", "sesame", String(40 + 2)].join("-");
const USER = "deploy-bot";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const leaks = [PASSWORD, b64(PASSWORD), b64(`\u0000${USER}\u0000${PASSWORD}`)];

const failed: DeployEvent = {
  kind: "deploy",
  environment: "prod",
  result: "failed",
  reason: "migration exited 1",
  image: "r@sha256:" + "d".repeat(64),
  durationSeconds: 95,
  commitSha: "0123456789abcdef",
  runUrl: "https://github.com/acme/shop/actions/runs/7",
  decisions: [{ gate: "smoke", verdict: "fail", reason: "health answered 503" }],
};

const emailConfig = (port: number, over: Partial<NonNullable<NotificationsConfigInput["email"]>> = {}) =>
  NotificationsConfigSchema.parse({
    attempts: 3,
    email: {
      host: "127.0.0.1",
      port,
      from: "shipshape@acme.test",
      to: ["oncall@acme.test", "dev@acme.test"],
      username: USER,
      ca: tls.cert,
      ...over,
    },
  });

describe("email over SMTP", () => {
  it("upgrades with STARTTLS, logs in with AUTH PLAIN and sends the outcome as plain text", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    const { value: results, output } = await captureStderr(() =>
      notifyAll(failed, { smtpPassword: `${PASSWORD}\n` }, { config: emailConfig(smtp.port), clock: virtualClock(0).clock }),
    );
    expect(results).toEqual([{ target: "email", endpoint: `smtp://127.0.0.1:${smtp.port}`, delivered: true, attempts: 1, status: 250 }]);
    expect(smtp.logins).toEqual([{ method: "PLAIN", user: USER, ok: true }]);
    const [mail] = smtp.mails;
    expect(mail).toMatchObject({ from: "shipshape@acme.test", to: ["oncall@acme.test", "dev@acme.test"], secure: true, user: USER });
    const text = decoded(mail!.raw);
    expect(text).toMatch(/^Subject: \[shipshape\] Deploy to prod: failed\r?$/m);
    expect(text).toMatch(/^Content-Type: text\/plain; charset=utf-8\r?$/m);
    expect(text).toContain("Why: migration exited 1");
    expect(text).toContain(`Image: ${failed.image}`);
    expect(text).toContain("- smoke: fail, health answered 503");
    expect(text).toContain("Run: https://github.com/acme/shop/actions/runs/7");
    for (const leak of leaks) expect(mail!.raw + text + output + JSON.stringify(results)).not.toContain(leak);
  });

  it("logs in with AUTH LOGIN when that is what the server offers", async () => {
    expect(typeof makeTransport).toBe("function");
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD, authMethods: ["LOGIN"] });
    const [result] = await notifyAll(failed, { smtpPassword: PASSWORD }, { config: emailConfig(smtp.port), clock: virtualClock(0).clock });
    expect(result).toMatchObject({ target: "email", delivered: true });
    expect(smtp.logins).toEqual([{ method: "LOGIN", user: USER, ok: true }]);
  });

  it("a refused login (535) is one line naming the user, not retried, never the password", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    const wrong = `${PASSWORD}-old`;
    const { value: results, output } = await captureStderr(() =>
      notifyAll(failed, { smtpPassword: wrong }, { config: emailConfig(smtp.port), clock: virtualClock(0).clock }),
    );
    expect(results[0]).toMatchObject({ target: "email", delivered: false, attempts: 1, status: 535 });
    expect(results[0]!.error).toMatch(
      /^smtp:\/\/127\.0\.0\.1:\d+: the SMTP server refused the login for deploy-bot \(535 [^)]*\); check notifications\.email\.username and the smtpPassword secret/,
    );
    expect(results[0]!.error).not.toContain("\n");
    expect(smtp.mails).toEqual([]);
    const seen = output + JSON.stringify(results) + summarizeDeliveries(results).join("\n");
    for (const leak of [wrong, b64(wrong), b64(`\u0000${USER}\u0000${wrong}`)]) expect(seen).not.toContain(leak);
  });

  it("refuses to send in clear when the server offers no STARTTLS", async () => {
    const smtp = await smtpServer({ tls, starttls: false });
    const config = emailConfig(smtp.port, { username: undefined });
    const [result] = await notifyAll(failed, {}, { config, clock: virtualClock(0).clock });
    expect(result).toMatchObject({ target: "email", delivered: false, attempts: 1 });
    expect(result!.error).toMatch(/did not upgrade to TLS \(STARTTLS\), so nothing was sent in clear .*requireTLS: false only for a relay/);
    expect(smtp.mails).toEqual([]);
  });

  it("says the certificate is not trusted and how to trust it, without retrying or sending", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    const [result] = await notifyAll(
      failed,
      { smtpPassword: PASSWORD },
      { config: emailConfig(smtp.port, { ca: undefined }), clock: virtualClock(0).clock },
    );
    expect(result).toMatchObject({ target: "email", delivered: false, attempts: 1 });
    expect(result!.error).toMatch(
      /the SMTP server's certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT: .*\); give the CA that signed it as notifications\.email\.ca/,
    );
    expect(smtp.logins).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it("speaks TLS from the first byte with secure: true", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD, secure: true });
    const [result] = await notifyAll(
      failed,
      { smtpPassword: PASSWORD },
      { config: emailConfig(smtp.port, { secure: true }), clock: virtualClock(0).clock },
    );
    expect(result).toMatchObject({ target: "email", endpoint: `smtps://127.0.0.1:${smtp.port}`, delivered: true });
    expect(smtp.mails[0]!.secure).toBe(true);
  });

  it("retries a temporary 421 with backoff and delivers once", async () => {
    const smtp = await smtpServer({
      tls,
      user: USER,
      password: PASSWORD,
      onMail: (n) => (n === 1 ? { code: 421, message: "4.3.2 try again later" } : undefined),
    });
    const v = virtualClock(0);
    const [result] = await notifyAll(
      failed,
      { smtpPassword: PASSWORD },
      { config: emailConfig(smtp.port), clock: v.clock, random: () => 0.5 },
    );
    expect(result).toMatchObject({ target: "email", delivered: true, attempts: 2 });
    expect(v.sleeps).toEqual([1000]);
    expect(smtp.mails).toHaveLength(1);
  });

  it("says the server wants a login when no username is set (530), and does not retry", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    const [result] = await notifyAll(failed, {}, { config: emailConfig(smtp.port, { username: undefined }), clock: virtualClock(0).clock });
    expect(result).toMatchObject({ target: "email", delivered: false, attempts: 1, status: 530 });
    expect(result!.error).toMatch(/the SMTP server wants a login \(530 [^)]*\); set notifications\.email\.username and pass smtpPassword/);
  });

  it("reports a missing or unexpected password instead of trying", async () => {
    const smtp = await smtpServer({ tls, user: USER, password: PASSWORD });
    const [noPassword] = await notifyAll(failed, {}, { config: emailConfig(smtp.port), clock: virtualClock(0).clock });
    expect(noPassword).toMatchObject({
      target: "email",
      attempts: 0,
      error: expect.stringMatching(/no SMTP password was given; pass withNotifications --smtp-password/),
    });
    const [noEmail] = await notifyAll(failed, { smtpPassword: PASSWORD }, { clock: virtualClock(0).clock });
    expect(noEmail).toMatchObject({ target: "email", attempts: 0, error: "an SMTP password was given but notifications.email is not set" });
    expect(smtp.logins).toEqual([]);
  });
});
