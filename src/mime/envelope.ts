/**
 * The IMAP ENVELOPE of a message (RFC 9051 §7.5.2): raw header strings and address structures.
 */
import { parseAddressList } from "./address-list.ts";
import { type HeaderField, headerValue } from "./header.ts";

export interface EnvelopeAddress {
  name: string | null;
  /** Local part; for a group start, the group name (RFC 9051 §7.5.2). */
  mailbox: string | null;
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
  const from = addresses(headerValue(fields, "from"));
  return {
    date: headerValue(fields, "date"),
    subject: headerValue(fields, "subject"),
    from,
    // RFC 9051 §7.5.2: absent Sender and Reply-To default to From.
    sender: addresses(headerValue(fields, "sender")) ?? from,
    replyTo: addresses(headerValue(fields, "reply-to")) ?? from,
    to: addresses(headerValue(fields, "to")),
    cc: addresses(headerValue(fields, "cc")),
    bcc: addresses(headerValue(fields, "bcc")),
    inReplyTo: headerValue(fields, "in-reply-to"),
    messageId: headerValue(fields, "message-id"),
  };
}

function addresses(value: string | null): EnvelopeAddress[] | null {
  if (value === null) return null;
  const out: EnvelopeAddress[] = [];
  const one = (name: string | null, address: string): EnvelopeAddress => {
    const at = address.lastIndexOf("@");
    return at === -1 ? { name, mailbox: address, host: null } : { name, mailbox: address.slice(0, at), host: address.slice(at + 1) };
  };
  for (const entry of parseAddressList(value, { decode: false })) {
    if ("group" in entry) {
      out.push({ name: null, mailbox: entry.group, host: null });
      for (const a of entry.addresses) out.push(one(a.name, a.address));
      out.push({ name: null, mailbox: null, host: null });
    } else out.push(one(entry.name, entry.address));
  }
  return out.length ? out : null;
}
