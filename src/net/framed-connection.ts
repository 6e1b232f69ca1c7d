/**
 * What every server-side `Connection` adapter shares: framed reads pulled by the protocol server, input paused
 * above a high-water mark, the idle timer, `interrupted`, and the close bookkeeping. An adapter (`node:net` in
 * `connection.ts`, Bun's native sockets in `bun-connection.ts`) feeds input with `received`/`inputEnded`/`gone` and
 * implements pausing, writing, TLS and closing.
 */
import { LineFramer } from "./line-framer.ts";
import type { Connection, LinePart, LineResult, TlsInfo } from "../connection.ts";

/** Above this many buffered bytes the input is paused until the server reads. */
const HIGH_WATER = 256 * 1024;
const DEFAULT_MAX_LINE = 4096;

let nextId = 1;

export abstract class FramedConnection implements Connection {
  readonly id = nextId++;
  readonly listener: string;
  abstract readonly remoteAddress: string;
  abstract readonly remotePort: number;
  abstract readonly compressed: boolean;
  protected framer = new LineFramer();
  protected tlsInfo: TlsInfo | null = null;
  protected ended = false;
  protected isClosed = false;
  /** Whether this connection paused its input (asking the socket per read was a native call each). */
  protected paused = false;
  #interrupted: "timeout" | "shutdown" | null = null;
  #idleMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastActive = 0;
  /** When the running timer fires. */
  #due = 0;
  #wake: (() => void) | undefined;
  #closedListeners: Array<() => void> = [];
  /** Our end, read when first asked (each address read is a system call on Bun). */
  #local: { address: string; port: number } | undefined;

  constructor(listener: string, idleTimeoutMs: number) {
    this.listener = listener;
    this.#idleMs = idleTimeoutMs;
  }

  abstract write(data: string | Uint8Array): Promise<void>;
  abstract startTls(): Promise<void>;
  abstract startCompression(): void;
  abstract close(): void;
  /** Closes without flushing (listener shutdown after the grace period). */
  abstract destroy(): void;
  protected abstract pauseInput(): void;
  protected abstract resumeInput(): void;
  /** The socket, to read our end's address from. */
  protected abstract localEnd(): { localAddress?: string | undefined; localPort?: number | undefined };

  get localAddress(): string {
    return (this.#local ??= this.#readLocal()).address;
  }
  get localPort(): number {
    return (this.#local ??= this.#readLocal()).port;
  }

  #readLocal(): { address: string; port: number } {
    const socket = this.localEnd();
    return { address: normalizeIp(socket.localAddress ?? ""), port: socket.localPort ?? 0 };
  }

  get tls(): TlsInfo | null {
    return this.tlsInfo;
  }
  get closed(): boolean {
    return this.isClosed || this.ended;
  }
  get interrupted(): "timeout" | "shutdown" | null {
    return this.#interrupted;
  }

  /** Makes the pending and every later read resolve null, with `interrupted` saying why. */
  interrupt(reason: "timeout" | "shutdown"): void {
    this.#interrupted ??= reason;
    this.notify();
  }

  /** Called once when the connection is gone (closed by either side). */
  onClose(listener: () => void): void {
    if (this.isClosed) listener();
    else this.#closedListeners.push(listener);
  }

  async readLine(maxLineLength = DEFAULT_MAX_LINE): Promise<LineResult | null> {
    for (;;) {
      const line = this.framer.readLine(maxLineLength);
      if (line) return this.#consumed(line);
      if (!(await this.#more())) return null;
    }
  }

  async readLineOrPart(maxLength: number): Promise<LineResult | LinePart | null> {
    for (;;) {
      const line = this.framer.readLineOrPart(maxLength);
      if (line) return this.#consumed(line);
      if (!(await this.#more())) return null;
    }
  }

  bufferedLineOrPart(maxLength: number): LineResult | LinePart | undefined {
    const line = this.framer.readLineOrPart(maxLength);
    return line && this.#consumed(line);
  }

  async readAtMost(count: number): Promise<Uint8Array | null> {
    for (;;) {
      const bytes = this.framer.readAtMost(count);
      if (bytes) return this.#consumed(bytes);
      if (!(await this.#more())) return null;
    }
  }

  async readBytes(count: number): Promise<Uint8Array | null> {
    for (;;) {
      const bytes = this.framer.readBytes(count);
      if (bytes) return this.#consumed(bytes);
      // Let the buffer hold the whole count even above the high-water mark.
      if (this.framer.length < count) this.#resume();
      if (!(await this.#more(true))) return null;
    }
  }

  async skipBytes(count: number): Promise<boolean> {
    let left = count;
    for (;;) {
      left -= this.framer.skip(left);
      this.#consumed(null);
      if (left === 0) return true;
      if (!(await this.#more())) return false;
    }
  }

  hasBufferedLine(): boolean {
    return this.framer.hasLine();
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

  /** Input arrived: framed, paused above the high-water mark, and the waiting read woken. */
  protected received(chunk: Uint8Array): void {
    this.framer.push(chunk);
    if (this.framer.length > HIGH_WATER && !this.paused) {
      this.paused = true;
      this.pauseInput();
    }
    this.armTimer();
    this.notify();
  }

  /** The peer ended its input (or it broke). */
  protected inputEnded(): void {
    this.ended = true;
    this.notify();
  }

  /** `close`/`destroy` began: no more reads, no more idle timer. */
  protected closing(): void {
    this.isClosed = true;
    clearTimeout(this.#timer);
    this.notify();
  }

  /** The socket is gone: every close listener runs, once. */
  protected gone(): void {
    this.ended = true;
    this.closing();
    for (const listener of this.#closedListeners.splice(0)) listener();
  }

  protected notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Notes activity. The timer is not re-armed on every read (a message is millions of lines, and a timer each is
   * slow on some runtimes): when it fires it looks at the last activity and waits again for the rest.
   */
  protected armTimer(): void {
    this.#lastActive = Date.now();
    if (this.#timer === undefined) this.#schedule(this.#idleMs);
  }

  #resume(): void {
    this.paused = false;
    this.resumeInput();
  }

  #consumed<T>(value: T): T {
    if (this.paused && this.framer.length < HIGH_WATER) this.#resume();
    this.armTimer();
    return value;
  }

  /** Waits for more input; false at end of input, close, or idle timeout. */
  #more(force = false): Promise<boolean> {
    if (this.ended || this.isClosed || this.#interrupted !== null) return Promise.resolve(false);
    if (this.paused && (force || this.framer.length < HIGH_WATER)) this.#resume();
    return new Promise((resolve) => {
      this.#wake = () => resolve(!(this.ended || this.isClosed || this.#interrupted !== null));
    });
  }

  #schedule(ms: number): void {
    if (this.isClosed || this.#idleMs <= 0) return;
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

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}
