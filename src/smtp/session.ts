/**
 * The SMTP server session (RFC 5321) as a state machine without I/O.
 *
 * `server.ts` feeds it command lines, DATA content and BDAT chunks, and carries out the
 * `Action` of each `Step` (read more, start TLS, close). Lookups, authentication and delivery
 * go through the `SmtpBackend` interface it is given, so tests drive it with plain strings.
 */
import type { ByteBudget } from "../util/byte-budget.ts";
import { collectGarbage, LARGE_MESSAGE } from "../util/gc.ts";
import { Spool } from "../util/spool.ts";
import { loginStep, startSasl } from "../auth/login.ts";
import type { SaslExchange, SaslMechanism, SaslStep } from "../auth/sasl.ts";
import type { LineResult, TlsInfo } from "../connection.ts";
import type { AuthenticatedAccount, MailTransaction, SessionInfo, SmtpBackend } from "./backend.ts";
import { parseCommand, type SmtpCommand } from "./command.ts";
import type { DataDecoder } from "./data.ts";
import { ALLOWED, type Phase, wrongPhase } from "./phases.ts";
import { receivedHeader } from "./received.ts";
import { type Reply, reply } from "./reply.ts";

export interface SessionOptions {
  hostname: string;
  role: "mx" | "submission";
  maxMessageSize: number;
  maxRecipients: number;
  /** Replies of 5xx before the session is closed with 421. */
  maxErrors: number;
  maxCommands: number;
  /** Failed AUTH attempts before the session is closed. */
  maxAuthFailures: number;
  allowPlaintextAuth: boolean;
  remoteAddress: string;
  tls: TlsInfo | null;
  now?: () => Date;
  newId?: () => string;
  /** Where a transaction's message data goes while it arrives; in memory when not given. */
  spool?: () => Spool;
  /** Shared by all sessions: bytes of received messages being checked and stored at once. */
  memory?: ByteBudget;
  /** Refuse message data containing NUL (`limits.rejectNul`, Postfix's `message_reject_characters = \0`). */
  rejectNul?: boolean;
}

export type Action =
  | { kind: "read-command" }
  /** Read DATA lines into a `DataDecoder`, moving its output to `spool` as it grows, then call `dataEnded`. */
  | { kind: "read-data"; spool: Spool }
  /** Read a BDAT chunk into `spool` (or, when `discard`, skip it), then call `chunkReceived`. */
  | { kind: "read-chunk"; size: number; discard: boolean; spool?: Spool }
  /** Flush the replies, upgrade to TLS, then call `tlsStarted`. */
  | { kind: "starttls" }
  | { kind: "close" };

export interface Step {
  replies: Reply[];
  action: Action;
}

interface Transaction extends MailTransaction {
  mode: "none" | "bdat";
  /** The message data received so far. */
  spool: Spool;
  size: number;
  exceeded: boolean;
}

const utf8 = new TextDecoder();

/** The SASL mechanisms AUTH offers (RFC 4954 §3), in the EHLO response's order. */
const SASL_OFFERED: readonly SaslMechanism[] = ["PLAIN", "LOGIN"];

export class SmtpSession {
  #options: SessionOptions;
  #backend: SmtpBackend;
  #phase: Phase = "connected";
  #helo = "";
  #extended = false;
  #tls: TlsInfo | null;
  #account: AuthenticatedAccount | null = null;
  #transaction: Transaction | null = null;
  #sasl: SaslExchange | null = null;
  #errors = 0;
  #commands = 0;
  #authFailures = 0;

  constructor(options: SessionOptions, backend: SmtpBackend) {
    this.#options = options;
    this.#backend = backend;
    this.#tls = options.tls;
  }

  get info(): SessionInfo {
    return {
      role: this.#options.role,
      remoteAddress: this.#options.remoteAddress,
      helo: this.#helo,
      tls: this.#tls,
      account: this.#account,
      sender: this.#transaction?.sender ?? null,
    };
  }

  greeting(): Reply {
    return reply(220, undefined, `${this.#options.hostname} ESMTP Postern`);
  }

  /** The connection went silent or the server is stopping (RFC 5321 §4.5.3.2, §3.8). */
  interrupted(reason: "timeout" | "shutdown"): Step {
    const r = reason === "timeout"
      ? reply(421, "4.4.2", `${this.#options.hostname} Timeout, closing connection`)
      : reply(421, "4.3.2", `${this.#options.hostname} Service shutting down`);
    return { replies: [r], action: { kind: "close" } };
  }

  async commandLine(line: LineResult): Promise<Step> {
    if (++this.#commands > this.#options.maxCommands) {
      return { replies: [reply(421, "4.7.0", "Too many commands, closing connection")], action: { kind: "close" } };
    }
    if (line.kind === "too-long") {
      this.#sasl = null;
      return this.#fail(reply(500, "5.5.2", "Line too long"));
    }
    const text = utf8.decode(line.bytes);
    if (this.#sasl) return this.#saslStep(this.#sasl.respond(text));

    const parsed = parseCommand(text);
    if (!parsed.ok) return this.#fail(parsed.reply);
    const command = parsed.command;
    const allowed = ALLOWED[command.verb];
    if (allowed !== "any" && !allowed.includes(this.#phase)) {
      const step = this.#fail(wrongPhase(command.verb, this.#phase));
      // RFC 3030 §2: a refused BDAT's chunk still follows and must be consumed.
      if (command.verb === "BDAT" && step.action.kind !== "close") {
        step.action = { kind: "read-chunk", size: command.size, discard: true };
      }
      return step;
    }
    return this.#dispatch(command);
  }

  async #dispatch(command: SmtpCommand): Promise<Step> {
    switch (command.verb) {
      case "EHLO":
      case "HELO":
        return this.#hello(command.domain, command.verb === "EHLO");
      case "MAIL":
        return this.#mail(command);
      case "RCPT":
        return this.#rcpt(command);
      case "DATA":
        // RFC 3030 §3: a transaction started with BDAT cannot switch to DATA.
        if (this.#transaction?.mode === "bdat") return this.#fail(reply(503, "5.5.1", "DATA not allowed after BDAT"));
        return this.#ok(reply(354, undefined, "End data with <CR><LF>.<CR><LF>"), {
          kind: "read-data",
          spool: this.#transaction!.spool,
        });
      case "BDAT":
        return this.#bdat(command.size, command.last);
      case "RSET":
        this.#reset();
        return this.#ok(reply(250, "2.0.0", "Flushed"));
      case "NOOP":
        return this.#ok(reply(250, "2.0.0", "OK"));
      case "QUIT":
        return this.#ok(reply(221, "2.0.0", `${this.#options.hostname} Bye`), { kind: "close" });
      case "HELP":
        return this.#ok(
          reply(214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY STARTTLS AUTH"),
        );
      // RFC 5321 §3.5.3: 252 without saying whether the user exists; EXPN is not offered.
      case "VRFY":
        return this.#ok(reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"));
      case "EXPN":
        return this.#fail(reply(502, "5.5.1", "EXPN not available"));
      case "STARTTLS":
        if (this.#tls) return this.#fail(reply(503, "5.5.1", "TLS already active"));
        return this.#ok(reply(220, "2.0.0", "Ready to start TLS"), { kind: "starttls" });
      case "AUTH":
        return this.#auth(command.mechanism, command.initialResponse);
    }
  }

  /** RFC 3207 §4.2: after the handshake the session starts over, as if just connected. */
  tlsStarted(tls: TlsInfo): void {
    this.#tls = tls;
    this.#phase = "connected";
    this.#helo = "";
    this.#extended = false;
    this.#transaction = null;
  }

  #hello(domain: string, extended: boolean): Step {
    this.#reset();
    this.#phase = "ready";
    this.#helo = domain;
    this.#extended = extended;
    const greet = `${this.#options.hostname} greets ${domain} [${this.#options.remoteAddress}]`;
    if (!extended) return this.#ok(reply(250, undefined, greet));
    // RFC 2034 §3: no enhanced status codes in the EHLO response.
    const lines = [
      greet,
      "PIPELINING",
      `SIZE ${this.#options.maxMessageSize}`,
      "8BITMIME",
      "SMTPUTF8",
      "ENHANCEDSTATUSCODES",
      "CHUNKING",
      "DSN",
    ];
    if (!this.#tls) lines.push("STARTTLS");
    if (this.#authOffered) lines.push(`AUTH ${SASL_OFFERED.join(" ")}`);
    return this.#ok(reply(250, undefined, ...lines));
  }

  get #authOffered(): boolean {
    return !this.#account && (this.#tls !== null || this.#options.allowPlaintextAuth);
  }

  async #auth(mechanism: string, initialResponse: string | undefined): Promise<Step> {
    if (this.#account) return this.#fail(reply(503, "5.5.1", "Already authenticated"));
    if (!this.#tls && !this.#options.allowPlaintextAuth) {
      return this.#fail(reply(538, "5.7.11", "Encryption required for requested authentication mechanism"));
    }
    const sasl = startSasl(mechanism, SASL_OFFERED, initialResponse);
    if (!sasl) return this.#fail(reply(504, "5.5.4", "Unrecognized authentication type"));
    this.#sasl = sasl.exchange;
    return this.#saslStep(sasl.step);
  }

  async #saslStep(step: SaslStep): Promise<Step> {
    const outcome = await loginStep(step, {
      verify: (username, password) => this.#backend.authenticate(username, password, this.info),
      failures: this.#authFailures,
      maxFailures: this.#options.maxAuthFailures,
    });
    if (outcome.kind === "challenge") return this.#ok(reply(334, undefined, outcome.challenge));
    this.#sasl = null;
    switch (outcome.kind) {
      case "cancelled":
        return this.#fail(reply(501, "5.0.0", "Authentication cancelled"));
      case "malformed":
        return this.#fail(reply(501, "5.5.2", "Cannot decode the authentication response"));
      case "authenticated":
        this.#account = outcome.account;
        return this.#ok(reply(235, "2.7.0", "Authentication successful"));
      case "failed": {
        this.#authFailures = outcome.failures;
        // RFC 4954 §6: the same reply whether or not the account exists.
        const failed = reply(535, "5.7.8", "Authentication credentials invalid");
        if (outcome.banned) {
          return {
            replies: [reply(421, "4.7.0", "Too many failed logins from your address, try again later")],
            action: { kind: "close" },
          };
        }
        if (outcome.close) {
          return {
            replies: [failed, reply(421, "4.7.0", "Too many authentication failures")],
            action: { kind: "close" },
          };
        }
        return this.#fail(failed);
      }
    }
  }

  async #mail(command: Extract<SmtpCommand, { verb: "MAIL" }>): Promise<Step> {
    const { from, params } = command;
    if (this.#options.role === "submission" && !this.#account) {
      return this.#fail(reply(530, "5.7.0", "Authentication required"));
    }
    if (params.body === "BINARYMIME") return this.#fail(reply(555, "5.5.4", "BODY=BINARYMIME is not supported"));
    if (params.size !== undefined && params.size > this.#options.maxMessageSize) {
      return this.#fail(reply(552, "5.3.4", "Message size exceeds fixed maximum message size"));
    }
    if (from?.utf8 && !params.smtputf8) {
      return this.#fail(reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"));
    }
    const sender = from?.address ?? "";
    if (this.#account && this.#options.role === "submission") {
      if (!sender || !(await this.#backend.mayUseSender(this.#account, sender))) {
        return this.#fail(reply(553, "5.7.1", `Sender address <${sender}> not owned by ${this.#account.address}`));
      }
    }
    this.#transaction = {
      id: (this.#options.newId ?? newMessageId)(),
      sender,
      recipients: [],
      envid: params.envid,
      ret: params.ret,
      body: params.body ?? "7BIT",
      smtputf8: params.smtputf8,
      mode: "none",
      spool: this.#options.spool?.() ?? new Spool(),
      size: 0,
      exceeded: false,
    };
    this.#phase = "mail";
    return this.#ok(reply(250, "2.1.0", "Sender OK"));
  }

  async #rcpt(command: Extract<SmtpCommand, { verb: "RCPT" }>): Promise<Step> {
    const tx = this.#transaction!;
    const { to, params } = command;
    if (to.utf8 && !tx.smtputf8) return this.#fail(reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8"));
    if (tx.recipients.length >= this.#options.maxRecipients) {
      // RFC 5321 §4.5.3.1.10: 452, so the client retries the rest in another transaction.
      return this.#ok(reply(452, "4.5.3", "Too many recipients"));
    }
    const verdict = await this.#backend.checkRecipient(to.address, this.info);
    if (typeof verdict === "object") {
      return verdict.reply.code >= 500 ? this.#fail(verdict.reply) : this.#ok(verdict.reply);
    }
    switch (verdict) {
      case "unknown":
        return this.#fail(reply(550, "5.1.1", "Mailbox unavailable"));
      case "relay-denied":
        return this.#fail(reply(554, "5.7.1", "Relay access denied"));
      case "tempfail":
        return this.#ok(reply(451, "4.3.0", "Cannot verify the recipient now, try again later"));
      case "forged":
        return this.#fail(reply(550, "5.7.1", "Invalid or expired SRS address"));
      case "accept":
        break;
    }
    if (!tx.recipients.some((r) => r.address.toLowerCase() === to.address.toLowerCase())) {
      tx.recipients.push({
        address: to.address,
        notify: params.notify === undefined ? undefined : params.notify === "NEVER" ? ["NEVER"] : params.notify,
        orcpt: params.orcpt ? `${params.orcpt.addrType};${params.orcpt.address}` : undefined,
      });
    }
    this.#phase = "rcpt";
    return this.#ok(reply(250, "2.1.5", "Recipient OK"));
  }

  /** The DATA content has been read up to its terminating `<CRLF>.<CRLF>`. */
  async dataEnded(decoder: DataDecoder): Promise<Step> {
    const tx = this.#transaction!;
    if (decoder.exceeded) {
      return this.#endTransaction(reply(552, "5.3.4", "Message size exceeds fixed maximum message size"));
    }
    // RFC 5321 §2.3.8: CR and LF only as CRLF. Refusing bare ones closes the SMTP smuggling hole.
    if (decoder.bareLineFeeds > 0) return this.#endTransaction(BARE_CR_LF);
    await tx.spool.write(decoder.take());
    return this.#deliver(tx);
  }

  async #bdat(size: number, last: boolean): Promise<Step> {
    const tx = this.#transaction!;
    tx.mode = "bdat";
    tx.size += size;
    if (tx.size > this.#options.maxMessageSize) tx.exceeded = true;
    this.#pendingChunkLast = last;
    return {
      replies: [],
      action: tx.exceeded ? { kind: "read-chunk", size, discard: true } : {
        kind: "read-chunk",
        size,
        discard: false,
        spool: tx.spool,
      },
    };
  }

  #pendingChunkLast = false;

  /**
   * A BDAT chunk has arrived: `bytes` to add, or the number of bytes the server already wrote to the
   * action's spool; `null` when it was skipped after an error.
   */
  async chunkReceived(bytes: Uint8Array | number | null): Promise<Step> {
    const tx = this.#transaction;
    if (!tx || tx.mode !== "bdat") return { replies: [], action: { kind: "read-command" } };
    if (bytes instanceof Uint8Array && !tx.exceeded) await tx.spool.write(bytes);
    const received = bytes === null ? 0 : typeof bytes === "number" ? bytes : bytes.byteLength;
    if (!this.#pendingChunkLast) {
      return tx.exceeded
        ? this.#endTransaction(reply(552, "5.3.4", "Message size exceeds fixed maximum message size"))
        : this.#ok(reply(250, "2.0.0", `${received} octets received`));
    }
    if (tx.exceeded) {
      return this.#endTransaction(reply(552, "5.3.4", "Message size exceeds fixed maximum message size"));
    }
    return this.#deliver(tx);
  }

  /**
   * Checks and stores the spooled message. Its bytes are read back only once the shared memory budget has
   * room, so however many transactions end together, only so many messages are in memory at once. Checking
   * and storing a message takes several times its size (copies in the checks and the database driver), which
   * the reservation counts.
   */
  async #deliver(tx: Transaction): Promise<Step> {
    const size = tx.spool.size;
    const release = await this.#options.memory?.acquire(size * PROCESSING_COPIES);
    try {
      const trace = new TextEncoder().encode(receivedHeader({
        helo: this.#helo,
        remoteAddress: this.#options.remoteAddress,
        hostname: this.#options.hostname,
        id: tx.id,
        extended: this.#extended,
        tls: this.#tls,
        authenticated: this.#account !== null,
        smtputf8: tx.smtputf8,
        recipients: tx.recipients.map((r) => r.address),
        date: (this.#options.now ?? (() => new Date()))(),
      }));
      // The trace and the content in one buffer, read once from the spool.
      const message = await tx.spool.bytes(trace);
      const content = message.subarray(trace.length);
      if (tx.mode !== "bdat" && hasBareCarriageReturn(content)) return this.#endTransaction(BARE_CR_LF);
      if (this.#options.rejectNul && content.includes(0)) {
        return this.#endTransaction(reply(550, "5.6.0", "NUL characters in message data are not allowed"));
      }
      return await this.#store(tx, message);
    } finally {
      release?.();
      if (size >= LARGE_MESSAGE) collectGarbage();
    }
  }

  async #store(tx: Transaction, message: Uint8Array): Promise<Step> {
    const { id, sender, recipients, envid, ret, body, smtputf8 } = tx;
    const transaction: MailTransaction = { id, sender, recipients, envid, ret, body, smtputf8 };
    let result: Awaited<ReturnType<SmtpBackend["deliver"]>>;
    try {
      result = await this.#backend.deliver(transaction, message, this.info);
    } catch {
      result = { ok: false, reply: reply(451, "4.3.0", "Could not store the message, try again later") };
    }
    return this.#endTransaction(result.ok ? reply(250, "2.0.0", `Message accepted, queued as ${tx.id}`) : result.reply);
  }

  #endTransaction(r: Reply): Step {
    this.#reset();
    return r.code >= 500 ? this.#fail(r) : this.#ok(r);
  }

  /** The connection is gone: frees the transaction's spool. */
  end(): void {
    this.#reset();
  }

  #reset(): void {
    // The spool's file is closed in the background: nothing waits on it.
    this.#transaction?.spool.discard().catch(() => {});
    this.#transaction = null;
    this.#pendingChunkLast = false;
    if (this.#phase !== "connected") this.#phase = "ready";
  }

  #ok(r: Reply, action: Action = { kind: "read-command" }): Step {
    return { replies: [r], action };
  }

  /** A 5xx reply; too many of them end the session (RFC 5321 §4.5.3.2 leaves the count to us). */
  #fail(r: Reply): Step {
    if (r.code >= 500 && ++this.#errors >= this.#options.maxErrors) {
      return { replies: [r, reply(421, "4.7.0", "Too many errors, closing connection")], action: { kind: "close" } };
    }
    return { replies: [r], action: { kind: "read-command" } };
  }
}

/** Measured: a 20 MiB message raised the server's resident memory by 4–8 times its size while it was stored. */
const PROCESSING_COPIES = 4;

const BARE_CR_LF = reply(550, "5.6.0", "Bare CR or LF in message data is not allowed (RFC 5321 §2.3.8)");

function hasBareCarriageReturn(content: Uint8Array): boolean {
  for (let i = content.indexOf(0x0d); i !== -1; i = content.indexOf(0x0d, i + 1)) {
    if (content[i + 1] !== 0x0a) return true;
  }
  return false;
}

/** A short unique id, like Postfix's queue ids: time-ordered, base 36. */
function newMessageId(): string {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36).padStart(7, "0");
  return `${Date.now().toString(36)}${random}`.toUpperCase();
}
