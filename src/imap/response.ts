/**
 * Response syntax (RFC 9051 §7, §9): strings as quoted or literal, NIL, and the ENVELOPE and
 * BODYSTRUCTURE structures built from the summary stored at delivery.
 */
import type { Envelope, EnvelopeAddress } from "../mime/envelope.ts";
import type { MimePart } from "../mime/structure.ts";

const enc = new TextEncoder();

/**
 * A string as quoted when it can be (no CR, LF or NUL, 7-bit unless UTF-8 is allowed, not too
 * long), else as a literal (RFC 9051 §4.3).
 */
export function imapString(value: string, utf8 = false): string {
  const plain = utf8 ? !/[\r\n\0]/.test(value) : /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value);
  if (plain && value.length <= 1000) return `"${value.replace(/[\\"]/g, "\\$&")}"`;
  return `{${enc.encode(value).length}}\r\n${value}`;
}

export function nstring(value: string | null | undefined, utf8 = false): string {
  return value === null || value === undefined ? "NIL" : imapString(value, utf8);
}

/** astring: an atom when the value is one, else a string (for mailbox names in LIST/STATUS). */
export function astring(value: string, utf8 = false): string {
  return /^[^(){ \x00-\x1f\x7f%*"\\\]]+$/.test(value) && value.toUpperCase() !== "NIL"
    ? value
    : imapString(value, utf8);
}

function addresses(list: EnvelopeAddress[] | null, utf8: boolean): string {
  if (!list || list.length === 0) return "NIL";
  // address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"; adl is the obsolete
  // source route (RFC 5322 §4.4), NIL in nearly all mail.
  return `(${
    list.map((a) =>
      `(${nstring(a.name, utf8)} ${nstring(a.route, utf8)} ${nstring(a.mailbox, utf8)} ${nstring(a.host, utf8)})`
    ).join("")
  })`;
}

export function envelope(e: Envelope, utf8 = false): string {
  return `(${
    [
      nstring(e.date, utf8),
      nstring(e.subject, utf8),
      addresses(e.from, utf8),
      addresses(e.sender, utf8),
      addresses(e.replyTo, utf8),
      addresses(e.to, utf8),
      addresses(e.cc, utf8),
      addresses(e.bcc, utf8),
      nstring(e.inReplyTo, utf8),
      nstring(e.messageId, utf8),
    ].join(" ")
  })`;
}

function params(p: Record<string, string>, utf8: boolean): string {
  const entries = Object.entries(p);
  if (entries.length === 0) return "NIL";
  return `(${entries.map(([k, v]) => `${imapString(k.toUpperCase(), utf8)} ${imapString(v, utf8)}`).join(" ")})`;
}

function disposition(part: MimePart, utf8: boolean): string {
  if (!part.disposition) return "NIL";
  return `(${imapString(part.disposition.type.toUpperCase(), utf8)} ${params(part.disposition.params, utf8)})`;
}

function language(part: MimePart, utf8: boolean): string {
  if (!part.language || part.language.length === 0) return "NIL";
  return part.language.length === 1
    ? imapString(part.language[0]!, utf8)
    : `(${part.language.map((l) => imapString(l, utf8)).join(" ")})`;
}

/**
 * BODY (`extended: false`) or BODYSTRUCTURE (`extended: true`) of a part, RFC 9051 §7.5.2.
 */
export function bodyStructure(part: MimePart, extended: boolean, utf8 = false): string {
  if (part.parts && part.parts.length > 0) {
    const children = part.parts.map((p) => bodyStructure(p, extended, utf8)).join("");
    const ext = extended
      ? ` ${params(part.params, utf8)} ${disposition(part, utf8)} ${language(part, utf8)} ${
        nstring(part.location, utf8)
      }`
      : "";
    return `(${children} ${imapString(part.subtype.toUpperCase(), utf8)}${ext})`;
  }
  const fields = [
    imapString(part.type.toUpperCase(), utf8),
    imapString(part.subtype.toUpperCase(), utf8),
    params(part.params, utf8),
    nstring(part.id, utf8),
    nstring(part.description, utf8),
    imapString(part.encoding.toUpperCase(), utf8),
    String(part.bodyEnd - part.bodyStart),
  ];
  if (part.type === "message" && part.subtype === "rfc822" && part.message) {
    fields.push(
      envelope(part.message.envelope, utf8),
      bodyStructure(part.message.body, extended, utf8),
      String(part.lines),
    );
  } else if (part.type === "text") {
    fields.push(String(part.lines));
  }
  if (extended) {
    fields.push(nstring(part.md5, utf8), disposition(part, utf8), language(part, utf8), nstring(part.location, utf8));
  }
  return `(${fields.join(" ")})`;
}
