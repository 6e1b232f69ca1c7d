/**
 * The HTTPS listener (`listeners.https`): the same fetch handler as the HTTP listener, over TLS with
 * the mail listeners' certificate. TLS ends here, on `node:tls` like implicit TLS for mail, so each
 * new connection takes the certificate current at that moment (a renewed or reloaded one without a
 * restart) and a TLS-ALPN-01 challenge (RFC 8737) can be answered before the handshake; the
 * decrypted stream goes to the runtime's HTTP server on a loopback port of its own, which learns
 * the client's address from the port its connection comes from.
 */
import { connect, createServer, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { type SecureContext, TLSSocket } from "node:tls";
import { CLIENT_HELLO_LIMIT, parseClientHello } from "../tls/client-hello.ts";
import { log } from "../util/log.ts";
import { currentSecureContext, type SecureContextSource } from "./certificate.ts";
import { normalizeIp } from "./connection.ts";
import { type Fetch, type HttpServer, serveOn } from "./http.ts";
import { bindErrorCode, ListenError } from "./listen-error.ts";

/** RFC 8737 §6.2: the ALPN protocol name of TLS-ALPN-01. */
export const ACME_TLS_ALPN = "acme-tls/1";
/** How long a client may take to send its ClientHello and finish the handshake. */
const HANDSHAKE_TIMEOUT_MS = 30_000;

export interface HttpsOptions {
  host: string;
  port: number;
  secureContext: SecureContextSource;
  fetch: Fetch;
  /**
   * TLS-ALPN-01 (RFC 8737 §3): the context holding the challenge certificate for a server name being
   * validated now. While `alpnPending()` is true, each ClientHello is read before the handshake so that
   * a validation connection (ALPN `acme-tls/1` only) gets it and everyone else the usual certificate.
   */
  alpnChallenge?: (serverName: string) => SecureContext | undefined;
  alpnPending?: () => boolean;
}

export async function serveHttps(options: HttpsOptions): Promise<HttpServer> {
  /** The loopback port of each bridged connection → the client's address. */
  const clients = new Map<number, string>();
  const inner = serveOn({
    host: "127.0.0.1",
    port: 0,
    fetch: (request, env) =>
      options.fetch(request, { remoteAddress: clients.get(env.remotePort ?? -1) ?? env.remoteAddress }),
  });
  const open = new Set<Socket>();

  const bridge = (secure: TLSSocket, ip: string) => {
    const upstream = connect({ host: "127.0.0.1", port: inner.port });
    open.add(upstream);
    let localPort = 0;
    upstream.once("connect", () => {
      localPort = upstream.localPort ?? 0;
      clients.set(localPort, ip);
      secure.pipe(upstream);
      upstream.pipe(secure);
    });
    const done = () => {
      clients.delete(localPort);
      open.delete(upstream);
      upstream.destroy();
      secure.destroy();
    };
    upstream.once("close", done);
    secure.once("close", done);
    upstream.on("error", done);
  };

  const handshake = (socket: Socket, transport: Socket | Duplex, context: SecureContext, alpn: string[]) => {
    const ip = normalizeIp(socket.remoteAddress ?? "");
    const secure = new TLSSocket(transport as Socket, { isServer: true, secureContext: context, ALPNProtocols: alpn });
    const timer = setTimeout(() => secure.destroy(), HANDSHAKE_TIMEOUT_MS);
    secure.on("error", () => secure.destroy());
    secure.once("close", () => {
      clearTimeout(timer);
      socket.destroy();
    });
    secure.once("secure", () => {
      clearTimeout(timer);
      // RFC 8737 §3: the validation connection carries nothing after the handshake.
      if (alpn[0] === ACME_TLS_ALPN) secure.end();
      else bridge(secure, ip);
    });
  };

  const server = createServer((socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    socket.on("error", () => socket.destroy());
    if (!options.alpnPending?.()) {
      return handshake(socket, socket, currentSecureContext(options.secureContext), ["http/1.1"]);
    }
    // A challenge is being validated: read the ClientHello first, then hand it to TLS with the rest.
    let received: Uint8Array = new Uint8Array(0);
    const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
    const onData = (chunk: Uint8Array) => {
      const joined = new Uint8Array(received.length + chunk.length);
      joined.set(received);
      joined.set(chunk, received.length);
      received = joined;
      const hello = parseClientHello(received.subarray(0, CLIENT_HELLO_LIMIT));
      if (hello.kind === "more") return;
      socket.off("data", onData);
      socket.pause();
      clearTimeout(timer);
      // RFC 8737 §3: the validation offers acme-tls/1 and names the domain being validated in SNI.
      const name = hello.kind === "hello" && hello.alpn.includes(ACME_TLS_ALPN) ? hello.serverName : undefined;
      const challenge = name ? options.alpnChallenge?.(name) : undefined;
      if (challenge) log.info("acme: answering a tls-alpn-01 validation", { name });
      handshake(
        socket,
        replay(socket, received),
        challenge ?? currentSecureContext(options.secureContext),
        challenge ? [ACME_TLS_ALPN] : ["http/1.1"],
      );
    };
    socket.on("data", onData);
  });

  await new Promise<void>((resolve, reject) => {
    const onBindError = (e: Error) => {
      const code = bindErrorCode(e);
      reject(code ? new ListenError("https", options.host, options.port, code) : e);
    };
    server.once("error", onBindError);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off("error", onBindError);
      resolve();
    });
  }).catch(async (e) => {
    await inner.close();
    throw e;
  });
  server.on("error", (e) => log.error("listener error", { listener: "https", error: String(e) }));
  const bound = server.address();
  return {
    port: typeof bound === "object" && bound ? bound.port : options.port,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await Promise.all([stopped, inner.close()]);
    },
  };
}

/**
 * `socket` as a stream that first gives `first` (bytes already read from it) again: TLS over it
 * sees the whole ClientHello. (Putting the bytes back with `unshift` does not reach the TLS layer
 * on Bun or Deno.)
 */
function replay(socket: Socket, first: Uint8Array): Duplex {
  const stream = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  stream.push(first);
  socket.on("data", (chunk) => {
    if (!stream.push(chunk)) socket.pause();
  });
  socket.once("end", () => stream.push(null));
  socket.once("close", () => stream.destroy());
  return stream;
}
