/**
 * The MIME tree of a message with byte offsets into the raw message (RFC 2045, RFC 2046), so
 * IMAP can answer BODYSTRUCTURE and fetch BODY[1.2], BODY[1.MIME] straight from the stored blob.
 * Linear in the message size, bounded in depth and part count, never throws.
 */
import { buildEnvelope, type Envelope } from "./envelope.ts";
import { type HeaderField, headerValue, parseHeaderFields, splitHeaderBody } from "./header.ts";
import { parseParameterized } from "./parameters.ts";

export interface MimePart {
  /** Lower-case, e.g. "text" / "plain". */
  type: string;
  subtype: string;
  /** Content-Type parameters, names lower-case. */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, lower-case; "7bit" when absent (RFC 2045 §6.1). */
  encoding: string;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  md5: string | null;
  /** Offsets in the raw message of this part's header block and body. */
  headerStart: number;
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  /** Body lines, for text/* and message/rfc822 (IMAP BODYSTRUCTURE). */
  lines: number;
  parts?: MimePart[];
  /** For message/rfc822: the envelope and structure of the enclosed message. */
  message?: { envelope: Envelope; body: MimePart };
}

const MAX_DEPTH = 30;
const MAX_PARTS = 2000;

export function parseStructure(raw: Uint8Array): MimePart {
  const budget = { parts: 0 };
  return parsePart(raw, 0, raw.length, null, 0, budget);
}

function parsePart(
  raw: Uint8Array,
  start: number,
  end: number,
  parentSubtype: string | null,
  depth: number,
  budget: { parts: number },
): MimePart {
  budget.parts++;
  const slice = raw.subarray(start, end);
  const { headerEnd, bodyStart } = splitHeaderBody(slice);
  const fields = parseHeaderFields(slice.subarray(0, headerEnd));
  // RFC 2046 §5.1.5: inside multipart/digest the default type is message/rfc822.
  const fallback = parentSubtype === "digest" ? "message/rfc822" : "text/plain; charset=us-ascii";
  const contentType = parseParameterized(headerValue(fields, "content-type") ?? fallback);
  let [type, subtype] = contentType.value.split("/") as [string, string | undefined];
  if (!type || !subtype) [type, subtype] = ["text", "plain"];
  const part: MimePart = {
    type,
    subtype,
    params: type === "text" && !contentType.params.charset ? { ...contentType.params, charset: "us-ascii" } : contentType.params,
    id: headerValue(fields, "content-id"),
    description: headerValue(fields, "content-description"),
    encoding: (headerValue(fields, "content-transfer-encoding") ?? "7bit").toLowerCase(),
    disposition: disposition(fields),
    language: headerValue(fields, "content-language")?.split(/\s*,\s*/).filter(Boolean) ?? null,
    location: headerValue(fields, "content-location"),
    md5: headerValue(fields, "content-md5"),
    headerStart: start,
    headerEnd: start + headerEnd,
    bodyStart: start + bodyStart,
    bodyEnd: end,
    lines: 0,
  };
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  if (type === "text" || (type === "message" && subtype === "rfc822")) part.lines = countLines(body);

  const deeper = depth < MAX_DEPTH && budget.parts < MAX_PARTS;
  if (type === "multipart" && part.params.boundary && deeper) {
    part.parts = splitMultipart(raw, part.bodyStart, part.bodyEnd, part.params.boundary).map(([s, e]) =>
      parsePart(raw, s, e, subtype, depth + 1, budget),
    );
    if (part.parts.length === 0) part.parts = [parsePart(raw, part.bodyEnd, part.bodyEnd, subtype, depth + 1, budget)];
  } else if (type === "message" && subtype === "rfc822" && deeper) {
    const inner = parsePart(raw, part.bodyStart, part.bodyEnd, null, depth + 1, budget);
    const innerFields = parseHeaderFields(raw.subarray(inner.headerStart, inner.headerEnd));
    part.message = { envelope: buildEnvelope(innerFields), body: inner };
  }
  return part;
}

function disposition(fields: readonly HeaderField[]): MimePart["disposition"] {
  const value = headerValue(fields, "content-disposition");
  if (!value) return null;
  const parsed = parseParameterized(value);
  return { type: parsed.value, params: parsed.params };
}

/**
 * The [start, end) ranges of the body parts between `--boundary` delimiter lines (RFC 2046
 * §5.1.1). The CRLF before a delimiter belongs to the delimiter; preamble and epilogue are
 * skipped; a missing close delimiter ends the last part at the end of the body.
 */
function splitMultipart(raw: Uint8Array, start: number, end: number, boundary: string): Array<[number, number]> {
  const delimiter = new TextEncoder().encode(`--${boundary}`);
  const ranges: Array<[number, number]> = [];
  let partStart = -1;
  let lineStart = start;
  while (lineStart < end) {
    let lf = raw.indexOf(0x0a, lineStart);
    if (lf === -1 || lf >= end) lf = end;
    if (startsWith(raw, lineStart, lf, delimiter)) {
      const after = lineStart + delimiter.length;
      const closing = raw[after] === 0x2d && raw[after + 1] === 0x2d;
      const rest = raw.subarray(closing ? after + 2 : after, lf);
      if (rest.every((b) => b === 0x20 || b === 0x09 || b === 0x0d)) {
        if (partStart !== -1) ranges.push([partStart, lineEndBefore(raw, lineStart, partStart)]);
        if (closing) return ranges;
        partStart = Math.min(lf + 1, end);
      }
    }
    lineStart = lf + 1;
  }
  if (partStart !== -1) ranges.push([partStart, end]);
  return ranges;
}

/** The offset where the CRLF (or LF) preceding a delimiter line starts. */
function lineEndBefore(raw: Uint8Array, delimiterLine: number, floor: number): number {
  let at = delimiterLine;
  if (at > floor && raw[at - 1] === 0x0a) at--;
  if (at > floor && raw[at - 1] === 0x0d) at--;
  return at;
}

function startsWith(raw: Uint8Array, at: number, limit: number, prefix: Uint8Array): boolean {
  if (limit - at < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (raw[at + i] !== prefix[i]) return false;
  return true;
}

function countLines(body: Uint8Array): number {
  let lines = 0;
  for (let i = body.indexOf(0x0a); i !== -1; i = body.indexOf(0x0a, i + 1)) lines++;
  return body.length > 0 && body[body.length - 1] !== 0x0a ? lines + 1 : lines;
}

/** Section lookup by IMAP part number ("1.2.3"); part 1 of a non-multipart is its own body (RFC 9051 §6.4.5). */
export function partAt(root: MimePart, path: string): MimePart | null {
  let part: MimePart = root;
  for (const segment of path.split(".")) {
    const n = Number(segment);
    if (!Number.isInteger(n) || n < 1) return null;
    const container = part.message ? part.message.body : part;
    if (container.parts) {
      const next = container.parts[n - 1];
      if (!next) return null;
      part = next;
    } else if (n === 1) {
      part = container;
    } else return null;
  }
  return part;
}
