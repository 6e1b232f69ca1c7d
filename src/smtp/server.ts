/**
 * The SMTP server loop: the only SMTP code that does I/O. It reads from a `Connection`, feeds
 * the pure `SmtpSession`, writes its replies and carries out its actions.
 */
import type { Connection } from "../connection.ts";
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
          // A DATA line is bounded only by the message size: a longer one means the message is too big.
          while (true) {
            const dataLine = await conn.readLine(options.maxMessageSize);
            if (dataLine === null) return abort(conn, out, session);
            if (decoder.push(dataLine)) break;
          }
          step = await session.dataEnded(decoder);
        } else {
          let bytes: Uint8Array | null = null;
          if (action.discard) {
            if (!(await conn.skipBytes(action.size))) return abort(conn, out, session);
          } else {
            bytes = await conn.readBytes(action.size);
            if (bytes === null) return abort(conn, out, session);
          }
          step = await session.chunkReceived(bytes);
        }
        conn.setIdleTimeout(options.commandTimeoutMs);
      }
    }
  };
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
