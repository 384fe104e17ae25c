/**
 * A throwaway database per test file on the machine's real Postgres (trust auth), plus the
 * stand-ins for a broken server: a port nobody listens on, a server that accepts and never
 * answers, and a minimal speaker of the Postgres wire protocol for what trust auth cannot show.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { PG_HOST } from "../helpers/pg.js";

export const PG_PORT = Number(process.env.PGPORT || 5432);
const ADMIN_USER = process.env.PGUSER || "postgres";

export const admin = async <T>(database: string, work: (c: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: ADMIN_USER, database, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
};

export interface FreshDb {
  name: string;
  /** postgres:// URL as the admin user; with `user`/`password`, as someone else. */
  url(opts?: { user?: string; password?: string; database?: string; port?: number }): string;
  drop(): Promise<void>;
}

export async function freshDatabase(prefix = "shipshape_trail"): Promise<FreshDb> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  await admin("postgres", (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: (o = {}) => {
      const auth = `${encodeURIComponent(o.user ?? ADMIN_USER)}${o.password === undefined ? "" : `:${encodeURIComponent(o.password)}`}`;
      return `postgres://${auth}@${PG_HOST}:${o.port ?? PG_PORT}/${o.database ?? name}`;
    },
    drop: () => admin("postgres", (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export interface TestServer {
  port: number;
  /** Bytes each connection sent us, so a test can prove what the client did (or did not) send. */
  received: Buffer[];
  close(): Promise<void>;
}

async function listen(onSocket: (socket: net.Socket, received: Buffer[]) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    onSocket(socket, received);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return {
    port: address.port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts and reads, never answers: what a half-dead server or a wrong port behind a proxy looks like. */
export const silentServer = () => listen((socket, received) => socket.on("data", (d) => received.push(d)));

/** A port that was just free: connecting to it is refused at once. */
export async function closedPort(): Promise<number> {
  const s = await listen(() => undefined);
  await s.close();
  return s.port;
}

// Postgres backend messages (protocol 3.0): a type byte, an int32 length counting itself, a body.
const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const errorResponse = (fields: Record<string, string>) =>
  message("E", Buffer.concat([...Object.entries(fields).map(([k, v]) => Buffer.from(`${k}${v}\0`, "utf8")), Buffer.from([0])]));

/**
 * Asks for a cleartext password and answers what Postgres answers to a wrong one:
 * FATAL 28P01 `password authentication failed for user "<user>"` (auth.c, auth_failed()).
 */
export const wrongPasswordServer = (user: string) =>
  listen((socket, received) => {
    let stage = 0;
    socket.on("data", (d) => {
      received.push(d);
      if (stage++ === 0)
        socket.write(message("R", int32(3))); // AuthenticationCleartextPassword
      else {
        socket.write(errorResponse({ S: "FATAL", V: "FATAL", C: "28P01", M: `password authentication failed for user "${user}"` }));
        socket.end();
      }
    });
  });

/** Completes the startup handshake, then never answers a query: a server that hangs mid-session. */
export const hangsAfterLoginServer = () =>
  listen((socket, received) => {
    let greeted = false;
    socket.on("data", (d) => {
      received.push(d);
      if (greeted) return;
      greeted = true;
      socket.write(Buffer.concat([message("R", int32(0)), message("Z", Buffer.from("I"))])); // AuthenticationOk, ReadyForQuery(idle)
    });
  });

/** A TCP hop in front of the real Postgres; closing it is the database vanishing mid-run. */
export const proxyToPostgres = () =>
  listen((socket) => {
    const upstream = net.connect(PG_PORT, PG_HOST);
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    upstream.on("close", () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
