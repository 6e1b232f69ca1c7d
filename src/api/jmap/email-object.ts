/**
 * An Email as Email/get and Email/parse return it (RFC 8621 §4.1, §4.2, §4.9): the properties
 * asked for, body parts with the `bodyProperties` asked for (sizes after the transfer encoding
 * is undone), `bodyStructure`, `header:*` in every parsed form, and `bodyValues` cut at
 * `maxBodyValueBytes` UTF-8 octets on a character boundary. The raw message is read only when a
 * property needs it.
 */
import { fileName } from "../../mime/body-parts.ts";
import { decodeCharset } from "../../mime/charset.ts";
import { decodeEncodedWords, type HeaderField, parseHeaderFields } from "../../mime/header.ts";
import type { MimePart } from "../../mime/structure.ts";
import { decodePartBody, type MessageSummary, partAt } from "../../mime/summary.ts";
import { type HeaderProperty, InvalidProperty, parseHeaderProperty } from "./compose-headers.ts";
import { allHeaders, headerPropertyValue } from "./header-forms.ts";
import { MethodError, utcDate, zonedDate } from "./request.ts";
import { BODY_PROPERTIES, DEFAULT_BODY_PROPERTIES, EMAIL, STORED_ONLY } from "./types/email.ts";
import { parseDateTime } from "../../mime/date.ts";

/** RFC 8621 §4.2: the properties returned when none are asked for. */
export const DEFAULT_EMAIL_PROPERTIES = EMAIL.defaultProperties!;
/** RFC 8621 §4.9 Email/parse: the same without the properties only a stored email has. */
export const DEFAULT_PARSE_PROPERTIES = DEFAULT_EMAIL_PROPERTIES.filter((p) => !STORED_ONLY.includes(p));

export interface EmailGetOptions {
  properties: string[];
  /** `header:` properties among them, parsed. */
  headers: Map<string, HeaderProperty>;
  bodyProperties: string[];
  bodyHeaders: Map<string, HeaderProperty>;
  fetchText: boolean;
  fetchHtml: boolean;
  maxBytes: number;
}

/** The stored part of an Email, or its blob for Email/parse. */
export interface EmailSource {
  blobId: string;
  summary: MessageSummary;
  /** The message's bytes, read at most once. */
  raw: () => Promise<Uint8Array | null>;
  /** Absent for Email/parse, whose id, mailboxIds, keywords, receivedAt and threadId are null. */
  stored?: {
    id: string;
    threadId: string;
    mailboxIds: Record<string, true>;
    keywords: Record<string, true>;
    size: number;
    receivedAt: Date;
  };
}

/**
 * RFC 8621 §4.1.4 sentAt: the Date header field as a Date (RFC 8620 §1.4), in the zone the
 * sender wrote (read from the stored ENVELOPE's date, as written).
 */
function sentAt(s: MessageSummary): string | null {
  if (s.sentAt === null) return null;
  const written = parseDateTime(s.envelope.date);
  return written ? zonedDate(written.time, written.offset) : utcDate(new Date(s.sentAt));
}

function headerProperties(list: readonly string[]): Map<string, HeaderProperty> {
  const out = new Map<string, HeaderProperty>();
  for (const p of list) {
    try {
      const parsed = parseHeaderProperty(p);
      if (parsed) out.set(p, parsed);
    } catch (e) {
      if (!(e instanceof InvalidProperty)) throw e;
      throw new MethodError("invalidArguments", `${p}: ${e.message}`);
    }
  }
  return out;
}

/**
 * Email/get and Email/parse arguments (RFC 8621 §4.2), their types checked by schemas.ts;
 * unknown properties are invalidArguments.
 */
export function emailGetOptions(args: Record<string, unknown>, defaults: readonly string[]): EmailGetOptions {
  const properties = (args.properties as string[] | null | undefined) ?? [...defaults];
  const headers = headerProperties(properties);
  const unknown = properties.find((p) => !(p in EMAIL.properties) && !headers.has(p));
  if (unknown) throw new MethodError("invalidArguments", `Unknown property ${unknown}`);
  const bodyProperties = (args.bodyProperties as string[] | null | undefined) ?? DEFAULT_BODY_PROPERTIES;
  const bodyHeaders = headerProperties(bodyProperties);
  const unknownBody = bodyProperties.find((p) => !BODY_PROPERTIES.has(p) && !bodyHeaders.has(p));
  if (unknownBody) throw new MethodError("invalidArguments", `Unknown body property ${unknownBody}`);
  const max = args.maxBodyValueBytes;
  return {
    properties,
    headers,
    bodyProperties,
    bodyHeaders,
    fetchText: args.fetchTextBodyValues === true || args.fetchAllBodyValues === true,
    fetchHtml: args.fetchHTMLBodyValues === true || args.fetchAllBodyValues === true,
    // RFC 8621 §4.2: 0 (the default) means no limit.
    maxBytes: typeof max === "number" && max > 0 ? max : Infinity,
  };
}

/** RFC 2045 §6.2: with these the stored octets are the content. */
const IDENTITY = new Set(["7bit", "8bit", "binary"]);

/**
 * Text cut to at most `maxBytes` octets of UTF-8, never inside a character (RFC 8621 §4.2:
 * "truncated … on a UTF-8 character boundary"). TextEncoder.encodeInto writes whole characters only.
 */
export function truncateUtf8(text: string, maxBytes: number): { value: string; isTruncated: boolean } {
  if (maxBytes === Infinity || text.length * 3 <= maxBytes) return { value: text, isTruncated: false };
  const out = new Uint8Array(maxBytes);
  const { read } = new TextEncoder().encodeInto(text, out);
  return read >= text.length ? { value: text, isTruncated: false } : { value: text.slice(0, read), isTruncated: true };
}

/** What the parts of one email need, computed once per email. */
class PartReader {
  #raw: Uint8Array | null | undefined;
  readonly #headers = new Map<MimePart, HeaderField[]>();

  constructor(private readonly source: EmailSource) {}

  async raw(): Promise<Uint8Array | null> {
    if (this.#raw === undefined) this.#raw = await this.source.raw();
    return this.#raw;
  }

  async fields(part: MimePart): Promise<HeaderField[]> {
    let fields = this.#headers.get(part);
    if (!fields) {
      const raw = await this.raw();
      fields = raw ? parseHeaderFields(raw.subarray(part.headerStart, part.headerEnd)) : [];
      this.#headers.set(part, fields);
    }
    return fields;
  }

  /** RFC 8621 §4.1.4 size: the octets after the transfer encoding is undone. */
  async size(part: MimePart): Promise<number> {
    if (part.parts || IDENTITY.has(part.encoding)) return part.bodyEnd - part.bodyStart;
    const raw = await this.raw();
    return raw ? decodePartBody(raw, part).length : part.bodyEnd - part.bodyStart;
  }
}

async function bodyPart(
  reader: PartReader,
  source: EmailSource,
  part: MimePart,
  path: string | null,
  options: EmailGetOptions,
): Promise<Record<string, unknown>> {
  const leaf = !part.parts;
  const out: Record<string, unknown> = {};
  for (const p of options.bodyProperties) {
    const header = options.bodyHeaders.get(p);
    if (header) {
      out[p] = headerPropertyValue(await reader.fields(part), header);
      continue;
    }
    switch (p) {
      case "partId":
        out.partId = leaf ? path : null;
        break;
      case "blobId":
        out.blobId = leaf ? `${source.blobId}.${path}` : null;
        break;
      case "size":
        out.size = await reader.size(part);
        break;
      case "headers":
        out.headers = allHeaders(await reader.fields(part));
        break;
      case "name": {
        const name = fileName(part);
        out.name = name === null ? null : decodeEncodedWords(name);
        break;
      }
      case "type":
        out.type = `${part.type}/${part.subtype}`;
        break;
      case "charset":
        out.charset = part.params.charset ?? (part.type === "text" ? "us-ascii" : null);
        break;
      case "disposition":
        out.disposition = part.disposition?.type.toLowerCase() ?? null;
        break;
      case "cid":
        out.cid = part.id?.trim().replace(/^<|>$/g, "") ?? null;
        break;
      case "language":
        out.language = part.language?.length ? part.language : null;
        break;
      case "location":
        out.location = part.location;
        break;
      case "subParts":
        out.subParts = part.parts
          ? await Promise.all(
            part.parts.map((child, i) =>
              bodyPart(reader, source, child, path ? `${path}.${i + 1}` : `${i + 1}`, options)
            ),
          )
          : null;
        break;
    }
  }
  return out;
}

/** The Email object with the properties asked for (and `id`, always). */
export async function emailObject(source: EmailSource, options: EmailGetOptions): Promise<Record<string, unknown>> {
  const s = source.summary;
  const reader = new PartReader(source);
  const list = (paths: readonly string[]) =>
    Promise.all(
      paths.map((p) => [p, partAt(s.body, p)] as const).filter((e): e is [string, MimePart] => e[1] !== null)
        .map(([p, part]) => bodyPart(reader, source, part, p, options)),
    );
  const addresses = (a: MessageSummary["from"]) => (a.length ? a : null);
  const stored = source.stored;
  const email: Record<string, unknown> = {};
  if (stored) email.id = stored.id;
  for (const p of options.properties) {
    const header = options.headers.get(p);
    if (header) {
      email[p] = headerPropertyValue(await reader.fields(s.body), header);
      continue;
    }
    switch (p) {
      case "id":
        email.id = stored?.id ?? null;
        break;
      case "blobId":
        email.blobId = source.blobId;
        break;
      case "threadId":
        email.threadId = stored?.threadId ?? null;
        break;
      case "mailboxIds":
        email.mailboxIds = stored?.mailboxIds ?? null;
        break;
      case "keywords":
        email.keywords = stored?.keywords ?? null;
        break;
      case "size":
        email.size = stored?.size ?? s.size;
        break;
      case "receivedAt":
        email.receivedAt = stored ? utcDate(stored.receivedAt) : null;
        break;
      case "messageId":
        email.messageId = s.messageId ? [s.messageId] : null;
        break;
      case "inReplyTo":
        email.inReplyTo = s.inReplyTo.length ? s.inReplyTo : null;
        break;
      case "references":
        email.references = s.references.length ? s.references : null;
        break;
      case "sender":
      case "from":
      case "to":
      case "cc":
      case "bcc":
        email[p] = addresses(s[p]);
        break;
      case "replyTo":
        email.replyTo = addresses(s.replyTo);
        break;
      case "subject":
        email.subject = s.subject;
        break;
      case "sentAt":
        email.sentAt = sentAt(s);
        break;
      case "hasAttachment":
        email.hasAttachment = s.hasAttachment;
        break;
      case "preview":
        email.preview = s.preview;
        break;
      case "textBody":
        email.textBody = await list(s.textParts);
        break;
      case "htmlBody":
        email.htmlBody = await list(s.htmlParts);
        break;
      case "attachments":
        email.attachments = await list(s.attachments);
        break;
      case "bodyStructure":
        email.bodyStructure = await bodyPart(reader, source, s.body, s.body.parts ? null : "1", {
          ...options,
          bodyProperties: [...new Set([...options.bodyProperties, "subParts"])],
        });
        break;
      case "headers":
        email.headers = allHeaders(await reader.fields(s.body));
        break;
      case "bodyValues":
        email.bodyValues = await bodyValues(reader, s, options);
        break;
    }
  }
  return email;
}

/** RFC 8621 §4.1.4 bodyValues: the text/* parts of textBody and/or htmlBody, decoded. */
async function bodyValues(reader: PartReader, s: MessageSummary, options: EmailGetOptions) {
  const values: Record<string, { value: string; isEncodingProblem: boolean; isTruncated: boolean }> = {};
  const paths = [...(options.fetchText ? s.textParts : []), ...(options.fetchHtml ? s.htmlParts : [])];
  if (!paths.length) return values;
  const raw = await reader.raw();
  if (!raw) return values;
  for (const path of paths) {
    const part = partAt(s.body, path);
    if (!part || part.type !== "text" || values[path]) continue;
    const bytes = decodePartBody(raw, part);
    const text = decodeCharset(bytes, part.params.charset);
    // A U+FFFD the decoder put in for octets that were not text in the charset, not one the part holds.
    const isEncodingProblem = text.includes("\uFFFD") && !holdsReplacementCharacter(bytes);
    values[path] = { ...truncateUtf8(text, options.maxBytes), isEncodingProblem };
  }
  return values;
}

/** Whether the octets hold U+FFFD written in UTF-8 (EF BF BD). */
function holdsReplacementCharacter(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(0xef); i !== -1 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) {
    if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) return true;
  }
  return false;
}
