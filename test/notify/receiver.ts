// Local webhook receivers on 127.0.0.1: they record every request and answer from a script, so a
// test can play Slack (plain-text error codes), a flaky proxy, a hanging or a slow endpoint.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request arrived (fake time when fake timers are on). */
  at: number;
}

/** How to answer one request: a status with body and headers, never (hang), or headers now and the body later. */
export type Reply =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { hang: true }
  | { status: number; stallBodyMs: number; body?: string };

export interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

const open: Server[] = [];

/** `script(n)` answers the n-th request (1-based); the default is Slack's 200 "ok". */
export async function receiver(script: (n: number, req: Received) => Reply = () => ({ status: 200, body: "ok" })): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      };
      received.push(r);
      const reply = script(received.length, r);
      if ("hang" in reply) return; // keep the socket open and say nothing
      if ("stallBodyMs" in reply) {
        res.writeHead(reply.status, { "content-type": "text/plain" });
        res.write("o");
        setTimeout(() => res.end(reply.body ?? "k"), reply.stallBodyMs);
        return;
      }
      res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers }).end(reply.body ?? "");
    });
  });
  open.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    // A Slack-shaped URL: the path is the credential the tests check never leaks.
    url: `http://127.0.0.1:${port}/services/T0TEST/B0TEST/s3cr3tWebhookToken0123`,
    received,
    close: () => closeServer(server),
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map(closeServer));
}

/** A clock whose sleeps return at once but move its own time on, recording every wait. */
export function virtualClock(start = 0) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    clock: {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}

/** Captures the progress lines (stderr) written while `fn` runs. */
export async function captureStderr<T>(fn: () => Promise<T>): Promise<{ value: T; output: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let output = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    output += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), output };
  } finally {
    process.stderr.write = original;
  }
}
