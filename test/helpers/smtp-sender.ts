/**
 * Sends many messages over several SMTP connections at once, with PIPELINING (RFC 2920): each
 * transaction's MAIL, RCPTs and DATA go in one write, its content in the next. Connection `c`
 * goes to `ports[c % ports.length]`, so the load alternates between servers. Every reply is
 * checked; the first unexpected one fails the whole send.
 */
import { LineClient } from "./line-client.ts";

export interface Outgoing {
  sender: string;
  recipients: string[];
  /** The message with CRLF line ends, not dot-stuffed, ending with CRLF. */
  raw: string;
}

export interface SendResult {
  /** Messages accepted (250 after the content), per connection. */
  accepted: number[];
  /** performance.now() when each message's 250 (after its content) arrived, by message index. */
  acceptedAt: number[];
}

function expectReply(reply: string[], code: string, what: string): void {
  const last = reply.at(-1) ?? "";
  if (!last.startsWith(code)) throw new Error(`${what}: expected ${code}, got ${JSON.stringify(reply)}`);
}

/** Sends `messages` over `connections` connections (message i on connection i % connections). */
export async function sendMany(
  ports: readonly number[],
  connections: number,
  messages: readonly Outgoing[],
  options: {
    helo?: string;
    timeoutMs?: number;
    /**
     * Called once every connection has been greeted and has said EHLO, with their local (client)
     * ports; no message is sent before it settles.
     */
    onConnected?: (clientPorts: number[]) => void | Promise<void>;
  } = {},
): Promise<SendResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const accepted = new Array<number>(connections).fill(0);
  const acceptedAt = new Array<number>(messages.length).fill(0);
  const clientPorts = new Array<number>(connections).fill(0);
  let ready = 0;
  const all = Promise.withResolvers<void>();
  all.promise.catch(() => {});
  const one = async (c: number) => {
    let client: LineClient;
    try {
      client = await LineClient.connect(ports[c % ports.length]!);
    } catch (e) {
      all.reject(e);
      throw e;
    }
    try {
      expectReply(await client.reply(timeoutMs), "220", "greeting");
      await client.line(`EHLO ${options.helo ?? "client.remote.test"}`);
      const ehlo = await client.reply(timeoutMs);
      expectReply(ehlo, "250", "EHLO");
      if (!ehlo.some((l) => /^250[- ]PIPELINING/i.test(l))) throw new Error("the server does not offer PIPELINING");
      clientPorts[c] = client.socket.localPort!;
      if (++ready === connections) {
        Promise.resolve(options.onConnected?.(clientPorts)).then(() => all.resolve(), (e) => all.reject(e));
      }
      await all.promise;
      for (let i = c; i < messages.length; i += connections) {
        const m = messages[i]!;
        await client.send(
          [`MAIL FROM:<${m.sender}>`, ...m.recipients.map((r) => `RCPT TO:<${r}>`), "DATA", ""].join("\r\n"),
        );
        expectReply(await client.reply(timeoutMs), "250", `MAIL of message ${i}`);
        for (const r of m.recipients) expectReply(await client.reply(timeoutMs), "250", `RCPT ${r} of message ${i}`);
        expectReply(await client.reply(timeoutMs), "354", `DATA of message ${i}`);
        await client.send(`${m.raw.replace(/^\./gm, "..")}.\r\n`);
        expectReply(await client.reply(timeoutMs), "250", `content of message ${i}`);
        acceptedAt[i] = performance.now();
        accepted[c]!++;
      }
      await client.line("QUIT");
      await client.reply(timeoutMs).catch(() => {});
    } catch (e) {
      all.reject(e);
      throw e;
    } finally {
      client.close();
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, c) => one(c)));
  return { accepted, acceptedAt };
}
