/**
 * A tiny line-oriented TCP/TLS client for protocol tests: send raw bytes, read reply lines,
 * upgrade to TLS in the middle. Deliberately dumb, so tests see exactly what the server sent.
 */
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export class LineClient {
  #socket: Socket;
  #buffer = "";
  #waiters: Array<() => void> = [];
  #ended = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#listen(socket);
  }

  static async connect(
    port: number,
    options: { host?: string; tls?: boolean; localAddress?: string } = {},
  ): Promise<LineClient> {
    const host = options.host ?? "127.0.0.1";
    const local = options.localAddress ? { localAddress: options.localAddress } : {};
    const socket: Socket = options.tls
      ? tlsConnect({ host, port, ...local, rejectUnauthorized: false, servername: "localhost" })
      : tcpConnect({ port, host, ...local });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    return new LineClient(socket);
  }

  get ended(): boolean {
    return this.#ended;
  }

  get socket(): Socket {
    return this.#socket;
  }

  send(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.write(data, (e) => (e ? reject(e) : resolve())));
  }

  /** Sends `line` + CRLF. */
  line(text: string): Promise<void> {
    return this.send(`${text}\r\n`);
  }

  /** The next line without CRLF; null once the server has closed and the buffer is empty. */
  async readLine(timeoutMs = 5000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.#buffer.indexOf("\n");
      if (at !== -1) {
        const line = this.#buffer.slice(0, at).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(at + 1);
        return line;
      }
      if (this.#ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no line from the server within ${timeoutMs} ms (buffer: ${JSON.stringify(this.#buffer)})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Reads lines until one matches `done` (e.g. an SMTP reply's last line); returns them all. */
  async readUntil(done: (line: string) => boolean, timeoutMs = 5000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine(timeoutMs);
      if (line === null) throw new Error(`connection closed after ${JSON.stringify(lines)}`);
      lines.push(line);
      if (done(line)) return lines;
    }
  }

  /** Reads one SMTP reply (all its continuation lines). */
  reply(timeoutMs?: number): Promise<string[]> {
    return this.readUntil((l) => /^\d{3}( |$)/.test(l), timeoutMs);
  }

  /** Upgrades to TLS (after the server agreed to STARTTLS/STLS). */
  async startTls(): Promise<TLSSocket> {
    this.#socket.removeAllListeners("data");
    const secure = tlsConnect({ socket: this.#socket, rejectUnauthorized: false, servername: "localhost" });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    this.#socket = secure;
    this.#listen(secure);
    return secure;
  }

  /** Waits until the server closes the connection. */
  async closed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      if (Date.now() > deadline) throw new Error("server did not close the connection");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.#socket.destroy();
  }

  #listen(socket: Socket): void {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}
