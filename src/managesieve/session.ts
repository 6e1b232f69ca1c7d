/**
 * The ManageSieve session (RFC 5804) as a state machine without I/O: `server.ts` reads commands with the
 * `CommandReader` and carries out the actions this returns.
 */
import { SessionLogin, startSasl } from "../auth/login.ts";
import type { SaslExchange, SaslStep } from "../auth/sasl.ts";
import type { TlsInfo } from "../connection.ts";
import { CAPABILITIES } from "../sieve/index.ts";
import { log } from "../util/log.ts";
import type { ManageSieveBackend, ScriptResult, SieveAccount } from "./backend.ts";
import { type Argument, parseArguments, type RawCommand } from "./reader.ts";
import { response, sieveString } from "./response.ts";

export interface ManageSieveSessionOptions {
  hostname: string;
  remoteAddress: string;
  tls: TlsInfo | null;
  allowPlaintextAuth: boolean;
  maxAuthFailures: number;
  /** Refused commands before the session is closed. */
  maxErrors: number;
  /** RFC 5804 §1.7 MAXREDIRECTS: the redirects one script run may make. */
  maxRedirects: number;
}

export type ManageSieveAction = { kind: "continue" } | { kind: "starttls" } | { kind: "close" };

export interface ManageSieveStep {
  /** Response text with its CRLFs. */
  output: string;
  action: ManageSieveAction;
}

/** RFC 5804 §2: before and after AUTHENTICATE; LOGOUT ends the session. */
type State =
  | { name: "non-authenticated"; sasl: SaslExchange | null }
  | { name: "authenticated"; account: SieveAccount }
  | { name: "logout" };

const COMMANDS = [
  "AUTHENTICATE",
  "STARTTLS",
  "LOGOUT",
  "CAPABILITY",
  "HAVESPACE",
  "PUTSCRIPT",
  "LISTSCRIPTS",
  "SETACTIVE",
  "GETSCRIPT",
  "DELETESCRIPT",
  "RENAMESCRIPT",
  "CHECKSCRIPT",
  "NOOP",
  "UNAUTHENTICATE",
] as const;
type Command = (typeof COMMANDS)[number];

/** The commands each state allows, checked once before dispatch. */
const ALLOWED: Record<"non-authenticated" | "authenticated", readonly Command[]> = {
  "non-authenticated": ["AUTHENTICATE", "STARTTLS", "LOGOUT", "CAPABILITY", "NOOP"],
  authenticated: [
    "LOGOUT",
    "CAPABILITY",
    "NOOP",
    "HAVESPACE",
    "PUTSCRIPT",
    "LISTSCRIPTS",
    "SETACTIVE",
    "GETSCRIPT",
    "DELETESCRIPT",
    "RENAMESCRIPT",
    "CHECKSCRIPT",
    "UNAUTHENTICATE",
  ],
};

/** Each command's arguments: s a string, n a number, s? an optional trailing string (RFC 5804 §2). */
const SIGNATURES: Record<Command, readonly ("s" | "n" | "s?")[]> = {
  AUTHENTICATE: ["s", "s?"],
  STARTTLS: [],
  LOGOUT: [],
  CAPABILITY: [],
  HAVESPACE: ["s", "n"],
  PUTSCRIPT: ["s", "s"],
  LISTSCRIPTS: [],
  SETACTIVE: ["s"],
  GETSCRIPT: ["s"],
  DELETESCRIPT: ["s"],
  RENAMESCRIPT: ["s", "s"],
  CHECKSCRIPT: ["s"],
  NOOP: ["s?"],
  UNAUTHENTICATE: [],
};

const MECHANISMS = ["PLAIN", "LOGIN"] as const;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Command arguments, checked against the signature: strings as UTF-8 text, numbers as numbers. */
type Values = Array<string | number>;

export class ManageSieveSession {
  #options: ManageSieveSessionOptions;
  #backend: ManageSieveBackend;
  #state: State = { name: "non-authenticated", sasl: null };
  #tls: TlsInfo | null;
  #errors = 0;
  #logins: SessionLogin<SieveAccount>;

  constructor(options: ManageSieveSessionOptions, backend: ManageSieveBackend) {
    this.#options = options;
    this.#backend = backend;
    this.#tls = options.tls;
    this.#logins = new SessionLogin(backend, options, () => this.#tls);
  }

  get state(): State["name"] {
    return this.#state.name;
  }

  /** RFC 5804 §1.7: the server greets with its capabilities. */
  greeting(): string {
    return this.#capabilities() + response("OK", `${this.#options.hostname} ManageSieve ready`);
  }

  /** RFC 5804 §2.2: after the TLS handshake the server sends its capabilities again, unasked. */
  tlsStarted(tls: TlsInfo): string {
    this.#tls = tls;
    this.#state = { name: "non-authenticated", sasl: null };
    return this.#capabilities() + response("OK", "TLS negotiation successful");
  }

  interrupted(reason: "timeout" | "shutdown"): ManageSieveStep {
    this.#state = { name: "logout" };
    const text = reason === "shutdown"
      ? response("BYE", "Server shutting down", "TRYLATER")
      : response("BYE", "Disconnected for inactivity");
    return { output: text, action: { kind: "close" } };
  }

  /** A command the reader refused (too long, a literal too large, NUL); counted as an error. */
  refuse(message: string, tooBig = false): ManageSieveStep {
    if (this.#state.name === "non-authenticated") this.#state = { ...this.#state, sasl: null };
    return tooBig && this.#state.name === "authenticated"
      ? this.#no("Script too large", "QUOTA/MAXSIZE")
      : this.#error(message);
  }

  async command(raw: RawCommand): Promise<ManageSieveStep> {
    const args = parseArguments(raw);
    if (this.#state.name === "non-authenticated" && this.#state.sasl) {
      // RFC 5804 §2.1: a SASL response is one string on its own line.
      const sasl = this.#state.sasl;
      const answer = typeof args === "string" || args.length !== 1 ? undefined : args[0];
      if (answer?.kind !== "string") {
        this.#state.sasl = null;
        return this.#error("Expected a SASL response string");
      }
      const text = text8(answer.bytes);
      if (text === null) {
        this.#state.sasl = null;
        return this.#error("The SASL response is not UTF-8");
      }
      return this.#login(sasl.respond(text));
    }
    if (typeof args === "string") return this.#error(args);
    const [word, ...rest] = args;
    if (!word || word.kind !== "atom") return this.#error("Expected a command name");
    const command = word.text.toUpperCase() as Command;
    if (!COMMANDS.includes(command)) return this.#error(`Unknown command ${word.text.slice(0, 30)}`);
    if (this.#state.name === "logout") return { output: "", action: { kind: "close" } };
    if (!ALLOWED[this.#state.name].includes(command)) {
      const where = this.#state.name === "authenticated" ? "after authentication" : "before authentication";
      return this.#error(`${command} is not allowed ${where}`);
    }
    const values = checkArguments(command, rest);
    if (typeof values === "string") return this.#error(values);
    try {
      return await this.#dispatch(command, values);
    } catch (e) {
      log.error("ManageSieve command failed", {
        command,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
      return this.#no("The server could not do that now; try again later", "TRYLATER");
    }
  }

  async #dispatch(command: Command, values: Values): Promise<ManageSieveStep> {
    const account = this.#state.name === "authenticated" ? this.#state.account : null;
    const [a, b] = values as [string, string | number];
    switch (command) {
      case "CAPABILITY":
        return this.#reply(this.#capabilities() + response("OK", "Capability completed"));
      case "NOOP":
        // RFC 5804 §2.15: the optional argument comes back in a TAG response code.
        return this.#reply(response("OK", "Done", a === undefined ? undefined : "TAG", a));
      case "LOGOUT":
        this.#state = { name: "logout" };
        return { output: response("OK", "Logout complete"), action: { kind: "close" } };
      case "STARTTLS":
        if (this.#tls) return this.#no("TLS is already active");
        return { output: response("OK", "Begin TLS negotiation now"), action: { kind: "starttls" } };
      case "AUTHENTICATE":
        return this.#authenticate(a, b as string | undefined);
      case "UNAUTHENTICATE":
        // RFC 5804 §2.14: back to the non-authenticated state, TLS kept.
        this.#state = { name: "non-authenticated", sasl: null };
        return this.#reply(response("OK", "Unauthenticated"));
      case "LISTSCRIPTS": {
        const scripts = await this.#backend.list(account!);
        const lines = scripts.map((s) => `${sieveString(s.name)}${s.active ? " ACTIVE" : ""}\r\n`).join("");
        return this.#reply(lines + response("OK", "Listscripts completed"));
      }
      case "GETSCRIPT": {
        const content = await this.#backend.get(account!, a);
        if (content === null) return this.#refusal({ kind: "nonexistent" }, a);
        // RFC 5804 §2.9: the script always comes as a literal, then CRLF and OK.
        const size = new TextEncoder().encode(content).length;
        return this.#reply(`{${size}}\r\n${content}\r\n${response("OK", "Getscript completed")}`);
      }
      case "HAVESPACE":
        return this.#done(await this.#backend.haveSpace(account!, a, b as number), a, "Putscript would succeed");
      case "PUTSCRIPT":
        return this.#done(await this.#backend.put(account!, a, b as string), a, "Putscript completed");
      case "CHECKSCRIPT":
        return this.#done(this.#backend.check(a), "", "Script is valid");
      case "SETACTIVE":
        // RFC 5804 §2.8: the empty name deactivates every script.
        return this.#done(await this.#backend.activate(account!, a === "" ? null : a), a, "Setactive completed");
      case "DELETESCRIPT":
        return this.#done(await this.#backend.delete(account!, a), a, "Deletescript completed");
      case "RENAMESCRIPT":
        return this.#done(
          await this.#backend.rename(account!, a, b as string),
          a,
          "Renamescript completed",
          b as string,
        );
    }
  }

  #capabilities(): string {
    const plaintext = this.#tls !== null || this.#options.allowPlaintextAuth;
    const lines: Array<[string, string?]> = [["IMPLEMENTATION", "Postern"]];
    // RFC 5804 §1.7: SASL lists what may be used now (none without TLS); OWNER only once authenticated.
    if (this.#state.name !== "authenticated") lines.push(["SASL", plaintext ? MECHANISMS.join(" ") : ""]);
    lines.push(["SIEVE", CAPABILITIES.join(" ")]);
    if (!this.#tls && this.#state.name !== "authenticated") lines.push(["STARTTLS"]);
    lines.push(["MAXREDIRECTS", String(this.#options.maxRedirects)]);
    if (this.#state.name === "authenticated") lines.push(["OWNER", this.#state.account.address]);
    lines.push(["UNAUTHENTICATE"], ["VERSION", "1.0"]);
    return lines.map(([name, value]) => `"${name}"${value === undefined ? "" : ` ${sieveString(value)}`}\r\n`).join(
      "",
    );
  }

  async #authenticate(mechanism: string, initial: string | undefined): Promise<ManageSieveStep> {
    if (this.#tls === null && !this.#options.allowPlaintextAuth) {
      return this.#no("Authentication needs TLS; use STARTTLS", "ENCRYPT-NEEDED");
    }
    const sasl = startSasl(mechanism.toUpperCase(), MECHANISMS, initial === "" ? "=" : initial);
    if (!sasl) return this.#no(`Unsupported mechanism ${mechanism.slice(0, 30)}`);
    (this.#state as Extract<State, { name: "non-authenticated" }>).sasl = sasl.exchange;
    return this.#login(sasl.step);
  }

  /** One step of AUTHENTICATE; a challenge is sent as a string and the exchange goes on (RFC 5804 §2.1). */
  async #login(step: SaslStep): Promise<ManageSieveStep> {
    const state = this.#state as Extract<State, { name: "non-authenticated" }>;
    const outcome = await this.#logins.step(step);
    if (outcome.kind === "challenge") return this.#reply(`${sieveString(outcome.challenge)}\r\n`);
    state.sasl = null;
    if (outcome.kind === "refused") {
      if (!outcome.close) return this.#no(outcome.text);
      this.#state = { name: "logout" };
      return { output: response("BYE", `${outcome.text}; too many failures`), action: { kind: "close" } };
    }
    this.#state = { name: "authenticated", account: outcome.account };
    return this.#reply(response("OK", "Authenticated"));
  }

  /** OK with `text`, or the refusal's NO. */
  #done(result: ScriptResult, name: string, text: string, newName?: string): ManageSieveStep {
    return result.kind === "ok" ? this.#reply(response("OK", text)) : this.#refusal(result, name, newName);
  }

  #refusal(result: Exclude<ScriptResult, { kind: "ok" }>, name: string, newName = ""): ManageSieveStep {
    const { limits } = this.#backend;
    switch (result.kind) {
      case "bad-name":
        return this.#no("Invalid script name: 1 to 128 characters, no control characters or /");
      case "invalid":
        return this.#no(result.message);
      case "too-big":
        return this.#no(`Scripts are limited to ${limits.maxSize} bytes`, "QUOTA/MAXSIZE");
      case "too-many":
        return this.#no(`An account may keep at most ${limits.maxScripts} scripts`, "QUOTA/MAXSCRIPTS");
      case "nonexistent":
        return this.#no(`There is no script named ${name}`, "NONEXISTENT");
      case "exists":
        return this.#no(`A script named ${newName} already exists`, "ALREADYEXISTS");
      case "active":
        return this.#no(`Script ${name} is active; deactivate it first`, "ACTIVE");
    }
  }

  #reply(output: string): ManageSieveStep {
    return { output, action: { kind: "continue" } };
  }

  #no(text: string, code?: Parameters<typeof response>[2]): ManageSieveStep {
    return this.#reply(response("NO", text, code));
  }

  /** A command refused as wrong (syntax, unknown, out of state); too many end the session. */
  #error(text: string): ManageSieveStep {
    if (++this.#errors >= this.#options.maxErrors) {
      this.#state = { name: "logout" };
      return { output: response("NO", text) + response("BYE", "Too many errors"), action: { kind: "close" } };
    }
    return this.#no(text);
  }
}

function text8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The arguments as the command's signature wants them, or why not. */
function checkArguments(command: Command, args: Argument[]): Values | string {
  const signature = SIGNATURES[command];
  const required = signature.filter((s) => s !== "s?").length;
  if (args.length < required || args.length > signature.length) {
    return `${command} takes ${required === signature.length ? required : `${required} or ${signature.length}`} ${
      signature.length === 1 ? "argument" : "arguments"
    }`;
  }
  const values: Values = [];
  for (const [i, arg] of args.entries()) {
    if (signature[i] === "n") {
      // RFC 5804 §4: number = 1*DIGIT, at most 4294967295.
      if (arg.kind !== "atom" || !/^\d{1,10}$/.test(arg.text) || Number(arg.text) > 4294967295) {
        return `${command} argument ${i + 1} must be a number`;
      }
      values.push(Number(arg.text));
    } else {
      if (arg.kind !== "string") return `${command} argument ${i + 1} must be a string`;
      const text = text8(arg.bytes);
      if (text === null) return `${command} argument ${i + 1} is not UTF-8`;
      values.push(text);
    }
  }
  return values;
}
