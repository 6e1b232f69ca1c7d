/**
 * Header fields of an Email/set create (RFC 8621 §4.1.2, §4.6): `header:{name}[:as{Form}][:all]`
 * properties and the convenience properties that stand for a header (from, subject, sentAt, …),
 * checked against the parsed forms each field allows and written as RFC 5322 lines. A bad value
 * throws InvalidProperty naming the property, for the SetError's `properties` (RFC 8620 §5.3).
 */
import { headerField, phrase, unstructured } from "../../mime/write.ts";

export class InvalidProperty extends Error {
  constructor(
    readonly property: string,
    description: string,
  ) {
    super(description);
  }
}

export type HeaderForm = "Raw" | "Text" | "Addresses" | "GroupedAddresses" | "MessageIds" | "Date" | "URLs";

export interface HeaderProperty {
  /** As the client spelled it. */
  name: string;
  form: HeaderForm;
  all: boolean;
}

const ADDRESS_FIELDS = ["from", "sender", "reply-to", "to", "cc", "bcc"].flatMap((n) => [n, `resent-${n}`]);
/** RFC 8621 §4.1.2: which parsed forms each field defined by RFC 5322 or RFC 2369 may take. */
const ALLOWED: Record<Exclude<HeaderForm, "Raw">, string[]> = {
  Text: ["subject", "comments", "keywords", "list-id"],
  Addresses: ADDRESS_FIELDS,
  GroupedAddresses: ADDRESS_FIELDS,
  MessageIds: ["message-id", "in-reply-to", "references", "resent-message-id"],
  Date: ["date", "resent-date"],
  URLs: ["list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive"],
};
const KNOWN = new Set([...Object.values(ALLOWED).flat(), "return-path", "received"]);

/** RFC 5322 §3.6.4 msg-id content without its angle brackets. */
const MESSAGE_ID = /^[\x21-\x3b\x3d\x3f-\x7e]+$/;

/** Parses `header:Name[:asForm][:all]`; null when the property is not a header property. */
export function parseHeaderProperty(property: string): HeaderProperty | null {
  if (!property.startsWith("header:")) return null;
  const [name, ...suffixes] = property.slice("header:".length).split(":");
  let form: HeaderForm = "Raw";
  let all = false;
  if (suffixes.at(-1) === "all") {
    all = true;
    suffixes.pop();
  }
  if (suffixes.length > 1 || !name || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
    throw new InvalidProperty(property, "Not a header property");
  }
  if (suffixes.length === 1) {
    const f = /^as(Raw|Text|Addresses|GroupedAddresses|MessageIds|Date|URLs)$/.exec(suffixes[0]!)?.[1];
    if (!f) throw new InvalidProperty(property, `Unknown header form ${suffixes[0]}`);
    form = f as HeaderForm;
  }
  const lower = name.toLowerCase();
  if (form !== "Raw" && KNOWN.has(lower) && !ALLOWED[form].includes(lower)) {
    throw new InvalidProperty(property, `${name} cannot be given as ${form}`);
  }
  return { name, form, all };
}

/** The header lines for one property's value (none for null or an empty `:all` list). */
export function headerLines(property: string, header: HeaderProperty, value: unknown): string[] {
  if (value === null) return [];
  if (header.all && !Array.isArray(value)) throw new InvalidProperty(property, "An :all value is a list");
  return (header.all ? value as unknown[] : [value]).filter((v) => v !== null).map((v) =>
    header.form === "Raw" ? rawField(property, header.name, v) : headerField(header.name, render(property, header, v))
  );
}

function rawField(property: string, name: string, value: unknown): string {
  // RFC 5322 §2.2: a CR or LF only as part of a fold (CRLF followed by white space).
  if (typeof value !== "string" || /[\0]|\r(?!\n[ \t])|(?<!\r)\n/.test(value)) {
    throw new InvalidProperty(property, "A raw header value is text whose line breaks are folds");
  }
  return `${name}:${value}`;
}

function render(property: string, header: HeaderProperty, value: unknown): string {
  switch (header.form) {
    case "Text":
      if (typeof value !== "string") throw new InvalidProperty(property, "Text is a string");
      return unstructured(value.trim());
    case "Addresses":
      return addressList(property, value);
    case "GroupedAddresses":
      if (!Array.isArray(value)) throw new InvalidProperty(property, "A list of EmailAddressGroup");
      return foldList(value.map((g) => {
        const { name, addresses } = (g ?? {}) as { name?: unknown; addresses?: unknown };
        if (name === null || name === undefined) return addressList(property, addresses);
        if (typeof name !== "string") throw new InvalidProperty(property, "A group name is a string or null");
        return `${phrase(name)}: ${addressList(property, addresses)};`;
      }));
    case "MessageIds":
      return messageIds(property, value);
    case "Date":
      return rfc5322Date(property, value);
    case "URLs":
      if (
        !Array.isArray(value) || !value.every((u) => typeof u === "string" && /^[\x21-\x3b\x3d\x3f-\x7e]+$/.test(u))
      ) {
        throw new InvalidProperty(property, "URLs is a list of URLs");
      }
      return foldList(value.map((u) => `<${u}>`));
    case "Raw":
      throw new Error("Raw values are written as they are");
  }
}

/** RFC 8621 §4.1.2.3 EmailAddress: an addr-spec with no space, control character or bracket in it. */
export function isEmailAddress(a: unknown): a is { name?: string | null; email: string } {
  const { name, email } = (a ?? {}) as { name?: unknown; email?: unknown };
  return (name === undefined || name === null || typeof name === "string") && typeof email === "string" &&
    /^[^\x00-\x20\x7f<>()\[\],;:"\\@]+@[^\x00-\x20\x7f<>()\[\],;:"\\@]+$/.test(email);
}

function addressList(property: string, value: unknown): string {
  if (!Array.isArray(value) || !value.every(isEmailAddress)) {
    throw new InvalidProperty(property, "Addresses are objects with a valid email and an optional name");
  }
  return foldList(value.map((a) => (a.name ? `${phrase(a.name)} <${a.email}>` : `<${a.email}>`)));
}

/** Items of a list, one per line once they would not fit on one (RFC 5322 §2.2.3). */
function foldList(items: string[]): string {
  const one = items.join(", ");
  return one.length <= 70 ? one : items.join(",\r\n ");
}

export function messageIds(property: string, value: unknown): string {
  if (!Array.isArray(value) || !value.every((id) => typeof id === "string" && MESSAGE_ID.test(id))) {
    throw new InvalidProperty(property, "A list of message ids without angle brackets");
  }
  return value.map((id) => `<${id}>`).join("\r\n ");
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * An RFC 3339 date-time as an RFC 5322 date (§3.3), in the zone the client wrote it in (the JMAP
 * Date type keeps the sender's offset, RFC 8620 §1.4).
 */
export function rfc5322Date(property: string, value: unknown): string {
  const m = typeof value === "string"
    ? /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.exec(value)
    : null;
  const instant = m ? Date.parse(value as string) : NaN;
  if (!m || Number.isNaN(instant)) throw new InvalidProperty(property, "A date-time with a zone (RFC 3339)");
  const zone = m[3]!.toUpperCase() === "Z" ? "+00:00" : m[3]!;
  const offset = (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const local = new Date(instant + offset * 60_000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[local.getUTCDay()]}, ${local.getUTCDate()} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()} ${
    two(local.getUTCHours())
  }:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} ${zone.replace(":", "")}`;
}

/** The header each convenience property stands for, with its form (RFC 8621 §4.1.2-§4.1.3). */
export const CONVENIENCE: Record<string, HeaderProperty> = {
  messageId: { name: "Message-ID", form: "MessageIds", all: false },
  inReplyTo: { name: "In-Reply-To", form: "MessageIds", all: false },
  references: { name: "References", form: "MessageIds", all: false },
  sender: { name: "Sender", form: "Addresses", all: false },
  from: { name: "From", form: "Addresses", all: false },
  to: { name: "To", form: "Addresses", all: false },
  cc: { name: "Cc", form: "Addresses", all: false },
  bcc: { name: "Bcc", form: "Addresses", all: false },
  replyTo: { name: "Reply-To", form: "Addresses", all: false },
  subject: { name: "Subject", form: "Text", all: false },
  sentAt: { name: "Date", form: "Date", all: false },
};
