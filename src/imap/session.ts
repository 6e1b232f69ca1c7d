/**
 * The IMAP session (RFC 9051): connection state, the command table, authentication, and
 * dispatch to the mailbox and message handlers. No I/O: `server.ts` feeds it commands and
 * carries out its actions; storage is behind `ImapBackend`.
 */
import { loginStep, passwordStep, startSasl } from "../auth/login.ts";
import type { SaslExchange, SaslStep } from "../auth/sasl.ts";
import type { TlsInfo } from "../connection.ts";
import { log } from "../util/log.ts";
import type { ImapAccount, ImapBackend } from "./backend.ts";
import type { ImapCommand } from "./commands.ts";
import { bad, type Completion, type HandlerContext, no, ok, refresh } from "./context.ts";
import { loggedIn } from "./logged-in.ts";
import * as notifying from "./notify-commands.ts";
import { allowed, capabilities, refusal, type StateName } from "./state.ts";
import type { MailboxView } from "./view.ts";

export interface ImapSessionOptions {
  hostname: string;
  remoteAddress: string;
  tls: TlsInfo | null;
  allowPlaintextAuth: boolean;
  maxAuthFailures: number;
  /** The message size limit, for what CATENATE puts together (RFC 4469); literals are bounded by the reader. */
  maxMessageSize?: number;
}

export type ImapAction =
  | { kind: "continue" }
  /** Send a "+ " continuation and feed the next line to `saslResponse`. */
  | { kind: "sasl" }
  | { kind: "starttls" }
  /** Send the completion uncompressed, then compress both directions (RFC 4978 §3). */
  | { kind: "compress" }
  /** Send "+ idling", then call `idleUpdate` on changes and `idleDone` on DONE. */
  | { kind: "idle" }
  | { kind: "close" };

export interface ImapStep {
  out: Array<string | Uint8Array>;
  action: ImapAction;
}

/**
 * The session's state (RFC 9051 §3) with the data each state has: before login the failed
 * attempts and a SASL exchange in progress; once logged in the handler context (account, enabled
 * extensions, and in the selected state the mailbox view).
 */
type SessionState =
  | { name: "not-authenticated"; authFailures: number; sasl: { tag: string; exchange: SaslExchange } | null }
  | { name: "authenticated"; ctx: HandlerContext }
  | { name: "selected"; ctx: HandlerContext & { view: MailboxView } }
  | { name: "logout"; ctx: HandlerContext | null };

export class ImapSession {
  #options: ImapSessionOptions;
  #backend: ImapBackend;
  #state: SessionState = { name: "not-authenticated", authFailures: 0, sasl: null };
  #tls: TlsInfo | null;
  #idleTag: string | null = null;
  /** Untagged output before login, when there is no handler context yet. */
  #scratch: Array<string | Uint8Array> = [];
  /** Set by AUTHENTICATE when the client must answer a challenge. */
  #challenge: string | null = null;
  /** Set when too many failed logins end the session. */
  #closing = false;
  /** COMPRESS DEFLATE is active (RFC 4978). */
  #compressed = false;

  constructor(options: ImapSessionOptions, backend: ImapBackend) {
    this.#options = options;
    this.#backend = backend;
    this.#tls = options.tls;
  }

  get state(): StateName {
    return this.#state.name;
  }

  /** The handler context once logged in. */
  get #ctx(): HandlerContext | null {
    return "ctx" in this.#state ? this.#state.ctx : null;
  }

  /** UTF8=ACCEPT enabled: mailbox names arrive as UTF-8 (RFC 6855). */
  get utf8Accept(): boolean {
    return this.#ctx?.enabled.has("UTF8=ACCEPT") ?? false;
  }

  get account(): ImapAccount | null {
    return this.#ctx?.account ?? null;
  }

  /** After a command that may select or unselect: the state the context's view says. */
  #settle(ctx: HandlerContext): void {
    const view = ctx.view;
    this.#state = view ? { name: "selected", ctx: Object.assign(ctx, { view }) } : { name: "authenticated", ctx };
  }

  #caps(): string {
    return capabilities({
      state: this.#state.name,
      tls: this.#tls !== null,
      allowPlaintext: this.#options.allowPlaintextAuth,
    }).join(" ");
  }

  greeting(): string {
    return `* OK [CAPABILITY ${this.#caps()}] ${this.#options.hostname} Postern IMAP ready\r\n`;
  }

  /** Idle timeout (RFC 9051 §5.4: at least 30 minutes) or shutdown. */
  interrupted(reason: "timeout" | "shutdown"): ImapStep {
    this.#state = { name: "logout", ctx: this.#ctx };
    return {
      out: [`* BYE ${reason === "timeout" ? "Autologout; idle for too long" : "Server shutting down"}\r\n`],
      action: { kind: "close" },
    };
  }

  /** An unparseable command: BAD with the tag when it could be read. */
  syntaxError(tag: string | null, message: string): ImapStep {
    return { out: [`${tag ?? "*"} BAD ${message}\r\n`], action: { kind: "continue" } };
  }

  /**
   * A well-formed command naming a mailbox that cannot exist (not valid modified UTF-7): NO, after
   * the same state check as any command (RFC 3501 §5.1.3).
   */
  refuseName(tag: string | null, name: ImapCommand["name"], message: string): ImapStep {
    if (tag === null || !allowed(this.#state.name, name)) {
      return this.syntaxError(tag, tag === null ? message : refusal(this.#state.name, name));
    }
    return this.#done(tag, [], no(message, "CANNOT"));
  }

  tlsStarted(tls: TlsInfo): void {
    this.#tls = tls;
  }

  /**
   * Runs one command. `flush` lets long responses (FETCH 1:*) go out in pieces; the server
   * writes whatever is in `out` when it is called.
   */
  async command(
    cmd: ImapCommand,
    flush: (out: Array<string | Uint8Array>) => Promise<void> = async () => {},
  ): Promise<ImapStep> {
    if (!allowed(this.#state.name, cmd.name)) {
      return this.#done(cmd.tag, [], bad(refusal(this.#state.name, cmd.name)));
    }
    const ctx = this.#ctx;
    this.#scratch = [];
    if (ctx) {
      ctx.out = [];
      ctx.currentTag = cmd.tag;
    }
    let completion: Completion;
    try {
      completion = await this.#dispatch(cmd, ctx, flush);
      if (ctx) await notifying.afterCommand(ctx, cmd.name);
    } catch (e) {
      // The cause goes to the log, never to the client (it may name files, SQL or internals).
      log.error("IMAP command failed", {
        command: cmd.name,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
      completion = no("Server error, try again later", "SERVERBUG");
    }
    if (cmd.name === "LOGOUT") {
      this.#state = { name: "logout", ctx: this.#ctx };
      return {
        out: [`* BYE ${this.#options.hostname} logging out\r\n`, `${cmd.tag} OK LOGOUT completed\r\n`],
        action: { kind: "close" },
      };
    }
    if (cmd.name === "STARTTLS" && completion.status === "OK") {
      return { out: [`${cmd.tag} OK Begin TLS negotiation now\r\n`], action: { kind: "starttls" } };
    }
    if (cmd.name === "COMPRESS" && completion.status === "OK") {
      this.#compressed = true;
      return { out: [...(ctx?.out ?? []), `${cmd.tag} OK DEFLATE active\r\n`], action: { kind: "compress" } };
    }
    if (cmd.name === "IDLE" && completion.status === "OK") {
      this.#idleTag = cmd.tag;
      return { out: ctx?.out ?? [], action: { kind: "idle" } };
    }
    if (this.#challenge !== null) {
      const challenge = this.#challenge;
      this.#challenge = null;
      return { out: [`+ ${challenge}\r\n`], action: { kind: "sasl" } };
    }
    const step = this.#done(cmd.tag, ctx?.out ?? this.#scratch, completion);
    if (this.#closing) {
      return { out: [...step.out, "* BYE Too many authentication failures\r\n"], action: { kind: "close" } };
    }
    return step;
  }

  #done(tag: string, out: Array<string | Uint8Array>, c: Completion): ImapStep {
    const code = c.code ? `[${c.code}] ` : "";
    return { out: [...out, `${tag} ${c.status} ${code}${c.text}\r\n`], action: { kind: "continue" } };
  }

  async #dispatch(
    cmd: ImapCommand,
    ctx: HandlerContext | null,
    flush: (out: Array<string | Uint8Array>) => Promise<void>,
  ): Promise<Completion> {
    // Commands of any state (RFC 9051 §6.1).
    switch (cmd.name) {
      case "CAPABILITY":
        (ctx?.out ?? this.#scratch).push(`* CAPABILITY ${this.#caps()}\r\n`);
        return ok("CAPABILITY completed");
      case "NOOP":
        if (ctx) await refresh(ctx, true);
        return ok("NOOP completed");
      case "LOGOUT":
        return ok("LOGOUT completed");
      case "ID":
        (ctx?.out ?? this.#scratch).push(`* ID ("name" "Postern")\r\n`);
        return ok("ID completed");
    }
    const state = this.#state;
    if (state.name === "not-authenticated") return this.#notAuthenticated(cmd, state);
    if (state.name === "logout") return bad("Logging out");
    return loggedIn(cmd, state.ctx, {
      flush,
      settle: (ctx) => this.#settle(ctx),
      compressed: this.#compressed,
      state: state.name,
    });
  }

  /** RFC 9051 §6.2: STARTTLS, LOGIN, AUTHENTICATE. */
  #notAuthenticated(
    cmd: ImapCommand,
    state: Extract<SessionState, { name: "not-authenticated" }>,
  ): Promise<Completion> {
    switch (cmd.name) {
      case "STARTTLS":
        return Promise.resolve(this.#tls ? bad("TLS is already active") : ok(""));
      case "LOGIN":
        if (!this.#tls && !this.#options.allowPlaintextAuth) {
          return Promise.resolve(no("Use STARTTLS first", "PRIVACYREQUIRED"));
        }
        return this.#login(passwordStep(cmd.username, cmd.password));
      case "AUTHENTICATE": {
        const sasl = startSasl(cmd.mechanism, ["PLAIN"], cmd.initialResponse);
        if (!sasl) return Promise.resolve(no("Only AUTHENTICATE PLAIN is offered", "CANNOT"));
        if (!this.#tls && !this.#options.allowPlaintextAuth) {
          return Promise.resolve(no("Use STARTTLS first", "PRIVACYREQUIRED"));
        }
        state.sasl = { tag: cmd.tag, exchange: sasl.exchange };
        return this.#login(sasl.step);
      }
      default:
        // The state table let through only the commands above.
        return Promise.resolve(bad(refusal(state.name, cmd.name)));
    }
  }

  /** The client's answer to an AUTHENTICATE continuation. */
  async saslResponse(line: string): Promise<ImapStep> {
    const state = this.#state;
    if (state.name !== "not-authenticated" || !state.sasl) return this.syntaxError(null, "No AUTHENTICATE in progress");
    const tag = state.sasl.tag;
    const completion = await this.#login(state.sasl.exchange.respond(line));
    if (this.#challenge !== null) {
      const challenge = this.#challenge;
      this.#challenge = null;
      return { out: [`+ ${challenge}\r\n`], action: { kind: "sasl" } };
    }
    const done = this.#done(tag, [], completion);
    if (this.#closing) {
      return { out: [...done.out, "* BYE Too many authentication failures\r\n"], action: { kind: "close" } };
    }
    return done;
  }

  /**
   * One step of LOGIN or AUTHENTICATE. A challenge is left in `#challenge` for the caller to send
   * as a continuation; anything else ends the exchange.
   */
  async #login(step: SaslStep): Promise<Completion> {
    const state = this.#state;
    if (state.name !== "not-authenticated") return bad("Already logged in");
    const outcome = await loginStep(step, {
      verify: (username, password) =>
        this.#backend.authenticate(username, password, { remoteAddress: this.#options.remoteAddress, tls: this.#tls }),
      failures: state.authFailures,
      maxFailures: this.#options.maxAuthFailures,
    });
    if (outcome.kind === "challenge") {
      this.#challenge = outcome.challenge;
      return ok("");
    }
    state.sasl = null;
    switch (outcome.kind) {
      case "cancelled":
        return bad("AUTHENTICATE cancelled");
      case "malformed":
        return bad("Malformed AUTHENTICATE response");
      case "failed":
        state.authFailures = outcome.failures;
        if (outcome.close) this.#closing = true;
        return no("Authentication failed", "AUTHENTICATIONFAILED");
      case "authenticated": {
        const account = outcome.account;
        const ctx = {
          backend: this.#backend,
          account,
          view: null,
          enabled: new Set<string>(),
          out: [],
          currentTag: "",
          maxMessageSize: this.#options.maxMessageSize ?? Infinity,
          notify: null,
        };
        this.#state = { name: "authenticated", ctx };
        return ok(`Logged in as ${account.address}`, `CAPABILITY ${this.#caps()}`);
      }
    }
  }

  /** NOTIFY SET is in force: the server reports changes between commands too (RFC 5465 §4). */
  get notifying(): boolean {
    return this.#ctx?.notify != null;
  }

  /** Changes arrived between commands with NOTIFY SET: the untagged responses to send (RFC 5465 §5). */
  notifyUpdate(): Promise<Array<string | Uint8Array>> {
    const ctx = this.#ctx;
    return ctx ? notifying.notifyUpdate(ctx) : Promise.resolve([]);
  }

  /** Changes arrived while idling: the untagged responses to send (RFC 2177; with NOTIFY, what it asks, §4). */
  async idleUpdate(): Promise<Array<string | Uint8Array>> {
    const ctx = this.#ctx;
    if (!ctx) return [];
    if (ctx.notify) return await notifying.notifyUpdate(ctx);
    ctx.out = [];
    await refresh(ctx, true);
    return ctx.out;
  }

  idleDone(): ImapStep {
    const tag = this.#idleTag!;
    this.#idleTag = null;
    return { out: [`${tag} OK IDLE terminated\r\n`], action: { kind: "continue" } };
  }

  /** Subscribes to the account's changes (for IDLE); returns the unsubscribe function. */
  watch(listener: () => void): () => void {
    const account = this.account;
    return account ? this.#backend.watch(account, listener) : () => {};
  }
}
