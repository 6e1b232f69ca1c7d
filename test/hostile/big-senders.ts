/**
 * Clients that send many megabytes at once, for the memory-bound tests: an SMTP sender that streams a large
 * message with DATA or BDAT (honouring the socket's back-pressure, as a real MTA does), and an IMAP client that
 * announces a huge literal before logging in and sends it without waiting.
 */
import { connect, type Socket } from "node:net";

/** A 1 MiB block of 78-character lines (with a leading dot now and then, to exercise dot-stuffing). */
const BLOCK = (() => {
  const line = "x".repeat(76) + "\r\n";
  const dotted = ".." + "y".repeat(74) + "\r\n";
  let text = "";
  for (let i = 0; text.length < 1024 * 1024 - 78; i++) text += i % 100 === 0 ? dotted : line;
  return new TextEncoder().encode(text);
})();

class Replies {
  #buffer = "";
  #lines: string[] = [];
  #waiters: Array<() => void> = [];
  #ended = false;

  constructor(socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.#buffer += chunk.toString("latin1");
      for (let at = this.#buffer.indexOf("\n"); at !== -1; at = this.#buffer.indexOf("\n")) {
        this.#lines.push(this.#buffer.slice(0, at).replace(/\r$/, ""));
        this.#buffer = this.#buffer.slice(at + 1);
      }
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("close", end);
    socket.on("error", end);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next line matching `done` (earlier lines are dropped); null if the connection ended first. */
  async until(done: (line: string) => boolean): Promise<string | null> {
    for (;;) {
      while (this.#lines.length > 0) {
        const line = this.#lines.shift()!;
        if (done(line)) return line;
      }
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Writes `bytes`, waiting for the socket to drain when its buffer is full. False if the socket went away. */
function write(socket: Socket, bytes: Uint8Array | string): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(false);
    if (socket.write(bytes)) return resolve(true);
    const done = (ok: boolean) => () => {
      socket.off("drain", drained);
      socket.off("close", closed);
      resolve(ok);
    };
    const drained = done(true);
    const closed = done(false);
    socket.once("drain", drained);
    socket.once("close", closed);
  });
}

const finalReply = (line: string) => /^\d{3} /.test(line);

/**
 * Sends one message of `mib` MiB to `to` and resolves with the server's last reply to it (e.g. "250 2.0.0 ...",
 * "552 5.3.4 ..."), or null if the server closed the connection.
 */
export async function sendLargeMessage(
  port: number,
  options: { to: string; mib: number; mode: "data" | "bdat"; localAddress?: string },
): Promise<string | null> {
  const socket = await open(port, options.localAddress ?? "127.0.0.1");
  const replies = new Replies(socket);
  try {
    await replies.until(finalReply);
    await write(socket, "EHLO big.test\r\n");
    await replies.until(finalReply);
    await write(socket, `MAIL FROM:<big@remote.test>\r\n`);
    if (!(await replies.until(finalReply))?.startsWith("250")) return null;
    await write(socket, `RCPT TO:<${options.to}>\r\n`);
    const rcpt = await replies.until(finalReply);
    if (!rcpt?.startsWith("250")) return rcpt;
    const header = new TextEncoder().encode("From: big@remote.test\r\nSubject: large\r\n\r\n");
    if (options.mode === "data") {
      await write(socket, "DATA\r\n");
      await replies.until(finalReply);
      await write(socket, header);
      for (let i = 0; i < options.mib; i++) if (!(await write(socket, BLOCK))) return replies.until(finalReply);
      await write(socket, ".\r\n");
    } else {
      await write(socket, `BDAT ${header.length}\r\n`);
      await write(socket, header);
      await replies.until(finalReply);
      for (let i = 0; i < options.mib; i++) {
        await write(socket, `BDAT ${BLOCK.length}${i === options.mib - 1 ? " LAST" : ""}\r\n`);
        if (!(await write(socket, BLOCK))) return replies.until(finalReply);
        if (i < options.mib - 1) {
          const chunk = await replies.until(finalReply);
          if (!chunk?.startsWith("250")) return chunk;
        }
      }
    }
    const last = await replies.until(finalReply);
    await write(socket, "QUIT\r\n");
    return last;
  } finally {
    socket.destroy();
  }
}

/**
 * Before logging in, announces a non-synchronising literal of `mib` MiB and sends it at once. Resolves with the
 * server's lines once it closes the connection (or after `mib` MiB went through unanswered).
 */
export async function preLoginLiteral(port: number, mib: number): Promise<{ lines: string[]; closed: boolean }> {
  const socket = await open(port, "127.0.0.1");
  const lines: string[] = [];
  const replies = new Replies(socket);
  try {
    lines.push((await replies.until(() => true)) ?? "");
    await write(socket, `a LOGIN {${mib * BLOCK.length}+}\r\n`);
    for (let i = 0; i < mib; i++) if (!(await write(socket, BLOCK))) break;
    await write(socket, " password\r\n");
    for (;;) {
      const line = await Promise.race([replies.until(() => true), new Promise<null>((r) => setTimeout(r, 5000, null))]);
      if (line === null) break;
      lines.push(line);
    }
    return { lines, closed: replies.ended };
  } finally {
    socket.destroy();
  }
}
