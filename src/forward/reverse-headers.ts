/**
 * The header rewrites of reverse aliases (issue 19), pure over the raw message:
 *
 * - forwarded mail reaching the owner gets one `Reply-To` naming the reverse addresses of its
 *   correspondents (those of its own Reply-To, else its From, else the envelope sender);
 * - the owner's reply to a reverse address leaves from the alias: From is the alias, the fields
 *   that could name the owner (Sender, Reply-To, Return-Path, trace fields, and any other that
 *   holds one of the owner's addresses) are dropped, reverse addresses in To/Cc become the
 *   correspondents; Message-ID, In-Reply-To and References stay, so threads hold together.
 */
import { type NamedAddress, parseAddressList } from "../mime/address-list.ts";
import { type HeaderField, parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import { headerField, phrase, withoutFields } from "../mime/write.ts";
import { concatBytes } from "../util/bytes.ts";

const enc = new TextEncoder();

function fieldsOf(raw: Uint8Array): HeaderField[] {
  return parseHeaderFields(raw.subarray(0, splitHeaderBody(raw).headerEnd));
}

function addresses(value: string): NamedAddress[] {
  return parseAddressList(value).flatMap((e) => ("group" in e ? e.addresses : [e]));
}

/** Who a reply to this message goes to (RFC 5322 §3.6.2): Reply-To, else From, else the envelope sender. */
export function correspondentsOf(raw: Uint8Array, envelopeSender: string): NamedAddress[] {
  const fields = fieldsOf(raw);
  for (const name of ["reply-to", "from"]) {
    const found = fields.filter((f) => f.lowerName === name).flatMap((f) => addresses(f.value))
      .filter((a) => a.address.includes("@"));
    if (found.length > 0) return found;
  }
  return envelopeSender ? [{ name: null, address: envelopeSender }] : [];
}

/** Adds fields at the end of the header block (before the empty line). */
function appendFields(raw: Uint8Array, fields: string[]): Uint8Array {
  const { headerEnd } = splitHeaderBody(raw);
  const added = enc.encode(fields.map((f) => `${f}\r\n`).join(""));
  return concatBytes([raw.subarray(0, headerEnd), added, raw.subarray(headerEnd)]);
}

/** The message with its Reply-To replaced by the reverse addresses (each with the correspondent's name or address). */
export function withReverseReplyTo(
  raw: Uint8Array,
  reverse: ReadonlyArray<{ correspondent: NamedAddress; address: string }>,
): Uint8Array {
  const value = reverse.map((r) => `${phrase(r.correspondent.name || r.correspondent.address)} <${r.address}>`)
    .join(", ");
  return appendFields(withoutFields(raw, ["reply-to"]), [headerField("Reply-To", value)]);
}

/** Fields a reply through the alias never carries: they name the owner or the owner's machine. */
const DROPPED = [
  "from",
  "sender",
  "reply-to",
  "return-path",
  "received",
  "authentication-results",
  "dkim-signature",
  "arc-seal",
  "arc-message-signature",
  "arc-authentication-results",
  "x-originating-ip",
  "bcc",
];
/** Kept even when they hold an owner's address: the thread and what the owner wrote as subject. */
const KEPT = new Set(["message-id", "in-reply-to", "references", "subject", "to", "cc"]);

export interface AliasReply {
  /** The alias the reply leaves from. */
  alias: string;
  /** The owner's addresses (login, envelope sender, From): none of them may be left in a field. */
  owner: readonly string[];
  /** Reverse address (lower case) → correspondent, for To and Cc. */
  correspondents: ReadonlyMap<string, string>;
}

/** The owner's reply as it leaves from the alias. */
export function asAliasReply(raw: Uint8Array, reply: AliasReply): Uint8Array {
  const fields = fieldsOf(raw);
  // The From the owner's client wrote is the owner's too (submission only takes the owner's own).
  const written = fields.filter((f) => f.lowerName === "from" || f.lowerName === "sender")
    .flatMap((f) => addresses(f.value).map((a) => a.address));
  const owner = [...reply.owner, ...written].map((a) => a.toLowerCase())
    .filter((a) => a && a !== reply.alias.toLowerCase());
  const holdsOwner = (f: HeaderField) => owner.some((a) => f.value.toLowerCase().includes(a));
  const dropped = new Set(DROPPED);
  for (const f of fields) if (!KEPT.has(f.lowerName) && holdsOwner(f)) dropped.add(f.lowerName);

  // To and Cc name the correspondents rather than their reverse addresses.
  const rewritten: string[] = [];
  for (const lowerName of ["to", "cc"]) {
    const named = fields.filter((f) => f.lowerName === lowerName);
    const values = named.map((f) => correspondentsFor(f.value, reply.correspondents));
    if (values.every((v, i) => v === named[i]!.value)) continue;
    dropped.add(lowerName);
    named.forEach((f, i) => rewritten.push(values[i] === f.value ? f.raw : headerField(f.name, values[i]!)));
  }
  const name = fields.filter((f) => f.lowerName === "from").flatMap((f) => addresses(f.value))[0]?.name;
  const from = name && !name.includes("@") ? `${phrase(name)} <${reply.alias}>` : reply.alias;
  return appendFields(withoutFields(raw, [...dropped]), [headerField("From", from), ...rewritten]);
}

function correspondentsFor(value: string, correspondents: ReadonlyMap<string, string>): string {
  let out = value;
  for (const [reverse, correspondent] of correspondents) {
    out = out.replace(new RegExp(escapeRegExp(reverse), "gi"), correspondent);
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
