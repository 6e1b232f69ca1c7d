/**
 * Drives an `SmtpSession` without a socket: a script of client input in, the reply lines out,
 * exactly as `server.ts` would carry out the actions.
 */
import type { Line } from "../../src/connection.ts";
import type {
  AuthenticatedAccount,
  DeliveryResult,
  MailTransaction,
  RecipientVerdict,
  SessionInfo,
  SmtpBackend,
} from "../../src/smtp/backend.ts";
import { DataDecoder } from "../../src/smtp/data.ts";
import { formatReply } from "../../src/smtp/reply.ts";
import { type SessionOptions, SmtpSession, type Step } from "../../src/smtp/session.ts";

export interface Delivered {
  transaction: MailTransaction;
  content: string;
  session: SessionInfo;
}

/** An in-memory backend: local domain example.test with alice and bob; alice's password is "secret". */
export class FakeBackend implements SmtpBackend {
  delivered: Delivered[] = [];
  authAttempts = 0;
  failDelivery = false;

  async authenticate(username: string, password: string): Promise<AuthenticatedAccount | null> {
    this.authAttempts++;
    return username === "alice@example.test" && password === "secret" ? { id: 1, address: username } : null;
  }
  async mayUseSender(account: AuthenticatedAccount, sender: string): Promise<boolean> {
    return sender === account.address || sender === "alias@example.test";
  }
  async checkRecipient(address: string, session: SessionInfo): Promise<RecipientVerdict> {
    const [local, domain] = address.split("@");
    if (address === "postmaster" || domain === "example.test") {
      return ["alice", "bob", "postmaster", "alias"].includes(local!) ? "accept" : "unknown";
    }
    if (domain === "broken.test") return "tempfail";
    return session.account ? "accept" : "relay-denied";
  }
  async deliver(transaction: MailTransaction, content: Uint8Array, session: SessionInfo): Promise<DeliveryResult> {
    if (this.failDelivery) throw new Error("disk full");
    this.delivered.push({ transaction, content: new TextDecoder().decode(content), session });
    return { ok: true };
  }
}

export const DEFAULTS: SessionOptions = {
  hostname: "mx.example.test",
  role: "mx",
  maxMessageSize: 1000,
  maxRecipients: 3,
  maxErrors: 10,
  maxCommands: 100,
  maxAuthFailures: 3,
  allowPlaintextAuth: false,
  remoteAddress: "192.0.2.1",
  tls: null,
  now: () => new Date(Date.UTC(2026, 10, 23, 12, 0, 0)),
  newId: () => "TESTID",
};

const enc = new TextEncoder();

/**
 * A session plus the client's unread input. `send` appends raw text (several commands, DATA
 * content, BDAT chunks in one string, as a pipelining client would), `run` processes all of it
 * and returns the reply lines.
 */
export class Harness {
  readonly session: SmtpSession;
  readonly backend: FakeBackend;
  closed = false;
  tlsStarted = false;
  #input = new Uint8Array(0);

  constructor(options: Partial<SessionOptions> = {}, backend = new FakeBackend()) {
    this.backend = backend;
    this.session = new SmtpSession({ ...DEFAULTS, ...options }, backend);
  }

  /** Sends the input and returns every reply line produced while consuming it. */
  async send(text: string): Promise<string[]> {
    const bytes = enc.encode(text);
    const joined = new Uint8Array(this.#input.length + bytes.length);
    joined.set(this.#input);
    joined.set(bytes, this.#input.length);
    this.#input = joined;
    const out: string[] = [];
    while (!this.closed) {
      const line = this.#line();
      if (!line) break;
      await this.#carry(await this.session.commandLine(line), out);
    }
    return out;
  }

  async #carry(first: Step, out: string[]): Promise<void> {
    let step: Step | null = first;
    while (step) {
      for (const r of step.replies) out.push(...formatReply(r).split("\r\n").filter(Boolean));
      const action = step.action;
      step = null;
      switch (action.kind) {
        case "close":
          this.closed = true;
          break;
        case "starttls":
          this.#input = new Uint8Array(0); // what net/ does: pipelined plaintext is dropped
          this.tlsStarted = true;
          this.session.tlsStarted({ protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" });
          break;
        case "read-data": {
          // As src/smtp/server.ts does: decoded bytes straight to the spool, moved to its file when it asks.
          const spool = action.spool;
          const decoder = new DataDecoder(DEFAULTS.maxMessageSize, (bytes) => spool.append(bytes));
          let ended = false;
          for (let line = this.#line(); line; line = this.#line()) {
            if (decoder.push(line)) {
              ended = true;
              break;
            }
            if (spool.mustSpill) await spool.spill();
          }
          if (!ended) throw new Error("test script ended inside DATA");
          step = await this.session.dataEnded(decoder);
          break;
        }
        case "read-chunk": {
          if (this.#input.length < action.size) throw new Error("test script ended inside a BDAT chunk");
          const bytes = this.#input.slice(0, action.size);
          this.#input = this.#input.slice(action.size);
          step = await this.session.chunkReceived(action.discard ? null : bytes);
          break;
        }
        case "read-command":
          break;
      }
    }
  }

  #line(): Line | null {
    const lf = this.#input.indexOf(0x0a);
    if (lf === -1) return null;
    const crlf = lf > 0 && this.#input[lf - 1] === 0x0d;
    const bytes = this.#input.slice(0, crlf ? lf - 1 : lf);
    this.#input = this.#input.slice(lf + 1);
    return { kind: "line", bytes, crlf };
  }
}
