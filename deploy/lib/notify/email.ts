/**
 * Email over SMTP (nodemailer, imported only when email is set up: most pipelines never load it).
 * The message is plain text: the headline as the subject, the facts as lines, scrubbed of every
 * secret. TLS is never optional by accident: STARTTLS is required unless `requireTLS: false` says
 * otherwise (nodemailer then refuses to go on in clear when the server offers no STARTTLS), or the
 * connection is TLS from the start (`secure: true`, port 465). SMTP replies are sorted as RFC 5321
 * §4.2.1 does: 4yz is transient and retried, 5yz is permanent and reported with a fix.
 */
import { formatDuration, headline, shortSha, type DeployEvent, type IncidentEvent, type Notification } from "./event.js";
import type { Attempt } from "./attempts.js";
import { smtpPort, type EmailConfig } from "./channel-config.js";

export interface EmailMessage {
  subject: string;
  text: string;
  /** The X-Shipshape header, for mail filters: deploy, or incident. */
  kind?: "deploy" | "incident";
}

/** An incident's facts, one per line. */
const incidentLines = (event: IncidentEvent): string[] => [
  `Why: ${event.reason}`,
  `Incident: ${event.incident}, ${event.action}`,
  ...(event.issueNumber !== undefined ? [`Issue: #${event.issueNumber}${event.issueUrl ? ` (${event.issueUrl})` : ""}`] : []),
  `Watched: ${event.image}`,
  ...(event.durationSeconds !== undefined ? [`Lasted: ${formatDuration(event.durationSeconds)}`] : []),
  ...(event.newFindings?.length ? [`New: ${event.newFindings.join(", ")}`] : []),
  ...(event.runUrl ? [`Run: ${event.runUrl}`] : []),
];

/** Subject and body: the same facts as the Slack and Teams messages, one per line. */
export function emailMessage(event: Notification): EmailMessage {
  const body = event.kind === "incident" ? incidentLines(event) : deployLines(event);
  const lines = [headline(event), "", ...body, "", "Sent by Shipshape."];
  // A subject is one header line: no line breaks from a reason.
  return {
    subject: `[shipshape] ${headline(event)}`.replace(/[\r\n]+/g, " "),
    text: `${lines.join("\n")}\n`,
    kind: event.kind === "incident" ? "incident" : "deploy",
  };
}

function deployLines(event: DeployEvent): string[] {
  return [
    `Why: ${event.reason}`,
    `Image: ${event.image}`,
    `Took: ${formatDuration(event.durationSeconds)}`,
    ...(event.strategy ? [`Strategy: ${event.strategy}`] : []),
    ...(event.version ? [`Version: ${event.version}`] : []),
    ...(event.commitSha ? [`Commit: ${shortSha(event.commitSha)}${event.commitUrl ? ` (${event.commitUrl})` : ""}`] : []),
    ...(event.author ? [`By: ${event.author}`] : []),
    ...(event.runUrl ? [`Run: ${event.runUrl}`] : []),
    ...((event.decisions ?? []).length > 0
      ? ["", "Decisions:", ...(event.decisions ?? []).map((d) => `- ${d.gate}: ${d.verdict}, ${d.reason}`)]
      : []),
  ];
}

/** How results name the server: scheme, host and port, never the login. */
export const smtpEndpoint = (c: EmailConfig): string => `${c.secure ? "smtps" : "smtp"}://${c.host}:${smtpPort(c)}`;

/** What a login sends, so none of its encodings can reach a message: AUTH PLAIN and AUTH LOGIN are base64. */
export function smtpSecrets(username: string | undefined, password: string | undefined): string[] {
  if (password === undefined || password === "") return [];
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  return [password, b64(password), b64(`\u0000${username ?? ""}\u0000${password}`)];
}

interface SmtpError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

const asSmtp = (e: unknown): SmtpError => (typeof e === "object" && e !== null ? (e as SmtpError) : { message: String(e) });

const UNTRUSTED = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const firstLine = (s: string | undefined) => (s ?? "").split("\n")[0]!.trim().slice(0, 200);

/** One line and a hint for what the server or the connection said. */
export function explainSmtp(e: unknown, c: EmailConfig): Extract<Attempt, { ok: false }> {
  const err = asSmtp(e);
  const at = smtpEndpoint(c);
  const reply = err.responseCode;
  const said = firstLine(err.response) || firstLine(err.message);
  const fail = (retryable: boolean, message: string): Extract<Attempt, { ok: false }> => ({
    ok: false,
    retryable,
    message,
    ...(reply ? { status: reply } : {}),
  });
  const tlsCode = [err.originalCode, err.code].find((x) => x !== undefined && UNTRUSTED.has(x));
  if (tlsCode !== undefined || /certificate|self[- ]signed/i.test(err.message ?? "")) {
    const hint =
      tlsCode === "ERR_TLS_CERT_ALTNAME_INVALID"
        ? "set notifications.email.host to a name the certificate lists"
        : "give the CA that signed it as notifications.email.ca (PEM), or fix the server's certificate";
    return fail(false, `${at}: the SMTP server's certificate is not trusted (${tlsCode ?? "TLS"}: ${firstLine(err.message)}); ${hint}`);
  }
  if (err.code === "EAUTH")
    return fail(
      false,
      `${at}: the SMTP server refused the login for ${c.username ?? "(no username)"} (${said}); ` +
        "check notifications.email.username and the smtpPassword secret (many providers need an app password or SMTP AUTH enabled)",
    );
  if (err.code === "ETLS")
    return fail(
      false,
      `${at}: the SMTP server did not upgrade to TLS (STARTTLS), so nothing was sent in clear (${said}); ` +
        "use secure: true and port 465 if it speaks TLS there, or requireTLS: false only for a relay on a trusted network",
    );
  if (reply === 530 || (reply !== undefined && reply >= 500 && /auth/i.test(said)))
    return fail(false, `${at}: the SMTP server wants a login (${said}); set notifications.email.username and pass smtpPassword`);
  if (err.originalCode === "ENOTFOUND" || err.originalCode === "EAI_AGAIN")
    return fail(err.originalCode === "EAI_AGAIN", `${at}: the SMTP host was not found; check notifications.email.host`);
  if (err.code === "ETIMEDOUT") return fail(true, `${at} did not answer within the timeout`);
  if (err.code === "ECONNECTION" || err.code === "ESOCKET")
    return fail(true, `${at} could not be reached: ${firstLine(err.message)}${err.originalCode ? ` (${err.originalCode})` : ""}`);
  if (reply !== undefined && reply >= 400 && reply < 500) return fail(true, `${at} answered ${said} (temporary)`);
  if (err.code === "EENVELOPE")
    return fail(false, `${at} refused the sender or recipients (${said}); check notifications.email.from and to`);
  return fail(false, `${at}: sending failed (${said}); see the server's reply`);
}

/** What one message needs from nodemailer (its createTransport options and sendMail, as documented). */
export interface SmtpTransportOptions {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  tls: { ca?: string; minVersion: "TLSv1.2" };
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
  logger: false;
  debug: false;
}
export interface MailOptions {
  from: string;
  to: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
}
export interface MailTransport {
  sendMail(mail: MailOptions): Promise<{ response?: string }>;
  close(): void;
}

/*
 * Imported by a name the compiler does not follow: the runtime type-checks every file on each call's
 * cold start, and a literal import() would have it parse the package's types whether email is used
 * or not. test/notify/email.test.ts checks these local types against nodemailer's own.
 */
const NODEMAILER = "nodemailer";

/** A transport for one attempt: every nodemailer timeout set to what the attempt may take. */
export async function smtpTransport(c: EmailConfig, password: string | undefined, timeoutMs: number): Promise<MailTransport> {
  const nodemailer = (await import(NODEMAILER)) as { createTransport(options: SmtpTransportOptions): MailTransport };
  const options: SmtpTransportOptions = {
    host: c.host,
    port: smtpPort(c),
    secure: c.secure,
    requireTLS: !c.secure && c.requireTLS,
    ...(c.username !== undefined ? { auth: { user: c.username, pass: password ?? "" } } : {}),
    tls: { ...(c.ca !== undefined ? { ca: c.ca } : {}), minVersion: "TLSv1.2" },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // no pooling: one message per run; no logger, it would print the AUTH exchange
    logger: false,
    debug: false,
  };
  return nodemailer.createTransport(options);
}

/** One attempt: send, and always close the connection; a hang past the timeout is cut off. */
export async function sendOnce(
  c: EmailConfig,
  message: EmailMessage,
  password: string | undefined,
  timeoutMs: number,
  makeTransport: typeof smtpTransport = smtpTransport,
): Promise<Attempt> {
  const transport = await makeTransport(c, password, timeoutMs);
  const mail: MailOptions = {
    from: c.from,
    to: c.to,
    subject: message.subject,
    text: message.text,
    headers: { "X-Shipshape": message.kind ?? "deploy" },
  };
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })), timeoutMs + 1000);
  });
  try {
    const info = (await Promise.race([transport.sendMail(mail), cut])) as { accepted?: unknown[]; response?: string };
    const code = Number(/^\d{3}/.exec(info.response ?? "")?.[0] ?? 250);
    return { ok: true, status: code };
  } catch (e) {
    return explainSmtp(e, c);
  } finally {
    clearTimeout(timer);
    transport.close();
  }
}
