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
import { LineFramer } from "./line-framer.ts";
import type { Connection, LinePart, LineResult, TlsInfo } from "../connection.ts";

/** Above this many buffered bytes the socket is paused until the server reads. */
const HIGH_WATER = 256 * 1024;
const DEFAULT_MAX_LINE = 4096;

let nextId = 1;

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

export class SocketConnection implements Connection {
  readonly id = nextId++;
  readonly listener: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Our end, read when first asked (each address read is a system call on Bun). */
  #local: { address: string; port: number } | undefined;
  #socket: Socket;
  #secureContext: SecureContextSource | undefined;
  #client: SocketConnectionOptions["client"];
  #framer = new LineFramer();
  #tls: TlsInfo | null = null;
  #ended = false;
  #closed = false;
  #interrupted: "timeout" | "shutdown" | null = null;
  #idleMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** After `close`: destroys a socket whose peer does not read what is left to send. */
  #lingering: ReturnType<typeof setTimeout> | undefined;
  #lastActive = 0;
  /** When the running timer fires. */
  #due = 0;
  #wake: (() => void) | undefined;
  /** Whether this connection paused its input (`#input.isPaused()` asked per read was a native call each). */
  #paused = false;
  #compression: Compression | null = null;
  /** Framed input: from the socket, or once compressed from the inflater the socket feeds. */
  #onData = (chunk: Uint8Array) => {
    this.#framer.push(chunk);
    if (this.#framer.length > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#input.pause();
    }
    this.#armTimer();
    this.#notify();
  };
  #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };
  #closedListeners: Array<() => void> = [];

  constructor(socket: Socket, options: SocketConnectionOptions) {
    this.#socket = socket;
    this.#secureContext = options.secureContext;
    this.#client = options.client;
    this.#idleMs = options.idleTimeoutMs;
    this.listener = options.listener;
    this.remoteAddress = options.remoteAddress ?? normalizeIp(socket.remoteAddress ?? "");
    this.remotePort = socket.remotePort ?? 0;
    if (socket instanceof TLSSocket) this.#tls = tlsInfo(socket);
    this.#attach(socket);
    this.#armTimer();
  }

  get localAddress(): string {
    return (this.#local ??= this.#readLocal()).address;
  }
  get localPort(): number {
    return (this.#local ??= this.#readLocal()).port;
  }

  #readLocal(): { address: string; port: number } {
    return { address: normalizeIp(this.#socket.localAddress ?? ""), port: this.#socket.localPort ?? 0 };
  }

  get tls(): TlsInfo | null {
    return this.#tls;
  }
  get compressed(): boolean {
    return this.#compression !== null;
  }
  get closed(): boolean {
    return this.#closed || this.#ended;
  }
  get interrupted(): "timeout" | "shutdown" | null {
    return this.#interrupted;
  }

  /** Makes the pending and every later read resolve null, with `interrupted` saying why. */
  interrupt(reason: "timeout" | "shutdown"): void {
    this.#interrupted ??= reason;
    this.#notify();
  }

  /** Called once when the connection is gone (closed by either side). */
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closedListeners.push(listener);
  }

  async readLine(maxLineLength = DEFAULT_MAX_LINE): Promise<LineResult | null> {
    for (;;) {
      const line = this.#framer.readLine(maxLineLength);
      if (line) return this.#consumed(line);
      if (!(await this.#more())) return null;
    }
  }

  async readLineOrPart(maxLength: number): Promise<LineResult | LinePart | null> {
    for (;;) {
      const line = this.#framer.readLineOrPart(maxLength);
      if (line) return this.#consumed(line);
      if (!(await this.#more())) return null;
    }
  }

  bufferedLineOrPart(maxLength: number): LineResult | LinePart | undefined {
    const line = this.#framer.readLineOrPart(maxLength);
    return line && this.#consumed(line);
  }

  async readAtMost(count: number): Promise<Uint8Array | null> {
    for (;;) {
      const bytes = this.#framer.readAtMost(count);
      if (bytes) return this.#consumed(bytes);
      if (!(await this.#more())) return null;
    }
  }

  async readBytes(count: number): Promise<Uint8Array | null> {
    for (;;) {
      const bytes = this.#framer.readBytes(count);
      if (bytes) return this.#consumed(bytes);
      // Let the buffer hold the whole count even above the high-water mark.
      if (this.#framer.length < count) this.#resume();
      if (!(await this.#more(true))) return null;
    }
  }

  async skipBytes(count: number): Promise<boolean> {
    let left = count;
    for (;;) {
      left -= this.#framer.skip(left);
      this.#consumed(null);
      if (left === 0) return true;
      if (!(await this.#more())) return false;
    }
  }

  hasBufferedLine(): boolean {
    return this.#framer.hasLine();
  }

  write(data: string | Uint8Array): Promise<void> {
    if (this.#closed || this.#socket.destroyed) return Promise.resolve();
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
    if (this.#tls) throw new Error("TLS is already active");
    if (this.#compression) throw new Error("TLS cannot start inside compression");
    // RFC 3207 §4.2: anything the client pipelined after STARTTLS is discarded, not read as commands.
    this.#framer.clear();
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
    this.#tls = tlsInfo(secure);
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
    if (this.#paused) {
      this.#paused = false;
      socket.resume();
    }
    // Data that does not inflate ends the input like a broken connection.
    inflate.on("error", this.#onEnd);
    deflate.on("data", (chunk: Uint8Array) => {
      compression.lastWrite = new Promise((resolve) => socket.write(chunk, () => resolve()));
    });
    deflate.on("error", this.#onEnd);
    // Bytes that arrived after the command were compressed by the client already.
    const pending = this.#framer.length > 0 ? this.#framer.readAtMost(this.#framer.length) : undefined;
    if (pending) this.#onCompressed(pending.slice());
  }

  setIdleTimeout(ms: number): void {
    this.#idleMs = ms;
    this.#lastActive = Date.now();
    // A running timer that fires within the new limit looks again then and waits for the rest, so only a limit
    // ending before it needs a new timer: SMTP switching between its command and data limits twice a message
    // sets none.
    if (this.#timer !== undefined && this.#due > this.#lastActive + ms) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#timer === undefined) this.#schedule(ms);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket.end();
    // A peer that never reads must not keep the socket open forever. Cleared once closed: a timer firing
    // 2 s after every connection kept each socket alive that long.
    this.#lingering = setTimeout(() => this.#socket.destroy(), 2000);
    this.#lingering.unref?.();
    this.#notify();
  }

  /** Closes without flushing (listener shutdown after the grace period). */
  destroy(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket.destroy();
    this.#notify();
  }

  #onCompressed = (chunk: Uint8Array) => {
    if (!this.#compression!.inflate.write(chunk)) this.#socket.pause();
    this.#armTimer();
  };

  /** What `#onData` reads from, to pause and resume. */
  get #input(): { pause(): unknown; resume(): unknown } {
    return this.#compression?.inflate ?? this.#socket;
  }

  #resume(): void {
    this.#paused = false;
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
    this.#ended = true;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#lingering);
    this.#compression?.inflate.destroy();
    this.#compression?.deflate.destroy();
    this.#notify();
    for (const listener of this.#closedListeners.splice(0)) listener();
  };

  #consumed<T>(value: T): T {
    if (this.#paused && this.#framer.length < HIGH_WATER) this.#resume();
    this.#armTimer();
    return value;
  }

  /** Waits for more input; false at end of input, close, or idle timeout. */
  #more(force = false): Promise<boolean> {
    if (this.#ended || this.#closed || this.#interrupted !== null) return Promise.resolve(false);
    if (this.#paused && (force || this.#framer.length < HIGH_WATER)) this.#resume();
    return new Promise((resolve) => {
      this.#wake = () => resolve(!(this.#ended || this.#closed || this.#interrupted !== null));
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Notes activity. The timer is not re-armed on every read (a message is millions of lines, and a timer each is
   * slow on some runtimes): when it fires it looks at the last activity and waits again for the rest.
   */
  #armTimer(): void {
    this.#lastActive = Date.now();
    if (this.#timer === undefined) this.#schedule(this.#idleMs);
  }

  #schedule(ms: number): void {
    if (this.#closed || this.#idleMs <= 0) return;
    this.#due = Date.now() + ms;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const idle = Date.now() - this.#lastActive;
      if (idle >= this.#idleMs) this.interrupt("timeout");
      else this.#schedule(this.#idleMs - idle);
    }, ms);
    this.#timer.unref?.();
  }
}

function tlsInfo(socket: TLSSocket): TlsInfo {
  return { protocol: socket.getProtocol() ?? "TLS", cipher: socket.getCipher()?.name ?? "unknown" };
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}
