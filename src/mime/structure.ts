/**
 * The MIME tree of a message with byte offsets into the raw message (RFC 2045, RFC 2046), so
 * IMAP can answer BODYSTRUCTURE and fetch BODY[1.2] and BODY[1.MIME] straight from the stored
 * blob. Bounded in depth and part count, linear in the message size for a given depth, never throws.
 */
import { buildEnvelope, type Envelope } from "./envelope.ts";
import { type HeaderField, headerValue, parseHeaderFields, splitHeaderBody } from "./header.ts";
import { parseParameterized } from "./parameters.ts";

export interface MimePart {
  /** Lower-case, e.g. "text" / "plain". */
  type: string;
  subtype: string;
  /** Content-Type parameters, names lower-case; text/* always has a charset. */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, lower-case; "7bit" when absent (RFC 2045 §6.1). */
  encoding: string;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  md5: string | null;
  /** Offsets in the raw message of this part's header block (without the blank line) and body. */
  headerStart: number;
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  /** Body lines, for text/* and message/rfc822 (IMAP BODYSTRUCTURE). */
  lines: number;
  /** multipart/*: the body parts, at least one. */
  parts?: MimePart[];
  /** message/rfc822: the envelope and structure of the enclosed message. */
  message?: { envelope: Envelope; body: MimePart };
}

/** Deeper multiparts and enclosed messages become opaque application/octet-stream leaves. */
export const MAX_DEPTH = 50;
/** Parts past this many are dropped from the tree (their bytes stay in the raw message). */
export const MAX_PARTS = 1000;

/** Parts allotted so far, counted when a multipart is split, so the tree never outgrows MAX_PARTS. */
interface Budget {
  parts: number;
}

export function parseStructure(raw: Uint8Array): MimePart {
  return parseMessage(raw).body;
}

/** The structure and the top-level header fields, read once. */
export function parseMessage(raw: Uint8Array): { fields: HeaderField[]; body: MimePart } {
  const { part, fields } = parseEntity(raw, 0, raw.length, null, 0, { parts: 1 });
  return { fields, body: part };
}

const TOKEN = /^[a-z0-9!#$%&'*+.^_`{|}~-]+$/;
const enc = new TextEncoder();
/** RFC 2045 §6.4: only these leave an enclosed message readable as it stands. */
const IDENTITY = new Set(["7bit", "8bit", "binary"]);

/** One entity (message or body part) spanning raw[start, end). */
function parseEntity(
  raw: Uint8Array,
  start: number,
  end: number,
  parentSubtype: string | null,
  depth: number,
  budget: Budget,
): { part: MimePart; fields: HeaderField[] } {
  const split = splitHeaderBody(raw.subarray(start, end));
  const fields = parseHeaderFields(raw.subarray(start, start + split.headerEnd));
  const part = describe(fields, parentSubtype);
  part.headerStart = start;
  part.headerEnd = start + split.headerEnd;
  part.bodyStart = start + split.bodyStart;
  part.bodyEnd = end;

  const room = depth < MAX_DEPTH && budget.parts < MAX_PARTS;
  if (part.type === "multipart") {
    const boundary = part.params.boundary;
    if (room && boundary) {
      const ranges = splitMultipart(raw, part.bodyStart, end, boundary, MAX_PARTS - budget.parts);
      // RFC 9051 body-type-mpart needs one part at least: an empty one stands in.
      if (ranges.length === 0) ranges.push([end, end]);
      budget.parts += ranges.length;
      part.parts = ranges.map(([s, e]) => parseEntity(raw, s, e, part.subtype, depth + 1, budget).part);
    } else opaque(part);
  } else if (part.type === "message" && part.subtype === "rfc822") {
    if (!room) opaque(part);
    else if (IDENTITY.has(part.encoding)) {
      budget.parts++;
      const inner = parseEntity(raw, part.bodyStart, end, null, depth + 1, budget);
      part.message = { envelope: buildEnvelope(inner.fields), body: inner.part };
    }
  }
  if (part.type === "text" || (part.type === "message" && part.subtype === "rfc822")) {
    part.lines = countLines(raw, part.bodyStart, end);
  }
  return { part, fields };
}

/** The part's Content-* fields; offsets are filled in by the caller. */
function describe(fields: readonly HeaderField[], parentSubtype: string | null): MimePart {
  // RFC 2045 §5.2 default, and RFC 2046 §5.1.5 inside multipart/digest.
  const fallback = parentSubtype === "digest" ? "message/rfc822" : "text/plain";
  const contentTypeValue = headerValue(fields, "content-type");
  let contentType = contentTypeValue === null ? { value: fallback, params: {} } : parseParameterized(contentTypeValue);
  let [type = "", subtype = ""] = contentType.value.split("/");
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) {
    // RFC 2045 §5.2: an invalid Content-Type is read as the default.
    contentType = { value: fallback, params: {} };
    [type = "", subtype = ""] = fallback.split("/");
  }
  const params = contentType.params;
  if (type === "text" && !params.charset) params.charset = "us-ascii";
  const dispositionValue = headerValue(fields, "content-disposition");
  const disposition = dispositionValue === null ? null : parseParameterized(dispositionValue);
  const language = headerValue(fields, "content-language");
  const encoding = (headerValue(fields, "content-transfer-encoding") ?? "").replace(/\(.*$/, "").trim().toLowerCase();
  return {
    type,
    subtype,
    params,
    id: headerValue(fields, "content-id"),
    description: headerValue(fields, "content-description"),
    encoding: encoding || "7bit",
    disposition: disposition && disposition.value ? { type: disposition.value, params: disposition.params } : null,
    language: language === null
      ? null
      : language.split(",").map((l) => l.replace(/\(.*?\)/g, "").trim()).filter(Boolean),
    location: headerValue(fields, "content-location"),
    md5: headerValue(fields, "content-md5"),
    headerStart: 0,
    headerEnd: 0,
    bodyStart: 0,
    bodyEnd: 0,
    lines: 0,
  };
}

/** A multipart or message that will not be looked into. */
function opaque(part: MimePart): void {
  part.type = "application";
  part.subtype = "octet-stream";
}

/**
 * The [start, end) ranges of the body parts between "--boundary" delimiter lines (RFC 2046
 * §5.1.1): a delimiter starts a line and may be followed by white space; the line break before
 * it belongs to it. Preamble and epilogue are skipped; without a close delimiter the last part
 * runs to the end. At most `max` ranges.
 */
function splitMultipart(
  raw: Uint8Array,
  start: number,
  end: number,
  boundary: string,
  max: number,
): Array<[number, number]> {
  const delimiter = enc.encode(`--${boundary}`);
  const scope = raw.subarray(0, end);
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  for (let line = start; line < end;) {
    let lf = scope.indexOf(0x0a, line);
    if (lf === -1) lf = end;
    if (startsWith(raw, line, lf, delimiter)) {
      const after = line + delimiter.length;
      const closing = raw[after] === 0x2d && after + 1 < lf && raw[after + 1] === 0x2d;
      if (onlySpace(raw, closing ? after + 2 : after, lf)) {
        if (partStart !== -1) {
          ranges.push([partStart, lineBreakBefore(raw, line, partStart)]);
          if (ranges.length >= max) return ranges;
        }
        if (closing) return ranges;
        partStart = Math.min(lf + 1, end);
      }
    }
    line = lf + 1;
  }
  if (partStart !== -1 && ranges.length < max) ranges.push([partStart, end]);
  return ranges;
}

/** Where the CRLF (or LF) before a delimiter line starts, not before `floor`. */
function lineBreakBefore(raw: Uint8Array, line: number, floor: number): number {
  let at = line;
  if (at > floor && raw[at - 1] === 0x0a) at--;
  if (at > floor && raw[at - 1] === 0x0d) at--;
  return at;
}

function startsWith(raw: Uint8Array, at: number, limit: number, prefix: Uint8Array): boolean {
  if (limit - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (raw[at + i] !== prefix[i]) return false;
  return true;
}

function onlySpace(raw: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = raw[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

/** Lines in raw[start, end); a last line without a line break counts too. */
function countLines(raw: Uint8Array, start: number, end: number): number {
  const body = raw.subarray(start, end);
  let lines = 0;
  for (let i = body.indexOf(0x0a); i !== -1; i = body.indexOf(0x0a, i + 1)) lines++;
  return body.length > 0 && body[body.length - 1] !== 0x0a ? lines + 1 : lines;
}

/**
 * Section lookup by IMAP part number ("1.2.3", RFC 9051 §6.4.5): the parts of a multipart are
 * numbered from 1; a message/rfc822 part's numbers continue into the enclosed message; a
 * message (top level or enclosed) whose body is not multipart has that body as part 1.
 */
export function partAt(root: MimePart, path: string): MimePart | null {
  let container = root;
  let isMessageBody = true;
  let part: MimePart | null = null;
  for (const segment of path.split(".")) {
    if (!/^[1-9]\d{0,5}$/.test(segment)) return null;
    const n = Number(segment);
    let next: MimePart | undefined;
    if (container.parts) next = container.parts[n - 1];
    else if (isMessageBody && n === 1) next = container;
    if (!next) return null;
    part = next;
    if (part.message) {
      container = part.message.body;
      isMessageBody = true;
    } else {
      container = part;
      isMessageBody = false;
    }
  }
  return part;
}
