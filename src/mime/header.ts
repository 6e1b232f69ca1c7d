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

/** RFC 5322 §3.6.8: a field name is printable US-ASCII except ":"; obsolete syntax allows spaces before the colon. */
const FIELD_NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;

/**
 * The fields of a header block, in order. Reading stops at the first empty line. Each line is
 * read as UTF-8 (RFC 6532) when valid, else as Latin-1. Lines that are neither a field nor a
 * continuation (an mbox "From " line, junk) are skipped.
 */
export function parseHeaderFields(header: Uint8Array): HeaderField[] {
  const fields: HeaderField[] = [];
  let lines: string[] = [];
  const flush = () => {
    const first = lines[0];
    const m = first === undefined ? null : FIELD_NAME.exec(first);
    if (m) {
      const raw = lines.length === 1 ? first! : lines.join("\r\n");
      const name = m[1]!;
      const value = (lines.length === 1 ? first! : lines.join("")).slice(m[0].length).trim();
      fields.push({ name, lowerName: name.toLowerCase(), raw, value });
    }
    lines = [];
  };
  for (const line of headerLines(header)) {
    if (line === "") break;
    // RFC 5322 §2.2.3: a line starting with white space continues the field before it.
    if (line[0] === " " || line[0] === "\t") {
      if (lines.length > 0) lines.push(line);
    } else {
      flush();
      lines.push(line);
    }
  }
  flush();
  return fields;
}

/** The lines of a header block without their line ends; a line that is not UTF-8 is read as Latin-1. */
function headerLines(header: Uint8Array): string[] {
  const whole = strictUtf8(header);
  if (whole !== null) return whole.split(/\r?\n/);
  const lines: string[] = [];
  for (let start = 0; start <= header.length;) {
    let lf = header.indexOf(0x0a, start);
    if (lf === -1) lf = header.length;
    const end = lf > start && header[lf - 1] === 0x0d ? lf - 1 : lf;
    lines.push(utf8OrLatin1(header.subarray(start, end)));
    start = lf + 1;
  }
  return lines;
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
  return fields.filter((f) => f.lowerName === lower).map((f) => f.value);
}
