/**
 * The POP3 session (RFC 1939, CAPA RFC 2449, STLS RFC 2595, AUTH RFC 5034) as a state machine
 * without I/O. `server.ts` feeds it lines and carries out its actions.
 */
import { log } from "../util/log.ts";
import { passwordStep, SessionLogin, startSasl } from "../auth/login.ts";
import type { SaslExchange, SaslStep } from "../auth/sasl.ts";
import type { LineResult, TlsInfo } from "../connection.ts";
import { dotStuff } from "../mime/dot-stuffing.ts";
import { splitHeaderBody } from "../mime/header.ts";
import type { Maildrop, Pop3Account, Pop3Backend } from "./backend.ts";

export interface Pop3SessionOptions {
  hostname: string;
  remoteAddress: string;
  tls: TlsInfo | null;
  allowPlaintextAuth: boolean;
  maxAuthFailures: number;
  /** -ERR replies before the session is closed. */
  maxErrors: number;
}

export type Pop3Action = { kind: "read-command" } | { kind: "starttls" } | { kind: "close" };

export interface Pop3Step {
  /** Text lines (CRLF added by the server) or already-framed bytes (multi-line bodies). */
  output: Array<string | Uint8Array>;
  action: Pop3Action;
}

/** RFC 1939 §3: AUTHORIZATION, TRANSACTION; UPDATE happens inside QUIT. */
type State =
  | { name: "authorization"; user: string | null; sasl: SaslExchange | null }
  | { name: "transaction"; account: Pop3Account; maildrop: Maildrop; deleted: Set<number> }
  | { name: "closed" };

const COMMANDS = [
  "CAPA",
  "USER",
  "PASS",
  "AUTH",
  "STLS",
  "STAT",
  "LIST",
  "RETR",
  "DELE",
  "NOOP",
  "RSET",
  "QUIT",
  "TOP",
  "UIDL",
] as const;
type Command = (typeof COMMANDS)[number];

/** The commands each state allows, checked once before dispatch. */
const ALLOWED: Record<"authorization" | "transaction", readonly Command[]> = {
  authorization: ["CAPA", "USER", "PASS", "AUTH", "STLS", "QUIT"],
  transaction: ["CAPA", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "QUIT", "TOP", "UIDL"],
};

export class Pop3Session {
  #options: Pop3SessionOptions;
  #backend: Pop3Backend;
  #state: State = { name: "authorization", user: null, sasl: null };
  #tls: TlsInfo | null;
  #errors = 0;
  #logins: SessionLogin<Pop3Account>;

  constructor(options: Pop3SessionOptions, backend: Pop3Backend) {
    this.#options = options;
    this.#backend = backend;
    this.#tls = options.tls;
    this.#logins = new SessionLogin(backend, options, () => this.#tls);
  }

  /** RFC 1939 §3: "authorization", "transaction", or "closed" once the session ended. */
  get state(): State["name"] {
    return this.#state.name;
  }

  greeting(): string {
    return `+OK ${this.#options.hostname} POP3 server ready`;
  }

  get #plaintextAllowed(): boolean {
    return this.#tls !== null || this.#options.allowPlaintextAuth;
  }

  /** Timeout: close without UPDATE (RFC 1939 §3); shutdown: say so first. */
  interrupted(reason: "timeout" | "shutdown"): Pop3Step {
    void this.release();
    return { output: reason === "shutdown" ? ["-ERR [SYS/TEMP] Server shutting down"] : [], action: { kind: "close" } };
  }

  tlsStarted(tls: TlsInfo): void {
    this.#tls = tls;
    this.#state = { name: "authorization", user: null, sasl: null };
  }

  /**
   * Unlocks the maildrop if the session holds one; deletions are not applied. Settles once the
   * lock is gone, so a client told "+OK" at QUIT can open the maildrop again at once.
   */
  async release(): Promise<void> {
    const state = this.#state;
    this.#state = { name: "closed" };
    if (state.name === "transaction") await state.maildrop.release();
  }

  async line(line: LineResult): Promise<Pop3Step> {
    if (line.kind === "too-long") {
      // An over-long SASL response ends the exchange, so the next line is a command again.
      if (this.#state.name === "authorization" && this.#state.sasl) this.#state = { ...this.#state, sasl: null };
      return this.#err("Line too long");
    }
    const text = new TextDecoder().decode(line.bytes);
    if (this.#state.name === "authorization" && this.#state.sasl) return this.#login(this.#state.sasl.respond(text));

    const [word = "", ...args] = text.split(" ");
    const command = word.toUpperCase() as Command;
    if (!COMMANDS.includes(command)) return this.#err("Unknown command");
    if (this.#state.name === "closed") return { output: [], action: { kind: "close" } };
    if (!ALLOWED[this.#state.name].includes(command)) {
      return this.#err(`${command} is not allowed in the ${this.#state.name.toUpperCase()} state`);
    }
    return this.#dispatch(command, args);
  }

  async #dispatch(command: Command, args: string[]): Promise<Pop3Step> {
    switch (command) {
      case "CAPA":
        return this.#ok("Capability list follows", ...this.#capabilities(), ".");
      case "QUIT":
        return this.#quit();
      case "STLS":
        if (this.#tls) return this.#err("TLS is already active");
        return { output: ["+OK Begin TLS negotiation"], action: { kind: "starttls" } };
      case "USER":
        return this.#user(args);
      case "PASS":
        return this.#pass(args.join(" "));
      case "AUTH":
        return this.#auth(args);
      default:
        return this.#transaction(command, args);
    }
  }

  #capabilities(): string[] {
    const caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"];
    if (this.#state.name === "authorization") {
      if (this.#plaintextAllowed) caps.push("USER", "SASL PLAIN");
      if (!this.#tls) caps.push("STLS");
    }
    caps.push("IMPLEMENTATION Postern");
    return caps;
  }

  #user(args: string[]): Pop3Step {
    const state = this.#state as Extract<State, { name: "authorization" }>;
    if (!this.#plaintextAllowed) {
      return this.#err("[AUTH] Plaintext authentication is not allowed without TLS; use STLS");
    }
    if (args.length !== 1 || !args[0]) return this.#err("USER needs one argument");
    state.user = args[0];
    return this.#ok("Send PASS");
  }

  async #pass(password: string): Promise<Pop3Step> {
    const state = this.#state as Extract<State, { name: "authorization" }>;
    if (!state.user) return this.#err("Send USER first");
    const user = state.user;
    state.user = null;
    return this.#login(passwordStep(user, password));
  }

  async #auth(args: string[]): Promise<Pop3Step> {
    const state = this.#state as Extract<State, { name: "authorization" }>;
    if (!this.#plaintextAllowed) return this.#err("[AUTH] Authentication is not allowed without TLS; use STLS");
    const mechanism = args[0]?.toUpperCase();
    if (!mechanism) return this.#ok("Supported mechanisms follow", "PLAIN", ".");
    const sasl = startSasl(mechanism, ["PLAIN"], args[1]);
    if (!sasl) return this.#err("Unrecognized authentication type");
    state.sasl = sasl.exchange;
    return this.#login(sasl.step);
  }

  /** One step of USER/PASS or AUTH; a challenge keeps the exchange going. */
  async #login(step: SaslStep): Promise<Pop3Step> {
    const state = this.#state as Extract<State, { name: "authorization" }>;
    const outcome = await this.#logins.step(step);
    if (outcome.kind === "challenge") return { output: [`+ ${outcome.challenge}`], action: { kind: "read-command" } };
    state.sasl = null;
    if (outcome.kind === "refused") {
      // RFC 3206 §4: [AUTH] marks a failure of the credentials, not of the exchange.
      const text = outcome.reason === "failed" ? `[AUTH] ${outcome.text}` : outcome.text;
      if (outcome.close) return { output: [`-ERR ${text}; too many failures, closing`], action: { kind: "close" } };
      return this.#err(text);
    }
    const account = outcome.account;
    let maildrop: Maildrop | "in-use";
    try {
      maildrop = await this.#backend.openMaildrop(account);
    } catch (e) {
      log.error("POP3 maildrop failed to open", { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      return this.#err("[SYS/TEMP] Cannot open the maildrop now, try again later");
    }
    if (maildrop === "in-use") return this.#err("[IN-USE] Maildrop already locked by another session");
    this.#state = { name: "transaction", account, maildrop, deleted: new Set() };
    const total = maildrop.messages.reduce((n, m) => n + m.size, 0);
    return this.#ok(`Maildrop has ${maildrop.messages.length} messages (${total} octets)`);
  }

  async #transaction(command: Command, args: string[]): Promise<Pop3Step> {
    const state = this.#state as Extract<State, { name: "transaction" }>;
    const { messages } = state.maildrop;
    const live = () => messages.map((m, i) => ({ ...m, n: i + 1 })).filter((m) => !state.deleted.has(m.n - 1));
    switch (command) {
      case "STAT": {
        const list = live();
        return this.#ok(`${list.length} ${list.reduce((n, m) => n + m.size, 0)}`);
      }
      case "NOOP":
        return this.#ok("");
      case "RSET":
        state.deleted.clear();
        return this.#ok(`Maildrop has ${messages.length} messages`);
      case "LIST":
      case "UIDL": {
        const show = (m: { n: number; size: number; uidl: string }) => `${m.n} ${command === "LIST" ? m.size : m.uidl}`;
        if (args.length === 0) {
          return this.#ok(command === "LIST" ? `${live().length} messages` : "", ...live().map(show), ".");
        }
        const index = this.#message(args[0]!, state);
        if (typeof index !== "number") return index;
        return this.#ok(show({ ...messages[index]!, n: index + 1 }));
      }
      case "DELE": {
        const index = this.#message(args[0], state);
        if (typeof index !== "number") return index;
        state.deleted.add(index);
        return this.#ok(`Message ${index + 1} deleted`);
      }
      case "RETR":
      case "TOP": {
        const index = this.#message(args[0], state);
        if (typeof index !== "number") return index;
        let lines: number | undefined;
        if (command === "TOP") {
          if (args.length !== 2 || !/^\d{1,9}$/.test(args[1]!)) {
            return this.#err("TOP needs a message number and a line count");
          }
          lines = Number(args[1]);
        } else if (args.length !== 1) return this.#err("RETR needs one message number");
        let bytes: Uint8Array;
        try {
          bytes = await state.maildrop.read(index);
          if (command === "RETR") await state.maildrop.markSeen(index);
        } catch (e) {
          log.error("POP3 read failed", { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
          return this.#err("[SYS/TEMP] Cannot read the message now");
        }
        const content = lines === undefined ? bytes : top(bytes, lines);
        return {
          output: [
            `+OK ${command === "RETR" ? `${bytes.length} octets` : "Top of message follows"}`,
            dotStuff(content),
          ],
          action: { kind: "read-command" },
        };
      }
      default:
        return this.#err("Unknown command");
    }
  }

  /** A message number that exists and is not deleted (RFC 1939 §5), as a 0-based index. */
  #message(arg: string | undefined, state: Extract<State, { name: "transaction" }>): number | Pop3Step {
    if (!arg || !/^\d{1,9}$/.test(arg)) return this.#err("Give a message number");
    const index = Number(arg) - 1;
    if (index < 0 || index >= state.maildrop.messages.length) return this.#err("No such message");
    if (state.deleted.has(index)) return this.#err("Message is deleted");
    return index;
  }

  async #quit(): Promise<Pop3Step> {
    const state = this.#state;
    if (state.name !== "transaction") {
      this.#state = { name: "closed" };
      return { output: [`+OK ${this.#options.hostname} POP3 server signing off`], action: { kind: "close" } };
    }
    const deleted = [...state.deleted];
    try {
      // RFC 1939 §6: the UPDATE state; all deletions or none.
      await state.maildrop.commit(deleted);
    } catch (e) {
      log.error("POP3 update failed", { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      await this.release();
      return { output: ["-ERR [SYS/TEMP] Some deleted messages were not removed"], action: { kind: "close" } };
    }
    await this.release();
    return {
      output: [`+OK ${this.#options.hostname} POP3 server signing off (${deleted.length} messages deleted)`],
      action: { kind: "close" },
    };
  }

  #ok(first: string, ...more: string[]): Pop3Step {
    return { output: [first ? `+OK ${first}` : "+OK", ...more], action: { kind: "read-command" } };
  }

  #err(text: string): Pop3Step {
    if (++this.#errors >= this.#options.maxErrors) {
      void this.release();
      return { output: [`-ERR ${text}`, "-ERR Too many errors, closing connection"], action: { kind: "close" } };
    }
    return { output: [`-ERR ${text}`], action: { kind: "read-command" } };
  }
}

/** The header, the blank line and the first `lines` body lines (RFC 1939 §7 TOP). */
function top(bytes: Uint8Array, lines: number): Uint8Array {
  let at = splitHeaderBody(bytes).bodyStart;
  for (let n = 0; n < lines && at < bytes.length; n++) {
    const lf = bytes.indexOf(0x0a, at);
    at = lf === -1 ? bytes.length : lf + 1;
  }
  return bytes.subarray(0, at);
}
