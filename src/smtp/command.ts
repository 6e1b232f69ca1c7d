/**
 * One SMTP command line to a typed command (RFC 5321 §4.1.1, with the parameters of SIZE
 * RFC 1870, 8BITMIME RFC 6152, SMTPUTF8 RFC 6531, DSN RFC 3461, CHUNKING RFC 3030, AUTH RFC 4954).
 * Errors are reply values, never exceptions.
 */
import { type Mailbox, parsePath } from "./path.ts";
import { type Reply, reply } from "./reply.ts";
import { decodePrintableXtext, isAddrType } from "./xtext.ts";

export type SmtpCommand =
  | { verb: "EHLO" | "HELO"; domain: string }
  | { verb: "MAIL"; from: Mailbox | null; params: MailParams }
  | { verb: "RCPT"; to: Mailbox; params: RcptParams }
  | { verb: "DATA" }
  | { verb: "RSET" }
  | { verb: "NOOP" }
  | { verb: "QUIT" }
  | { verb: "STARTTLS" }
  | { verb: "BDAT"; size: number; last: boolean }
  | { verb: "HELP"; topic?: string }
  | { verb: "VRFY"; argument: string }
  | { verb: "EXPN"; argument: string }
  | { verb: "AUTH"; mechanism: string; initialResponse?: string };

export interface MailParams {
  size?: number;
  body?: "7BIT" | "8BITMIME" | "BINARYMIME";
  smtputf8: boolean;
  ret?: "FULL" | "HDRS";
  envid?: string;
  auth?: string;
}

export interface RcptParams {
  notify?: Array<"SUCCESS" | "FAILURE" | "DELAY"> | "NEVER";
  orcpt?: { addrType: string; address: string };
}

export type ParsedCommand = { ok: true; command: SmtpCommand } | { ok: false; reply: Reply };

const syntax = (why: string): ParsedCommand => ({ ok: false, reply: reply(501, "5.5.4", `Syntax error: ${why}`) });
const badParam = (why: string): ParsedCommand => ({ ok: false, reply: reply(555, "5.5.4", why) });
const ok = (command: SmtpCommand): ParsedCommand => ({ ok: true, command });
/** Postfix's wording and code for a bad ENVID, ORCPT or AUTH value. */
const badXtext = (name: string): ParsedCommand => ({
  ok: false,
  reply: reply(501, "5.5.4", `Bad ${name} parameter syntax`),
});

/** A decoded address as MAIL and RCPT would accept it, with nothing after it. */
function isAddrSpec(text: string): boolean {
  const path = parsePath(`<${text}>`);
  return path.ok && path.mailbox !== null && path.rest === "";
}

/** RFC 3461 §4.2: `addr-type ";" xtext`, at most 500 characters; an rfc822 address must be one. */
function parseOrcpt(value: string): RcptParams["orcpt"] | null {
  if (value.length > 500) return null;
  const semi = value.indexOf(";");
  const addrType = value.slice(0, semi);
  if (semi <= 0 || !isAddrType(addrType)) return null;
  const address = decodePrintableXtext(value.slice(semi + 1));
  if (!address) return null;
  if (addrType.toLowerCase() === "rfc822" && !isAddrSpec(address)) return null;
  return { addrType, address };
}

export function parseCommand(line: string): ParsedCommand {
  const space = line.indexOf(" ");
  const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const arg = space === -1 ? "" : line.slice(space + 1);
  switch (verb) {
    case "EHLO":
    case "HELO": {
      const domain = arg.trim();
      // Control characters (CR, LF, NUL, ...) never belong in a domain; the name goes into Received: and logs.
      if (!domain || /[\x00-\x20\x7f]/.test(domain)) return syntax(`${verb} needs one domain or address literal`);
      return ok({ verb, domain });
    }
    case "MAIL":
      return parseMail(arg);
    case "RCPT":
      return parseRcpt(arg);
    case "DATA":
    case "RSET":
    case "QUIT":
    case "STARTTLS":
      return arg.trim() ? syntax(`${verb} takes no argument`) : ok({ verb });
    case "NOOP":
      return ok({ verb });
    case "HELP":
      return ok(arg.trim() ? { verb, topic: arg.trim() } : { verb });
    case "VRFY":
    case "EXPN":
      return arg.trim() ? ok({ verb, argument: arg.trim() }) : syntax(`${verb} needs an argument`);
    case "BDAT": {
      const m = /^(\d{1,15})(?: +(LAST))? *$/i.exec(arg);
      if (!m) return syntax("BDAT needs a chunk size and optionally LAST");
      return ok({ verb, size: Number(m[1]), last: m[2] !== undefined });
    }
    case "AUTH": {
      const m = /^([A-Za-z0-9\-_]{1,20})(?: +([A-Za-z0-9+/]+={0,2}|=))? *$/.exec(arg);
      if (!m) return syntax("AUTH needs a mechanism and an optional base64 initial response");
      return ok({ verb, mechanism: m[1]!.toUpperCase(), ...(m[2] !== undefined ? { initialResponse: m[2] } : {}) });
    }
    default:
      return { ok: false, reply: reply(500, "5.5.1", "Command unrecognized") };
  }
}

/** Splits "KEY=VALUE KEY2" esmtp-params (RFC 5321 §4.1.2); duplicates are an error. */
function splitParams(rest: string): Map<string, string | undefined> | string {
  const params = new Map<string, string | undefined>();
  for (const token of rest.split(" ").filter(Boolean)) {
    const eq = token.indexOf("=");
    const key = (eq === -1 ? token : token.slice(0, eq)).toUpperCase();
    if (!/^[A-Z0-9][A-Z0-9-]*$/.test(key)) return `Malformed parameter ${token}`;
    if (params.has(key)) return `Duplicate parameter ${key}`;
    params.set(key, eq === -1 ? undefined : token.slice(eq + 1));
  }
  return params;
}

function parseMail(arg: string): ParsedCommand {
  if (!/^FROM:/i.test(arg)) return syntax("expected MAIL FROM:<address>");
  const path = parsePath(arg.slice(5), { allowNull: true });
  if (!path.ok) return { ok: false, reply: reply(501, "5.1.7", `Bad sender address syntax: ${path.reason}`) };
  const params = splitParams(path.rest);
  if (typeof params === "string") return badParam(params);
  const out: MailParams = { smtputf8: false };
  for (const [key, value] of params) {
    switch (key) {
      case "SIZE":
        if (!value || !/^\d{1,15}$/.test(value)) return syntax("SIZE must be a number");
        out.size = Number(value);
        break;
      case "BODY": {
        const body = value?.toUpperCase();
        if (body !== "7BIT" && body !== "8BITMIME" && body !== "BINARYMIME") {
          return syntax("BODY must be 7BIT or 8BITMIME");
        }
        out.body = body;
        break;
      }
      case "SMTPUTF8":
        if (value !== undefined) return syntax("SMTPUTF8 takes no value");
        out.smtputf8 = true;
        break;
      case "RET": {
        const ret = value?.toUpperCase();
        if (ret !== "FULL" && ret !== "HDRS") return syntax("RET must be FULL or HDRS");
        out.ret = ret;
        break;
      }
      case "ENVID": {
        // RFC 3461 §4.4: xtext of printable US-ASCII, at most 100 characters.
        const envid = value === undefined ? null : decodePrintableXtext(value);
        if (envid === null || envid === "" || envid.length > 100) return badXtext("ENVID");
        out.envid = envid;
        break;
      }
      case "AUTH": {
        // RFC 4954 §5: xtext of an addr-spec or "<>"; recorded, never trusted for relaying.
        const auth = value === undefined ? null : decodePrintableXtext(value);
        if (auth === null || (auth !== "<>" && !isAddrSpec(auth))) return badXtext("AUTH");
        out.auth = auth;
        break;
      }
      default:
        return badParam(`Parameter ${key} not recognized`);
    }
  }
  return ok({ verb: "MAIL", from: path.mailbox, params: out });
}

function parseRcpt(arg: string): ParsedCommand {
  if (!/^TO:/i.test(arg)) return syntax("expected RCPT TO:<address>");
  const path = parsePath(arg.slice(3), { allowPostmaster: true });
  if (!path.ok || !path.mailbox) {
    return {
      ok: false,
      reply: reply(501, "5.1.3", `Bad recipient address syntax: ${path.ok ? "empty" : path.reason}`),
    };
  }
  const params = splitParams(path.rest);
  if (typeof params === "string") return badParam(params);
  const out: RcptParams = {};
  for (const [key, value] of params) {
    switch (key) {
      case "NOTIFY": {
        const values = (value ?? "").toUpperCase().split(",");
        if (values.length === 1 && values[0] === "NEVER") {
          out.notify = "NEVER";
          break;
        }
        // RFC 3461 §4.1: NEVER alone, or any of SUCCESS, FAILURE, DELAY.
        if (!values.every((v) => v === "SUCCESS" || v === "FAILURE" || v === "DELAY")) {
          return syntax("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
        }
        out.notify = [...new Set(values as Array<"SUCCESS" | "FAILURE" | "DELAY">)];
        break;
      }
      case "ORCPT": {
        const orcpt = value === undefined ? null : parseOrcpt(value);
        if (!orcpt) return badXtext("ORCPT");
        out.orcpt = orcpt;
        break;
      }
      default:
        return badParam(`Parameter ${key} not recognized`);
    }
  }
  return ok({ verb: "RCPT", to: path.mailbox, params: out });
}
