/**
 * The plain SMTP listeners (`smtp`, `submission`) on Bun, over `Bun.listen` instead of `node:net` (issue 15):
 * they take most connections, and an SMTP session over Bun's native sockets costs about a fifth less CPU (0.35
 * against 0.45 ms a message, measured on the session layer alone). Same rules as the
 * `node:net` listener (`sessions.ts`); implicit TLS and the other protocols stay on `node:net`, as does Deno.
 */
import type { TCPSocketListener } from "bun";
import { BunConnection, type BunSocket, socketHandlers } from "./bun-connection.ts";
import { normalizeIp } from "./framed-connection.ts";
import { listenError } from "./listen-error.ts";
import { Sessions } from "./sessions.ts";
import type { Listener, ListenOptions } from "./listener.ts";

/** The listeners served over native sockets: plain-TCP SMTP, where the load is. */
const NATIVE = new Set(["smtp", "submission"]);

/** Whether `options` gets a native listener: on Bun, for a plain SMTP listener. */
export function nativeSockets(options: ListenOptions): boolean {
  return typeof Bun !== "undefined" && options.tls === "none" && NATIVE.has(options.name);
}

export function listenNative(options: ListenOptions): Promise<Listener> {
  const sessions = new Sessions(options);
  const open = (socket: BunSocket) => {
    socket.setNoDelay(true);
    const ip = normalizeIp(socket.remoteAddress);
    if (!sessions.admit(ip)) {
      if (options.refusalLine && !sessions.closing) socket.end(`${options.refusalLine}\r\n`);
      else socket.terminate();
      return;
    }
    const conn = new BunConnection(socket, {
      listener: options.name,
      secureContext: options.secureContext,
      idleTimeoutMs: options.idleTimeoutMs,
      remoteAddress: ip,
    });
    socket.data = conn;
    sessions.serve(conn, ip);
  };
  let server: TCPSocketListener<BunConnection>;
  try {
    // `reusePort` (SO_REUSEPORT, for `serve --workers`) is honoured by Bun 1.4 but missing from its types.
    const listenOptions = {
      hostname: options.host,
      port: options.port,
      reusePort: options.reusePort === true,
      socket: { ...socketHandlers, open },
    };
    server = Bun.listen<BunConnection>(listenOptions);
  } catch (e) {
    return Promise.reject(listenError(options, e));
  }
  // Stops accepting; the open sessions end, each with its protocol's goodbye.
  return Promise.resolve(sessions.listener({ host: options.host, port: server.port }, () => {
    server.stop(false);
    return Promise.resolve();
  }));
}
