/**
 * The parsed summary of a message, computed once at delivery and stored with every mailbox row:
 * the identity and threading headers, addresses, date, and a short text preview.
 *
 * Not yet here: the IMAP ENVELOPE and BODYSTRUCTURE trees (they come with the IMAP work).
 */
import { type AddressListEntry, type NamedAddress, parseAddressList } from "./address-list.ts";
import { decodeEncodedWords, type HeaderField, headerValue, parseHeaderFields, splitHeaderBody } from "./header.ts";

export interface MessageSummary {
  size: number;
  /** Without angle brackets. */
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  /** RFC 2047-decoded and unfolded. */
  subject: string | null;
  /** The Date header as epoch milliseconds; null when missing or unparseable. */
  sentAt: number | null;
  from: NamedAddress[];
  sender: NamedAddress[];
  replyTo: NamedAddress[];
  to: NamedAddress[];
  cc: NamedAddress[];
  bcc: NamedAddress[];
  /** Up to 256 characters of text for list views (JMAP Email/preview). */
  preview: string;
}

/** Synchronous and total: garbage in gives an empty summary, never an exception. */
export function summarize(raw: Uint8Array): MessageSummary {
  const { headerEnd, bodyStart } = splitHeaderBody(raw);
  const fields = parseHeaderFields(raw.subarray(0, headerEnd));
  const ids = (name: string) => messageIds(headerValue(fields, name));
  const subject = headerValue(fields, "subject");
  return {
    size: raw.byteLength,
    messageId: ids("message-id")[0] ?? null,
    inReplyTo: ids("in-reply-to"),
    references: ids("references"),
    subject: subject === null ? null : decodeEncodedWords(subject),
    sentAt: parseDate(headerValue(fields, "date")),
    from: addresses(fields, "from"),
    sender: addresses(fields, "sender"),
    replyTo: addresses(fields, "reply-to"),
    to: addresses(fields, "to"),
    cc: addresses(fields, "cc"),
    bcc: addresses(fields, "bcc"),
    preview: preview(fields, raw.subarray(bodyStart, Math.min(raw.length, bodyStart + 4096))),
  };
}

/** "<a@b> <c@d>" → ["a@b", "c@d"] (RFC 5322 §3.6.4). */
export function messageIds(value: string | null): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  return bracketed.length ? bracketed : value.split(/\s+/).filter((s) => s.includes("@"));
}

function addresses(fields: readonly HeaderField[], name: string): NamedAddress[] {
  const out: NamedAddress[] = [];
  for (const field of fields) {
    if (field.lowerName !== name) continue;
    for (const entry of parseAddressList(field.value) as AddressListEntry[]) {
      out.push(...("group" in entry ? entry.addresses : [entry]));
    }
  }
  return out;
}

/** RFC 5322 §3.3 date-time, including the obsolete zone names of §4.3. */
export function parseDate(value: string | null): number | null {
  if (!value) return null;
  const cleaned = value.replace(/\([^)]*\)/g, " ").replace(/\s+/g, " ").trim();
  const ms = Date.parse(cleaned.replace(/^[A-Za-z]{3},\s*/, ""));
  return Number.isFinite(ms) ? ms : null;
}

/** A plain-text preview of a single-part text message; multipart bodies get theirs with the MIME tree. */
function preview(fields: readonly HeaderField[], body: Uint8Array): string {
  const type = (headerValue(fields, "content-type") ?? "text/plain").toLowerCase();
  const encoding = (headerValue(fields, "content-transfer-encoding") ?? "7bit").toLowerCase();
  if (!type.startsWith("text/plain") || (encoding !== "7bit" && encoding !== "8bit")) return "";
  return new TextDecoder().decode(body).replace(/\s+/g, " ").trim().slice(0, 256);
}
