// A real SMTP server on 127.0.0.1 (the smtp-server package, the one Nodemailer's own tests use):
// STARTTLS with a certificate made at test time, AUTH PLAIN and LOGIN against one account, and
// the refusals a real server gives — 535 for a bad login (RFC 4954 §6), 530 when a login is needed,
// and no STARTTLS at all when a test asks for a server without it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface Mail {
  from: string;
  to: string[];
  raw: string;
  /** The session was on TLS when the message came. */
  secure: boolean;
  user: string | undefined;
}

export interface Smtp {
  port: number;
  mails: Mail[];
  /** AUTH attempts: method and user, never the password. */
  logins: { method: string; user: string; ok: boolean }[];
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made now (no key is ever committed). */
export function makeCert(cn = "localhost"): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "smtp-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-subj",
        `/CN=${cn}`,
        "-addext",
        `subjectAltName=DNS:${cn},IP:127.0.0.1`,
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const open: Smtp[] = [];

export interface SmtpOptions {
  user?: string;
  password?: string;
  tls: { key: string; cert: string };
  /** Advertise and accept STARTTLS (default true). */
  starttls?: boolean;
  /** TLS from the first byte (SMTPS). */
  secure?: boolean;
  /** What AUTH methods the server offers (default PLAIN and LOGIN). */
  authMethods?: string[];
  /** Reply to MAIL FROM with this (e.g. a 421 once) before accepting: `n` is the 1-based message try. */
  onMail?: (n: number) => { code: number; message: string } | undefined;
}

export async function smtpServer(o: SmtpOptions): Promise<Smtp> {
  const mails: Mail[] = [];
  const logins: Smtp["logins"] = [];
  let tries = 0;
  const options: SMTPServerOptions = {
    secure: o.secure ?? false,
    key: o.tls.key,
    cert: o.tls.cert,
    authMethods: o.authMethods ?? ["PLAIN", "LOGIN"],
    // Like a real submission server: no login over plain text, and no mail without a login when one is set up.
    allowInsecureAuth: false,
    authOptional: o.user === undefined,
    ...(o.starttls === false ? { disabledCommands: ["STARTTLS"] } : {}),
    logger: false,
    onAuth(auth, _session, cb) {
      const ok = auth.username === o.user && auth.password === o.password;
      logins.push({ method: auth.method, user: auth.username ?? "", ok });
      if (!ok) return cb(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
      cb(null, { user: auth.username });
    },
    onMailFrom(_address, _session, cb) {
      const refusal = o.onMail?.(++tries);
      if (refusal) return cb(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
          secure: session.secure,
          user: typeof session.user === "string" ? session.user : undefined,
        });
        cb();
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  const smtp: Smtp = { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  open.push(smtp);
  return smtp;
}

export async function closeSmtp(): Promise<void> {
  await Promise.all(open.splice(0).map((s) => s.close()));
}

/** The message as a reader sees it: quoted-printable soft breaks joined and escapes decoded (RFC 2045 §6.7). */
export const decoded = (raw: string): string =>
  raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
