/**
 * An assembled command to an `ImapCommand` (RFC 9051 §6 and the extensions Postern offers).
 * Errors name what was wrong; the session answers them with BAD.
 */
import type { RawCommand } from "./command-reader.ts";
import type { AppendMessage, ImapCommand, ListReturn, Qresync, StoreMode } from "./commands.ts";
import { Cursor, ImapSyntaxError } from "./cursor.ts";
import { parseFetchItems } from "./fetch-items.ts";
import { mailboxFromWire } from "./mailbox-name.ts";
import { catenateParts, parseNotifySet, searchReturn } from "./parser-extensions.ts";
import { parseSearchKeys } from "./search.ts";
import { parseSequenceSet } from "./sequence-set.ts";
import { parseSortCriteria } from "./sort.ts";

export type ParseResult =
  | { ok: true; command: ImapCommand }
  /** `refusal`: well-formed, but a mailbox name is not valid modified UTF-7 — NO, not BAD. */
  | { ok: false; tag: string | null; message: string; refusal?: { name: ImapCommand["name"] } };

export interface ParseOptions {
  /** UTF8=ACCEPT enabled: mailbox names are UTF-8 rather than modified UTF-7. */
  utf8Accept: boolean;
}

/** The command without tag and UID prefix (Omit applied to each member of the union). */
type Body = ImapCommand extends infer C ? (C extends unknown ? Omit<C, "tag" | "uid"> : never) : never;

export function parseCommand(raw: RawCommand, options: ParseOptions): ParseResult {
  const c = new Cursor(raw);
  let tag: string | null = null;
  try {
    tag = c.atom();
    if (tag === "+") c.fail("a tag");
    c.sp();
    let name = c.atom().toUpperCase();
    let uid = false;
    if (name === "UID") {
      uid = true;
      c.sp();
      name = c.atom().toUpperCase();
      if (!["FETCH", "STORE", "SEARCH", "COPY", "MOVE", "EXPUNGE", "SORT", "THREAD"].includes(name)) {
        c.fail("FETCH, STORE, SEARCH, SORT, THREAD, COPY, MOVE or EXPUNGE after UID");
      }
    }
    // A mailbox name that is an astring but not valid modified UTF-7 (RFC 3501 §5.1.3) leaves the
    // command well-formed: it gets NO rather than BAD, once the rest has parsed.
    const invalid = { name: false };
    const body = parseBody(name, uid, c, options, invalid);
    c.end();
    if (invalid.name) {
      return {
        ok: false,
        tag,
        message: "Mailbox name is not valid modified UTF-7",
        refusal: { name: body.name },
      };
    }
    return { ok: true, command: { tag, uid, ...body } as ImapCommand };
  } catch (e) {
    if (e instanceof ImapSyntaxError) return { ok: false, tag, message: e.message };
    throw e;
  }
}

function parseBody(name: string, uid: boolean, c: Cursor, options: ParseOptions, invalid: { name: boolean }): Body {
  const mailbox = () => {
    const wire = c.astring();
    const decoded = mailboxFromWire(wire, options.utf8Accept);
    if (decoded === null) invalid.name = true;
    return decoded ?? wire;
  };
  switch (name) {
    case "CAPABILITY":
    case "NOOP":
    case "LOGOUT":
    case "STARTTLS":
    case "NAMESPACE":
    case "IDLE":
    case "CHECK":
    case "CLOSE":
    case "UNSELECT":
      return { name };
    case "LOGIN": {
      c.sp();
      const username = c.astring();
      c.sp();
      return { name, username, password: c.astring() };
    }
    case "AUTHENTICATE": {
      c.sp();
      const mechanism = c.atom().toUpperCase();
      if (!c.accept(" ")) return { name, mechanism };
      // RFC 4959 SASL-IR: base64 or "=" for an empty response.
      return { name, mechanism, initialResponse: c.atom() };
    }
    case "ENABLE": {
      const capabilities: string[] = [];
      do {
        c.sp();
        capabilities.push(c.atom().toUpperCase());
      } while (c.peek() === " ");
      return { name, capabilities };
    }
    case "NOTIFY":
      c.sp();
      if (c.accept("NONE")) return { name, set: null };
      c.expect("SET");
      return { name, set: parseNotifySet(c, mailbox) };
    case "COMPRESS":
      c.sp();
      return { name, mechanism: c.atom().toUpperCase() };
    case "ID": {
      c.sp();
      if (c.accept("NIL")) return { name, params: null };
      const params: Record<string, string | null> = {};
      const items = c.list(() => c.nstring() ?? "", true);
      for (let i = 0; i + 1 < items.length; i += 2) params[items[i]!] = items[i + 1] || null;
      return { name, params };
    }
    case "SELECT":
    case "EXAMINE": {
      c.sp();
      const box = mailbox();
      let condstore = false;
      let qresync: Qresync | undefined;
      if (c.accept(" ")) {
        c.list(() => {
          const param = c.atom().toUpperCase();
          if (param === "CONDSTORE") condstore = true;
          else if (param === "QRESYNC") {
            c.sp();
            c.expect("(");
            const uidValidity = c.nzNumber();
            c.sp();
            const modseq = c.number64();
            let knownUids = null;
            if (c.accept(" ") && c.peek() !== "(") knownUids = parseSequenceSet(c);
            // The optional sequence-match data "(seqs uids)" is accepted and not needed.
            if (c.accept(" ") || c.peek() === "(") c.list(() => parseSequenceSet(c));
            c.expect(")");
            qresync = { uidValidity, modseq, knownUids };
          } else c.fail(`CONDSTORE or QRESYNC (not ${param})`);
          return param;
        });
      }
      return { name, mailbox: box, condstore, ...(qresync ? { qresync } : {}) };
    }
    case "CREATE": {
      c.sp();
      const box = mailbox();
      let specialUse: string[] = [];
      if (c.accept(" ")) {
        // RFC 6154 §3: CREATE name (USE (\Drafts))
        c.list(() => {
          c.expect("USE");
          c.sp();
          specialUse = c.list(() => c.flag());
          return null;
        });
      }
      return { name, mailbox: box, specialUse };
    }
    case "DELETE":
    case "SUBSCRIBE":
    case "UNSUBSCRIBE":
      c.sp();
      return { name, mailbox: mailbox() };
    case "RENAME": {
      c.sp();
      const from = mailbox();
      c.sp();
      return { name, from, to: mailbox() };
    }
    case "LIST":
      return parseList(c, options);
    case "LSUB": {
      c.sp();
      const reference = c.astring();
      c.sp();
      return { name, reference, pattern: listMailbox(c) };
    }
    case "STATUS": {
      c.sp();
      const box = mailbox();
      c.sp();
      return { name, mailbox: box, items: c.list(() => c.atom().toUpperCase()) };
    }
    case "APPEND": {
      c.sp();
      const box = mailbox();
      const messages: AppendMessage[] = [];
      // RFC 3502 §6: append-message *(SP append-message) after the mailbox.
      do {
        c.sp();
        let flags: string[] = [];
        let date: Date | null = null;
        if (c.peek() === "(") {
          flags = c.list(() => c.flag(), true);
          c.sp();
        }
        if (c.peek() === '"') {
          date = parseDateTime(c.quoted()) ?? c.fail('a date-time like "01-Feb-2024 10:00:00 +0000"');
          c.sp();
        }
        if (c.accept("CATENATE ")) {
          messages.push({ flags, date, message: catenateParts(c) });
          continue;
        }
        // RFC 6855 §4: a message with UTF-8 in its header comes as UTF8 (~{n}).
        const utf8 = c.accept("UTF8 (");
        const message = c.literalBytes();
        if (utf8) c.expect(")");
        messages.push({ flags, date, message });
      } while (c.peek() === " ");
      return { name, mailbox: box, messages };
    }
    case "EXPUNGE":
      if (!uid) return { name, uids: null };
      c.sp();
      return { name, uids: parseSequenceSet(c) };
    case "SEARCH": {
      let charset: string | null = null;
      c.sp();
      const { returnOptions, partial } = searchReturn(c);
      if (c.peekWord("CHARSET ")) {
        c.expect("CHARSET");
        c.sp();
        charset = c.astring().toUpperCase();
        c.sp();
      }
      return { name, returnOptions, partial, charset, key: parseSearchKeys(c) };
    }
    case "SORT": {
      c.sp();
      const { returnOptions, partial } = searchReturn(c);
      const criteria = parseSortCriteria(c);
      c.sp();
      const charset = c.astring().toUpperCase();
      c.sp();
      return { name, returnOptions, partial, criteria, charset, key: parseSearchKeys(c) };
    }
    case "THREAD": {
      c.sp();
      const algorithm = c.atom().toUpperCase();
      if (algorithm !== "ORDEREDSUBJECT" && algorithm !== "REFERENCES") {
        c.fail(`ORDEREDSUBJECT or REFERENCES (not ${algorithm})`);
      }
      c.sp();
      const charset = c.astring().toUpperCase();
      c.sp();
      return { name, algorithm, charset, key: parseSearchKeys(c) };
    }
    case "FETCH": {
      c.sp();
      const set = parseSequenceSet(c);
      c.sp();
      const items = parseFetchItems(c);
      let changedSince: number | null = null;
      let vanished = false;
      if (c.accept(" ")) {
        c.list(() => {
          const modifier = c.atom().toUpperCase();
          if (modifier === "CHANGEDSINCE") {
            c.sp();
            changedSince = c.number64();
          } else if (modifier === "VANISHED") vanished = true;
          else c.fail(`CHANGEDSINCE or VANISHED (not ${modifier})`);
          return modifier;
        });
      }
      return { name, set, items, changedSince, vanished };
    }
    case "STORE": {
      c.sp();
      const set = parseSequenceSet(c);
      c.sp();
      let unchangedSince: number | null = null;
      if (c.peek() === "(") {
        c.list(() => {
          c.expect("UNCHANGEDSINCE");
          c.sp();
          unchangedSince = c.number64();
          return null;
        });
        c.sp();
      }
      const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(c.keyword());
      if (!m) c.fail("FLAGS, +FLAGS or -FLAGS");
      const mode: StoreMode = m![1] === "+" ? "add" : m![1] === "-" ? "remove" : "set";
      c.sp();
      const flags = c.peek() === "(" ? c.list(() => c.flag(), true) : spaceSeparatedFlags(c);
      return { name, set, mode, silent: m![2] !== undefined, flags, unchangedSince };
    }
    case "CANCELUPDATE": {
      // RFC 5267 §5: "CANCELUPDATE" 1*(SP quoted)
      const tags: string[] = [];
      do {
        c.sp();
        tags.push(c.quoted());
      } while (c.peek() === " ");
      return { name, tags };
    }
    case "GETQUOTA":
    case "GETQUOTAROOT":
      c.sp();
      return name === "GETQUOTA" ? { name, root: c.astring() } : { name, mailbox: mailbox() };
    case "SETQUOTA": {
      c.sp();
      const root = c.astring();
      c.sp();
      const limits = c.list(() => {
        const resource = c.atom().toUpperCase();
        c.sp();
        return { resource, limit: c.number64() };
      }, true);
      return { name, root, limits };
    }
    case "COPY":
    case "MOVE": {
      c.sp();
      const set = parseSequenceSet(c);
      c.sp();
      return { name, set, mailbox: mailbox() };
    }
    default:
      return c.fail(`a command (${name} is unknown)`);
  }
}

function spaceSeparatedFlags(c: Cursor): string[] {
  const flags = [c.flag()];
  while (c.accept(" ")) flags.push(c.flag());
  return flags;
}

/** list-mailbox = 1*list-char / string; list-char adds "%" "*" "]" to ATOM-CHAR. */
function listMailbox(c: Cursor): string {
  if (c.peek() === '"' || c.isLiteral()) return c.string();
  const start = c.pos;
  while (!c.atEnd && /[^(){ \x00-\x1f\x7f"\\]/.test(c.peek())) c.pos++;
  if (c.pos === start) c.fail("a mailbox pattern");
  return c.slice(start);
}

/** LIST [(select-opts)] reference pattern-or-patterns [RETURN (opts)] (RFC 5258 §3). */
function parseList(c: Cursor, options: ParseOptions): Body {
  c.sp();
  let selectOptions: string[] = [];
  if (c.peek() === "(") {
    selectOptions = c.list(() => c.atom().toUpperCase(), true);
    c.sp();
  }
  const reference = c.astring();
  c.sp();
  const patterns = c.peek() === "(" ? c.list(() => listMailbox(c)) : [listMailbox(c)];
  const returnOptions: ListReturn = { subscribed: false, children: false, specialUse: false, status: null };
  if (c.accept(" ")) {
    c.expect("RETURN");
    c.sp();
    c.list(() => {
      const option = c.atom().toUpperCase();
      if (option === "SUBSCRIBED") returnOptions.subscribed = true;
      else if (option === "CHILDREN") returnOptions.children = true;
      else if (option === "SPECIAL-USE") returnOptions.specialUse = true;
      else if (option === "STATUS") {
        c.sp();
        returnOptions.status = c.list(() => c.atom().toUpperCase());
      } else c.fail(`a LIST return option (not ${option})`);
      return option;
    }, true);
  }
  const decode = (p: string) => mailboxFromWire(p, options.utf8Accept) ?? c.fail("a mailbox pattern in modified UTF-7");
  return { name: "LIST", reference, patterns: patterns.map(decode), selectOptions, returnOptions };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE (RFC 9051 §9). */
export function parseDateTime(text: string): Date | null {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const month = MONTHS.findIndex((name) => name.toLowerCase() === m[2]!.toLowerCase());
  if (month === -1) return null;
  const offset = (m[7] === "-" ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000;
  return new Date(utc);
}
