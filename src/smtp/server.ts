/**
 * The SMTP server loop: the only SMTP code that does I/O. It reads from a `Connection`, feeds
 * the pure `SmtpSession`, writes its replies and carries out its actions.
 */
import type { Connection, LineResult } from "../connection.ts";
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
  await out.send([session.greeting()], true);
  conn.setIdleTimeout(options.commandTimeoutMs);

  for (;;) {
    const line = await conn.readLine(options.maxLineLength);
    if (line === null) {
      if (conn.interrupted && !conn.closed) await out.send(session.interrupted(conn.interrupted).replies, true);
      return;
    }
    let step: Step = await session.commandLine(line);
    logRefusal(conn, commandOf(line), step.replies);
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
        const decoder = new DataDecoder(options.maxMessageSize);
        // Long lines come in parts, and the decoded data moves to the spool as it grows: the
        // connection holds a bounded number of bytes however large the message (issue 18).
        while (true) {
          const dataLine = await conn.readLineOrPart(SPOOL_WRITE);
          if (dataLine === null) return abort(conn, out, session);
          if (decoder.push(dataLine)) break;
          if (decoder.pending >= SPOOL_WRITE) await action.spool.write(decoder.take());
        }
        step = await session.dataEnded(decoder);
        logRefusal(conn, "DATA", step.replies);
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
      if (action.kind !== "read-data") logRefusal(conn, "BDAT", step.replies);
      conn.setIdleTimeout(options.commandTimeoutMs);
    }
  }
}

/** The verb and argument of a MAIL or RCPT command (what a refusal line names), else the verb. */
function commandOf(line: LineResult): { verb: string; arg?: string } | null {
  if (line.kind !== "line") return null;
  const text = new TextDecoder().decode(line.bytes.subarray(0, 512));
  const m = /^(MAIL FROM|RCPT TO):\s*(<[^>]*>)/i.exec(text);
  return m ? { verb: m[1]!.slice(0, 4).toUpperCase(), arg: m[2] } : { verb: text.split(" ")[0]!.toUpperCase() };
}

/**
 * One line per refused sender, recipient or message, with the reply sent (its text is the
 * reason). Replies to other commands (a bad EHLO, an unknown verb) are not refusals of mail.
 */
function logRefusal(conn: Connection, command: { verb: string; arg?: string } | string | null, replies: Reply[]) {
  const { verb, arg } = typeof command === "string" ? { verb: command, arg: undefined } : command ?? { verb: "" };
  if (!["MAIL", "RCPT", "DATA", "BDAT"].includes(verb)) return;
  for (const r of replies) {
    if (r.code < 400) continue;
    log.info("refused", {
      listener: conn.listener,
      ip: conn.remoteAddress,
      stage: verb.toLowerCase(),
      ...(verb === "MAIL" ? { from: arg } : verb === "RCPT" ? { to: arg } : {}),
      reply: formatReply(r).trimEnd().replace(/\r\n/g, " "),
    });
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
