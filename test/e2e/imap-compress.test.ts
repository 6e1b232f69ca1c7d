/**
 * IMAP COMPRESS=DEFLATE (RFC 4978) against `postern serve`, over TLS and over plain TCP: after `COMPRESS DEFLATE`
 * both directions are raw DEFLATE, each response batch sync-flushed so the client can read it at once. The client
 * side is written here with node:zlib (Python's imaplib has no COMPRESS). Limits apply to the inflated bytes: a
 * 256 MiB line that compresses to about 256 KiB gets BAD without the server holding it, a literal over the size limit
 * gets NO [TOOBIG], and data that does not inflate ends the connection.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw } from "node:zlib";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { measuredRss } from "../helpers/rss.ts";
import { runtime } from "../helpers/runtime.ts";

/** A line this long inflates from about a thousandth of its size. */
const LINE_MIB = 256;
/**
 * The server never holds the line (its bytes are counted and dropped as they are inflated, 16 KiB at a time); what
 * RSS shows is the runtime's garbage not collected yet (Deno measured +0 to +75 MiB, Bun +0 to +18 MiB).
 */
const BOUND_MIB = 100;

let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["imap", "imaps"],
    users: { "zip@example.test": "zip-password" },
    config: { auth: { allowPlaintext: true } },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** An IMAP client that reads lines as latin1 text and, after `compress()`, deflates and inflates like RFC 4978. */
class DeflateClient {
  #socket: Socket;
  #buffer = "";
  #ended = false;
  #wake: (() => void) | null = null;
  #deflate: DeflateRaw | null = null;
  #n = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", this.#onPlain);
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  static async connect(port: number, tls: boolean): Promise<DeflateClient> {
    const socket = tls
      ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" })
      : tcpConnect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    const client = new DeflateClient(socket);
    await client.line();
    return client;
  }

  get ended(): boolean {
    return this.#ended;
  }

  #onPlain = (chunk: Uint8Array) => this.#push(chunk);

  #push(chunk: Uint8Array): void {
    this.#buffer += Buffer.from(chunk).toString("latin1");
    this.#wake?.();
  }

  /** From now on, compress what is sent and inflate what arrives. */
  compress(): void {
    const inflate = createInflateRaw();
    const socket = this.#socket;
    socket.off("data", this.#onPlain);
    // Inflating is asynchronous: the input ends once the inflater has handed on all it had.
    for (const event of ["end", "close", "error"]) socket.removeAllListeners(event);
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => inflate.write(chunk));
    socket.on("close", () => inflate.end());
    inflate.on("data", (chunk: Uint8Array) => this.#push(chunk));
    const end = () => {
      this.#ended = true;
      this.#wake?.();
    };
    inflate.on("end", end);
    inflate.on("error", end);
    const deflate = createDeflateRaw();
    deflate.on("data", (chunk: Uint8Array) => this.#socket.write(chunk));
    this.#deflate = deflate;
  }

  /** Sends bytes (deflated and sync-flushed once compressing). */
  send(data: string | Uint8Array): Promise<void> {
    const deflate = this.#deflate;
    if (!deflate) return new Promise((resolve) => this.#socket.write(data, () => resolve()));
    return new Promise((resolve) => {
      deflate.write(data);
      deflate.flush(constants.Z_SYNC_FLUSH, () => resolve());
    });
  }

  /** The next line without CRLF, or null once the connection has ended. */
  async line(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.#buffer.indexOf("\r\n");
      if (at !== -1) {
        const line = this.#buffer.slice(0, at);
        this.#buffer = this.#buffer.slice(at + 2);
        return line;
      }
      if (this.#ended) return null;
      if (Date.now() > deadline) throw new Error(`no line within ${timeoutMs} ms: ${JSON.stringify(this.#buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Reads exactly `count` characters (a literal in a response). */
  async literal(count: number): Promise<string> {
    for (;;) {
      if (this.#buffer.length >= count) {
        const text = this.#buffer.slice(0, count);
        this.#buffer = this.#buffer.slice(count);
        return text;
      }
      if (this.#ended) throw new Error("connection ended inside a literal");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Sends a command with a fresh tag; its lines up to the tagged completion (tag stripped from it). */
  async run(command: string): Promise<{ untagged: string[]; done: string }> {
    const tag = `c${++this.#n}`;
    await this.send(`${tag} ${command}\r\n`);
    return this.collect(tag);
  }

  async collect(tag: string): Promise<{ untagged: string[]; done: string }> {
    const untagged: string[] = [];
    for (;;) {
      const line = await this.line();
      if (line === null) throw new Error(`connection ended after ${JSON.stringify(untagged)}`);
      if (line.startsWith(`${tag} `)) return { untagged, done: line.slice(tag.length + 1) };
      untagged.push(line);
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function compressed(tls: boolean): Promise<DeflateClient> {
  const port = tls ? mail.server.ports.imaps! : mail.server.ports.imap!;
  const client = await DeflateClient.connect(port, tls);
  expect((await client.run('LOGIN "zip@example.test" "zip-password"')).done).toMatch(/^OK /);
  const caps = await client.run("CAPABILITY");
  expect(caps.untagged[0]).toMatch(/ COMPRESS=DEFLATE( |$)/);
  // RFC 4978 §3: the tagged OK is the last uncompressed response.
  expect((await client.run("COMPRESS DEFLATE")).done).toBe("OK DEFLATE active");
  client.compress();
  return client;
}

describe(`IMAP COMPRESS=DEFLATE on ${runtime()}`, () => {
  for (const tls of [true, false]) {
    test(`a session compressed both ways over ${tls ? "TLS" : "plain TCP"}: APPEND, FETCH, IDLE`, async () => {
      const client = await compressed(tls);
      const caps = await client.run("CAPABILITY");
      expect(caps.done).toBe("OK CAPABILITY completed");
      expect((await client.run("COMPRESS DEFLATE")).done).toBe("NO [COMPRESSIONACTIVE] DEFLATE is already active");
      const box = `Zip${tls ? "Tls" : "Plain"}`;
      expect((await client.run(`CREATE ${box}`)).done).toMatch(/^OK /);
      // A literal of 1 MiB that compresses well, sent synchronising: the server's go-ahead comes compressed too.
      const body = `Subject: zipped\r\n\r\n${"compress me please\r\n".repeat(52_000)}`;
      await client.send(`a1 APPEND ${box} {${body.length}}\r\n`);
      expect(await client.line()).toMatch(/^\+ /);
      await client.send(`${body}\r\n`);
      expect((await client.collect("a1")).done).toMatch(/^OK \[APPENDUID \d+ 1\] /);
      expect((await client.run(`SELECT ${box}`)).done).toMatch(/^OK \[READ-WRITE\]/);
      await client.send("f1 FETCH 1 (BODY.PEEK[])\r\n");
      const head = await client.line();
      expect(head).toBe(`* 1 FETCH (BODY[] {${body.length}}`);
      expect(await client.literal(body.length)).toBe(body);
      expect(await client.line()).toBe(")");
      expect((await client.collect("f1")).done).toMatch(/^OK /);
      // IDLE: a change from another session arrives flushed, without anything more from this client.
      await client.send("i1 IDLE\r\n");
      expect(await client.line()).toMatch(/^\+ /);
      const other = await DeflateClient.connect(mail.server.ports.imaps!, true);
      await other.run('LOGIN "zip@example.test" "zip-password"');
      await other.send(`o1 APPEND ${box} {20+}\r\nSubject: two\r\n\r\nxx\r\n\r\n`);
      expect((await other.collect("o1")).done).toMatch(/^OK /);
      other.close();
      expect(await client.line()).toBe("* 2 EXISTS");
      await client.send("DONE\r\n");
      expect((await client.collect("i1")).done).toBe("OK IDLE terminated");
      await client.send("z LOGOUT\r\n");
      expect(await client.line()).toMatch(/^\* BYE /);
      expect(await client.line()).toBe("z OK LOGOUT completed");
      client.close();
    });
  }

  test("limits apply after inflating: a 256 MiB line is refused without being held; a huge literal is TOOBIG", async () => {
    const client = await compressed(true);
    const a = "a".repeat(1024 * 1024);
    const { growth } = await measuredRss(mail.server.proc.pid!, async () => {
      await client.send("long ");
      for (let i = 0; i < LINE_MIB; i++) await client.send(a);
      await client.send("\r\n");
      expect(await client.line(30_000)).toBe("* BAD Command line too long");
    });
    console.log(`a ${LINE_MIB} MiB line deflated to about ${LINE_MIB} KiB: server RSS +${growth.toFixed(0)} MiB`);
    expect(growth).toBeLessThan(BOUND_MIB);
    expect((await client.run("NOOP")).done).toBe("OK NOOP completed");
    await client.send("b1 APPEND INBOX {900000000}\r\n");
    expect((await client.collect("b1")).done).toMatch(/^NO \[TOOBIG\] /);
    expect((await client.run("NOOP")).done).toBe("OK NOOP completed");
    client.close();
  });

  test("bytes that do not inflate end the connection", async () => {
    const client = await DeflateClient.connect(mail.server.ports.imaps!, true);
    await client.run('LOGIN "zip@example.test" "zip-password"');
    expect((await client.run("COMPRESS DEFLATE")).done).toBe("OK DEFLATE active");
    // Not a DEFLATE stream: 0xff starts a block of the reserved type 3 (RFC 1951 §3.2.3).
    await client.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0d, 0x0a]));
    expect(await client.line()).toBeNull();
    expect(client.ended).toBe(true);
  });
});
