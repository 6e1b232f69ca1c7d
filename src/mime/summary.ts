/**
 * The parsed summary of a message, computed once at delivery and stored with every mailbox row:
 * identity and threading headers, addresses, date, the IMAP ENVELOPE and MIME tree (with byte
 * offsets for section fetches), and a short text preview decoded by postal-mime.
 */
import PostalMime from "postal-mime";
import { type AddressListEntry, type NamedAddress, parseAddressList } from "./address-list.ts";
import { buildEnvelope, type Envelope } from "./envelope.ts";
import { decodeEncodedWords, type HeaderField, headerValue, parseHeaderFields, splitHeaderBody } from "./header.ts";
import { type MimePart, parseStructure } from "./structure.ts";

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
  hasAttachment: boolean;
  envelope: Envelope;
  body: MimePart;
}

/** Total: garbage in gives a summary of what could be read, never an exception. */
export async function summarize(raw: Uint8Array): Promise<MessageSummary> {
  const { headerEnd } = splitHeaderBody(raw);
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
    ...(await decoded(raw)),
    envelope: buildEnvelope(fields),
    body: parseStructure(raw),
  };
}

const PREVIEW_LENGTH = 256;

/** The preview (RFC 8621 §4.1.4: plain text, whitespace collapsed) and whether there are attachments. */
async function decoded(raw: Uint8Array): Promise<{ preview: string; hasAttachment: boolean }> {
  try {
    // Enclosed messages (message/rfc822) are attachments, not part of this message's text.
    const email = await PostalMime.parse(raw, { maxRfc822NestingDepth: 0 });
    const text = email.text ?? (email.html ? htmlToText(email.html) : "");
    return {
      preview: text.replace(/\s+/g, " ").trim().slice(0, PREVIEW_LENGTH),
      hasAttachment: email.attachments.some((a) => a.disposition === "attachment"),
    };
  } catch {
    return { preview: "", hasAttachment: false };
  }
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
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
