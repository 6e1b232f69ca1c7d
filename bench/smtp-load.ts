/**
 * An SMTP load generator for the benchmarks: C connections, each sending M messages of S bytes
 * with PIPELINING (MAIL, RCPT and DATA in one packet, RFC 2920), recording for each message the
 * time from the end of its DATA to the server's reply.
 */
import { connect, type Socket } from "node:net";

export interface LoadOptions {
  port: number;
  connections: number;
  messagesPerConnection: number;
  messageSize: number;
  recipients: readonly string[];
}

export interface LoadResult {
  messages: number;
  failures: number;
  seconds: number;
  /** End of DATA to reply, milliseconds, sorted. */
  latencies: number[];
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

export function makeMessage(size: number, n: number): string {
  const head =
    `From: bench@load.test\r\nTo: bench@example.test\r\nSubject: benchmark ${n}\r\nMessage-ID: <${n}.${Date.now()}@load.test>\r\n\r\n`;
  const line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
  let body = "";
  while (head.length + body.length + line.length <= size) body += line;
  return head + body + "x".repeat(Math.max(0, size - head.length - body.length - 2)) + "\r\n";
}

class ReplyReader {
  #buffer = "";
  #waiting: (() => void) | null = null;
  constructor(socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      this.#buffer += chunk;
      this.#waiting?.();
    });
  }
  /** The next complete reply's code (skipping continuation lines). */
  async next(): Promise<number> {
    for (;;) {
      const match = /^(\d{3}) [^\n]*\n/m.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match.index + match[0].length);
        return Number(match[1]);
      }
      await new Promise<void>((resolve) => (this.#waiting = resolve));
      this.#waiting = null;
    }
  }
}

async function oneConnection(
  options: LoadOptions,
  index: number,
  latencies: number[],
): Promise<{ ok: number; failed: number }> {
  const socket = connect(options.port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const replies = new ReplyReader(socket);
  await replies.next(); // greeting
  socket.write("EHLO load.test\r\n");
  await replies.next();
  let ok = 0;
  let failed = 0;
  for (let i = 0; i < options.messagesPerConnection; i++) {
    const rcpt = options.recipients[(index + i) % options.recipients.length];
    socket.write(`MAIL FROM:<bench@load.test>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
    const codes = [await replies.next(), await replies.next(), await replies.next()];
    if (codes[2] !== 354) {
      failed++;
      socket.write("RSET\r\n");
      await replies.next();
      continue;
    }
    socket.write(makeMessage(options.messageSize, index * options.messagesPerConnection + i));
    const started = performance.now();
    socket.write(".\r\n");
    const code = await replies.next();
    latencies.push(performance.now() - started);
    if (code === 250) ok++;
    else failed++;
  }
  socket.write("QUIT\r\n");
  await replies.next();
  socket.destroy();
  return { ok, failed };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: options.connections }, (_, i) => oneConnection(options, i, latencies)),
  );
  const seconds = (performance.now() - started) / 1000;
  return {
    messages: results.reduce((n, r) => n + r.ok, 0),
    failures: results.reduce((n, r) => n + r.failed, 0),
    seconds,
    latencies: latencies.sort((a, b) => a - b),
  };
}
