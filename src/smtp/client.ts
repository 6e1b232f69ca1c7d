/**
 * The SMTP client for delivery (RFC 5321 §3, §4): EHLO (HELO as fallback), STARTTLS when
 * offered or required (RFC 3207), AUTH PLAIN for smart hosts, SIZE, 8BITMIME, SMTPUTF8, DSN
 * parameters, PIPELINING of MAIL and RCPT (RFC 2920), one transaction for all recipients.
 * Works on a `Connection`; `net/dial.ts` opens it.
 */
import { concatBytes } from "../util/bytes.ts";
import type { Connection } from "../connection.ts";
import { dotStuff } from "../mime/dot-stuffing.ts";
import { encodeXtext } from "./xtext.ts";

export interface ClientReply {
  code: number;
  enhanced?: string;
  text: string;
}

export interface OutboundRecipient {
  address: string;
  notify?: string[];
  orcpt?: string;
}

export interface OutboundMessage {
  sender: string;
  recipients: OutboundRecipient[];
  content: Uint8Array;
  envid?: string;
  ret?: "FULL" | "HDRS";
}

export interface ClientOptions {
  helo: string;
  /** Fail (temporarily) rather than send in clear when STARTTLS is not offered. */
  requireTls: boolean;
  auth?: { username: string; password: string };
  /** Do not use STARTTLS (the retry after a failed opportunistic handshake). */
  skipTls?: boolean;
}

export interface DeliveryOutcome {
  /** Per recipient: the RCPT reply, or the DATA reply for those RCPT accepted. */
  recipients: Array<{ address: string; reply: ClientReply }>;
  /** Whether the session ran over TLS. */
  tls: boolean;
}

const enc = new TextEncoder();

/** The reply text of a failed STARTTLS handshake (the queue retries such a hop in clear when TLS is optional). */
export const TLS_FAILED = "TLS handshake failed";

/** Reads one (possibly multi-line) reply. A dropped connection reads as 421. */
export async function readReply(conn: Connection): Promise<ClientReply & { lines: string[] }> {
  const lines: string[] = [];
  for (;;) {
    const line = await conn.readLine(4096);
    if (line === null) return { code: 421, enhanced: "4.4.2", text: "connection lost", lines };
    if (line.kind === "too-long") continue;
    const text = new TextDecoder().decode(line.bytes);
    const m = /^(\d{3})([ -]?)(.*)$/.exec(text);
    if (!m) return { code: 421, enhanced: "4.5.0", text: `malformed reply: ${text.slice(0, 80)}`, lines };
    const enhanced = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(m[3]!)?.[1];
    // Keep the text without the enhanced code that RFC 2034 repeats on every line.
    lines.push(enhanced ? m[3]!.slice(enhanced.length).trimStart() : m[3]!);
    if (m[2] !== "-") {
      return { code: Number(m[1]), ...(enhanced ? { enhanced } : {}), text: lines.join(" "), lines };
    }
  }
}

async function command(conn: Connection, line: string): Promise<ClientReply & { lines: string[] }> {
  await conn.write(`${line}\r\n`);
  return readReply(conn);
}

function failAll(message: OutboundMessage, reply: ClientReply, tls: boolean): DeliveryOutcome {
  return { recipients: message.recipients.map((r) => ({ address: r.address, reply })), tls };
}

/** Runs one SMTP session delivering `message`; never throws for protocol failures. */
export async function deliverMessage(
  conn: Connection,
  message: OutboundMessage,
  options: ClientOptions,
): Promise<DeliveryOutcome> {
  const greeting = await readReply(conn);
  if (greeting.code !== 220) return failAll(message, greeting, false);
  let ehlo = await command(conn, `EHLO ${options.helo}`);
  let extended = ehlo.code === 250;
  if (!extended) {
    ehlo = await command(conn, `HELO ${options.helo}`);
    if (ehlo.code !== 250) return failAll(message, ehlo, false);
  }
  let extensions = new Set(ehlo.lines.slice(1).map((l) => l.toUpperCase()));
  const has = (name: string) => [...extensions].some((e) => e === name || e.startsWith(`${name} `));

  if (has("STARTTLS") && !options.skipTls) {
    const ready = await command(conn, "STARTTLS");
    if (ready.code === 220) {
      try {
        await conn.startTls();
      } catch (e) {
        return failAll(
          message,
          { code: 421, enhanced: "4.7.0", text: `${TLS_FAILED}: ${(e as Error).message}` },
          false,
        );
      }
      ehlo = await command(conn, `EHLO ${options.helo}`);
      if (ehlo.code !== 250) return failAll(message, ehlo, true);
      extended = true;
      extensions = new Set(ehlo.lines.slice(1).map((l) => l.toUpperCase()));
    } else if (options.requireTls) return failAll(message, ready, false);
  } else if (options.requireTls) {
    return failAll(message, { code: 421, enhanced: "4.7.10", text: "TLS required but not offered" }, false);
  }
  const tls = conn.tls !== null;

  if (options.auth) {
    const token = btoa(String.fromCharCode(...enc.encode(`\0${options.auth.username}\0${options.auth.password}`)));
    const auth = await command(conn, `AUTH PLAIN ${token}`);
    if (auth.code !== 235) return failAll(message, auth, tls);
  }

  const eightBit = message.content.some((b) => b > 0x7f);
  const utf8Addresses = [message.sender, ...message.recipients.map((r) => r.address)].some((a) =>
    /[^\x00-\x7f]/.test(a)
  );
  if (utf8Addresses && !has("SMTPUTF8")) {
    return failAll(message, {
      code: 553,
      enhanced: "5.6.7",
      text: "The receiving server does not accept UTF-8 addresses (SMTPUTF8)",
    }, tls);
  }
  const dsn = has("DSN");
  let mail = `MAIL FROM:<${message.sender}>`;
  if (has("SIZE")) mail += ` SIZE=${message.content.length}`;
  if (eightBit && has("8BITMIME")) mail += " BODY=8BITMIME";
  if (utf8Addresses) mail += " SMTPUTF8";
  if (dsn && message.ret) mail += ` RET=${message.ret}`;
  if (dsn && message.envid) mail += ` ENVID=${encodeXtext(message.envid)}`;
  const rcptLines = message.recipients.map((r) => {
    let line = `RCPT TO:<${r.address}>`;
    if (dsn && r.notify?.length) line += ` NOTIFY=${r.notify.join(",")}`;
    if (dsn && r.orcpt) {
      const [type, ...rest] = r.orcpt.split(";");
      line += ` ORCPT=${type};${encodeXtext(rest.join(";"))}`;
    }
    return line;
  });

  // RFC 2920: with PIPELINING, MAIL and every RCPT go in one write; replies come in order.
  const pipelined = has("PIPELINING");
  let mailReply: ClientReply;
  const rcptReplies: ClientReply[] = [];
  if (pipelined) {
    await conn.write(`${[mail, ...rcptLines].join("\r\n")}\r\n`);
    mailReply = await readReply(conn);
    for (let i = 0; i < rcptLines.length; i++) rcptReplies.push(await readReply(conn));
  } else {
    mailReply = await command(conn, mail);
    if (mailReply.code === 250) { for (const line of rcptLines) rcptReplies.push(await command(conn, line)); }
  }
  if (mailReply.code !== 250) {
    await command(conn, "QUIT").catch(() => {});
    return failAll(message, mailReply, tls);
  }
  const results = message.recipients.map((r, i) => ({ address: r.address, reply: rcptReplies[i]! }));
  const accepted = results.filter((r) => r.reply.code === 250 || r.reply.code === 251);
  if (accepted.length === 0) {
    await command(conn, "RSET").catch(() => {});
    await command(conn, "QUIT").catch(() => {});
    return { recipients: results, tls };
  }
  const data = await command(conn, "DATA");
  if (data.code !== 354) {
    for (const r of accepted) r.reply = data;
    return { recipients: results, tls };
  }
  await conn.write(concatBytes([dotStuff(message.content)]));
  const final = await readReply(conn);
  for (const r of accepted) r.reply = final;
  await command(conn, "QUIT").catch(() => {});
  return { recipients: results, tls };
}
