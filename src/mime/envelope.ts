/**
 * The IMAP ENVELOPE of a message (RFC 9051 §7.5.2, RFC 3501 §7.4.2): header values as written
 * (unfolded, not RFC 2047-decoded) and address structures.
 */
import { parseAddressList } from "./address-list.ts";
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

export function buildEnvelope(fields: readonly HeaderField[]): Envelope {
  const value = (name: string) => headerValue(fields, name);
  const from = addresses(value("from"));
  return {
    date: value("date"),
    subject: value("subject"),
    from,
    // RFC 9051 §7.5.2: the server defaults Sender and Reply-To to From when they are absent.
    sender: addresses(value("sender")) ?? from,
    replyTo: addresses(value("reply-to")) ?? from,
    to: addresses(value("to")),
    cc: addresses(value("cc")),
    bcc: addresses(value("bcc")),
    inReplyTo: value("in-reply-to"),
    messageId: value("message-id"),
  };
}

/** An address list as ENVELOPE address structures, groups as start/end markers; null when empty. */
function addresses(value: string | null): EnvelopeAddress[] | null {
  if (value === null) return null;
  const out: EnvelopeAddress[] = [];
  for (const entry of parseAddressList(value, { decode: false })) {
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
  const adl = route ? { route } : {};
  // A missing domain gets an empty host, not NIL, which would read as a group marker.
  if (at === -1) return { name, ...adl, mailbox: addr, host: "" };
  return { name, ...adl, mailbox: addr.slice(0, at), host: addr.slice(at + 1) };
}
