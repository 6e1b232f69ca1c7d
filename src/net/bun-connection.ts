/**
 * A server-side `Connection` over Bun's native sockets (`Bun.listen`), for the plain SMTP listeners (issue 15).
 * The reading side is `FramedConnection`'s; this file writes, pauses, upgrades to TLS and closes.
 *
 * Bun's `write` takes what the kernel accepts now and returns how many bytes that was: the rest waits here, in
 * order, and goes out on `drain`.
 */
import type { Socket, SocketHandler } from "bun";
import { currentSecureContext, type SecureContextSource } from "./certificate.ts";
import { FramedConnection } from "./framed-connection.ts";

/** One write not yet taken whole by the kernel: what is left of it, and its promise to settle. */
interface Pending {
  bytes: Uint8Array;
  done: () => void;
}

export type BunSocket = Socket<BunConnection>;

export interface BunConnectionOptions {
  listener: string;
  secureContext: SecureContextSource;
  idleTimeoutMs: number;
  /** The peer's address, read by the listener already (normalized). */
  remoteAddress: string;
}

const encoder = new TextEncoder();

export class BunConnection extends FramedConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly compressed = false;
  #socket: BunSocket;
  #secureContext: SecureContextSource;
  #queue: Pending[] = [];
  /** `close` ran while writes were queued: the socket ends once they are out. */
  #endWhenDrained = false;
  #lingering: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: BunSocket, options: BunConnectionOptions) {
    super(options.listener, options.idleTimeoutMs);
    this.#socket = socket;
    this.#secureContext = options.secureContext;
    this.remoteAddress = options.remoteAddress;
    this.remotePort = socket.remotePort;
    this.armTimer();
  }

  protected localEnd(): BunSocket {
    return this.#socket;
  }

  write(data: string | Uint8Array): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if (this.#queue.length === 0) {
      const written = this.#socket.write(data);
      const size = typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
      // Negative: the socket is closed (its close handler tells).
      if (written < 0 || written >= size) return Promise.resolve();
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      return new Promise((done) => this.#queue.push({ bytes: bytes.subarray(written), done }));
    }
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    return new Promise((done) => this.#queue.push({ bytes, done }));
  }

  startTls(): Promise<void> {
    if (this.tlsInfo) return Promise.reject(new Error("TLS is already active"));
    // RFC 3207 §4.2: anything the client pipelined after STARTTLS is discarded, not read as commands.
    this.framer.clear();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve();
      };
      const handlers: SocketHandler<BunConnection> = {
        ...socketHandlers,
        handshake: (secure, success, authorizationError) => {
          // A server does not ask for a client certificate: `authorizationError` says only that there was none.
          if (!success) return settle(authorizationError ?? new Error("TLS handshake failed"));
          const cipher = secure.getCipher();
          this.tlsInfo = { protocol: secure.getTLSVersion() || "TLS", cipher: cipher?.name ?? "unknown" };
          settle();
        },
        close: (secure, error) => {
          settle(error ?? new Error("connection closed during the TLS handshake"));
          socketHandlers.close!(secure, error);
        },
      };
      const context = currentSecureContext(this.#secureContext) as unknown as { context: unknown };
      // Bun takes the native context inside a `node:tls` SecureContext: the same certificate, protocol versions and
      // ciphers as the node:net listeners, current at this moment (certificate reloads apply).
      const [raw, secure] = this.#socket.upgradeTLS<BunConnection>({
        tls: { secureContext: context.context } as never,
        socket: handlers,
        data: this,
      });
      // The plain socket now carries TLS records only; its handlers must not see them as input.
      raw.data = undefined as never;
      this.#socket = secure;
    });
  }

  startCompression(): void {
    throw new Error("COMPRESS is not offered on this listener");
  }

  close(): void {
    if (this.isClosed) return;
    this.closing();
    if (this.#queue.length === 0) this.#socket.end();
    else this.#endWhenDrained = true;
    // A peer that never reads must not keep the socket open forever.
    this.#lingering = setTimeout(() => this.#socket.terminate(), 2000);
    this.#lingering.unref?.();
  }

  destroy(): void {
    this.closing();
    this.#socket.terminate();
  }

  protected pauseInput(): void {
    this.#socket.pause();
  }

  protected resumeInput(): void {
    this.#socket.resume();
  }

  /** The kernel takes more: queued writes go out in order. */
  drained(): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      const head = queue[0]!;
      const written = this.#socket.write(head.bytes);
      if (written >= 0 && written < head.bytes.byteLength) {
        head.bytes = head.bytes.subarray(written);
        return;
      }
      queue.shift();
      head.done();
    }
    if (this.#endWhenDrained) this.#socket.end();
  }

  /** The socket is gone: queued writes settle (unsent), reads end. */
  closedBySocket(): void {
    clearTimeout(this.#lingering);
    for (const pending of this.#queue.splice(0)) pending.done();
    this.gone();
  }

  /** Input from the socket (a view valid during the call: the framer copies it). */
  input(chunk: Uint8Array): void {
    this.received(chunk);
  }

  /** The peer ended its input, or the socket failed. */
  peerEnded(): void {
    this.inputEnded();
  }
}

/**
 * The callbacks of every socket of a native listener, plain or upgraded: they hand the event to the socket's
 * connection. A socket refused before it had one, or the plain half of an upgraded one, has none.
 */
export const socketHandlers: SocketHandler<BunConnection> = {
  data(socket, chunk) {
    socket.data?.input(chunk);
  },
  drain(socket) {
    socket.data?.drained();
  },
  end(socket) {
    socket.data?.peerEnded();
  },
  error(socket) {
    socket.data?.peerEnded();
  },
  close(socket) {
    socket.data?.closedBySocket();
  },
};
