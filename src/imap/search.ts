/**
 * SEARCH keys (RFC 9051 §6.4.4, IMAP4rev1's RECENT/NEW/OLD, MODSEQ from RFC 7162 §3.1.5, WITHIN's
 * OLDER/YOUNGER from RFC 5032) as a
 * tree, parsed from the command.
 */
import type { Cursor } from "./cursor.ts";
import { parseSequenceSet, type SequenceSet } from "./sequence-set.ts";

export type SearchKey =
  | { op: "and"; keys: SearchKey[] }
  | { op: "or"; left: SearchKey; right: SearchKey }
  | { op: "not"; key: SearchKey }
  | { op: "all" }
  /** A system flag or keyword that must be set (`set: true`) or not set. */
  | { op: "flag"; flag: string; set: boolean }
  /** \Recent of IMAP4rev1 sessions (RFC 3501 §2.3.2); in IMAP4rev2 nothing is recent. */
  | { op: "recent"; set: boolean }
  | { op: "header"; field: string; value: string }
  | { op: "body" | "text"; value: string }
  | { op: "date"; which: "internal" | "sent" | "saved"; cmp: "before" | "on" | "since"; day: string }
  /** SAVEDATESUPPORTED (RFC 8514 §4.3): every mailbox here keeps save dates. */
  | { op: "savedatesupported" }
  | { op: "size"; cmp: "larger" | "smaller"; size: number }
  /** WITHIN (RFC 5032): the internal date against now, in seconds. */
  | { op: "age"; cmp: "older" | "younger"; seconds: number }
  | { op: "uid" | "seq"; set: SequenceSet }
  | { op: "modseq"; modseq: number }
  /** OBJECTID (RFC 8474 §6). */
  | { op: "emailid" | "threadid"; id: string };

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ["\\Answered", true],
  UNANSWERED: ["\\Answered", false],
  DELETED: ["\\Deleted", true],
  UNDELETED: ["\\Deleted", false],
  DRAFT: ["\\Draft", true],
  UNDRAFT: ["\\Draft", false],
  FLAGGED: ["\\Flagged", true],
  UNFLAGGED: ["\\Flagged", false],
  SEEN: ["\\Seen", true],
  UNSEEN: ["\\Seen", false],
};
const HEADER_KEYS = new Set(["BCC", "CC", "FROM", "SUBJECT", "TO"]);
const DATE_KEYS: Record<string, ["internal" | "sent" | "saved", "before" | "on" | "since"]> = {
  SAVEDBEFORE: ["saved", "before"],
  SAVEDON: ["saved", "on"],
  SAVEDSINCE: ["saved", "since"],
  BEFORE: ["internal", "before"],
  ON: ["internal", "on"],
  SINCE: ["internal", "since"],
  SENTBEFORE: ["sent", "before"],
  SENTON: ["sent", "on"],
  SENTSINCE: ["sent", "since"],
};
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

/**
 * How deeply "(", NOT and OR may nest. The grammar is recursive and so are the parser and the
 * evaluator; a 64 KiB command line could otherwise nest deeper than the stack. A long OR chain
 * of a thousand terms still fits.
 */
export const MAX_SEARCH_DEPTH = 1000;

/** One or more keys separated by SP, ANDed (RFC 9051 §6.4.4). Stops at ")" or the end. */
export function parseSearchKeys(c: Cursor, depth = 0): SearchKey {
  const keys: SearchKey[] = [parseSearchKey(c, depth)];
  while (c.peek() === " ") {
    c.sp();
    keys.push(parseSearchKey(c, depth));
  }
  return keys.length === 1 ? keys[0]! : { op: "and", keys };
}

function parseSearchKey(c: Cursor, depth: number): SearchKey {
  if (depth >= MAX_SEARCH_DEPTH) c.fail(`search keys nested at most ${MAX_SEARCH_DEPTH} deep`);
  if (c.peek() === "(") {
    c.expect("(");
    const inner = parseSearchKeys(c, depth + 1);
    c.expect(")");
    return inner;
  }
  if (/[\d*$]/.test(c.peek())) return { op: "seq", set: parseSequenceSet(c) };
  const word = c.atom().toUpperCase();
  const flag = FLAG_KEYS[word];
  if (flag) return { op: "flag", flag: flag[0], set: flag[1] };
  if (HEADER_KEYS.has(word)) {
    c.sp();
    return { op: "header", field: word.toLowerCase(), value: c.astring() };
  }
  const date = DATE_KEYS[word];
  if (date) {
    c.sp();
    return { op: "date", which: date[0], cmp: date[1], day: parseSearchDate(c) };
  }
  switch (word) {
    case "ALL":
      return { op: "all" };
    case "SAVEDATESUPPORTED":
      return { op: "savedatesupported" };
    case "RECENT":
      return { op: "recent", set: true };
    case "OLD":
      return { op: "recent", set: false };
    // NEW = RECENT UNSEEN (RFC 3501 §6.4.4).
    case "NEW":
      return { op: "and", keys: [{ op: "recent", set: true }, { op: "flag", flag: "\\Seen", set: false }] };
    case "KEYWORD":
    case "UNKEYWORD":
      c.sp();
      return { op: "flag", flag: c.atom(), set: word === "KEYWORD" };
    case "BODY":
    case "TEXT":
      c.sp();
      return { op: word === "BODY" ? "body" : "text", value: c.astring() };
    case "HEADER": {
      c.sp();
      const field = c.astring().toLowerCase();
      c.sp();
      return { op: "header", field, value: c.astring() };
    }
    case "LARGER":
    case "SMALLER":
      c.sp();
      return { op: "size", cmp: word === "LARGER" ? "larger" : "smaller", size: c.number64() };
    case "OLDER":
    case "YOUNGER":
      c.sp();
      return { op: "age", cmp: word === "OLDER" ? "older" : "younger", seconds: c.nzNumber() };
    case "UID":
      c.sp();
      return { op: "uid", set: parseSequenceSet(c) };
    case "EMAILID":
    case "THREADID":
      c.sp();
      return { op: word === "EMAILID" ? "emailid" : "threadid", id: c.atom() };
    case "NOT":
      c.sp();
      return { op: "not", key: parseSearchKey(c, depth + 1) };
    case "OR": {
      c.sp();
      const left = parseSearchKey(c, depth + 1);
      c.sp();
      return { op: "or", left, right: parseSearchKey(c, depth + 1) };
    }
    case "MODSEQ": {
      c.sp();
      // RFC 7162 §3.1.5: optional entry name and type before the value, e.g. "/flags/\\draft" all.
      if (c.peek() === '"') {
        c.quoted();
        c.sp();
        c.atom();
        c.sp();
      }
      return { op: "modseq", modseq: c.number64() };
    }
    default:
      return c.fail(`a search key (not ${word})`);
  }
}

/** date = date-text / DQUOTE date-text DQUOTE; date-text = day "-" month "-" year. Returns "YYYY-MM-DD". */
export function parseSearchDate(c: Cursor): string {
  const quoted = c.accept('"');
  const text = c.atom();
  if (quoted) c.expect('"');
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2]!.toUpperCase()) : -1;
  if (!m || month === -1 || Number(m[1]) < 1 || Number(m[1]) > 31) c.fail('a date like "1-Feb-2024"');
  return `${m![3]}-${String(month + 1).padStart(2, "0")}-${m![1]!.padStart(2, "0")}`;
}
