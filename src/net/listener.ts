/**
 * A TCP listener (plain or implicit TLS) that hands each accepted connection to a protocol
 * handler, enforcing the per-IP connection limit and closing everything gracefully on stop.
 */
import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { currentSecureContext, type SecureContextSource } from "./certificate.ts";
import { count } from "../util/counters.ts";
import { log } from "../util/log.ts";
import { bindErrorCode, ListenError } from "./listen-error.ts";
import { normalizeIp, SocketConnection } from "./connection.ts";
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
  const open = new Set<SocketConnection>();
  const handshaking = new Set<TLSSocket>();
  const perIp = new Map<string, number>();
  let total = 0;
  let closing = false;

  const release = (ip: string) => {
    const n = (perIp.get(ip) ?? 1) - 1;
    if (n <= 0) perIp.delete(ip);
    else perIp.set(ip, n);
  };

  const serve = (socket: Socket, ip: string) => {
    const conn = new SocketConnection(socket, {
      listener: options.name,
      secureContext: options.secureContext,
      idleTimeoutMs: options.idleTimeoutMs,
      remoteAddress: ip,
    });
    open.add(conn);
    total++;
    const started = Date.now();
    log.info("connect", { listener: options.name, ip, port: conn.remotePort, tls: conn.tls?.protocol });
    count("postern_sessions_total", { listener: options.name });
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      open.delete(conn);
      release(ip);
      log.debug("disconnect", { listener: options.name, ip, seconds: (Date.now() - started) / 1000 });
    };
    conn.onClose(done);
    options
      .handler(conn)
      .catch((e) => log.error("connection handler failed", { listener: options.name, error: String(e?.stack ?? e) }))
      .finally(() => {
        conn.close();
        done();
      });
  };

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    const ip = normalizeIp(socket.remoteAddress ?? "");
    const count = perIp.get(ip) ?? 0;
    if (closing || count >= options.maxConnectionsPerIp) {
      if (!closing) {
        log.warn("connection refused", { listener: options.name, ip, reason: "maxConnectionsPerIp", open: count });
      }
      if (options.refusalLine && options.tls === "none" && !closing) socket.end(`${options.refusalLine}\r\n`);
      else socket.destroy();
      socket.on("error", () => {});
      return;
    }
    perIp.set(ip, count + 1);
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
      if (!served) release(ip);
    });
    secure.once("secure", () => {
      clearTimeout(timer);
      handshaking.delete(secure);
      served = true;
      serve(secure, ip);
    });
  });
  await new Promise<void>((resolve, reject) => {
    // A port that cannot be bound names the listener and the setting to change (issue 20, item 9).
    const onBindError = (e: Error) => {
      const code = bindErrorCode(e);
      reject(code ? new ListenError(options.name, options.host, options.port, code) : e);
    };
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

  return {
    name: options.name,
    address: () => address,
    get openConnections() {
      return open.size;
    },
    get totalConnections() {
      return total;
    },
    async close(graceMs) {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of handshaking) socket.destroy();
      for (const conn of open) conn.interrupt("shutdown");
      const deadline = Date.now() + graceMs;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const conn of open) conn.destroy();
      await stopped;
    },
  };
}
