/**
 * The POP3 server loop: the only POP3 code that does I/O.
 */
import type { Connection } from "../connection.ts";
import type { Pop3Backend } from "./backend.ts";
import { Pop3Session, type Pop3SessionOptions } from "./session.ts";

export interface Pop3ServerOptions extends Omit<Pop3SessionOptions, "remoteAddress" | "tls"> {
  maxLineLength: number;
  /** Autologout in the AUTHORIZATION state. */
  loginTimeoutMs: number;
  /** Autologout in the TRANSACTION state (RFC 1939 §3: at least 10 minutes). */
  idleTimeoutMs: number;
}

export function pop3Handler(options: Pop3ServerOptions, backend: Pop3Backend) {
  return async (conn: Connection): Promise<void> => {
    const session = new Pop3Session({ ...options, remoteAddress: conn.remoteAddress, tls: conn.tls }, backend);
    conn.setIdleTimeout(options.loginTimeoutMs);
    let loggedIn = false;
    await conn.write(`${session.greeting()}\r\n`);
    try {
      for (;;) {
        const line = await conn.readLine(options.maxLineLength);
        const step = line === null
          ? conn.interrupted && !conn.closed ? session.interrupted(conn.interrupted) : null
          : await session.line(line);
        if (step === null) return;
        // RFC 2449 PIPELINING: replies are written as they come; the socket batches them.
        for (const part of step.output) await conn.write(typeof part === "string" ? `${part}\r\n` : part);
        if (step.action.kind === "close") return;
        if (!loggedIn && session.state === "transaction") {
          loggedIn = true;
          conn.setIdleTimeout(options.idleTimeoutMs);
        }
        if (step.action.kind === "starttls") {
          await conn.startTls();
          session.tlsStarted(conn.tls!);
        }
      }
    } finally {
      // A dropped connection never reaches UPDATE: nothing is deleted, the lock is released.
      void session.release();
    }
  };
}
