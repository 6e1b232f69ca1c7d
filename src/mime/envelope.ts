/**
 * The IMAP ENVELOPE of a message (RFC 9051 §7.5.2, RFC 3501 §7.4.2): header values as written
 * (unfolded, not RFC 2047-decoded) and address structures.
 */
import { type AddressListEntry, parseAddressList } from "./address-list.ts";
import { type HeaderField, headerValue } from "./header.ts";

export interface EnvelopeAddress {
  /** The display name as written (undecoded). */
  name: string | null;
  /** The obsolete source route ("@relay1,@relay2", RFC 5322 §4.4), IMAP's addr-adl; absent in most. */
  route?: string;
  /** Local part; for a group start, the group name; null for a group end. */
  mailbox: string | null;
  /** Domain; null only in group start and end markers. */
  host: string | null;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** Parses an address list with display names as written (not RFC 2047-decoded). */
export type WrittenAddressList = (value: string) => AddressListEntry[];

const parseWritten: WrittenAddressList = (value) => parseAddressList(value, { decode: false });

/** The ENVELOPE of a header; `parse` may be given to share address lists already parsed. */
export function buildEnvelope(fields: readonly HeaderField[], parse = parseWritten): Envelope {
  const value = (name: string) => headerValue(fields, name);
  const addressField = (name: string) => addresses(value(name), parse);
  const from = addressField("from");
  return {
    date: value("date"),
    subject: value("subject"),
    from,
    // RFC 9051 §7.5.2: the server defaults Sender and Reply-To to From when they are absent.
    sender: addressField("sender") ?? from,
    replyTo: addressField("reply-to") ?? from,
    to: addressField("to"),
    cc: addressField("cc"),
    bcc: addressField("bcc"),
    inReplyTo: value("in-reply-to"),
    messageId: value("message-id"),
  };
}

/** An address list as ENVELOPE address structures, groups as start/end markers; null when empty. */
function addresses(value: string | null, parse: WrittenAddressList): EnvelopeAddress[] | null {
  if (value === null) return null;
  const out: EnvelopeAddress[] = [];
  for (const entry of parse(value)) {
    if ("group" in entry) {
      // RFC 9051 §7.5.2: a NIL host marks group syntax; a NIL mailbox too ends the group.
      out.push({ name: null, mailbox: entry.group, host: null });
      for (const a of entry.addresses) out.push(address(a.name, a.address, a.route));
      out.push({ name: null, mailbox: null, host: null });
    } else out.push(address(entry.name, entry.address, entry.route));
  }
  return out.length > 0 ? out : null;
}

function address(name: string | null, addr: string, route?: string): EnvelopeAddress {
  const at = addr.lastIndexOf("@");
  // A missing domain gets an empty host, not NIL, which would read as a group marker.
  const mailbox = at === -1 ? addr : addr.slice(0, at);
  const host = at === -1 ? "" : addr.slice(at + 1);
  return route ? { name, route, mailbox, host } : { name, mailbox, host };
}
