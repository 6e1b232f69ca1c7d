/**
 * The body of an Email/set create (RFC 8621 §4.6): a `bodyStructure` tree of EmailBodyParts, or
 * `textBody` / `htmlBody` / `attachments` from which the server builds one; each leaf's content is
 * a `bodyValues` entry (`partId`) or a blob (`blobId`: an upload, or a part of a stored message).
 * The result is a MIME tree (RFC 2045, RFC 2046) ready to write.
 */
import { base64Lines, is7bit, isPrintableAscii, parameter, quotedPrintable } from "../../mime/write.ts";
import { headerLines, InvalidProperty, parseHeaderProperty } from "./compose-headers.ts";
import { BODY_PROPERTIES } from "./types/email.ts";

/** A MIME entity: its Content-* and other header lines, and a body or parts. */
export type MimeNode =
  | { headers: string[]; body: string | Uint8Array }
  | { headers: string[]; multipart: string; parts: MimeNode[] };

/** Reads a blob the account may read; null when there is none (blobNotFound). */
export type BlobReader = (blobId: string) => Promise<Uint8Array | null>;

export class BlobsNotFound extends Error {
  constructor(readonly notFound: string[]) {
    super("Blobs not found");
  }
}

/** The EmailBodyPart properties a create may give: not `headers` (RFC 8621 §4.6: header:* forms instead). */
const PART_PROPERTIES = new Set([...BODY_PROPERTIES].filter((p) => p !== "headers"));
const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/;
/** Fields the EmailBodyPart properties write; a `header:` property for one of them must not repeat it. */
const PART_FIELDS: Record<string, string> = {
  "content-type": "type",
  "content-disposition": "disposition",
  "content-id": "cid",
  "content-language": "language",
  "content-location": "location",
};

interface Context {
  values: Record<string, { value: string }>;
  readBlob: BlobReader;
  missing: string[];
}

/** The body from the create's properties (already checked not to mix bodyStructure with the others). */
export async function composeBody(
  spec: Record<string, unknown>,
  readBlob: BlobReader,
): Promise<MimeNode> {
  const ctx: Context = { values: bodyValues(spec.bodyValues), readBlob, missing: [] };
  let root: MimeNode;
  if (spec.bodyStructure !== undefined) root = await part(ctx, spec.bodyStructure, "bodyStructure", null);
  else root = await fromLists(ctx, spec);
  if (ctx.missing.length) throw new BlobsNotFound([...new Set(ctx.missing)]);
  return root;
}

function bodyValues(value: unknown): Record<string, { value: string }> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new InvalidProperty("bodyValues", "An object");
  for (const [id, v] of Object.entries(value)) {
    const { value: text, isTruncated, isEncodingProblem } = (v ?? {}) as Record<string, unknown>;
    // RFC 8621 §4.6: isEncodingProblem and isTruncated must be false or absent.
    if (typeof text !== "string" || (isTruncated ?? false) !== false || (isEncodingProblem ?? false) !== false) {
      throw new InvalidProperty(`bodyValues/${id}`, "A value string, not truncated, without encoding problem");
    }
  }
  return value as Record<string, { value: string }>;
}

/** RFC 8621 §4.6: text and HTML as one alternative, inline parts (cid) related to the HTML, the rest mixed. */
async function fromLists(ctx: Context, spec: Record<string, unknown>): Promise<MimeNode> {
  const single = async (key: "textBody" | "htmlBody", type: string) => {
    const list = spec[key];
    if (list === undefined || list === null) return null;
    if (!Array.isArray(list) || list.length !== 1) throw new InvalidProperty(key, "Exactly one body part");
    const given = (list[0] ?? {}) as Record<string, unknown>;
    if (given.type !== undefined && given.type !== type) throw new InvalidProperty(key, `The part must be ${type}`);
    return part(ctx, { ...given, type }, `${key}/0`, type);
  };
  const text = await single("textBody", "text/plain");
  const html = await single("htmlBody", "text/html");
  const given = spec.attachments ?? [];
  if (!Array.isArray(given)) throw new InvalidProperty("attachments", "A list of body parts");
  const inline: MimeNode[] = [];
  const mixed: MimeNode[] = [];
  for (const [i, a] of given.entries()) {
    const spec = (a ?? {}) as Record<string, unknown>;
    const node = await part(ctx, a, `attachments/${i}`, null);
    (html && typeof spec.cid === "string" && spec.disposition !== "attachment" ? inline : mixed).push(node);
  }
  const rich = html && inline.length ? multipart("related", [html, ...inline]) : html;
  const body = text && rich ? multipart("alternative", [text, rich]) : rich ?? text;
  if (!mixed.length) return body ?? leaf([], "text/plain", { charset: "utf-8" }, textContent(""));
  return body || mixed.length > 1 ? multipart("mixed", body ? [body, ...mixed] : mixed) : mixed[0]!;
}

function multipart(subtype: string, parts: MimeNode[]): MimeNode {
  return { headers: [], multipart: subtype, parts };
}

async function part(ctx: Context, value: unknown, path: string, fixedType: string | null): Promise<MimeNode> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidProperty(path, "An EmailBodyPart");
  }
  const spec = value as Record<string, unknown>;
  const extra: string[] = [];
  const fields = new Set<string>();
  for (const [key, v] of Object.entries(spec)) {
    const header = parseHeaderProperty(key);
    if (!header) {
      if (!PART_PROPERTIES.has(key)) throw new InvalidProperty(`${path}/${key}`, `${key} cannot be set`);
      continue;
    }
    const lower = header.name.toLowerCase();
    // RFC 8621 §4.6: no Content-Transfer-Encoding; no field twice, through a property or a header:.
    if (lower === "content-transfer-encoding" || fields.has(lower) || spec[PART_FIELDS[lower] ?? ""] !== undefined) {
      throw new InvalidProperty(`${path}/${key}`, `${header.name} cannot be given here`);
    }
    fields.add(lower);
    extra.push(...headerLines(`${path}/${key}`, header, v));
  }
  const type = fixedType ?? (typeof spec.type === "string" ? spec.type.toLowerCase() : null);
  if (type !== null && !MEDIA_TYPE.test(type)) throw new InvalidProperty(`${path}/type`, "A media type");
  const str = (key: string) => {
    const v = spec[key];
    if (v !== undefined && v !== null && (typeof v !== "string" || !isPrintableAscii(v) && key !== "name")) {
      throw new InvalidProperty(`${path}/${key}`, `${key} is a string`);
    }
    return (v ?? null) as string | null;
  };
  const [disposition, cid, location, name] = [str("disposition"), str("cid"), str("location"), str("name")];
  if (disposition !== null && !/^[a-z0-9!#$&^_.+-]+$/i.test(disposition)) {
    throw new InvalidProperty(`${path}/disposition`, "A disposition type");
  }
  if (cid !== null && !/^[\x21-\x3b\x3d\x3f-\x7e]+$/.test(cid)) {
    throw new InvalidProperty(`${path}/cid`, "A Content-ID without angle brackets");
  }
  const language = spec.language ?? null;
  if (language !== null && (!Array.isArray(language) || !language.every((l) => /^[a-zA-Z0-9-]+$/.test(l)))) {
    throw new InvalidProperty(`${path}/language`, "A list of language tags");
  }
  const headers = [
    ...(disposition ? [`Content-Disposition: ${disposition}${name ? parameter("filename", name) : ""}`] : []),
    ...(cid ? [`Content-ID: <${cid}>`] : []),
    ...(language?.length ? [`Content-Language: ${(language as string[]).join(", ")}`] : []),
    ...(location ? [`Content-Location: ${location}`] : []),
    ...extra,
  ];
  // A Content-Type given as a header: property stands as the client wrote it.
  if (fields.has("content-type") && spec.subParts === undefined) {
    return { headers, body: await content(ctx, spec, path) };
  }
  if (spec.subParts !== undefined) {
    if (!Array.isArray(spec.subParts) || spec.partId !== undefined || spec.blobId !== undefined) {
      throw new InvalidProperty(`${path}/subParts`, "subParts is a list, without partId or blobId");
    }
    const subtype = type === null ? "mixed" : /^multipart\/(.+)$/.exec(type)?.[1];
    if (!subtype) throw new InvalidProperty(`${path}/type`, "A part with subParts is multipart/*");
    const parts = [];
    for (const [i, p] of spec.subParts.entries()) parts.push(await part(ctx, p, `${path}/subParts/${i}`, null));
    return { headers, multipart: subtype, parts };
  }
  if (type?.startsWith("multipart/")) throw new InvalidProperty(`${path}/subParts`, "A multipart needs subParts");
  const body = await content(ctx, spec, path);
  const isText = typeof body === "string";
  const resolved = type ?? (isText ? "text/plain" : "application/octet-stream");
  const params: Record<string, string> = {};
  if (isText || resolved.startsWith("text/")) {
    const charset = str("charset");
    // RFC 8621 §4.6: no charset with partId (the server picks it); a blob's text is as the client says.
    if (isText && charset !== null) throw new InvalidProperty(`${path}/charset`, "No charset with partId");
    if (isText || charset) params.charset = isText ? "utf-8" : charset!;
  }
  if (name) params.name = name;
  return leaf(headers, resolved, params, body);
}

/** A leaf's content: the text of its bodyValues entry, or the bytes of its blob. */
async function content(ctx: Context, spec: Record<string, unknown>, path: string): Promise<string | Uint8Array> {
  if (spec.partId !== undefined && spec.blobId !== undefined) {
    throw new InvalidProperty(`${path}/partId`, "partId and blobId cannot both be given");
  }
  if (spec.partId !== undefined) {
    if (spec.size !== undefined) throw new InvalidProperty(`${path}/size`, "No size with partId");
    const value = typeof spec.partId === "string" ? ctx.values[spec.partId] : undefined;
    if (!value) throw new InvalidProperty(`${path}/partId`, "partId names no bodyValues entry");
    return textContent(value.value);
  }
  if (typeof spec.blobId !== "string") throw new InvalidProperty(`${path}/blobId`, "A part needs partId or blobId");
  const bytes = await ctx.readBlob(spec.blobId);
  if (!bytes) ctx.missing.push(spec.blobId);
  return bytes ?? new Uint8Array();
}

/** Text with CRLF line breaks, ending in one (RFC 2046 §4.1.1). */
function textContent(text: string): string {
  const crlf = text.replace(/\r?\n|\r/g, "\r\n");
  return crlf.endsWith("\r\n") ? crlf : `${crlf}\r\n`;
}

function leaf(headers: string[], type: string, params: Record<string, string>, body: string | Uint8Array): MimeNode {
  const contentType = `Content-Type: ${type}${Object.entries(params).map(([k, v]) => parameter(k, v)).join("")}`;
  return { headers: [contentType, ...headers], body };
}

/** Writes a MIME tree, choosing each leaf's transfer encoding; the root's header lines come first. */
export function writeMime(node: MimeNode): { headers: string[]; body: Uint8Array } {
  const enc = new TextEncoder();
  if ("parts" in node) {
    const boundary = `=_${crypto.randomUUID()}`;
    const chunks: Uint8Array[] = [];
    for (const p of node.parts) {
      const written = writeMime(p);
      chunks.push(
        enc.encode(`--${boundary}\r\n${written.headers.join("\r\n")}\r\n\r\n`),
        written.body,
        enc.encode("\r\n"),
      );
    }
    chunks.push(enc.encode(`--${boundary}--\r\n`));
    const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (body.set(c, at), at + c.length), 0);
    return { headers: [`Content-Type: multipart/${node.multipart}; boundary="${boundary}"`, ...node.headers], body };
  }
  const bytes = typeof node.body === "string" ? enc.encode(node.body) : node.body;
  const type = /^Content-Type:\s*([^;\s]+)/i.exec(node.headers.find((h) => /^content-type:/i.test(h)) ?? "")?.[1] ?? "";
  // RFC 2046 §5.2.1: an enclosed message is never base64 or quoted-printable.
  if (is7bit(bytes) || /^message\//i.test(type)) {
    return { headers: [...node.headers, `Content-Transfer-Encoding: ${is7bit(bytes) ? "7bit" : "8bit"}`], body: bytes };
  }
  if (typeof node.body === "string") {
    return {
      headers: [...node.headers, "Content-Transfer-Encoding: quoted-printable"],
      body: enc.encode(quotedPrintable(bytes)),
    };
  }
  return { headers: [...node.headers, "Content-Transfer-Encoding: base64"], body: enc.encode(base64Lines(bytes)) };
}
