/**
 * RFC 5322 header blocks on bytes: where the header ends, and its fields, raw and unfolded.
 * CRLF and bare LF line ends are both accepted.
 */
import { strictUtf8, utf8OrLatin1 } from "./charset.ts";

export { decodeEncodedWords } from "./encoded-words.ts";
export { type Parameterized, parseParameterized as parseParameterizedHeader } from "./parameters.ts";

export interface HeaderField {
  /** As written, e.g. "Message-ID". */
  name: string;
  lowerName: string;
  /** The whole field as written, folding included, without the final line break. */
  raw: string;
  /** Unfolded (RFC 5322 §2.2.3: line breaks removed), after the colon, trimmed; undecoded. */
  value: string;
}

/**
 * Where the header block ends and the body starts. `headerEnd` is just past the line break of
 * the last field (the blank line is not part of it); `bodyStart` is just past the blank line.
 * With no blank line the whole input is header. An input starting with a blank line has an
 * empty header (common in MIME body parts).
 */
export function splitHeaderBody(raw: Uint8Array): { headerEnd: number; bodyStart: number } {
  if (raw[0] === 0x0a) return { headerEnd: 0, bodyStart: 1 };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headerEnd: 0, bodyStart: 2 };
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, i + 1)) {
    if (raw[i + 1] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 2 };
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 3 };
  }
  return { headerEnd: raw.length, bodyStart: raw.length };
}

/**
 * The fields of a header block, in order. Reading stops at the first empty line. Each line is
 * read as UTF-8 (RFC 6532) when valid, else as Latin-1. Lines that are neither a field nor a
 * continuation (an mbox "From " line, junk) are skipped.
 */
export function parseHeaderFields(header: Uint8Array): HeaderField[] {
  const text = headerText(header);
  const fields: HeaderField[] = [];
  for (let start = 0; start < text.length;) {
    const firstEnd = lineEnd(text, start);
    if (firstEnd === start) break;
    // RFC 5322 §2.2.3: a line starting with white space continues the field before it;
    // unfolding removes the line breaks.
    let unfolded = text.slice(start, firstEnd);
    let crlf = true;
    let end = firstEnd;
    let next = nextLine(text, firstEnd);
    while (next < text.length && (text[next] === " " || text[next] === "\t")) {
      crlf &&= next - end === 2;
      end = lineEnd(text, next);
      unfolded += text.slice(next, end);
      next = nextLine(text, end);
    }
    const field = readField(text.slice(start, end), unfolded, firstEnd - start, crlf);
    if (field) fields.push(field);
    start = next;
  }
  return fields;
}

/**
 * A field from its lines as written (`raw`, line breaks CRLF when `crlf`) and unfolded; null
 * when its first line, `firstLength` long, is no field.
 */
function readField(raw: string, unfolded: string, firstLength: number, crlf: boolean): HeaderField | null {
  let nameEnd = 0;
  while (nameEnd < firstLength && isNameChar(unfolded.charCodeAt(nameEnd))) nameEnd++;
  // Obsolete syntax (RFC 5322 §4.5) allows white space before the colon.
  let colon = nameEnd;
  while (colon < firstLength && (unfolded[colon] === " " || unfolded[colon] === "\t")) colon++;
  if (nameEnd === 0 || colon === firstLength || unfolded[colon] !== ":") return null;
  const name = unfolded.slice(0, nameEnd);
  return {
    name,
    lowerName: name.toLowerCase(),
    raw: crlf ? raw : raw.replace(/\r?\n/g, "\r\n"),
    value: unfolded.slice(colon + 1).trim(),
  };
}

/** RFC 5322 §3.6.8: a field name is printable US-ASCII except ":". */
function isNameChar(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x3a;
}

/** Where the line starting at `start` ends: at its CRLF or bare LF, or at the end of the text. */
function lineEnd(text: string, start: number): number {
  const lf = text.indexOf("\n", start);
  if (lf === -1) return text.length;
  return lf > start && text[lf - 1] === "\r" ? lf - 1 : lf;
}

/** Where the line after the one ending at `end` starts. */
function nextLine(text: string, end: number): number {
  const lf = text.indexOf("\n", end);
  return lf === -1 ? text.length : lf + 1;
}

/**
 * The header block as text, lines ending in CRLF or LF as written. A block that is not UTF-8 is
 * read line by line, each line as UTF-8 when valid, else as Latin-1.
 */
function headerText(header: Uint8Array): string {
  const whole = strictUtf8(header);
  if (whole !== null) return whole;
  const lines: string[] = [];
  for (let start = 0; start <= header.length;) {
    let lf = header.indexOf(0x0a, start);
    if (lf === -1) lf = header.length;
    const end = lf > start && header[lf - 1] === 0x0d ? lf - 1 : lf;
    lines.push(utf8OrLatin1(header.subarray(start, end)));
    start = lf + 1;
  }
  return lines.join("\r\n");
}

/** The value of the first field with this name, or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  for (const f of fields) if (f.lowerName === lower) return f.value;
  return null;
}

/** The values of every field with this name, in order. */
export function headerValues(fields: readonly HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  const values: string[] = [];
  for (const f of fields) if (f.lowerName === lower) values.push(f.value);
  return values;
}
