/**
 * The network adapter against real sockets: a toy line protocol exercises framing, byte
 * counts, STARTTLS (with a real TLS client), limits, timeouts and shutdown.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import type { SecureContext } from "node:tls";
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import { listen, type Listener, type ListenOptions } from "../../src/net/listener.ts";
import type { Connection } from "../../src/connection.ts";
import { LineClient } from "../helpers/line-client.ts";

const dec = new TextDecoder();
let secureContext: SecureContext;

beforeAll(async () => {
  secureContext = createSecureContext(await createSelfSigned("localhost"));
});

/** The toy protocol: echoes lines, answers BYTES n / STARTTLS / QUIT, and says why it stops. */
async function toyHandler(conn: Connection): Promise<void> {
  await conn.write(`hello ${conn.tls ? conn.tls.protocol : "plain"}\r\n`);
  for (;;) {
    const line = await conn.readLine(32);
    if (line === null) {
      if (conn.interrupted) await conn.write(`bye ${conn.interrupted}\r\n`);
      return;
    }
    if (line.kind === "too-long") {
      await conn.write(`too long ${line.length}\r\n`);
      continue;
    }
    const text = dec.decode(line.bytes);
    const bytes = /^BYTES (\d+)$/.exec(text);
    if (bytes) {
      const data = await conn.readBytes(Number(bytes[1]));
      if (data === null) return;
      await conn.write(`got ${JSON.stringify(dec.decode(data))}\r\n`);
    } else if (/^BLAST \d+$/.test(text)) {
      // Writes faster than a paused reader takes: the adapter must queue, in order, and settle each write.
      const chunk = new Uint8Array(64 * 1024).fill(0x78);
      for (let left = Number(text.slice(6)); left > 0; left -= chunk.length) {
        await conn.write(chunk.subarray(0, Math.min(left, chunk.length)));
      }
      await conn.write("blasted\r\n");
    } else if (/^SLURP \d+$/.test(text)) {
      // Lets the input pile up past the high-water mark before reading it.
      await new Promise((r) => setTimeout(r, 300));
      let sum = 0;
      for (let left = Number(text.slice(6)); left > 0;) {
        const part = await conn.readAtMost(left);
        if (part === null) return;
        for (const byte of part) sum = (sum + byte) % 65521;
        left -= part.length;
      }
      await conn.write(`slurped ${sum}\r\n`);
    } else if (text === "STARTTLS") {
      await conn.write("go ahead\r\n");
      await conn.startTls();
    } else if (/^IDLE \d+$/.test(text)) {
      conn.setIdleTimeout(Number(text.slice(5)));
      await conn.write("idle set\r\n");
    } else if (text === "TLS?") {
      await conn.write(`tls ${conn.tls?.protocol ?? "none"}\r\n`);
    } else if (text === "QUIT") {
      await conn.write("bye\r\n");
      return;
    } else {
      await conn.write(`echo ${text}${line.crlf ? "" : " (bare LF)"}\r\n`);
    }
  }
}

const listeners: Listener[] = [];
/**
 * The listener name picks the adapter: "smtp" gets Bun's native sockets on Bun (`net/bun-listener.ts`), "toy"
 * node:net. Every test runs on both.
 */
let listenerName = "toy";
async function start(overrides: Partial<ListenOptions> = {}): Promise<number> {
  const listener = await listen({
    name: listenerName,
    host: "127.0.0.1",
    port: 0,
    tls: "none",
    secureContext,
    maxConnectionsPerIp: 10,
    idleTimeoutMs: 10_000,
    refusalLine: "busy",
    handler: toyHandler,
    ...overrides,
  });
  listeners.push(listener);
  return listener.address().port;
}

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close(0)));
});

describe.each([
  ["node:net", "toy"],
  [typeof Bun !== "undefined" ? "Bun.listen" : "node:net as smtp", "smtp"],
])("listener over %s", (_adapter, name) => {
  beforeAll(() => {
    listenerName = name;
  });

  test("lines sent byte by byte and several per packet are framed the same", async () => {
    const port = await start();
    const client = await LineClient.connect(port);
    expect(await client.readLine()).toBe("hello plain");
    for (const byte of "one\r\n") await client.send(byte);
    await client.send("two\r\nthree\nfour\r\n");
    expect(await client.readLine()).toBe("echo one");
    expect(await client.readLine()).toBe("echo two");
    expect(await client.readLine()).toBe("echo three (bare LF)");
    expect(await client.readLine()).toBe("echo four");
    await client.line("QUIT");
    expect(await client.readLine()).toBe("bye");
    await client.closed();
  });

  test("an over-long line is rejected and the connection stays usable", async () => {
    const port = await start();
    const client = await LineClient.connect(port);
    await client.readLine();
    await client.send(`${"x".repeat(5000)}\r\nafter\r\n`);
    expect(await client.readLine()).toBe("too long 5000");
    expect(await client.readLine()).toBe("echo after");
    client.close();
  });

  test("a byte-count read straddles packets and lines resume after it", async () => {
    const port = await start();
    const client = await LineClient.connect(port);
    await client.readLine();
    await client.send("BYTES 12\r\nhello");
    await Bun.sleep(20);
    await client.send("\r\nworldNEXT\r\n");
    expect(await client.readLine()).toBe('got "hello\\r\\nworld"');
    expect(await client.readLine()).toBe("echo NEXT");
    client.close();
  });

  test("STARTTLS upgrades in place against a real TLS client", async () => {
    const port = await start();
    const client = await LineClient.connect(port);
    await client.readLine();
    await client.line("STARTTLS");
    expect(await client.readLine()).toBe("go ahead");
    const tls = await client.startTls();
    expect(tls.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    await client.line("TLS?");
    expect(await client.readLine()).toMatch(/^tls TLSv1\.[23]$/);
    client.close();
  });

  test("plaintext pipelined after STARTTLS is discarded, not executed", async () => {
    const port = await start();
    const client = await LineClient.connect(port);
    await client.readLine();
    // RFC 3207 §4.2: the injected QUIT arrives in the same packet as STARTTLS.
    await client.send("STARTTLS\r\nQUIT\r\n");
    expect(await client.readLine()).toBe("go ahead");
    await client.startTls();
    await client.line("TLS?");
    expect(await client.readLine()).toMatch(/^tls TLSv1/);
    expect(client.ended).toBe(false);
    client.close();
  });

  test("implicit TLS listeners speak TLS from the first byte", async () => {
    const port = await start({ tls: "implicit" });
    const client = await LineClient.connect(port, { tls: true });
    expect(await client.readLine()).toMatch(/^hello TLSv1\.[23]$/);
    client.close();
  });

  test("connections over the per-IP limit get the refusal line and are closed", async () => {
    const port = await start({ maxConnectionsPerIp: 2 });
    const a = await LineClient.connect(port);
    const b = await LineClient.connect(port);
    expect(await a.readLine()).toBe("hello plain");
    expect(await b.readLine()).toBe("hello plain");
    const c = await LineClient.connect(port);
    expect(await c.readLine()).toBe("busy");
    await c.closed();
    a.close();
    await Bun.sleep(50);
    const d = await LineClient.connect(port);
    expect(await d.readLine()).toBe("hello plain");
    b.close();
    d.close();
  });

  test("an idle client is told and disconnected after the idle timeout", async () => {
    const port = await start({ idleTimeoutMs: 150 });
    const client = await LineClient.connect(port);
    await client.readLine();
    expect(await client.readLine()).toBe("bye timeout");
    await client.closed();
  });

  test("a changed idle timeout applies at once, shorter or longer than the running one", async () => {
    /** Sets the idle limit to `ms` on a new connection; how long the connection then lived. */
    const idleFor = async (port: number, ms: number) => {
      const client = await LineClient.connect(port);
      await client.readLine();
      await client.send(`IDLE ${ms}\r\n`);
      expect(await client.readLine()).toBe("idle set");
      const from = Date.now();
      expect(await client.readLine()).toBe("bye timeout");
      await client.closed();
      return Date.now() - from;
    };
    // Shorter than the 10 s the connection started with: it must not wait for the old timer.
    expect(await idleFor(await start(), 150)).toBeLessThan(2000);
    // Longer than the running 150 ms: the first timer firing must not end the connection.
    expect(await idleFor(await start({ idleTimeoutMs: 150 }), 600)).toBeGreaterThanOrEqual(550);
  });

  test("a slow reader gets every byte of a large reply, in order, once it reads", async () => {
    const port = await start();
    const size = 8 * 1024 * 1024;
    const socket = connect(port, "127.0.0.1");
    socket.write(`BLAST ${size}\r\n`);
    socket.pause();
    await new Promise((r) => setTimeout(r, 300));
    const chunks: Uint8Array[] = [];
    let total = 0;
    socket.on("data", (chunk: Uint8Array) => {
      chunks.push(chunk);
      total += chunk.length;
    });
    socket.resume();
    const expected = "hello plain\r\n".length + size + "blasted\r\n".length;
    const deadline = Date.now() + 10_000;
    while (total < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(expected);
    expect(all.subarray(13, 13 + size).every((b) => b === 0x78)).toBe(true);
    expect(all.subarray(-9).toString()).toBe("blasted\r\n");
  });

  test("input far above the high-water mark waits paused and arrives whole", async () => {
    const port = await start();
    const client = await LineClient.connect(port);
    await client.readLine();
    // More than the kernel's socket buffers hold: the client's write can only finish once the server reads.
    const size = 24 * 1024 * 1024;
    const data = new Uint8Array(size).map((_, i) => (i * 7) % 251);
    let sum = 0;
    for (const byte of data) sum = (sum + byte) % 65521;
    await client.send(`SLURP ${size}\r\n`);
    let sent = false;
    const sending = client.send(data).then(() => (sent = true));
    await new Promise((r) => setTimeout(r, 150));
    // The server is not reading yet: had it not paused its input, it would have buffered everything by now.
    expect(sent).toBe(false);
    await sending;
    expect(await client.readLine(10_000)).toBe(`slurped ${sum}`);
    client.close();
  });

  test("garbage instead of a TLS handshake after STARTTLS ends that session only", async () => {
    const port = await start();
    const listener = listeners.at(-1)!;
    const client = await LineClient.connect(port);
    await client.readLine();
    await client.line("STARTTLS");
    expect(await client.readLine()).toBe("go ahead");
    await client.send("this is not a ClientHello\r\n".repeat(20));
    await client.closed();
    for (let i = 0; i < 100 && listener.openConnections > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(listener.openConnections).toBe(0);
    const next = await LineClient.connect(port);
    expect(await next.readLine()).toBe("hello plain");
    next.close();
  });

  test("close interrupts open connections so the protocol can say goodbye", async () => {
    const port = await start();
    const listener = listeners.at(-1)!;
    const client = await LineClient.connect(port);
    await client.readLine();
    expect(listener.openConnections).toBe(1);
    const closing = listener.close(2000);
    expect(await client.readLine()).toBe("bye shutdown");
    await client.closed();
    await closing;
    expect(listener.openConnections).toBe(0);
    expect(listener.totalConnections).toBe(1);
  });
});
