/**
 * A remote MX for outbound tests that send many messages: a bare SMTP responder on a loopback
 * port in the test process that accepts every command and counts what arrives by Message-ID, so
 * a test can tell a message received twice from one received once. It offers PIPELINING and
 * 8BITMIME but not STARTTLS (a TLS handshake per message would cost more than the rest), and
 * checks no grammar: Postern's own SMTP server is tested elsewhere.
 */
import { createServer, type Server, type Socket } from "node:net";

type Deferred = ReturnType<typeof Promise.withResolvers<void>>;

export class RecordingMx {
  /** Message-ID (without angle brackets) → times received, once per recipient. */
  readonly received = new Map<string, number>();
  /** Messages received without a Message-ID header. */
  withoutId = 0;
  #server: Server;
  #sockets = new Set<Socket>();
  #hold: { arrived: Deferred; released: Deferred } | null = null;

  private constructor() {
    this.#server = createServer((socket) => this.#session(socket));
  }

  static async start(): Promise<RecordingMx> {
    const mx = new RecordingMx();
    await new Promise<void>((resolve) => mx.#server.listen(0, "127.0.0.1", resolve));
    return mx;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  /** Every message received, counting each recipient of a transaction. */
  get total(): number {
    let n = this.withoutId;
    for (const count of this.received.values()) n += count;
    return n;
  }

  /**
   * Holds back the reply to the next message's content (after recording it) until `release()`:
   * a sender stuck in the middle of a delivery. `arrived` settles once that message is held.
   */
  holdNext(): { arrived: Promise<void>; release: () => void } {
    const hold = { arrived: Promise.withResolvers<void>(), released: Promise.withResolvers<void>() };
    this.#hold = hold;
    return { arrived: hold.arrived.promise, release: () => hold.released.resolve() };
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #session(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    socket.setEncoding("latin1");
    let buffer = "";
    let content: string[] | null = null;
    let recipients = 0;
    // Chunks are handled one after the other: a held message stops the ones behind it.
    let handled = Promise.resolve();
    const handle = async () => {
      let out = "";
      for (let at = buffer.indexOf("\r\n"); at !== -1; at = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (content) {
          if (line !== ".") {
            content.push(line.startsWith(".") ? line.slice(1) : line);
            continue;
          }
          this.#record(content, recipients);
          content = null;
          const hold = this.#hold;
          this.#hold = null;
          if (hold) {
            socket.write(out);
            out = "";
            hold.arrived.resolve();
            await hold.released.promise;
          }
          out += "250 2.0.0 Recorded\r\n";
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") out += "250-mx.remote.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
        else if (verb === "HELO") out += "250 mx.remote.test\r\n";
        else if (verb === "MAIL" || verb === "RSET") {
          recipients = 0;
          out += "250 2.0.0 OK\r\n";
        } else if (verb === "RCPT") {
          recipients++;
          out += "250 2.1.5 OK\r\n";
        } else if (verb === "DATA") {
          content = [];
          out += "354 Go ahead\r\n";
        } else if (verb === "NOOP") out += "250 2.0.0 OK\r\n";
        else if (verb === "QUIT") {
          socket.end(`${out}221 2.0.0 Bye\r\n`);
          return;
        } else out += "502 5.5.1 Not implemented here\r\n";
      }
      if (out && !socket.destroyed) socket.write(out);
    };
    socket.write("220 mx.remote.test ESMTP recorder\r\n");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      handled = handled.then(handle).catch(() => {
        socket.destroy();
      });
    });
  }

  #record(lines: string[], recipients: number): void {
    // Only the header section: a body line could look like a header.
    const end = lines.indexOf("");
    const header = (end === -1 ? lines : lines.slice(0, end)).join("\n");
    const id = /^message-id:[ \t]*<([^>\n]+)>/im.exec(header)?.[1];
    const copies = Math.max(1, recipients);
    if (id === undefined) this.withoutId += copies;
    else this.received.set(id, (this.received.get(id) ?? 0) + copies);
  }
}
