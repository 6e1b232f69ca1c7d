/**
 * The parsed summary of a message, computed once at delivery and stored (as JSON) with every
 * mailbox row: identity and threading headers, addresses, date, the IMAP ENVELOPE, the MIME
 * tree with byte offsets for section fetches, the JMAP body part lists and a text preview.
 * Synchronous and total: garbage in gives a summary of what could be read, never an exception.
 */
import { type AddressListEntry, parseAddressList } from "./address-list.ts";
import { bodyParts, type Located } from "./body-parts.ts";
import { parseDate } from "./date.ts";
import { decodeTransfer } from "./decode.ts";
import { buildEnvelope, type Envelope, type WrittenAddressList } from "./envelope.ts";
import { decodeEncodedWords, type HeaderField, headerValue, headerValues } from "./header.ts";
import { messageIds } from "./message-id.ts";
import { preview } from "./preview.ts";
import { type MimePart, parseMessage } from "./structure.ts";

export { partAt } from "./structure.ts";

/** A JMAP EmailAddress (RFC 8621 §4.1.2.3). */
export interface EmailAddress {
  /** RFC 2047-decoded display name, or null. */
  name: string | null;
  email: string;
}

/**
 * The shape version of `MessageSummary`. Raise it whenever `summarize()` changes what it stores:
 * rows written by an older version are then recomputed from their blobs (`postern reindex`, and
 * in the background at `serve`), so every message reads the same whichever build stored it.
 */
export const SUMMARY_VERSION = 1;

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
  from: EmailAddress[];
  sender: EmailAddress[];
  replyTo: EmailAddress[];
  to: EmailAddress[];
  cc: EmailAddress[];
  bcc: EmailAddress[];
  envelope: Envelope;
  body: MimePart;
  /** Up to 256 characters of text for list views (JMAP Email/preview). */
  preview: string;
  hasAttachment: boolean;
  /** IMAP part paths ("1.2") of the JMAP textBody, htmlBody and attachments (RFC 8621 §4.1.4). */
  textParts: string[];
  htmlParts: string[];
  attachments: string[];
}

export function summarize(raw: Uint8Array): MessageSummary {
  const { fields, body } = parseMessage(raw);
  const { textBody, htmlBody, attachments } = bodyParts(body);
  const subject = headerValue(fields, "subject");
  const written = writtenAddressLists();
  return {
    size: raw.byteLength,
    messageId: messageIds(headerValue(fields, "message-id"))[0] ?? null,
    inReplyTo: messageIds(headerValue(fields, "in-reply-to")),
    references: messageIds(headerValue(fields, "references")),
    subject: subject === null ? null : decodeEncodedWords(subject),
    sentAt: parseDate(headerValue(fields, "date")),
    from: addresses(fields, "from", written),
    sender: addresses(fields, "sender", written),
    replyTo: addresses(fields, "reply-to", written),
    to: addresses(fields, "to", written),
    cc: addresses(fields, "cc", written),
    bcc: addresses(fields, "bcc", written),
    envelope: buildEnvelope(fields, written),
    body,
    preview: preview(raw, textBody.map(partOf), htmlBody.map(partOf)),
    hasAttachment: attachments.some((a) => isRealAttachment(a.part)),
    textParts: textBody.map(pathOf),
    htmlParts: htmlBody.map(pathOf),
    attachments: attachments.map(pathOf),
  };
}

/** A part's content with its Content-Transfer-Encoding undone (for IMAP BINARY and JMAP blobs). */
export function decodePartBody(raw: Uint8Array, part: MimePart): Uint8Array {
  return decodeTransfer(raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
}

const partOf = (l: Located) => l.part;
const pathOf = (l: Located) => l.path;

/**
 * Whether an attachment counts for hasAttachment: not a resource embedded in the HTML (a part
 * with a Content-ID that is not marked as an attachment), as mail clients show it.
 */
function isRealAttachment(part: MimePart): boolean {
  return part.disposition?.type === "attachment" || part.id === null;
}

/**
 * Every address in every field of this name, group members included, display names RFC
 * 2047-decoded.
 */
function addresses(fields: readonly HeaderField[], name: string, parse: WrittenAddressList): EmailAddress[] {
  const out: EmailAddress[] = [];
  for (const value of headerValues(fields, name)) {
    for (const entry of parse(value)) {
      for (const a of "group" in entry ? entry.addresses : [entry]) {
        out.push({ name: a.name === null ? null : decodeEncodedWords(a.name), email: a.address });
      }
    }
  }
  return out;
}

/**
 * Address lists with names as written, each distinct value parsed once: the ENVELOPE takes the
 * names so, the summary decoded.
 */
function writtenAddressLists(): WrittenAddressList {
  const parsed: Array<{ value: string; list: AddressListEntry[] }> = [];
  return (value) => {
    // A few fields, each value the same string both times: a list beats a Map.
    const known = parsed.find((p) => p.value === value);
    if (known) return known.list;
    const list = parseAddressList(value, { decode: false });
    parsed.push({ value, list });
    return list;
  };
}
