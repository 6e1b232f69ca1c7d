/**
 * The IMAP server loop: the only IMAP code that does I/O. Lines and literals go through the
 * `CommandReader`, commands through the parser to the `ImapSession`; IDLE waits for DONE or for
 * the store's change notifications.
 */
import { concatBytes } from "../util/bytes.ts";
import type { Connection, LineResult } from "../connection.ts";
import type { ImapBackend } from "./backend.ts";
import { CommandReader, PRE_LOGIN_LIMITS } from "./command-reader.ts";
import { parseCommand } from "./parser.ts";
import { ImapSession, type ImapSessionOptions, type ImapStep } from "./session.ts";

export interface ImapServerOptions extends Omit<ImapSessionOptions, "remoteAddress" | "tls"> {
  /** Largest APPEND literal (the message size limit). */
  maxLiteralSize: number;
  /**
   * Largest command once logged in, its literals together: a MULTIAPPEND (RFC 3502) or CATENATE (RFC 4469) of
   * several messages, each up to `maxLiteralSize`, is held whole to be stored in one transaction. Default ten times
   * `maxLiteralSize`.
   */
  maxCommandSize?: number;
  maxLineLength: number;
  /** Autologout before authentication. */
  loginTimeoutMs: number;
  /** Autologout once authenticated. */
  idleTimeoutMs: number;
}

const enc = new TextEncoder();

async function send(conn: Connection, chunks: ReadonlyArray<string | Uint8Array>): Promise<void> {
  if (chunks.length === 0) return;
  // Runs of text are encoded at once: STORE 1:* on 10,000 messages is one encoding, not 10,000.
  const parts: Uint8Array[] = [];
  let text = "";
  for (const chunk of chunks) {
    if (typeof chunk === "string") text += chunk;
    else {
      if (text) parts.push(enc.encode(text));
      text = "";
      parts.push(chunk);
    }
  }
  if (text) parts.push(enc.encode(text));
  await conn.write(parts.length === 1 ? parts[0]! : concatBytes(parts));
}

export function imapHandler(options: ImapServerOptions, backend: ImapBackend) {
  return async (conn: Connection): Promise<void> => {
    const session = new ImapSession(
      { ...options, remoteAddress: conn.remoteAddress, tls: conn.tls, maxMessageSize: options.maxLiteralSize },
      backend,
    );
    const reader = new CommandReader(PRE_LOGIN_LIMITS);
    conn.setIdleTimeout(options.loginTimeoutMs);
    await send(conn, [session.greeting()]);
    let loggedIn = false;
    let saslPending = false;
    const notify = new NotifyListener(conn, session, options.maxLineLength);
    try {
      await serve();
    } finally {
      notify.close();
    }

    async function serve(): Promise<void> {
      for (;;) {
        const line = await notify.readLine(saslPending || reader.inCommand);
        if (line === null) {
          if (conn.interrupted && !conn.closed) await send(conn, session.interrupted(conn.interrupted).out);
          return;
        }
        if (line.kind === "too-long") {
          const tag = reader.abandon();
          saslPending = false;
          await send(conn, [`${tag ?? "*"} BAD Command line too long\r\n`]);
          continue;
        }
        let step: ImapStep;
        if (saslPending) {
          saslPending = false;
          step = await session.saslResponse(new TextDecoder().decode(line.bytes));
        } else {
          const read = reader.pushLine(line.bytes);
          if (read === null) continue;
          if (read.kind === "literal") {
            // RFC 9051 §4.3: a synchronising literal waits for our go-ahead.
            if (read.synchronizing) await send(conn, ["+ Ready for literal data\r\n"]);
            const bytes = await conn.readBytes(read.size);
            if (bytes === null) return;
            reader.pushLiteral(bytes);
            continue;
          }
          if (read.kind === "error") {
            if (read.message) {
              const reply = read.tooBig ? `NO [TOOBIG] ${read.message}` : `BAD ${read.message}`;
              await send(conn, [`${read.tag ?? "*"} ${reply}\r\n`]);
            }
            if (read.discard > 0 && !loggedIn) {
              // A large non-synchronising literal before login is not read even to skip it.
              await send(conn, ["* BYE Literal too large before login\r\n"]);
              return;
            }
            if (read.discard > 0 && !(await conn.skipBytes(read.discard))) return;
            continue;
          }
          const parsed = parseCommand(read.command, { utf8Accept: session.utf8Accept });
          step = parsed.ok
            ? await session.command(parsed.command, (out) => send(conn, out))
            : parsed.refusal
            ? session.refuseName(parsed.tag, parsed.refusal.name, parsed.message)
            : session.syntaxError(parsed.tag, parsed.message);
        }
        if (step.action.kind === "compress") {
          // The completion goes out as it is; the input handler is switched before any compressed byte can
          // arrive, since the client sends nothing more until it has read it (RFC 4978 §3).
          const sent = send(conn, step.out);
          conn.startCompression();
          await sent;
        } else await send(conn, step.out);
        if (!loggedIn && session.state !== "not-authenticated" && session.state !== "logout") {
          loggedIn = true;
          conn.setIdleTimeout(options.idleTimeoutMs);
          reader.setLimits({
            maxLiteralSize: options.maxLiteralSize,
            maxCommandSize: options.maxCommandSize ?? 10 * options.maxLiteralSize + 1_000_000,
          });
        }
        switch (step.action.kind) {
          case "close":
            return;
          case "sasl":
            saslPending = true;
            break;
          case "starttls":
            await conn.startTls();
            session.tlsStarted(conn.tls!);
            break;
          case "idle":
            if (!(await idle(conn, session, options.maxLineLength))) return;
            break;
          case "compress":
          case "continue":
            break;
        }
        notify.sync();
      }
    }
  };
}

/**
 * With NOTIFY SET (RFC 5465 §4) the server speaks between commands: the next line is awaited together with the
 * store's change notifications, and each change is answered with the session's update before reading on.
 */
class NotifyListener {
  #conn: Connection;
  #session: ImapSession;
  #maxLineLength: number;
  #unwatch: (() => void) | null = null;
  #changed = false;
  #wake: (() => void) | null = null;
  /** A line read that lost the race to a change, still to be taken. */
  #pending: Promise<LineResult | null> | null = null;

  constructor(conn: Connection, session: ImapSession, maxLineLength: number) {
    this.#conn = conn;
    this.#session = session;
    this.#maxLineLength = maxLineLength;
  }

  /** Listens to the store while the session has NOTIFY SET in force, and not otherwise. */
  sync(): void {
    if (this.#session.notifying && !this.#unwatch) {
      this.#unwatch = this.#session.watch(() => {
        this.#changed = true;
        this.#wake?.();
      });
    } else if (!this.#session.notifying && this.#unwatch) this.close();
  }

  /** The next line; `quiet` while a command is half read (nothing may come between its lines). */
  async readLine(quiet: boolean): Promise<LineResult | null> {
    if (!this.#unwatch || quiet) {
      const line = this.#pending ?? this.#conn.readLine(this.#maxLineLength);
      this.#pending = null;
      return await line;
    }
    const pending = this.#pending ??= this.#conn.readLine(this.#maxLineLength);
    for (;;) {
      if (this.#changed) {
        this.#changed = false;
        await send(this.#conn, await this.#session.notifyUpdate());
        continue;
      }
      const next = await Promise.race([
        pending.then((line) => ({ line })),
        new Promise<null>((resolve) => (this.#wake = () => resolve(null))),
      ]);
      this.#wake = null;
      if (next) {
        this.#pending = null;
        return next.line;
      }
    }
  }

  close(): void {
    this.#unwatch?.();
    this.#unwatch = null;
    this.#changed = false;
  }
}

/** RFC 2177 IDLE: report changes as they commit until the client sends DONE. False if the connection ended. */
async function idle(conn: Connection, session: ImapSession, maxLineLength: number): Promise<boolean> {
  await send(conn, ["+ idling\r\n"]);
  let wake: (() => void) | null = null;
  let changed = false;
  const unwatch = session.watch(() => {
    changed = true;
    wake?.();
  });
  try {
    const lineRead = conn.readLine(maxLineLength);
    for (;;) {
      const next = await Promise.race([
        lineRead.then((line) => ({ line })),
        new Promise<{ change: true }>((resolve) => {
          wake = () => resolve({ change: true });
          if (changed) resolve({ change: true });
        }),
      ]);
      if ("change" in next) {
        changed = false;
        await send(conn, await session.idleUpdate());
        continue;
      }
      const line = next.line;
      if (line === null) {
        if (conn.interrupted && !conn.closed) await send(conn, session.interrupted(conn.interrupted).out);
        return false;
      }
      const text = line.kind === "line" ? new TextDecoder().decode(line.bytes) : "";
      const done = session.idleDone();
      if (text.toUpperCase() !== "DONE") done.out.unshift("* BAD Expected DONE\r\n");
      await send(conn, done.out);
      return true;
    }
  } finally {
    unwatch();
  }
}
