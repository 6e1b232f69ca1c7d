/**
 * The SMTP server loop: the only SMTP code that does I/O. It reads from a `Connection`, feeds
 * the pure `SmtpSession`, writes its replies and carries out its actions.
 */
import type { Connection, LineResult } from "../connection.ts";
import { count, observe } from "../util/counters.ts";
import { log } from "../util/log.ts";
import type { SmtpBackend } from "./backend.ts";
import { DataDecoder } from "./data.ts";
import { formatReply, type Reply } from "./reply.ts";
import { type SessionOptions, SmtpSession, type Step } from "./session.ts";

export interface SmtpServerOptions extends Omit<SessionOptions, "remoteAddress" | "tls"> {
  /** Longest command line, without CRLF (RFC 5321 §4.5.3.1.4 requires at least 512). */
  maxLineLength: number;
  /** Idle limits in ms: between commands, and while DATA/BDAT content is arriving (RFC 5321 §4.5.3.2). */
  commandTimeoutMs: number;
  dataTimeoutMs: number;
}

export function smtpHandler(options: SmtpServerOptions, backend: SmtpBackend) {
  return async (conn: Connection): Promise<void> => {
    const session = new SmtpSession({ ...options, remoteAddress: conn.remoteAddress, tls: conn.tls }, backend);
    try {
      await serve(conn, session, options);
    } finally {
      session.end();
    }
  };
}

/** Bytes of message data gathered before they are written to the spool, and the longest line read whole. */
const SPOOL_WRITE = 64 * 1024;

async function serve(conn: Connection, session: SmtpSession, options: SmtpServerOptions): Promise<void> {
  const out = new ReplyWriter(conn);
  const outcomes = new MailOutcomes(conn);
  await out.send([session.greeting()], true);
  conn.setIdleTimeout(options.commandTimeoutMs);

  for (;;) {
    const line = await conn.readLine(options.maxLineLength);
    if (line === null) {
      if (conn.interrupted && !conn.closed) await out.send(session.interrupted(conn.interrupted).replies, true);
      return;
    }
    let step: Step = await session.commandLine(line);
    outcomes.command(line, step.replies);
    // Carry out actions until the session wants the next command.
    for (;;) {
      const action = step.action;
      if (action.kind === "read-command") {
        // RFC 2920 §3.1: replies to pipelined commands may be held until the batch is done.
        await out.send(step.replies, !conn.hasBufferedLine());
        break;
      }
      if (action.kind === "close") {
        await out.send(step.replies, true);
        return;
      }
      if (action.kind === "starttls") {
        await out.send(step.replies, true);
        try {
          await conn.startTls();
        } catch {
          return; // A failed handshake leaves nothing to talk over.
        }
        session.tlsStarted(conn.tls!);
        break;
      }
      await out.send(step.replies, true);
      conn.setIdleTimeout(options.dataTimeoutMs);
      if (action.kind === "read-data") {
        const spool = action.spool;
        const decoder = new DataDecoder(options.maxMessageSize, (bytes) => spool.append(bytes));
        // Long lines come in parts, and the decoded data goes to the spool, which moves it to its file as it
        // grows: the connection holds a bounded number of bytes however large the message (issue 18).
        // The lines already buffered are read without a promise each (a packet holds dozens).
        while (true) {
          const dataLine = conn.bufferedLineOrPart(SPOOL_WRITE) ?? await conn.readLineOrPart(SPOOL_WRITE);
          if (dataLine === null) return abort(conn, out, session);
          if (decoder.push(dataLine)) break;
          if (spool.mustSpill) await spool.spill();
        }
        step = await session.dataEnded(decoder);
        outcomes.content("DATA", step.replies);
      } else if (action.discard || !action.spool) {
        if (!(await conn.skipBytes(action.size))) return abort(conn, out, session);
        step = await session.chunkReceived(null);
      } else {
        for (let left = action.size; left > 0;) {
          const bytes = await conn.readAtMost(Math.min(left, SPOOL_WRITE));
          if (bytes === null) return abort(conn, out, session);
          await action.spool.write(bytes);
          left -= bytes.length;
        }
        step = await session.chunkReceived(action.size);
      }
      if (action.kind !== "read-data") outcomes.content("BDAT", step.replies);
      conn.setIdleTimeout(options.commandTimeoutMs);
    }
  }
}

interface Command {
  verb: string;
  /** The path of MAIL FROM or RCPT TO, as sent. */
  arg?: string;
  /** BDAT … LAST */
  last?: boolean;
}

const utf8 = new TextDecoder();

/** The verb of a command line, with what the log and the counters need of MAIL, RCPT and BDAT. */
function commandOf(line: LineResult): Command | null {
  if (line.kind !== "line") return null;
  const text = utf8.decode(line.bytes.length > 512 ? line.bytes.subarray(0, 512) : line.bytes);
  const m = /^(MAIL FROM|RCPT TO):\s*(<[^>]*>)/i.exec(text);
  if (m) return { verb: m[1]!.slice(0, 4).toUpperCase(), arg: m[2] };
  const verb = text.split(" ")[0]!.toUpperCase();
  return verb === "BDAT" ? { verb, last: /\sLAST\s*$/i.test(text) } : { verb };
}

/**
 * False when the line's verb is surely neither MAIL nor BDAT: ASCII, and another word. A line with non-ASCII
 * bytes at its start may still be one once upper-cased ("maıl"), as the session reads it.
 */
function mayBeMailOrBdat(bytes: Uint8Array): boolean {
  for (let i = 0; i < 16 && i < bytes.length; i++) if (bytes[i]! >= 0x80) return true;
  if (bytes.length > 4 && bytes[4] !== 0x20) return false;
  const word = String.fromCharCode(bytes[0]! | 0x20, bytes[1]! | 0x20, bytes[2]! | 0x20, bytes[3]! | 0x20);
  return word === "mail" || word === "bdat";
}

/**
 * What one connection's replies say about its mail, for the log and /metrics (issue 20, items 4
 * and 5): one line per refused sender, recipient or message with the reply sent (its text is the
 * reason; replies to other commands, a bad EHLO say, are not refusals of mail), messages received
 * and refused per listener and enhanced code, and the time from an accepted MAIL to the reply
 * after the message.
 */
class MailOutcomes {
  #mailAt = 0;
  #bdatLast = false;
  constructor(private readonly conn: Connection) {}

  command(line: LineResult, replies: Reply[]): void {
    // Only MAIL and BDAT are noted when they succeed: other lines are decoded only when refused.
    if (line.kind === "line" && !mayBeMailOrBdat(line.bytes) && !replies.some((r) => r.code >= 400)) return;
    const command = commandOf(line);
    if (!command) return;
    if (command.verb === "MAIL" && replies.some((r) => r.code === 250)) this.#mailAt = performance.now();
    if (command.verb === "BDAT") this.#bdatLast = command.last === true;
    this.#refusals(command, replies);
  }

  /** The replies after a message's content (DATA) or one of its chunks (BDAT). */
  content(verb: "DATA" | "BDAT", replies: Reply[]): void {
    this.#refusals({ verb }, replies);
    const refused = replies.some((r) => r.code >= 400);
    if (!refused && verb === "BDAT" && !this.#bdatLast) return; // more chunks to come
    const listener = this.conn.listener;
    if (!refused) count("postern_messages_received_total", { listener });
    if (this.#mailAt) {
      observe("postern_smtp_transaction_seconds", (performance.now() - this.#mailAt) / 1000, { listener });
    }
    this.#mailAt = 0;
  }

  #refusals(command: Command, replies: Reply[]): void {
    const { verb, arg } = command;
    if (!["MAIL", "RCPT", "DATA", "BDAT"].includes(verb)) return;
    for (const r of replies) {
      if (r.code < 400) continue;
      const stage = verb.toLowerCase();
      count("postern_smtp_refused_total", { listener: this.conn.listener, stage, code: r.enhanced ?? String(r.code) });
      log.info("refused", {
        listener: this.conn.listener,
        ip: this.conn.remoteAddress,
        stage,
        ...(verb === "MAIL" ? { from: arg } : verb === "RCPT" ? { to: arg } : {}),
        reply: formatReply(r).trimEnd().replace(/\r\n/g, " "),
      });
    }
  }
}

/** Input ended or timed out in the middle of a message: nothing is stored. */
async function abort(conn: Connection, out: ReplyWriter, session: SmtpSession): Promise<void> {
  if (conn.interrupted && !conn.closed) await out.send(session.interrupted(conn.interrupted).replies, true);
}

/** Collects replies and writes them in one packet when the pipelined batch is done. */
class ReplyWriter {
  #pending = "";
  constructor(private readonly conn: Connection) {}

  async send(replies: Reply[], flush: boolean): Promise<void> {
    for (const r of replies) this.#pending += formatReply(r);
    if (flush && this.#pending) {
      const text = this.#pending;
      this.#pending = "";
      await this.conn.write(text);
    }
  }
}
