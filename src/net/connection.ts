/**
 * A `Connection` over a `node:net` socket (plain or TLS), which Bun and Deno both provide.
 *
 * Reads are pulled by the protocol server; the socket is paused while enough input is
 * buffered, so a fast client cannot fill memory faster than the server consumes it.
 */
import { isIP, type Socket } from "node:net";
import { connect as tlsConnect, TLSSocket } from "node:tls";
import { constants as zlib, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from "node:zlib";
import { currentSecureContext, type SecureContextSource } from "./certificate.ts";
import { FramedConnection, normalizeIp } from "./framed-connection.ts";
import type { TlsInfo } from "../connection.ts";

export { normalizeIp };

/** Both directions of a compressed connection (RFC 4978); `lastWrite` settles when the socket took the last output. */
interface Compression {
  inflate: InflateRaw;
  deflate: DeflateRaw;
  lastWrite: Promise<void>;
}

export interface SocketConnectionOptions {
  listener: string;
  /** Server side: our certificate. Client side (outbound SMTP): none. */
  secureContext?: SecureContextSource;
  idleTimeoutMs: number;
  /** The peer's address, when the caller read it already (normalized). */
  remoteAddress?: string;
  /** Client side of an outbound connection: STARTTLS verifies (or not) the peer for `servername`. */
  client?: { servername: string; verify: boolean };
}

export class SocketConnection extends FramedConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  #socket: Socket;
  #secureContext: SecureContextSource | undefined;
  #client: SocketConnectionOptions["client"];
  /** After `close`: destroys a socket whose peer does not read what is left to send. */
  #lingering: ReturnType<typeof setTimeout> | undefined;
  #compression: Compression | null = null;
  /** Framed input: from the socket, or once compressed from the inflater the socket feeds. */
  #onData = (chunk: Uint8Array) => this.received(chunk);
  #onEnd = () => this.inputEnded();

  constructor(socket: Socket, options: SocketConnectionOptions) {
    super(options.listener, options.idleTimeoutMs);
    this.#socket = socket;
    this.#secureContext = options.secureContext;
    this.#client = options.client;
    this.remoteAddress = options.remoteAddress ?? normalizeIp(socket.remoteAddress ?? "");
    this.remotePort = socket.remotePort ?? 0;
    if (socket instanceof TLSSocket) this.tlsInfo = tlsInfo(socket);
    this.#attach(socket);
    this.armTimer();
  }

  protected localEnd(): Socket {
    return this.#socket;
  }

  get compressed(): boolean {
    return this.#compression !== null;
  }

  write(data: string | Uint8Array): Promise<void> {
    if (this.isClosed || this.#socket.destroyed) return Promise.resolve();
    const compression = this.#compression;
    if (compression) {
      // RFC 4978 §4: a sync flush after each batch of responses, so the client is never left waiting for more.
      return new Promise((resolve) => {
        compression.deflate.write(data);
        compression.deflate.flush(zlib.Z_SYNC_FLUSH, () => void compression.lastWrite.then(resolve));
      });
    }
    return new Promise((resolve) => {
      this.#socket.write(data, () => resolve());
    });
  }

  async startTls(): Promise<void> {
    if (this.tlsInfo) throw new Error("TLS is already active");
    if (this.#compression) throw new Error("TLS cannot start inside compression");
    // RFC 3207 §4.2: anything the client pipelined after STARTTLS is discarded, not read as commands.
    this.framer.clear();
    const plain = this.#socket;
    this.#detach(plain);
    const client = this.#client;
    const secure = client
      ? tlsConnect({
        socket: plain,
        // SNI carries host names only (RFC 6066 §3); a transport to an IP address sends none.
        ...(isIP(client.servername) ? {} : { servername: client.servername }),
        rejectUnauthorized: client.verify,
      })
      : new TLSSocket(plain, {
        isServer: true,
        secureContext: this.#secureContext && currentSecureContext(this.#secureContext),
      });
    this.#socket = secure;
    this.#attach(secure);
    const event = client ? "secureConnect" : "secure";
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => {
        secure.off(event, done);
        reject(e);
      };
      const done = () => {
        secure.off("error", fail);
        resolve();
      };
      secure.once(event, done);
      secure.once("error", fail);
      secure.once("close", () => fail(new Error("connection closed during the TLS handshake")));
    });
    this.tlsInfo = tlsInfo(secure);
  }

  startCompression(): void {
    if (this.#compression) throw new Error("Compression is already active");
    const socket = this.#socket;
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    const compression: Compression = { inflate, deflate, lastWrite: Promise.resolve() };
    this.#compression = compression;
    // Input: socket → inflater → framer. The inflater is paused when the framer is full (like the socket
    // before), its input queue then fills and the socket is paused until it drains, so a small compressed
    // chunk that inflates to a lot is never held whole: memory stays at the high-water mark plus zlib's chunk.
    socket.off("data", this.#onData);
    socket.on("data", this.#onCompressed);
    // The end of input is where the inflater has handed on everything, not where the socket ended.
    socket.off("end", this.#onEnd);
    socket.on("end", () => inflate.end());
    inflate.on("end", this.#onEnd);
    inflate.on("data", this.#onData);
    inflate.on("drain", () => socket.resume());
    // A socket paused for a full framer feeds the inflater from now on, whose queue paces it.
    if (this.paused) {
      this.paused = false;
      socket.resume();
    }
    // Data that does not inflate ends the input like a broken connection.
    inflate.on("error", this.#onEnd);
    deflate.on("data", (chunk: Uint8Array) => {
      compression.lastWrite = new Promise((resolve) => socket.write(chunk, () => resolve()));
    });
    deflate.on("error", this.#onEnd);
    // Bytes that arrived after the command were compressed by the client already.
    const pending = this.framer.length > 0 ? this.framer.readAtMost(this.framer.length) : undefined;
    if (pending) this.#onCompressed(pending.slice());
  }

  close(): void {
    if (this.isClosed) return;
    this.closing();
    this.#socket.end();
    // A peer that never reads must not keep the socket open forever. Cleared once closed: a timer firing
    // 2 s after every connection kept each socket alive that long.
    this.#lingering = setTimeout(() => this.#socket.destroy(), 2000);
    this.#lingering.unref?.();
  }

  destroy(): void {
    this.closing();
    this.#socket.destroy();
  }

  #onCompressed = (chunk: Uint8Array) => {
    if (!this.#compression!.inflate.write(chunk)) this.#socket.pause();
    this.armTimer();
  };

  /** What `received` reads from, to pause and resume. */
  get #input(): { pause(): unknown; resume(): unknown } {
    return this.#compression?.inflate ?? this.#socket;
  }

  protected pauseInput(): void {
    this.#input.pause();
  }

  protected resumeInput(): void {
    this.#input.resume();
  }

  #attach(socket: Socket): void {
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onEnd);
    socket.on("close", this.#onClosed);
  }

  #detach(socket: Socket): void {
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onEnd);
    socket.off("close", this.#onClosed);
  }

  #onClosed = () => {
    clearTimeout(this.#lingering);
    this.#compression?.inflate.destroy();
    this.#compression?.deflate.destroy();
    this.gone();
  };
}

function tlsInfo(socket: TLSSocket): TlsInfo {
  return { protocol: socket.getProtocol() ?? "TLS", cipher: socket.getCipher()?.name ?? "unknown" };
}
