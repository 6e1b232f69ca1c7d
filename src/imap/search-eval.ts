/**
 * Evaluates a SEARCH key against one message (RFC 9051 §6.4.4): flags, dates, sizes, sets,
 * MODSEQ, and case-insensitive substring matches in headers (decoded per RFC 2047), in the
 * decoded text of the body, or in both (TEXT).
 */
import { decodeTransfer } from "../mime/decode.ts";
import { dayAsWritten } from "../mime/date.ts";
import { decodeEncodedWords, parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import type { MimePart } from "../mime/structure.ts";
import type { MessageSummary } from "../mime/summary.ts";
import type { SearchKey } from "./search.ts";
import { contains } from "./sequence-set.ts";

export interface SearchTarget {
  seq: number;
  uid: number;
  flags: readonly string[];
  modseq: number;
  size: number;
  internalDate: Date;
  summary: MessageSummary | null;
  raw: Uint8Array | null;
  /** SAVEDATE (RFC 8514), loaded when the key asks for it. */
  saveDate?: Date | null;
  /** OBJECTID (RFC 8474). */
  emailId?: string;
  threadId?: string;
  /** \Recent in this IMAP4rev1 session (RFC 3501 §2.3.2). */
  recent?: boolean;
  /** The time SEARCH runs at, for OLDER/YOUNGER (RFC 5032); the clock when absent. */
  now?: number;
  /** For `*` in sets and `$`. */
  maxSeq: number;
  maxUid: number;
  saved: readonly number[];
}

/** Whether evaluating `key` needs the stored summary or the raw message. */
export function searchNeeds(key: SearchKey): { summary: boolean; raw: boolean } {
  switch (key.op) {
    case "and":
      return key.keys.map(searchNeeds).reduce((a, b) => ({ summary: a.summary || b.summary, raw: a.raw || b.raw }), {
        summary: false,
        raw: false,
      });
    case "or": {
      const a = searchNeeds(key.left);
      const b = searchNeeds(key.right);
      return { summary: a.summary || b.summary, raw: a.raw || b.raw };
    }
    case "not":
      return searchNeeds(key.key);
    case "header":
    case "body":
    case "text":
      return { summary: true, raw: true };
    case "date":
      return { summary: key.which === "sent", raw: false };
    default:
      return { summary: false, raw: false };
  }
}

/** Whether evaluating `key` needs the save dates of the messages (RFC 8514). */
export function needsSaveDate(key: SearchKey): boolean {
  return JSON.stringify(key).includes('"which":"saved"');
}

export function matches(key: SearchKey, m: SearchTarget, cache: Map<string, string> = new Map()): boolean {
  switch (key.op) {
    case "and":
      return key.keys.every((k) => matches(k, m, cache));
    case "or":
      return matches(key.left, m, cache) || matches(key.right, m, cache);
    case "not":
      return !matches(key.key, m, cache);
    case "all":
    case "savedatesupported":
      return true;
    case "flag":
      return m.flags.some((f) => f.toLowerCase() === key.flag.toLowerCase()) === key.set;
    case "recent":
      return (m.recent ?? false) === key.set;
    case "size":
      return key.cmp === "larger" ? m.size > key.size : m.size < key.size;
    case "age": {
      // RFC 5032 §3: OLDER n is an internal date more than n seconds ago, YOUNGER n within them.
      const age = ((m.now ?? Date.now()) - m.internalDate.getTime()) / 1000;
      return key.cmp === "older" ? age > key.seconds : age <= key.seconds;
    }
    case "modseq":
      return m.modseq >= key.modseq;
    case "emailid":
      return m.emailId === key.id;
    case "threadid":
      return m.threadId === key.id;
    case "uid":
      return key.set.saved ? m.saved.includes(m.uid) : contains(key.set, m.uid, m.maxUid);
    case "seq":
      return key.set.saved ? m.saved.includes(m.uid) : contains(key.set, m.seq, m.maxSeq);
    case "date": {
      // RFC 9051 §6.4.4: SENT* compare the Date field's day as written, disregarding its time
      // and zone (so "Mon, 30 Nov 2026 23:30 -0800" is on the 30th, not the 1st in UTC).
      const day = key.which === "internal"
        ? m.internalDate.toISOString().slice(0, 10)
        : key.which === "saved"
        ? (m.saveDate ?? m.internalDate).toISOString().slice(0, 10)
        : dayAsWritten(m.summary?.envelope.date ?? null) ??
          (m.summary?.sentAt != null ? new Date(m.summary.sentAt).toISOString().slice(0, 10) : null);
      if (day === null) return false;
      return key.cmp === "before" ? day < key.day : key.cmp === "on" ? day === key.day : day >= key.day;
    }
    case "header": {
      // RFC 9051 §6.4.4: HEADER matches messages that have the field; an empty string matches
      // every one of them, and none without it.
      const text = headerText(m, key.field, cache);
      return text !== null && includes(text, key.value);
    }
    case "body":
      return includes(bodyText(m, cache), key.value);
    case "text":
      return includes(headerText(m, null, cache) ?? "", key.value) || includes(bodyText(m, cache), key.value);
  }
}

function includes(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/** In the cache: the message has no such field. */
const ABSENT = "\u0000";

/**
 * The values of one header field (or every field when `name` is null), raw and decoded; null
 * when the message has no field of that name.
 */
function headerText(m: SearchTarget, name: string | null, cache: Map<string, string>): string | null {
  const key = `h:${name ?? "*"}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit === ABSENT ? null : hit;
  if (!m.raw) return null;
  const fields = parseHeaderFields(m.raw.subarray(0, splitHeaderBody(m.raw).headerEnd))
    .filter((f) => name === null || f.lowerName === name);
  if (name !== null && fields.length === 0) {
    cache.set(key, ABSENT);
    return null;
  }
  let text = fields
    .map((f) => `${name === null ? `${f.name}: ` : ""}${f.value}\n${decodeEncodedWords(f.value)}`)
    .join("\n");
  // Address fields also match their parsed addresses, so "joe@example.com" finds
  // "joe(the boss)@example.com" and a folded or commented form (RFC 5322 §3.4, CFWS).
  const field = name === null ? undefined : ADDRESS_FIELDS[name];
  const parsed = field ? m.summary?.envelope[field] : null;
  if (parsed) {
    text += parsed.filter((a) => a.host !== null)
      .map((a) => `\n${a.name ? `${decodeEncodedWords(a.name)} ` : ""}<${a.mailbox}@${a.host}>`).join("");
  }
  cache.set(key, text);
  return text;
}

const ADDRESS_FIELDS: Record<string, "from" | "sender" | "replyTo" | "to" | "cc" | "bcc"> = {
  from: "from",
  sender: "sender",
  "reply-to": "replyTo",
  to: "to",
  cc: "cc",
  bcc: "bcc",
};

/** The decoded text of every text/* part (transfer encoding and charset undone). */
function bodyText(m: SearchTarget, cache: Map<string, string>): string {
  const hit = cache.get("b");
  if (hit !== undefined) return hit;
  if (!m.raw || !m.summary) return "";
  const texts: string[] = [];
  const visit = (part: MimePart) => {
    if (part.parts) part.parts.forEach(visit);
    else if (part.message) visit(part.message.body);
    else if (part.type === "text") {
      const bytes = decodeTransfer(m.raw!.subarray(part.bodyStart, part.bodyEnd), part.encoding);
      texts.push(decodeCharset(bytes, part.params.charset));
    }
  };
  visit(m.summary.body);
  const text = texts.join("\n");
  cache.set("b", text);
  return text;
}

function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  try {
    return new TextDecoder(charset?.toLowerCase() === "us-ascii" ? "utf-8" : charset ?? "utf-8").decode(bytes);
  } catch {
    return new TextDecoder().decode(bytes);
  }
}
