/**
 * A TCP listener (plain or implicit TLS) that hands each accepted connection to a protocol
 * handler, enforcing the per-IP connection limit and closing everything gracefully on stop.
 */
import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { currentSecureContext, type SecureContextSource } from "./certificate.ts";
import { log } from "../util/log.ts";
import { listenError } from "./listen-error.ts";
import { normalizeIp, SocketConnection } from "./connection.ts";
import { listenNative, nativeSockets } from "./bun-listener.ts";
import { Sessions } from "./sessions.ts";
import type { ConnectionHandler } from "../connection.ts";

export interface ListenOptions {
  /** Listener name from config, e.g. "submission". */
  name: string;
  host: string;
  /** 0 picks a free port; `address()` tells which. */
  port: number;
  /** "implicit": TLS from the first byte (465, 993, 995). */
  tls: "none" | "implicit";
  /** A function: read for each new connection, so a renewed certificate applies without a restart. */
  secureContext: SecureContextSource;
  maxConnectionsPerIp: number;
  idleTimeoutMs: number;
  /** Written (plain listeners only) to a connection refused for the per-IP limit. */
  refusalLine?: string;
  /**
   * Several processes listen on the same port and the kernel spreads connections over them
   * (SO_REUSEPORT; `postern serve --workers N`).
   */
  reusePort?: boolean;
  handler: ConnectionHandler;
}

export interface Listener {
  readonly name: string;
  address(): { host: string; port: number };
  readonly openConnections: number;
  readonly totalConnections: number;
  /**
   * Stops accepting, interrupts every connection's pending read so its protocol can say
   * goodbye, and destroys whatever is still open after `graceMs`.
   */
  close(graceMs: number): Promise<void>;
}

/** How long an implicit-TLS client may take to finish its handshake (never longer than the idle timeout). */
const HANDSHAKE_TIMEOUT_MS = 30_000;

export async function listen(options: ListenOptions): Promise<Listener> {
  if (nativeSockets(options)) return listenNative(options);
  const sessions = new Sessions(options);
  const handshaking = new Set<TLSSocket>();
  const serve = (socket: Socket, ip: string) => {
    const conn = new SocketConnection(socket, {
      listener: options.name,
      secureContext: options.secureContext,
      idleTimeoutMs: options.idleTimeoutMs,
      remoteAddress: ip,
    });
    sessions.serve(conn, ip);
  };

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    const ip = normalizeIp(socket.remoteAddress ?? "");
    if (!sessions.admit(ip)) {
      if (options.refusalLine && options.tls === "none" && !sessions.closing) socket.end(`${options.refusalLine}\r\n`);
      else socket.destroy();
      socket.on("error", () => {});
      return;
    }
    if (options.tls === "none") return serve(socket, ip);

    const secure = new TLSSocket(socket, {
      isServer: true,
      secureContext: currentSecureContext(options.secureContext),
    });
    handshaking.add(secure);
    let served = false;
    const timer = setTimeout(() => secure.destroy(), Math.min(HANDSHAKE_TIMEOUT_MS, options.idleTimeoutMs));
    secure.on("error", () => secure.destroy());
    secure.once("close", () => {
      clearTimeout(timer);
      handshaking.delete(secure);
      if (!served) sessions.release(ip);
    });
    secure.once("secure", () => {
      clearTimeout(timer);
      handshaking.delete(secure);
      served = true;
      serve(secure, ip);
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onBindError = (e: Error) => reject(listenError(options, e));
    server.once("error", onBindError);
    server.listen({ port: options.port, host: options.host, reusePort: options.reusePort === true }, () => {
      server.off("error", onBindError);
      resolve();
    });
  });
  server.on("error", (e) => log.error("listener error", { listener: options.name, error: String(e) }));
  const bound = server.address();
  const address = {
    host: options.host,
    port: typeof bound === "object" && bound ? bound.port : options.port,
  };

  return sessions.listener(address, () => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of handshaking) socket.destroy();
    return stopped;
  });
}
